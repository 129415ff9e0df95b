package subsidies

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/orgs"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

// adminCtx creates an admin user (unique per test) and returns a context
// acting as them, as the auth middleware would.
func adminCtx(t *testing.T, db *bun.DB, username string) (context.Context, int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := orgs.NewService(db).Ensure(ctx, orgs.Input{Code: "platform-" + username, Name: "测试平台 " + username,
		Kind: orgs.KindAdmin, RegionCode: "420000"}); err != nil {
		t.Fatal(err)
	}
	id, err := accounts.NewService(db, time.Now).CreateUser(ctx, accounts.NewUser{Username: username, DisplayName: "测试管理员",
		Role: accounts.RoleAdmin, OrgCode: "platform-" + username, Password: "Tuoyu@2026-test"})
	if err != nil {
		t.Fatal(err)
	}
	return audit.WithRequest(ctx, audit.Request{UserID: id, Label: username}), id
}

func baseSituation(t *testing.T, asOf string) Situation {
	t.Helper()
	s, err := DecodeSituation(strings.NewReader(validSituation))
	if err != nil {
		t.Fatal(err)
	}
	s.AsOf = MustDate(asOf)
	return s
}

func amountOf(t *testing.T, ev Evaluation, subsidy string) int64 {
	t.Helper()
	for _, r := range ev.Results {
		if r.Subsidy == subsidy {
			return r.AmountYuan
		}
	}
	t.Fatalf("no %s result", subsidy)
	return 0
}

func TestLoadDefaultsIdempotent(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db, shanghai, time.Now)
	ctx := context.Background()
	dp, _ := DefaultParams()
	res, err := svc.LoadDefaults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Added; n != len(dp) && n != 0 { // 0 when another test of the package loaded them first
		t.Fatalf("loaded %d of %d defaults", n, len(dp))
	}
	if res, err = NewService(db, shanghai, time.Now).LoadDefaults(ctx); err != nil || res.Added != 0 || len(res.Changed) != 0 {
		t.Fatalf("second load added %d, changed %v (%v)", res.Added, res.Changed, err)
	}
	count, err := db.NewSelect().Table("policy_parameters").Where("source = 'default'").Count(ctx)
	if err != nil || count != int64(len(dp)) {
		t.Fatalf("%d default rows, want %d (%v)", count, len(dp), err)
	}
	// The stored set evaluates like the shipped one.
	ps, err := svc.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := baseSituation(t, "2025-06-30")
	if got, want := Evaluate(s, ps).PolicyVersion, Evaluate(s, defaultSet(t)).PolicyVersion; got != want {
		t.Errorf("stored set has policy version %s, shipped %s", got, want)
	}
}

func TestAddValueAppliesFromItsDate(t *testing.T) {
	db := dbtest.DB(t)
	ctx, adminID := adminCtx(t, db, "subsidy_admin1")
	svc := NewService(db, shanghai, time.Now)

	before, err := svc.Calculate(ctx, baseSituation(t, "2025-09-30"))
	if err != nil {
		t.Fatal(err)
	}
	if got := amountOf(t, before, Appraisal); got != 200 {
		t.Fatalf("appraisal before: %d", got)
	}
	sp, err := svc.AddValue(ctx, NewValue{Name: "appraisal.amount", Region: "420100", EffectiveFrom: "2025-10-01",
		Value: "260", Reference: "武汉市测试通知（2025）", Note: "测试"})
	if err != nil {
		t.Fatal(err)
	}
	if sp.EnteredBy != adminID || sp.Source != SourceAdmin {
		t.Errorf("stored %+v", sp)
	}
	for _, tt := range []struct {
		asOf string
		want int64
	}{{"2025-09-30", 200}, {"2025-10-01", 260}, {"2026-01-15", 260}} {
		ev, err := svc.Calculate(ctx, baseSituation(t, tt.asOf))
		if err != nil {
			t.Fatal(err)
		}
		if got := amountOf(t, ev, Appraisal); got != tt.want {
			t.Errorf("as_of %s: appraisal %d, want %d", tt.asOf, got, tt.want)
		}
	}
	// Another city keeps the province value.
	s := baseSituation(t, "2025-10-01")
	s.Region = "420500"
	if ev, _ := svc.Calculate(ctx, s); amountOf(t, ev, Appraisal) != 200 {
		t.Error("宜昌 got 武汉's amount")
	}
	// The change is audited with who entered it.
	var ev audit.Event
	if err := db.NewSelect().Model(&ev).Where("action = 'subsidies.parameter_add' AND target_id = ?", strconv.FormatInt(sp.ID, 10)).Scan(context.Background()); err != nil {
		t.Fatalf("no audit event: %v", err)
	}
	if ev.ActorUserID != adminID || ev.ActorLabel != "subsidy_admin1" || !strings.Contains(ev.SummaryJSON, "appraisal.amount") {
		t.Errorf("audit event %+v", ev)
	}
	// History shows it with the username.
	hist, err := svc.History(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hist {
		if h.ID == sp.ID {
			found = h.EnteredByName == "subsidy_admin1"
		}
	}
	if !found {
		t.Error("history does not show the new value with its author")
	}
}

func TestParametersAreAppendOnly(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	if _, err := NewService(db, shanghai, time.Now).LoadDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE policy_parameters SET value = '1' WHERE name = 'appraisal.amount'"); err == nil {
		t.Error("a stored value was changed in place")
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM policy_parameters WHERE name = 'appraisal.amount'"); err == nil {
		t.Error("a stored value was deleted")
	}
}

func TestAddValueRejects(t *testing.T) {
	db := dbtest.DB(t)
	ctx, _ := adminCtx(t, db, "subsidy_admin2")
	svc := NewService(db, shanghai, time.Now)
	tests := []struct {
		in    NewValue
		field string
	}{
		{NewValue{Name: "appraisal.amont", Region: "420000", EffectiveFrom: "2026-01-01", Value: "1", Reference: "x"}, "name"},
		{NewValue{Name: "appraisal.amount", Region: "110000", EffectiveFrom: "2026-01-01", Value: "1", Reference: "x"}, "region"},
		{NewValue{Name: "appraisal.amount", Region: "429999", EffectiveFrom: "2026-01-01", Value: "1", Reference: "x"}, "region"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-02-30", Value: "1", Reference: "x"}, "effective_from"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", EffectiveTo: "2025-01-01", Value: "1", Reference: "x"}, "effective_to"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: "1", Reference: " "}, "reference"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: "二百", Reference: "x"}, "value"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: "-5", Reference: "x"}, "value"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: "12.5", Reference: "x"}, "value"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: `"none"`, Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.shortage_occupations", Region: "420000", EffectiveFrom: "2026-01-01", Value: "3", Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: `{"standard":{"5":"多"}}`, Reference: "x"}, "value"},
		// The structure of the value in force: every tier × every level, nothing else.
		{NewValue{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: `{"foo":1}`, Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: `{"standard":{"5":1000}}`, Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: threeTiers(`,"6":1`), Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.amount", Region: "420100", EffectiveFrom: "2020-01-01", Value: threeTiers(""), Reference: "x"}, "value"}, // 2020 had one tier
		{NewValue{Name: "training.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: `{"5":1200,"4":1600,"3":2000,"2":4000}`, Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.shortage_occupations", Region: "420000", EffectiveFrom: "2026-01-01", Value: `["4-10-01-03",""]`, Reference: "x"}, "value"},
		// Sane bounds, so rate × hours cannot overflow and no one is promised a fortune.
		{NewValue{Name: "training.per_hour", Region: "420000", EffectiveFrom: "2026-01-01", Value: "9223372036854775807", Reference: "x"}, "value"},
		{NewValue{Name: "training.per_hour", Region: "420000", EffectiveFrom: "2026-01-01", Value: "1001", Reference: "x"}, "value"},
		{NewValue{Name: "appraisal.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: "100001", Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2026-01-01", Value: strings.Replace(threeTiers(""), "2600", "2600000", 1), Reference: "x"}, "value"},
		{NewValue{Name: "training.lifetime_limit", Region: "420000", EffectiveFrom: "2026-01-01", Value: "101", Reference: "x"}, "value"},
		{NewValue{Name: "skill_upgrade.min_insured_months", Region: "420000", EffectiveFrom: "2026-01-01", Value: "601", Reference: "x"}, "value"},
	}
	before, err := NewStore(db).MaxID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		_, err := svc.AddValue(ctx, tt.in)
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid {
			t.Errorf("case %d: got %v, want invalid", i, err)
			continue
		}
		named := false
		for _, f := range e.Fields {
			named = named || f.Field == tt.field
		}
		if !named {
			t.Errorf("case %d: fields %+v do not name %s", i, e.Fields, tt.field)
		}
	}
	if after, err := NewStore(db).MaxID(ctx); err != nil || after != before {
		t.Errorf("refused values were stored: newest id %d, was %d (%v)", after, before, err)
	}
	// Values of the right structure within the bounds are taken, each with
	// the structure in force on its own date.
	for _, in := range []NewValue{
		{Name: "skill_upgrade.amount", Region: "420100", EffectiveFrom: "2020-01-01", Value: `{"standard":{"5":1100,"4":1600,"3":2100}}`, Reference: "测试"},
		{Name: "skill_upgrade.amount", Region: "420000", EffectiveFrom: "2031-01-01", Value: threeTiers(""), Reference: "测试"},
		{Name: "training.per_hour", Region: "420000", EffectiveFrom: "2031-01-01", Value: "1000", Reference: "测试"},
	} {
		if _, err := svc.AddValue(ctx, in); err != nil {
			t.Errorf("%s from %s: %v", in.Name, in.EffectiveFrom, err)
		}
	}
	// "none" is allowed where the name already has it.
	if _, err := svc.AddValue(ctx, NewValue{Name: "skill_upgrade.annual_limit", Region: "420000", EffectiveFrom: "2030-01-01",
		Value: `"none"`, Reference: "测试"}); err != nil {
		t.Errorf("none for annual_limit: %v", err)
	}
	// Anonymous callers cannot add values.
	if _, err := svc.AddValue(context.Background(), NewValue{}); apperr.KindOf(err) != apperr.KindUnauthorized {
		t.Errorf("anonymous add: %v", err)
	}
}

func TestCalculateDefaultsAsOfToday(t *testing.T) {
	db := dbtest.DB(t)
	now := func() time.Time { return time.Date(2025, 6, 29, 17, 0, 0, 0, time.UTC) } // 2025-06-30 in Shanghai
	svc := NewService(db, shanghai, now)
	s := baseSituation(t, "2025-06-30")
	s.AsOf = Date{}
	ev, err := svc.Calculate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if ev.AsOf != MustDate("2025-06-30") {
		t.Errorf("as_of %s, want today in Shanghai", ev.AsOf)
	}
	s.Certificates[0].IssuedOn = MustDate("2025-07-01")
	if _, err := svc.Calculate(context.Background(), s); !apperr.Is(err, "invalid_situation") {
		t.Errorf("certificate issued after today: %v", err)
	}
	s = baseSituation(t, "2025-06-30")
	s.AsOf = Date{}
	s.Paid = append(s.Paid, Payment{Subsidy: Training, PaidOn: MustDate("2025-07-01")})
	_, err = svc.Calculate(context.Background(), s)
	if e, ok := apperr.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != fmt.Sprintf("paid[%d].paid_on", len(s.Paid)-1) {
		t.Errorf("payment after today: %v", err)
	}
}

// TestCalculateRefusesUnknownRegion: a Hubei-shaped code that is not a
// region would silently use the province's values; it is refused instead.
func TestCalculateRefusesUnknownRegion(t *testing.T) {
	svc := NewService(dbtest.DB(t), shanghai, time.Now)
	s := baseSituation(t, "2025-06-30")
	s.Region = "429999"
	_, err := svc.Calculate(context.Background(), s)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "region" {
		t.Fatalf("region 429999: %v", err)
	}
	s.Region = "420106"
	if _, err := svc.Calculate(context.Background(), s); err != nil {
		t.Errorf("region 420106: %v", err)
	}
}

// threeTiers is a skill_upgrade.amount value with the three tiers of 2025;
// extra is added to the standard tier.
func threeTiers(extra string) string {
	return `{"standard":{"5":1000,"4":1500,"3":2000` + extra + `},"paper_only":{"5":500,"4":700,"3":1000},"shortage":{"5":1300,"4":1950,"3":2600}}`
}

// TestLoadDefaultsReportsCorrectionsInPlace: a shipped default changed under
// the same name, region and start date is not loaded (corrections are new
// dated rows), but it is reported, so it does not vanish silently.
func TestLoadDefaultsReportsCorrectionsInPlace(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	svc := NewService(db, shanghai, time.Now)
	if _, err := svc.LoadDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	dp, _ := DefaultParams()
	corrected := false
	for i, p := range dp {
		if p.Name == "appraisal.amount" {
			dp[i].Value = json.RawMessage(`250`)
			corrected = true
		}
	}
	if !corrected {
		t.Fatal("no appraisal.amount among the defaults")
	}
	res, err := svc.loadDefaults(ctx, dp)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 0 || len(res.Changed) != 1 || res.Changed[0].Param.Name != "appraisal.amount" || res.Changed[0].Fields != "value" {
		t.Fatalf("load of a corrected default: %+v", res)
	}
	ps, err := svc.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := ps.Lookup("appraisal.amount", ProvinceRegion, MustDate("2025-06-30")); string(p.Value) != "200" {
		t.Errorf("the stored default changed to %s", p.Value)
	}
}

// claims.notice_working_days is a count of working days: an administrator
// cannot set a 公示 of no day, a negative one or half a day; each refusal
// names the value field with a code that says what is wrong.
func TestNoticeWorkingDaysBounds(t *testing.T) {
	db := dbtest.DB(t)
	ctx, _ := adminCtx(t, db, "subsidy_admin_notice")
	svc := NewService(db, shanghai, time.Now)
	for value, code := range map[string]string{"0": "out_of_range", "-3": "out_of_range", "61": "out_of_range",
		"2.5": "not_integer", `"五"`: "not_integer", "[5]": "not_integer"} {
		_, err := svc.AddValue(ctx, NewValue{Name: "claims.notice_working_days", Region: "420000", EffectiveFrom: "2026-12-01",
			Value: value, Reference: "测试"})
		e, ok := apperr.As(err)
		if !ok || e.Code != "invalid_parameter" || len(e.Fields) != 1 || e.Fields[0].Field != "value" || e.Fields[0].Code != code {
			t.Errorf("value %s: %v (fields %+v), want invalid_parameter with value/%s", value, err, fieldsOf(err), code)
		}
	}
	if _, err := svc.AddValue(ctx, NewValue{Name: "claims.notice_working_days", Region: "420100", EffectiveFrom: "2026-12-01",
		Value: "7", Reference: "测试"}); err != nil {
		t.Errorf("7 working days refused: %v", err)
	}
}

func fieldsOf(err error) []apperr.FieldError {
	if e, ok := apperr.As(err); ok {
		return e.Fields
	}
	return nil
}

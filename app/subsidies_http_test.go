package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"tuoyu/modules/audit"
	"tuoyu/modules/ratelimit"
	"tuoyu/modules/subsidies"
)

const subsidySituation = `{"as_of":"2025-06-30","region":"420100",
 "person":{"employment":"enterprise_employee","insured_months":14,"groups":["graduate_of_year"],"banned":false},
 "certificates":[{"id":"c1","kind":"skill_level","occupation":"4-10-01-03","level":4,"issued_on":"2025-03-01","first_evaluation":true}],
 "paid":[{"subsidy":"skill_upgrade","certificate_id":"c0","occupation":"4-10-01-03","level":5,"paid_on":"2024-05-01"}]}`

type evaluationBody struct {
	AsOf          string `json:"as_of"`
	PolicyVersion string `json:"policy_version"`
	Results       []struct {
		CertificateID string `json:"certificate_id"`
		Subsidy       string `json:"subsidy"`
		Status        string `json:"status"`
		AmountYuan    int64  `json:"amount_yuan"`
		Checks        []struct {
			Code, Result, Reference, Message string
		} `json:"checks"`
		Remedy []string `json:"remedy"`
	} `json:"results"`
}

func calculate(t *testing.T, c *client, body string) evaluationBody {
	t.Helper()
	res, out := c.do("POST", "/api/v1/subsidies/calculate", strings.NewReader(body), "Content-Type", "application/json")
	if res.StatusCode != 200 {
		t.Fatalf("calculate: %d %s", res.StatusCode, out)
	}
	return decode[evaluationBody](t, out)
}

func TestSubsidiesCalculateAPI(t *testing.T) {
	ev := calculate(t, anon(t), subsidySituation)
	if ev.AsOf != "2025-06-30" || len(ev.PolicyVersion) != 12 || len(ev.Results) != 3 {
		t.Fatalf("evaluation %+v", ev)
	}
	want := map[string]int64{"skill_upgrade": 1500, "training": 1600, "appraisal": 200}
	for _, r := range ev.Results {
		if r.Status != "eligible" || r.AmountYuan != want[r.Subsidy] {
			t.Errorf("%s: %s %d", r.Subsidy, r.Status, r.AmountYuan)
		}
		for _, ch := range r.Checks {
			if ch.Message == "" || ch.Reference == "" {
				t.Errorf("%s: check %s without message or reference", r.Subsidy, ch.Code)
			}
		}
	}
	// Logged-in callers may use it too (with the CSRF header a cookie session needs).
	if ev := calculate(t, login(t, "hr_reviewer1"), subsidySituation); len(ev.Results) != 3 {
		t.Errorf("logged in: %+v", ev)
	}
}

// TestSubsidiesCalculateRejects: each kind of malformed situation answers
// 422 naming the field (400 for JSON syntax), never 5xx.
func TestSubsidiesCalculateRejects(t *testing.T) {
	c := anon(t)
	tests := []struct{ body, field string }{
		{`{"paid":[{"subsidy":"housing"}]}`, "paid[0].subsidy"},
		{`{"certificates":[{"kind":"diploma"}]}`, "certificates[0].kind"},
		{`{"certificates":[{"level":0}]}`, "certificates[0].level"},
		{`{"certificates":[{"level":6}]}`, "certificates[0].level"},
		{`{"as_of":"2025-13-01"}`, "as_of"},
		{`{"certificates":[{"issued_on":"01/03/2025"}]}`, "certificates[0].issued_on"},
		{`{"as_of":"2025-01-01","certificates":[{"issued_on":"2025-03-01"}]}`, "certificates[0].issued_on"},
		{`{"region":"110000"}`, "region"},
		{`{"region":"429999"}`, "region"}, // Hubei's shape, but no such region
		{`{"as_of":"2025-06-30","paid":[{"subsidy":"training","paid_on":"2025-07-01"}]}`, "paid[0].paid_on"},
		{`{"person":{"insured_months":"14"}}`, "person.insured_months"},
		{`{"person":{"groups":"rural_migrant"}}`, "person.groups"},
		{`{"person":{"employment":"astronaut"}}`, "person.employment"},
		{`{"colour":"red"}`, "colour"},
		{`{"certificates":[{"issued_on":"2099-01-01"}]}`, "certificates[0].issued_on"}, // after today, as_of left out
	}
	for _, tt := range tests {
		res, out := c.do("POST", "/api/v1/subsidies/calculate", strings.NewReader(tt.body), "Content-Type", "application/json")
		if res.StatusCode != 422 || problemCode(t, out) != "invalid_situation" {
			t.Errorf("%s: %d %s", tt.body, res.StatusCode, out)
			continue
		}
		if !strings.Contains(string(out), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: error does not name %s: %s", tt.body, tt.field, out)
		}
	}
	for _, body := range []string{`{`, `not json`, ``, `{"a":1} {"b":2}`} {
		res, out := c.do("POST", "/api/v1/subsidies/calculate", strings.NewReader(body), "Content-Type", "application/json")
		if res.StatusCode != 400 || problemCode(t, out) != "malformed_json" {
			t.Errorf("%q: %d %s", body, res.StatusCode, out)
		}
	}
}

func TestSubsidiesCalculateRateLimited(t *testing.T) {
	a := testApp(t)
	f := newFiber(testConfig(), slog.New(slog.NewTextHandler(logBuf, nil)), a.Accounts)
	subsidies.NewHandler(a.Subsidies, ratelimit.PerMinute(a.DB, "test.calculate", 3, nil)).Routes(f.Group("/api/v1"), f.Group(""))
	c := &client{t: t, a: &App{Fiber: f}}
	for i := 1; i <= 4; i++ {
		res, out := c.do("POST", "/api/v1/subsidies/calculate", strings.NewReader(subsidySituation), "Content-Type", "application/json")
		want := 200
		if i == 4 {
			want = 429
		}
		if res.StatusCode != want {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, out)
		}
	}
}

func TestSubsidiesCalculatorPage(t *testing.T) {
	c := anon(t)
	res, out := c.do("GET", "/subsidies/calculator", nil)
	if res.StatusCode != 200 || !strings.Contains(string(out), "补贴测算") || !strings.Contains(string(out), `name="c1_kind"`) {
		t.Fatalf("GET calculator: %d", res.StatusCode)
	}
	form := url.Values{
		"as_of": {"2025-06-30"}, "region": {"420100"}, "employment": {"enterprise_employee"}, "insured_months": {"11"},
		"banned": {"no"}, "groups_answer": {"some"}, "groups": {"graduate_of_year", "rural_migrant"},
		"c1_kind": {"skill_level"}, "c1_occupation": {"4-10-01-03"}, "c1_level": {"4"}, "c1_issued_on": {"2025-03-01"}, "c1_first": {"yes"},
		"c2_kind": {"training"}, "c2_occupation": {"manager"}, "c2_issued_on": {"2025-05-01"},
	}
	res, out = c.do("POST", "/subsidies/calculator", form.Encode())
	page := string(out)
	if res.StatusCode != 200 {
		t.Fatalf("POST calculator: %d %s", res.StatusCode, page)
	}
	for _, want := range []string{
		"技能提升补贴", "不符合条件", "再缴纳 1 个月失业保险后可申领", // fixable failure with its remedy
		"1600 元", "示例数值", // example figure labelled
		"信息不足，暂无法判断", "待补充信息", "请补充培训学时后重新计算", // unknown hours, not a fail
		"人社部发〔2017〕40号", // the policy reference
	} {
		if !strings.Contains(page, want) {
			t.Errorf("calculator answer lacks %q", want)
		}
	}
	// A bad value comes back as 422 with the field in the form's words, form kept.
	form.Set("c1_level", "6")
	res, out = c.do("POST", "/subsidies/calculator", form.Encode())
	if res.StatusCode != 422 || !strings.Contains(string(out), "证书1 等级") || !strings.Contains(string(out), `value="2025-03-01"`) {
		t.Errorf("bad level: %d", res.StatusCode)
	}
	// A bad group value is named in the form's words, not as a JSON path.
	form.Set("c1_level", "4")
	form.Add("groups", "veteran")
	res, out = c.do("POST", "/subsidies/calculator", form.Encode())
	if res.StatusCode != 422 || !strings.Contains(string(out), "六类人员第 3 项") || strings.Contains(string(out), "person.groups") {
		t.Errorf("bad group: %d", res.StatusCode)
	}
	form.Set("groups", "graduate_of_year")

	// The untouched form says nothing about the person: employment, ban
	// and groups start as 不确定, and blanks stay unknown, never "no".
	_, out = c.do("GET", "/subsidies/calculator", nil)
	page = string(out)
	if strings.Contains(page, `value="enterprise_employee" selected`) || strings.Contains(page, `value="no" selected`) ||
		!strings.Contains(page, `name="groups_answer" value="unknown" checked`) {
		t.Error("the empty calculator form does not default to 不确定 for employment, ban and groups")
	}
	blank := url.Values{"as_of": {"2025-06-30"}, "region": {"420100"}, "employment": {""}, "banned": {""}, "groups_answer": {"unknown"},
		"c1_kind": {"skill_level"}, "c1_occupation": {"4-10-01-03"}, "c1_level": {"4"}, "c1_issued_on": {"2025-03-01"}, "c1_first": {"yes"}}
	res, out = c.do("POST", "/subsidies/calculator", blank.Encode())
	page = string(out)
	if res.StatusCode != 200 || !strings.Contains(page, "未提供是否属于六类人员") || !strings.Contains(page, "未提供就业状态") ||
		!strings.Contains(page, "未提供是否被列入终身禁入名单") || strings.Contains(page, "不符合条件") {
		t.Errorf("blank answers: %d, want unknown checks and no 不符合条件", res.StatusCode)
	}
	blank.Set("groups_answer", "none")
	if _, out = c.do("POST", "/subsidies/calculator", blank.Encode()); !strings.Contains(string(out), "不属于六类人员（") {
		t.Error("都不属于 is not evaluated as no group")
	}
	blank.Add("groups", "rural_migrant")
	if res, out = c.do("POST", "/subsidies/calculator", blank.Encode()); res.StatusCode != 422 || !strings.Contains(string(out), "都不属于") {
		t.Errorf("都不属于 with a ticked group: %d", res.StatusCode)
	}

	// Logged-in users post the form with the page's CSRF token.
	w := login(t, "hr_reviewer1")
	form.Set("c1_level", "4")
	if res, _ := w.do("POST", "/subsidies/calculator", form.Encode()); res.StatusCode != 200 {
		t.Errorf("logged-in POST calculator: %d", res.StatusCode)
	}
}

func TestSubsidiesParametersPage(t *testing.T) {
	if res, _ := anon(t).do("GET", "/subsidies/parameters", nil); res.StatusCode < 300 || res.StatusCode >= 400 {
		t.Errorf("anonymous: %d, want a redirect to login", res.StatusCode)
	}
	if res, _ := login(t, "provider1").do("GET", "/subsidies/parameters", nil); res.StatusCode != 403 {
		t.Errorf("provider: %d", res.StatusCode)
	}
	admin := login(t, "admin")
	res, out := admin.do("GET", "/subsidies/parameters", nil)
	page := string(out)
	if res.StatusCode != 200 || !strings.Contains(page, "技能提升补贴：失业保险最低缴费月数") || !strings.Contains(page, "示例数值") ||
		!strings.Contains(page, "人社部发〔2017〕40号") || !strings.Contains(page, "今日生效") {
		t.Fatalf("parameters page: %d", res.StatusCode)
	}
	// A bad value re-renders the form with the reason.
	bad := url.Values{"name": {"appraisal.amount"}, "region": {"420100"}, "effective_from": {"2031-01-01"}, "value": {"二百"}, "reference": {"x"}}
	if res, out := admin.do("POST", "/subsidies/parameters", bad.Encode()); res.StatusCode != 422 || !strings.Contains(string(out), "取值应为 JSON") {
		t.Errorf("bad value: %d", res.StatusCode)
	}
	// A value of the wrong structure or out of bounds is refused with the
	// reason, and nothing is stored.
	rows := func() int64 {
		n, err := testApp(t).DB.NewSelect().Table("policy_parameters").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := rows()
	for _, tt := range []struct{ name, value, want string }{
		{"skill_upgrade.amount", `{"foo":1}`, "不应有键「foo」"},
		{"skill_upgrade.amount", `{"standard":{"5":1000}}`, "缺少键"},
		{"training.per_hour", "9223372036854775807", "0–1000"},
	} {
		form := url.Values{"name": {tt.name}, "region": {"420000"}, "effective_from": {"2031-01-01"}, "value": {tt.value}, "reference": {"x"}}
		res, out := admin.do("POST", "/subsidies/parameters", form.Encode())
		if res.StatusCode != 422 || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s = %s: %d, want 422 saying %q", tt.name, tt.value, res.StatusCode, tt.want)
		}
	}
	if after := rows(); after != before {
		t.Errorf("refused values were stored: %d rows, were %d", after, before)
	}
}

// TestSubsidiesNewDatedAmount: a value entered on the admin page changes
// results for as_of on or after its date and not before, and the audit log
// shows who entered it.
func TestSubsidiesNewDatedAmount(t *testing.T) {
	admin := login(t, "admin")
	anyone := anon(t)
	situation := func(asOf string) string {
		return strings.NewReplacer(`"as_of":"2025-06-30"`, `"as_of":"`+asOf+`"`, `"issued_on":"2025-03-01"`, `"issued_on":"2030-12-01"`).Replace(subsidySituation)
	}
	appraisal := func(asOf string) int64 {
		for _, r := range calculate(t, anyone, situation(asOf)).Results {
			if r.Subsidy == "appraisal" {
				return r.AmountYuan
			}
		}
		t.Fatal("no appraisal result")
		return 0
	}
	if got := appraisal("2031-01-01"); got != 200 {
		t.Fatalf("before the change: %d", got)
	}
	form := url.Values{"name": {"appraisal.amount"}, "region": {"420100"}, "effective_from": {"2031-01-01"},
		"value": {"333"}, "reference": {"武汉市技能评价补贴测试通知"}, "note": {"HTTP 测试"}}
	res, out := admin.do("POST", "/subsidies/parameters", form.Encode())
	if res.StatusCode != 303 {
		t.Fatalf("add value: %d %s", res.StatusCode, out)
	}
	for asOf, want := range map[string]int64{"2030-12-31": 200, "2031-01-01": 333, "2031-06-30": 333} {
		if got := appraisal(asOf); got != want {
			t.Errorf("as_of %s: appraisal %d, want %d", asOf, got, want)
		}
	}
	var ev audit.Event
	err := testApp(t).DB.NewSelect().Model(&ev).Where("action = 'subsidies.parameter_add'").OrderExpr("id DESC").Limit(1).Scan(context.Background())
	if err != nil {
		t.Fatalf("audit event: %v", err)
	}
	if ev.ActorLabel != "admin" || ev.ActorUserID == 0 || !strings.Contains(ev.SummaryJSON, "333") {
		t.Errorf("audit event %+v", ev)
	}
	// The history on the page shows the new value and who entered it.
	_, out = admin.do("GET", "/subsidies/parameters", nil)
	if !strings.Contains(string(out), "武汉市技能评价补贴测试通知") || !strings.Contains(string(out), fmt.Sprintf(`id="p%s"`, ev.TargetID)) {
		t.Error("parameters page does not show the new value")
	}
}

package workers_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var testNow = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

type world struct {
	db        *bun.DB
	svc       *workers.Service
	collegeA  *accounts.Principal // 武汉
	collegeB  *accounts.Principal // 宜昌
	hrWuhan   *accounts.Principal
	hrYichang *accounts.Principal
	hrHubei   *accounts.Principal
	provider  *accounts.Principal
	admin     *accounts.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := dbtest.DB(t)
	w := &world{db: db, svc: workers.NewService(db, workerstest.Cipher(t), func() time.Time { return testNow })}
	orgA := workerstest.Org(t, db, "college", "420100")
	orgB := workerstest.Org(t, db, "college", "420500")
	w.collegeA = workerstest.Staff(t, db, accounts.RoleCollege, orgA, "420100")
	w.collegeB = workerstest.Staff(t, db, accounts.RoleCollege, orgB, "420500")
	hrW := workerstest.Org(t, db, "hr_bureau", "420100")
	hrY := workerstest.Org(t, db, "hr_bureau", "420500")
	hrH := workerstest.Org(t, db, "hr_bureau", "420000")
	w.hrWuhan = workerstest.Staff(t, db, accounts.RoleHRReviewer, hrW, "420100")
	w.hrYichang = workerstest.Staff(t, db, accounts.RoleHRReviewer, hrY, "420500")
	w.hrHubei = workerstest.Staff(t, db, accounts.RoleHRApprover, hrH, "420000")
	w.provider = workerstest.Staff(t, db, accounts.RoleProvider, workerstest.Org(t, db, "provider", "420100"), "420100")
	w.admin = workerstest.Staff(t, db, accounts.RoleAdmin, workerstest.Org(t, db, "admin", "420000"), "420000")
	return w
}

func (w *world) register(t *testing.T, p *accounts.Principal, in workers.RegisterInput) *workers.Worker {
	t.Helper()
	wk, err := w.svc.Register(context.Background(), p, in)
	if err != nil {
		t.Fatalf("Register(%+v): %v", in, err)
	}
	return wk
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func TestRegisterDerivesAndProtects(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workers.GenerateID(newRand(1), "420106", time.Date(1995, 3, 4, 0, 0, 0, 0, time.UTC), workers.SexFemale)
	wk := w.register(t, w.hrWuhan, workers.RegisterInput{Name: "李娜", IDNumber: id, Phone: "138 0000 1234", Education: "大专"})

	if wk.Sex != workers.SexFemale || wk.BirthDate.Format(time.DateOnly) != "1995-03-04" || wk.Education != workers.EduJuniorCollege {
		t.Errorf("derived fields wrong: %+v", wk)
	}
	if wk.IDMask != "420106********"+id[14:] || wk.PhoneMask != "138****1234" {
		t.Errorf("masks = %q %q", wk.IDMask, wk.PhoneMask)
	}
	if wk.RegionCode != "420106" {
		t.Errorf("region = %q, want the ID's Hubei area 420106", wk.RegionCode)
	}

	_, err := w.svc.Register(ctx, w.hrWuhan, workers.RegisterInput{Name: "李娜", IDNumber: strings.ToLower(id)})
	wantCode(t, err, "worker_exists")

	_, err = w.svc.Register(ctx, w.hrWuhan, workers.RegisterInput{Name: "", IDNumber: "4.20106E+17", Phone: "123"})
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("bad input err = %v", err)
	}
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Code
	}
	want := map[string]string{"name": "name_required", "id_number": workers.CodeIDExcelScientific, "phone": workers.CodePhoneFormat}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s code = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestRegionRule(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// ID outside Hubei, no college or employer: no region, only admin sees it.
	outside := w.register(t, w.provider, workers.RegisterInput{Name: "王芳", IDNumber: workerstest.IDNumber("110105")})
	if outside.RegionCode != "" {
		t.Errorf("non-Hubei worker region = %q, want none", outside.RegionCode)
	}
	// A college's graduate takes the college's region.
	grad := w.register(t, w.collegeB, workers.RegisterInput{Name: "赵敏", IDNumber: workerstest.IDNumber("420106")})
	if grad.RegionCode != "420500" {
		t.Errorf("graduate region = %q, want college region 420500", grad.RegionCode)
	}
	// An employer beats the college, and moving the employer moves the worker.
	var instID int64
	if err := w.db.NewRaw(`INSERT INTO institutions (uscc, name, kind, region_code, places)
		VALUES ('91420600MA4K0000X1', '襄阳测试托育园', 'for_profit', '420600', 40) RETURNING id`).Scan(ctx, &instID); err != nil {
		t.Fatal(err)
	}
	upd, err := w.svc.UpdateProfile(ctx, w.hrHubei, grad.ID, workers.ProfileInput{EmployerInstitutionID: &instID})
	if err != nil {
		t.Fatal(err)
	}
	if upd.RegionCode != "420600" || upd.EmployerName != "襄阳测试托育园" {
		t.Errorf("employed region = %q (%q), want 420600", upd.RegionCode, upd.EmployerName)
	}
	if _, err := w.db.NewRaw(`UPDATE institutions SET region_code = '420100' WHERE id = ?`, instID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	moved, err := w.svc.ByID(ctx, w.admin, grad.ID)
	if err != nil || moved.RegionCode != "420100" {
		t.Errorf("after the employer moved: region %q, %v; want 420100", moved.RegionCode, err)
	}
}

func TestScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	gradA := w.register(t, w.collegeA, workers.RegisterInput{Name: "陈静", IDNumber: workerstest.IDNumber("420102")})
	gradB := w.register(t, w.collegeB, workers.RegisterInput{Name: "陈晨", IDNumber: workerstest.IDNumber("420502")})
	selfA := workerstest.WorkerUser(t, w.db, gradA.ID)

	cases := []struct {
		name string
		p    *accounts.Principal
		id   int64
		sees bool
	}{
		{"college A own graduate", w.collegeA, gradA.ID, true},
		{"college A other college's graduate", w.collegeA, gradB.ID, false},
		{"college B own graduate", w.collegeB, gradB.ID, true},
		{"worker self", selfA, gradA.ID, true},
		{"worker another worker", selfA, gradB.ID, false},
		{"hr 420500 Wuhan worker", w.hrYichang, gradA.ID, false},
		{"hr 420500 Yichang worker", w.hrYichang, gradB.ID, true},
		{"hr 420100 Wuhan worker", w.hrWuhan, gradA.ID, true},
		{"hr 420000 both", w.hrHubei, gradB.ID, true},
		{"provider not registered by them", w.provider, gradA.ID, false},
		{"anonymous", nil, gradA.ID, false},
		{"admin", w.admin, gradB.ID, true},
	}
	for _, c := range cases {
		_, err := w.svc.ByID(ctx, c.p, c.id)
		if c.sees && err != nil {
			t.Errorf("%s: %v, want visible", c.name, err)
		}
		if !c.sees && apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("%s: err %v, want not found", c.name, err)
		}
	}

	// Edits are scoped the same way: 404, not 403.
	phone := "13900000000"
	_, err := w.svc.UpdateProfile(ctx, w.collegeB, gradA.ID, workers.ProfileInput{Phone: &phone})
	wantCode(t, err, "worker_not_found")

	// Lists are scoped too.
	items, total, err := w.svc.List(ctx, w.hrYichang, workers.Filter{Q: "陈", Page: 1, PerPage: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == gradA.ID {
			t.Error("hr 420500 lists a Wuhan worker")
		}
	}
	if total < 1 {
		t.Errorf("hr 420500 lists %d workers named 陈*, want its own", total)
	}
	if _, _, err := w.svc.List(ctx, selfA, workers.Filter{Page: 1, PerPage: 10}); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("worker listing: %v, want forbidden", err)
	}
}

func TestSearchByIDNumberAndName(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workerstest.IDNumber("420111")
	target := w.register(t, w.hrWuhan, workers.RegisterInput{Name: "欧阳雪", IDNumber: id})
	w.register(t, w.hrWuhan, workers.RegisterInput{Name: "欧阳丽", IDNumber: workerstest.IDNumber("420111")})
	w.register(t, w.hrWuhan, workers.RegisterInput{Name: "雪欧阳", IDNumber: workerstest.IDNumber("420111")})

	items, total, err := w.svc.List(ctx, w.hrWuhan, workers.Filter{Q: " " + id + " ", Page: 1, PerPage: 20})
	if err != nil || total != 1 || len(items) != 1 || items[0].ID != target.ID {
		t.Fatalf("search by ID: %d items, total %d, %v", len(items), total, err)
	}
	// Part of an ID number finds nothing: only exact numbers are searchable.
	if _, total, _ := w.svc.List(ctx, w.hrWuhan, workers.Filter{Q: id[:10], Page: 1, PerPage: 20}); total != 0 {
		t.Errorf("partial ID number found %d workers", total)
	}
	items, total, err = w.svc.List(ctx, w.hrWuhan, workers.Filter{Q: "欧阳", Page: 1, PerPage: 1})
	if err != nil || total != 2 || len(items) != 1 {
		t.Fatalf("name prefix: %d items of %d, %v; want 1 of 2", len(items), total, err)
	}
	if _, total, _ := w.svc.List(ctx, w.hrWuhan, workers.Filter{Q: "欧%", Page: 1, PerPage: 20}); total != 0 {
		t.Errorf("a %% in the name is taken as a wildcard (%d found)", total)
	}
}

func TestUpdateProfileAuditsFieldsNotValues(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk := w.register(t, w.collegeA, workers.RegisterInput{Name: "刘洋", IDNumber: workerstest.IDNumber("420103")})
	self := workerstest.WorkerUser(t, w.db, wk.ID)

	phone, bank, name := "13700001111", "6222 0202 1234 5678 901", "刘阳"
	upd, err := w.svc.UpdateProfile(ctx, self, wk.ID, workers.ProfileInput{Phone: &phone, BankAccount: &bank})
	if err != nil {
		t.Fatal(err)
	}
	if upd.PhoneMask != "137****1111" || upd.BankAccountMask != "***************8901" {
		t.Errorf("masks after edit: %q %q", upd.PhoneMask, upd.BankAccountMask)
	}
	// A worker may not change their name; nothing is written then.
	_, err = w.svc.UpdateProfile(ctx, self, wk.ID, workers.ProfileInput{Name: &name, Phone: &phone})
	e, _ := apperr.As(err)
	if e == nil || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "name" || e.Fields[0].Code != "not_editable" {
		t.Fatalf("worker renaming: %v", err)
	}
	// HR may, and sets insured months with date and source.
	months := 14
	upd, err = w.svc.UpdateProfile(ctx, w.hrWuhan, wk.ID, workers.ProfileInput{Name: &name, InsuredMonths: &months})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Name != name || upd.InsuredMonths == nil || *upd.InsuredMonths != 14 ||
		upd.InsuredMonthsOn == nil || upd.InsuredMonthsSource != "hr:"+w.hrWuhan.Username {
		t.Errorf("hr edit not stored: %+v", upd)
	}

	var summaries []string
	if err := w.db.NewRaw(`SELECT summary FROM audit_events WHERE action = 'workers.update' AND target_id = ? ORDER BY id`,
		fmt.Sprint(wk.ID)).Scan(ctx, &summaries); err != nil {
		t.Fatal(err)
	}
	if len(summaries) != 2 {
		t.Fatalf("audit events = %v, want 2 (the refused edit records nothing)", summaries)
	}
	if !strings.Contains(summaries[0], `"phone"`) || !strings.Contains(summaries[0], `"bank_account"`) ||
		!strings.Contains(summaries[1], `"name"`) || !strings.Contains(summaries[1], `"insured_months"`) {
		t.Errorf("audit summaries do not name the changed fields: %v", summaries)
	}
	for _, s := range summaries {
		for _, secret := range []string{phone, "1234", "刘阳", "刘洋", "14"} {
			if strings.Contains(s, secret) {
				t.Errorf("audit summary %s contains the value %q", s, secret)
			}
		}
	}
}

func TestRevealID(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workerstest.IDNumber("420104")
	wk := w.register(t, w.collegeA, workers.RegisterInput{Name: "孙丽", IDNumber: id})

	if _, err := w.svc.RevealID(ctx, w.collegeA, wk.ID); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("college reveal: %v, want forbidden", err)
	}
	if _, err := w.svc.RevealID(ctx, w.hrYichang, wk.ID); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("hr outside scope reveal: %v, want not found", err)
	}
	got, err := w.svc.RevealID(ctx, w.hrWuhan, wk.ID)
	if err != nil || got != id {
		t.Fatalf("reveal = %q, %v", got, err)
	}
	n, err := w.db.NewSelect().Table("audit_events").
		Where("action = 'workers.reveal_id' AND target_id = ? AND actor_user_id = ?", fmt.Sprint(wk.ID), w.hrWuhan.UserID).Count(ctx)
	if err != nil || n != 1 {
		t.Errorf("reveal audit events = %d, %v; want 1", n, err)
	}
}

// TestNoPlaintextAtRest scans every text-like and bytea column of every table
// for the ID numbers, phones and bank accounts just stored.
func TestNoPlaintextAtRest(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var secrets []string
	for i := 0; i < 5; i++ {
		id := workerstest.IDNumber("420106")
		phone := fmt.Sprintf("1390000%04d", i)
		bank := fmt.Sprintf("62220202000%05d", i)
		wk := w.register(t, w.hrWuhan, workers.RegisterInput{Name: "周" + string(rune('一'+i)), IDNumber: id, Phone: phone})
		if _, err := w.svc.UpdateProfile(ctx, w.hrWuhan, wk.ID, workers.ProfileInput{BankAccount: &bank}); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, id, phone, bank, id[6:14]+id[14:]) // also the tail without the area
	}
	if hits := plaintextHits(t, w.db, secrets); len(hits) > 0 {
		t.Errorf("plaintext personal data found in %v", hits)
	}
	// The scan itself must be able to find things: names are kept in clear.
	if hits := plaintextHits(t, w.db, []string{"周一"}); len(hits) == 0 {
		t.Error("the scan does not find a name stored in clear; it proves nothing")
	}
}

// plaintextHits lists the table.column of every column holding one of secrets.
func plaintextHits(t *testing.T, db *bun.DB, secrets []string) []string {
	t.Helper()
	var hits []string
	ctx := context.Background()
	var cols []struct {
		Table, Column, Type string
	}
	err := db.NewRaw(`SELECT table_name AS table, column_name AS column, data_type AS type
		FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'ARRAY', 'jsonb', 'json')`).Scan(ctx, &cols)
	if err != nil || len(cols) == 0 {
		t.Fatalf("list columns: %d, %v", len(cols), err)
	}
	for _, c := range cols {
		// bytea is searched as bytes, everything else as its text form.
		cond := "strpos(?::text, ?) > 0"
		if c.Type == "bytea" {
			cond = "position(convert_to(?1, 'UTF8') in ?0) > 0"
		}
		for _, secret := range secrets {
			n, err := db.NewSelect().TableExpr("?", bun.Ident(c.Table)).
				Where(cond, bun.Ident(c.Column), secret).Count(ctx)
			if err != nil {
				t.Fatalf("scan %s.%s: %v", c.Table, c.Column, err)
			}
			if n > 0 {
				hits = append(hits, c.Table+"."+c.Column)
			}
		}
	}
	return hits
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed)) }

// TestEnrolmentLockSerialises: while one transaction holds a worker's
// enrolment lock, another transaction's enrolment lock on the same worker
// waits (here: runs out of its lock_timeout), while reading the worker and
// a key check from another table do not.
// Two enrolments of one worker into overlapping classes then cannot both
// insert and deadlock in the exclusion constraint.
func TestEnrolmentLockSerialises(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	wk := w.register(t, w.provider, workers.RegisterInput{Name: "周丽", IDNumber: workerstest.IDNumber("420106")})
	first, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	if _, err := workers.NewStore(first).LockForEnrolment(ctx, wk.ID); err != nil {
		t.Fatal(err)
	}
	second := func(do func(tx bun.Tx) error) error {
		tx, err := w.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '200ms'"); err != nil {
			t.Fatal(err)
		}
		return do(tx)
	}
	err = second(func(tx bun.Tx) error { _, err := workers.NewStore(tx).LockForEnrolment(ctx, wk.ID); return err })
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('C') != "55P03" {
		t.Errorf("a second enrolment lock on the worker: %v, want it to wait (lock_timeout)", err)
	}
	if err := second(func(tx bun.Tx) error { _, err := workers.NewStore(tx).Get(ctx, wk.ID); return err }); err != nil {
		t.Errorf("reading the worker: %v", err)
	}
	if err := second(func(tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "SELECT 1 FROM workers WHERE id = ? FOR KEY SHARE", wk.ID)
		return err
	}); err != nil {
		t.Errorf("a key check on the worker: %v", err)
	}
}

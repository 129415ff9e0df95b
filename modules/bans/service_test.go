package bans_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/bans"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var testNow = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

type world struct {
	db         *bun.DB
	svc        *bans.Service
	workers    *workers.Service
	classes    *classes.Service
	enrolment  *enrolment.Service
	reg1, reg2 *accounts.Principal // 武汉 regulators
	regYichang *accounts.Principal
	inst       *accounts.Principal
	hr         *accounts.Principal
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := dbtest.DB(t)
	c := workerstest.Cipher(t)
	clock := func() time.Time { return testNow }
	wjw := workerstest.Org(t, db, "regulator", "420100")
	cat := catalog.NewService(db)
	if err := cat.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	cls := classes.NewService(db, cat, enrolment.Membership, clock, nil)
	enr := enrolment.NewService(db, cls, cat, c)
	return &world{
		db: db, svc: bans.NewService(db, c, enr, clock, nil), workers: workers.NewService(db, c, clock), classes: cls, enrolment: enr,
		reg1:       workerstest.Staff(t, db, accounts.RoleRegulator, wjw, "420100"),
		reg2:       workerstest.Staff(t, db, accounts.RoleRegulator, wjw, "420100"),
		regYichang: workerstest.Staff(t, db, accounts.RoleRegulator, workerstest.Org(t, db, "regulator", "420500"), "420500"),
		inst:       workerstest.Staff(t, db, accounts.RoleInstitution, workerstest.Org(t, db, "institution", "420100"), "420100"),
		hr:         workerstest.Staff(t, db, accounts.RoleHRReviewer, workerstest.Org(t, db, "hr_bureau", "420100"), "420100"),
	}
}

func (w *world) record(t *testing.T, in bans.RecordInput) []bans.Ban {
	t.Helper()
	bs, err := w.svc.Record(context.Background(), w.reg1, in)
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	return bs
}

func decision(name, id string, managers ...bans.Person) bans.RecordInput {
	return bans.RecordInput{Person: bans.Person{Name: name, IDNumber: id}, Reason: "虐待婴幼儿",
		DecisionNo: "武卫监罚〔2026〕12号", DecidedOn: "2026-11-01", Managers: managers}
}

func TestRecordFlagsWorkersAndManagers(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	subjectID := workerstest.IDNumber("420106")
	wk, err := w.workers.Register(ctx, w.hr, workers.RegisterInput{Name: "张某", IDNumber: subjectID})
	if err != nil {
		t.Fatal(err)
	}
	managerID := workerstest.IDNumber("420102")
	bs := w.record(t, decision("张某", strings.ToLower(subjectID), bans.Person{Name: "李某", IDNumber: managerID}))
	if len(bs) != 2 || bs[1].PrimaryBanID != bs[0].ID || bs[0].RegionCode != "420100" {
		t.Fatalf("bans = %+v", bs)
	}
	got, err := w.workers.ByID(ctx, w.hr, wk.ID)
	if err != nil || !got.Banned {
		t.Errorf("worker after ban: banned=%v, %v", got.Banned, err)
	}
	// Not yet a worker when banned: the worker record starts banned.
	mgr, err := w.workers.Register(ctx, w.hr, workers.RegisterInput{Name: "李某", IDNumber: managerID})
	if err != nil || !mgr.Banned {
		t.Errorf("manager registered after the ban: banned=%v, %v", mgr != nil && mgr.Banned, err)
	}
	for _, id := range []string{subjectID, " " + managerID + " "} {
		if ok, err := w.svc.IsBanned(ctx, w.db, id); err != nil || !ok {
			t.Errorf("IsBanned(%s) = %v, %v", id, ok, err)
		}
	}
	if ok, _ := w.svc.IsBanned(ctx, w.db, workerstest.IDNumber("420106")); ok {
		t.Error("IsBanned of someone else is true")
	}
	among, err := w.svc.BannedAmong(ctx, w.db, [][]byte{w.svc.Index(subjectID), w.svc.Index(workerstest.IDNumber("420103"))})
	if err != nil || len(among) != 1 || !among[string(w.svc.Index(subjectID))] {
		t.Errorf("BannedAmong = %v, %v", among, err)
	}

	// The same person cannot be banned twice while the ban stands.
	_, err = w.svc.Record(ctx, w.reg2, decision("张某", subjectID))
	if !apperr.Is(err, "already_banned") {
		t.Errorf("second ban: %v", err)
	}
}

func TestRecordValidation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workerstest.IDNumber("420106")
	in := decision("", "420106199001011232", bans.Person{Name: "王某", IDNumber: "4.20106E+17"}, bans.Person{Name: "赵某", IDNumber: id}, bans.Person{Name: "钱某", IDNumber: id})
	in.DecidedOn, in.RegionCode, in.Reason = "2027-01-01", "420500", " "
	_, err := w.svc.Record(ctx, w.reg1, in)
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("err = %v", err)
	}
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Code
	}
	want := map[string]string{
		"name": "name_required", "id_number": workers.CodeIDChecksum, "managers[0].id_number": workers.CodeIDExcelScientific,
		"managers[2].id_number": "duplicate_person", "decided_on": "future_date", "region_code": "region_out_of_scope",
		"reason": "invalid_reason",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s: code %q, want %q (all %v)", k, got[k], v, got)
		}
	}
	// An elderly person can be banned: registration age limits do not apply.
	old := workers.GenerateID(newRand(), "420106", time.Date(1940, 5, 5, 0, 0, 0, 0, time.UTC), workers.SexMale)
	w.record(t, decision("老某", old))
	if _, err := w.svc.Record(ctx, w.hr, decision("某", workerstest.IDNumber("420106"))); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("hr records a ban: %v", err)
	}
}

func TestCheckIsAuditedWithoutTheNumber(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workerstest.IDNumber("420111")
	w.record(t, decision("孙某", id))

	if _, err := w.svc.Check(ctx, w.hr, id); apperr.KindOf(err) != apperr.KindForbidden {
		t.Errorf("hr check: %v, want forbidden", err)
	}
	if _, err := w.svc.Check(ctx, w.inst, "12345"); !apperr.Is(err, "validation_failed") {
		t.Errorf("bad number: %v", err)
	}
	banned, err := w.svc.Check(ctx, w.inst, id)
	if err != nil || !banned {
		t.Fatalf("check banned = %v, %v", banned, err)
	}
	clean := workerstest.IDNumber("420111")
	if banned, err := w.svc.Check(ctx, w.inst, clean); err != nil || banned {
		t.Fatalf("check clean = %v, %v", banned, err)
	}
	var summaries []string
	if err := w.db.NewRaw(`SELECT summary FROM audit_events WHERE action = 'bans.check' AND actor_user_id = ? ORDER BY id`, w.inst.UserID).
		Scan(ctx, &summaries); err != nil {
		t.Fatal(err)
	}
	if len(summaries) != 3 {
		t.Fatalf("check audit events: %v, want the refused one and two answers", summaries)
	}
	if summaries[0] != `{"code":"id_length","valid":false}` {
		t.Errorf("refused check audit summary = %s", summaries[0])
	}
	if !strings.Contains(summaries[1], hex.EncodeToString(w.svc.Index(id))) || !strings.Contains(summaries[1], `"banned":true`) {
		t.Errorf("check audit summary = %s", summaries[1])
	}
	for _, s := range summaries {
		if strings.Contains(s, id) || strings.Contains(s, clean) || strings.Contains(s, id[6:14]) {
			t.Errorf("check audit holds the ID number: %s", s)
		}
	}
}

func TestLiftNeedsTwoRegulators(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := workerstest.IDNumber("420104")
	wk, err := w.workers.Register(ctx, w.hr, workers.RegisterInput{Name: "周某", IDNumber: id})
	if err != nil {
		t.Fatal(err)
	}
	b := w.record(t, decision("周某", id))[0]

	if _, err := w.svc.ConfirmLift(ctx, w.reg2, b.ID); !apperr.Is(err, "lift_not_requested") {
		t.Errorf("confirm without request: %v", err)
	}
	if _, err := w.svc.RequestLift(ctx, w.reg1, b.ID, " ", ""); !apperr.Is(err, "validation_failed") {
		t.Errorf("request without document: %v", err)
	}
	if _, err := w.svc.RequestLift(ctx, w.regYichang, b.ID, "鄂卫复〔2027〕1号", ""); !apperr.Is(err, "ban_not_found") {
		t.Errorf("request outside region: %v", err)
	}
	got, err := w.svc.RequestLift(ctx, w.reg1, b.ID, "鄂卫复〔2027〕1号", "行政复议撤销原决定")
	if err != nil || got.Status() != bans.StatusLiftRequested {
		t.Fatalf("request lift: %v, %v", got, err)
	}
	if _, err := w.svc.ConfirmLift(ctx, w.reg1, b.ID); !apperr.Is(err, "four_eyes") {
		t.Errorf("same regulator confirms: %v", err)
	}
	// The database refuses it too, whatever the Go code does.
	_, err = w.db.NewRaw(`UPDATE bans SET lifted_by = lift_requested_by, lifted_at = now() WHERE id = ?`, b.ID).Exec(ctx)
	if err == nil || !strings.Contains(err.Error(), "bans_lift_four_eyes") {
		t.Errorf("database allowed the requester to confirm: %v", err)
	}
	if ok, _ := w.svc.IsBanned(ctx, w.db, id); !ok {
		t.Error("ban lifted before confirmation")
	}

	got, err = w.svc.ConfirmLift(ctx, w.reg2, b.ID)
	if err != nil || got.Status() != bans.StatusLifted || got.LiftedByName == "" {
		t.Fatalf("confirm: %+v, %v", got, err)
	}
	if ok, _ := w.svc.IsBanned(ctx, w.db, id); ok {
		t.Error("still banned after the lift")
	}
	if wk, _ = w.workers.ByID(ctx, w.hr, wk.ID); wk.Banned {
		t.Error("worker still flagged after the lift")
	}
	// A lifted person can be banned again by a new decision.
	w.record(t, decision("周某", id))
	if wk, _ = w.workers.ByID(ctx, w.hr, wk.ID); !wk.Banned {
		t.Error("worker not flagged by the new ban")
	}
	n, err := w.db.NewSelect().Table("audit_events").Where("target_type = 'ban' AND target_id = ?", fmt.Sprint(b.ID)).Count(ctx)
	if err != nil || n != 3 {
		t.Errorf("audit events for the ban = %d, %v; want record, request, lift", n, err)
	}
}

func TestRejectLiftAndListScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	b := w.record(t, decision("吴某", workerstest.IDNumber("420105")))[0]
	if _, err := w.svc.RequestLift(ctx, w.reg1, b.ID, "文书1", ""); err != nil {
		t.Fatal(err)
	}
	got, err := w.svc.RejectLift(ctx, w.reg2, b.ID)
	if err != nil || got.Status() != bans.StatusActive {
		t.Fatalf("reject: %v, %v", got, err)
	}
	items, total, err := w.svc.List(ctx, w.reg1, bans.Filter{Q: "吴", PerPage: 10})
	if err != nil || total != 1 || items[0].IDMask == "" {
		t.Errorf("list in scope: %d, %v", total, err)
	}
	if _, total, _ := w.svc.List(ctx, w.regYichang, bans.Filter{Q: "吴", PerPage: 10}); total != 0 {
		t.Errorf("Yichang regulator sees %d Wuhan bans", total)
	}
	if _, err := w.svc.ByID(ctx, w.regYichang, b.ID); !apperr.Is(err, "ban_not_found") {
		t.Errorf("ByID outside scope: %v", err)
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

// TestDecisionDayIsChinas: a decision is dated in China. At 01:00 on
// 4 December in China (17:00 UTC on the 3rd) a ban decided that day is
// recorded, and one dated the 5th is still refused; the day was compared
// with the UTC instant, which refused today's decisions until 08:00.
func TestDecisionDayIsChinas(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	night := func() time.Time { return time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC) }
	svc := bans.NewService(w.db, workerstest.Cipher(t), w.enrolment, night, nil)
	in := decision("孙某", workerstest.IDNumber("420106"))
	in.DecidedOn = "2026-12-04"
	if _, err := svc.Record(ctx, w.reg1, in); err != nil {
		t.Fatalf("a ban decided today in China: %v", err)
	}
	in = decision("周某", workerstest.IDNumber("420106"))
	in.DecidedOn = "2026-12-05"
	_, err := svc.Record(ctx, w.reg1, in)
	if e, ok := apperr.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Code != "future_date" {
		t.Errorf("a ban dated tomorrow in China: %v, want future_date", err)
	}
}

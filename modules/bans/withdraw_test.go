package bans_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/bans"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// Recording a ban withdraws the person's places in the same transaction:
// the next on each waiting list takes a freed place, the lists are numbered
// again, each withdrawal is audited and the provider told without the word
// ban (issue 9, item 2; DESIGN §4.6).
func TestBanWithdrawsEnrolments(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	provOrg := workerstest.Org(t, w.db, "provider", "420100")
	prov := workerstest.Staff(t, w.db, accounts.RoleProvider, provOrg, "420100")
	colleague := workerstest.Staff(t, w.db, accounts.RoleProvider, provOrg, "420100")
	class := func(start, end string, capacity int) classes.Class {
		c, err := w.classes.Create(ctx, prov, classes.Input{PlanCode: "BYS-ZG", Name: "在岗培训 " + start, StartsOn: start, EndsOn: end,
			Capacity: capacity, Region: "420106", Place: "武汉市武昌区"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = w.enrolment.Open(ctx, prov, c.ID); err != nil {
			t.Fatal(err)
		}
		return c
	}
	person := func(name string) (*workers.Worker, string) {
		id := workerstest.IDNumber("420106")
		wk, err := w.workers.Register(ctx, prov, workers.RegisterInput{Name: name, IDNumber: id})
		if err != nil {
			t.Fatal(err)
		}
		return wk, id
	}
	full := class("2027-03-01", "2027-03-10", 1)    // subject holds the place, two wait
	waiting := class("2027-04-01", "2027-04-10", 1) // someone else holds it, subject waits first
	subject, subjectID := person("张某")
	next, _ := person("李某")
	last, _ := person("王某")
	other, _ := person("赵某")
	enrol := func(c classes.Class, wk *workers.Worker) enrolment.Enrolment {
		e, err := w.enrolment.Enrol(ctx, prov, c.ID, wk.ID)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	eSubject := enrol(full, subject)
	eNext := enrol(full, next)
	eLast := enrol(full, last)
	enrol(waiting, other)
	eSubjectWaiting := enrol(waiting, subject)
	eLastWaiting := enrol(waiting, last)

	w.record(t, decision("张某", subjectID))

	_, roster, err := w.enrolment.ClassRoster(ctx, prov, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	status := map[int64]enrolment.View{}
	for _, v := range roster {
		status[v.ID] = v
	}
	if status[eSubject.ID].Status != enrolment.StatusWithdrawn || status[eNext.ID].Status != enrolment.StatusEnrolled ||
		status[eLast.ID].Status != enrolment.StatusWaitlisted || *status[eLast.ID].Position != 1 {
		t.Errorf("full class after the ban: subject %s, next %s, last %s at %v", status[eSubject.ID].Status,
			status[eNext.ID].Status, status[eLast.ID].Status, status[eLast.ID].Position)
	}
	_, roster, _ = w.enrolment.ClassRoster(ctx, prov, waiting.ID)
	for _, v := range roster {
		switch v.ID {
		case eSubjectWaiting.ID:
			if v.Status != enrolment.StatusWithdrawn {
				t.Errorf("the subject still waits: %s", v.Status)
			}
		case eLastWaiting.ID:
			if v.Position == nil || *v.Position != 1 {
				t.Errorf("the waiting list was not numbered again: %v", v.Position)
			}
		}
	}
	var audited int
	if err := w.db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'enrolments.withdraw_banned' AND actor_user_id = ?", w.reg1.UserID).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if audited != 2 {
		t.Errorf("%d withdrawals audited with the regulator as actor, want 2", audited)
	}
	for _, u := range []*accounts.Principal{prov, colleague} {
		var bodies []string
		if err := w.db.NewRaw("SELECT body FROM notifications WHERE user_id = ? AND kind = 'enrolments.withdrawn' ORDER BY id", u.UserID).Scan(ctx, &bodies); err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 2 || !strings.Contains(bodies[0], strconv.FormatInt(eSubject.ID, 10)) || strings.Contains(strings.Join(bodies, ""), "禁") {
			t.Errorf("provider user %d was told %q", u.UserID, bodies)
		}
	}
	// And the subject cannot come back.
	if _, err := w.enrolment.Enrol(ctx, prov, waiting.ID, subject.ID); err == nil {
		t.Error("the banned subject enrolled again")
	}
}

// A regulator banning a person already banned in another region gets the
// answer a new ban gets: its own decision is recorded, joined to the
// person's one ban state, and nothing tells of the other region. Lifting
// lifts the person (issue 9, item 2).
func TestBanInAnotherRegionJoinsTheOneState(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	subjectID := workerstest.IDNumber("420106")
	yichang := decision("张某", subjectID)
	yichang.DecisionNo, yichang.RegionCode = "宜卫监罚〔2026〕3号", "420500"
	first, err := w.svc.Record(ctx, w.regYichang, yichang)
	if err != nil {
		t.Fatal(err)
	}
	wuhan := decision("张某", subjectID)
	got, err := w.svc.Record(ctx, w.reg1, wuhan)
	if err != nil {
		t.Fatalf("a ban on a person banned in 宜昌: %v, want it recorded", err)
	}
	b := got[0]
	if b.RegionCode != "420100" || b.DecisionNo != wuhan.DecisionNo || b.ID == first[0].ID {
		t.Errorf("the answer is not 武汉's own record: %+v", b)
	}
	seen, err := w.svc.ByID(ctx, w.reg1, b.ID)
	if err != nil || seen.RegionCode != "420100" || seen.Status() != bans.StatusActive {
		t.Errorf("武汉 reads its record: %+v, %v", seen, err)
	}
	if _, err := w.svc.ByID(ctx, w.reg1, first[0].ID); err == nil {
		t.Error("武汉 reads 宜昌's ban")
	}
	var states int
	if err := w.db.NewRaw("SELECT count(*) FROM bans WHERE id_number_idx = ? AND lifted_at IS NULL AND joins_ban_id IS NULL", w.svc.Index(subjectID)).Scan(ctx, &states); err != nil {
		t.Fatal(err)
	}
	if states != 1 {
		t.Errorf("%d ban states for one person, want 1", states)
	}
	// Within its own region a second ban is still refused: it can see it.
	if _, err := w.svc.Record(ctx, w.regYichang, yichang); !apperr.Is(err, "already_banned") {
		t.Errorf("宜昌 banning again: %v", err)
	}
	// Lifting through 武汉's record lifts the one state.
	if _, err := w.svc.RequestLift(ctx, w.reg1, b.ID, "鄂卫复〔2027〕2号", "复议撤销"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ConfirmLift(ctx, w.reg2, b.ID); err != nil {
		t.Fatal(err)
	}
	if banned, err := w.svc.IsBanned(ctx, w.db, subjectID); err != nil || banned {
		t.Errorf("after the lift banned = %v, %v", banned, err)
	}
}

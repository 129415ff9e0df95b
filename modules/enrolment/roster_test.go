package enrolment_test

import (
	"context"
	"testing"

	"tuoyu/modules/apperr"
	"tuoyu/modules/enrolment"
)

func TestEnrolFromRoster(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// 宜昌 (420500) college; classes of YYY-4 in 西陵区 and in 武汉.
	wuhan := w.class(w.providerA, "YYY-4", "420106", "2027-03-01", 5, 5)
	later := w.class(w.providerB, "YYY-4", "420502", "2027-04-01", 5, 1)
	sooner := w.class(w.providerB, "YYY-4", "420503", "2027-03-10", 5, 1)
	_ = wuhan

	a, b, c := w.worker(), w.worker(), w.worker()
	imp := w.rosterImport()
	req := func(x worker) enrolment.RosterRequest {
		return enrolment.RosterRequest{WorkerID: x.ID, PlanCode: "YYY-4", CollegeRegion: "420500", RosterImportID: imp}
	}
	// The first graduate gets the 宜昌 class that starts first, never the
	// 武汉 one.
	st, err := w.svc.EnrolFromRoster(ctx, w.db, req(a))
	w.must(err)
	if st != enrolment.RosterEnrolled {
		t.Fatalf("first graduate: %s", st)
	}
	_, roster, err := w.svc.ClassRoster(ctx, w.providerB, sooner.ID)
	w.must(err)
	if len(roster) != 1 || roster[0].WorkerID != a.ID || roster[0].Source != enrolment.SourceRoster {
		t.Fatalf("sooner class roster %+v", roster)
	}
	// It is full now: the next graduate gets the later class.
	st, err = w.svc.EnrolFromRoster(ctx, w.db, req(b))
	w.must(err)
	_, roster, _ = w.svc.ClassRoster(ctx, w.providerB, later.ID)
	if st != enrolment.RosterEnrolled || len(roster) != 1 || roster[0].WorkerID != b.ID {
		t.Fatalf("second graduate %s, later roster %+v", st, roster)
	}
	// Both full: the third waits on the plan's list.
	st, err = w.svc.EnrolFromRoster(ctx, w.db, req(c))
	w.must(err)
	if st != enrolment.RosterWaitlisted {
		t.Fatalf("third graduate: %s", st)
	}
	// Repeating the commit changes nothing.
	for _, x := range []worker{a, b, c} {
		again, err := w.svc.EnrolFromRoster(ctx, w.db, req(x))
		w.must(err)
		want := enrolment.RosterEnrolled
		if x == c {
			want = enrolment.RosterWaitlisted
		}
		if again != want {
			t.Errorf("repeat for worker %d: %s, want %s", x.ID, again, want)
		}
	}
	var waiting int
	w.must(w.db.NewRaw("SELECT count(*) FROM plan_waitlist WHERE worker_id = ? AND status = 'waiting'", c.ID).Scan(ctx, &waiting))
	if waiting != 1 {
		t.Errorf("%d waiting entries for the third graduate, want 1", waiting)
	}
	// A new YYY-4 class opening in a 宜昌 district places the waiting one.
	fresh := w.class(w.providerB, "YYY-4", "420506", "2027-05-01", 5, 3)
	_, roster, _ = w.svc.ClassRoster(ctx, w.providerB, fresh.ID)
	if len(roster) != 1 || roster[0].WorkerID != c.ID || roster[0].Status != enrolment.StatusEnrolled {
		t.Fatalf("fresh class roster %+v", roster)
	}
	w.must(w.db.NewRaw("SELECT count(*) FROM plan_waitlist WHERE worker_id = ? AND status = 'waiting'", c.ID).Scan(ctx, &waiting))
	if waiting != 0 {
		t.Error("placed graduate still waiting")
	}

	// Unknown plan and banned graduates are refused, inside a transaction
	// the roster module owns: the refusal leaves the transaction usable.
	tx, err := w.db.BeginTx(ctx, nil)
	w.must(err)
	defer tx.Rollback()
	if _, err := w.svc.EnrolFromRoster(ctx, tx, enrolment.RosterRequest{WorkerID: a.ID, PlanCode: "NOPE-1", CollegeRegion: "420500"}); !apperr.Is(err, "unknown_plan") {
		t.Errorf("unknown plan: %v", err)
	}
	banned := w.worker()
	w.ban(banned.ID)
	if _, err := w.svc.EnrolFromRoster(ctx, tx, req(banned)); !apperr.Is(err, "banned") {
		t.Errorf("banned graduate: %v", err)
	}
	d := w.worker()
	if st, err := w.svc.EnrolFromRoster(ctx, tx, req(d)); err != nil || st != enrolment.RosterEnrolled {
		t.Errorf("after refusals in the same transaction: %s, %v", st, err)
	}
}

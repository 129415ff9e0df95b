package enrolment_test

import (
	"context"
	"testing"

	"tuoyu/modules/apperr"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/enrolment"
)

func TestEnrolFromRoster(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// 宜昌 (420500) college; classes of YYY-4 in 西陵区 and in 武汉.
	wuhan := w.Class(w.ProviderA, "YYY-4", "420106", "2027-03-01", 5, 5)
	later := w.Class(w.ProviderB, "YYY-4", "420502", "2027-04-01", 5, 1)
	sooner := w.Class(w.ProviderB, "YYY-4", "420503", "2027-03-10", 5, 1)
	_ = wuhan

	a, b, c := w.Worker(), w.Worker(), w.Worker()
	imp := w.rosterImport()
	req := func(x attendancetest.Worker) enrolment.RosterRequest {
		return enrolment.RosterRequest{WorkerID: x.ID, PlanCode: "YYY-4", CollegeRegion: "420500", RosterImportID: imp}
	}
	// The first graduate gets the 宜昌 class that starts first, never the
	// 武汉 one.
	st, err := w.Svc.EnrolFromRoster(ctx, w.DB, req(a))
	w.Must(err)
	if st != enrolment.RosterEnrolled {
		t.Fatalf("first graduate: %s", st)
	}
	_, roster, err := w.Svc.ClassRoster(ctx, w.ProviderB, sooner.ID)
	w.Must(err)
	if len(roster) != 1 || roster[0].WorkerID != a.ID || roster[0].Source != enrolment.SourceRoster {
		t.Fatalf("sooner class roster %+v", roster)
	}
	// It is full now: the next graduate gets the later class.
	st, err = w.Svc.EnrolFromRoster(ctx, w.DB, req(b))
	w.Must(err)
	_, roster, _ = w.Svc.ClassRoster(ctx, w.ProviderB, later.ID)
	if st != enrolment.RosterEnrolled || len(roster) != 1 || roster[0].WorkerID != b.ID {
		t.Fatalf("second graduate %s, later roster %+v", st, roster)
	}
	// Both full: the third waits on the plan's list.
	st, err = w.Svc.EnrolFromRoster(ctx, w.DB, req(c))
	w.Must(err)
	if st != enrolment.RosterWaitlisted {
		t.Fatalf("third graduate: %s", st)
	}
	// Repeating the commit changes nothing.
	for _, x := range []attendancetest.Worker{a, b, c} {
		again, err := w.Svc.EnrolFromRoster(ctx, w.DB, req(x))
		w.Must(err)
		want := enrolment.RosterEnrolled
		if x == c {
			want = enrolment.RosterWaitlisted
		}
		if again != want {
			t.Errorf("repeat for worker %d: %s, want %s", x.ID, again, want)
		}
	}
	var waiting int
	w.Must(w.DB.NewRaw("SELECT count(*) FROM plan_waitlist WHERE worker_id = ? AND status = 'waiting'", c.ID).Scan(ctx, &waiting))
	if waiting != 1 {
		t.Errorf("%d waiting entries for the third graduate, want 1", waiting)
	}
	// A new YYY-4 class opening in a 宜昌 district places the waiting one.
	fresh := w.Class(w.ProviderB, "YYY-4", "420506", "2027-05-01", 5, 3)
	_, roster, _ = w.Svc.ClassRoster(ctx, w.ProviderB, fresh.ID)
	if len(roster) != 1 || roster[0].WorkerID != c.ID || roster[0].Status != enrolment.StatusEnrolled {
		t.Fatalf("fresh class roster %+v", roster)
	}
	w.Must(w.DB.NewRaw("SELECT count(*) FROM plan_waitlist WHERE worker_id = ? AND status = 'waiting'", c.ID).Scan(ctx, &waiting))
	if waiting != 0 {
		t.Error("placed graduate still waiting")
	}

	// Unknown plan and banned graduates are refused, inside a transaction
	// the roster module owns: the refusal leaves the transaction usable.
	tx, err := w.DB.BeginTx(ctx, nil)
	w.Must(err)
	defer tx.Rollback()
	if _, err := w.Svc.EnrolFromRoster(ctx, tx, enrolment.RosterRequest{WorkerID: a.ID, PlanCode: "NOPE-1", CollegeRegion: "420500"}); !apperr.Is(err, "unknown_plan") {
		t.Errorf("unknown plan: %v", err)
	}
	banned := w.Worker()
	w.ban(banned.ID)
	if _, err := w.Svc.EnrolFromRoster(ctx, tx, req(banned)); !apperr.Is(err, "banned") {
		t.Errorf("banned graduate: %v", err)
	}
	d := w.Worker()
	if st, err := w.Svc.EnrolFromRoster(ctx, tx, req(d)); err != nil || st != enrolment.RosterEnrolled {
		t.Errorf("after refusals in the same transaction: %s, %v", st, err)
	}
}

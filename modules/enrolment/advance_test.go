package enrolment_test

import (
	"context"
	"slices"
	"testing"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/classes"
)

func TestAdvanceFollowsTheCalendar(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-5", "420106", "2027-03-01", 3, 1)
	ws := []attendancetest.Worker{w.Worker(), w.Worker()}
	for _, x := range ws {
		_, err := w.Svc.Enrol(ctx, x.P, c.ID, 0)
		w.Must(err)
	}
	// The day before: nothing moves.
	started, completed, err := w.At("2027-02-28").Advance(ctx)
	w.Must(err)
	if slices.Contains(started, c.ID) || slices.Contains(completed, c.ID) {
		t.Fatalf("class moved before its first day: %v %v", started, completed)
	}
	// The first day: running, and the waiting list ends.
	started, _, err = w.At("2027-03-01").Advance(ctx)
	w.Must(err)
	if !slices.Contains(started, c.ID) {
		t.Fatalf("class %d not started on its first day (%v)", c.ID, started)
	}
	got, err := w.Svc.Class(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if got.State != classes.StateRunning || got.EnrolledCount != 1 || got.WaitlistedCount != 0 {
		t.Fatalf("after start: %+v", got)
	}
	// The last day is still training; the day after completes it, once.
	_, completed, err = w.At("2027-03-03").Advance(ctx)
	w.Must(err)
	if slices.Contains(completed, c.ID) {
		t.Fatal("class completed on its last day")
	}
	_, completed, err = w.At("2027-03-04").Advance(ctx)
	w.Must(err)
	if !slices.Contains(completed, c.ID) {
		t.Fatalf("class %d not completed after its last day (%v)", c.ID, completed)
	}
	_, completed, err = w.At("2027-03-05").Advance(ctx)
	w.Must(err)
	if slices.Contains(completed, c.ID) {
		t.Fatal("a completed class was completed again")
	}
	got, err = w.Svc.Class(ctx, w.ProviderA, c.ID)
	w.Must(err)
	if got.State != classes.StateCompleted {
		t.Fatalf("state %s", got.State)
	}
	// Drafts never move by themselves.
	d := w.Draft(w.ProviderA, "BYS-5", "420106", "2027-04-01", 2, 5)
	started, _, err = w.At("2027-04-01").Advance(ctx)
	w.Must(err)
	if slices.Contains(started, d.ID) {
		t.Fatal("a draft class started")
	}
}

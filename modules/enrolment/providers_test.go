package enrolment_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"tuoyu/migrations"
	"tuoyu/modules/attendance/attendancetest"
	"tuoyu/modules/enrolment"
)

// oldProviderScope is the rule the provider_workers read model replaces,
// written against the tables it is derived from: a provider sees the
// workers it registered and those holding a place (enrolled, waitlisted or
// completed) in one of its classes.
const oldProviderScope = `SELECT DISTINCT organisation_id, worker_id FROM (
	SELECT w.registered_by_org_id AS organisation_id, w.id AS worker_id
	FROM workers AS w JOIN organisations AS o ON o.id = w.registered_by_org_id WHERE o.kind = 'provider'
	UNION SELECT c.provider_org_id, e.worker_id FROM enrolments AS e JOIN classes AS c ON c.id = e.class_id
	WHERE e.status IN ('enrolled', 'waitlisted', 'completed')) AS s ORDER BY 1, 2`

const readModel = `SELECT organisation_id, worker_id FROM provider_workers ORDER BY 1, 2`

func (w *world) pairs(query string) []string {
	w.T.Helper()
	var rows []struct {
		Org    int64 `bun:"organisation_id"`
		Worker int64 `bun:"worker_id"`
	}
	w.Must(w.DB.NewRaw(query).Scan(context.Background(), &rows))
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%d/%d", r.Org, r.Worker))
	}
	return out
}

// checkReadModel compares provider_workers with the rule it stands for.
func (w *world) checkReadModel(step string) {
	w.T.Helper()
	if want, got := w.pairs(oldProviderScope), w.pairs(readModel); !slices.Equal(want, got) {
		w.T.Errorf("%s: provider_workers %v, want %v", step, got, want)
	}
}

// TestProviderWorkersFollowEnrolments checks that the migration's backfill
// derives the read model of providers' scope from enrolments, then runs
// every change that gives or takes a place and checks after each that the
// read model still equals the rule computed from enrolments.
func TestProviderWorkersFollowEnrolments(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Enrolments in several states (more when the package's other tests ran
	// first): the migration's backfill, run again, must derive the rule.
	pre := w.Class(w.ProviderB, "BYS-5", "420502", "2027-05-01", 3, 1)
	for _, x := range []attendancetest.Worker{w.RegisteredBy(w.ProviderB, w.Worker()), w.Worker(), w.Worker()} {
		_, err := w.Svc.Enrol(ctx, x.P, pre.ID, 0)
		w.Must(err)
	}
	up, err := migrations.FS.ReadFile("20261203010000_workers_provider_workers.up.sql")
	w.Must(err)
	_, err = w.DB.ExecContext(ctx, "DROP TABLE provider_workers")
	w.Must(err)
	_, err = w.DB.ExecContext(ctx, string(up))
	w.Must(err)
	if len(w.pairs(readModel)) == 0 {
		t.Fatal("the backfill linked nobody")
	}
	w.checkReadModel("backfill")

	a, b, c, d := w.Worker(), w.RegisteredBy(w.ProviderA, w.Worker()), w.Worker(), w.Worker()
	full := w.Class(w.ProviderA, "BYS-5", "420106", "2027-06-01", 3, 1)
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, full.ID, a.IDNumber)
	w.Must(err)
	_, err = w.Svc.Enrol(ctx, c.P, full.ID, 0) // waitlisted
	w.Must(err)
	_, err = w.Svc.Enrol(ctx, b.P, full.ID, 0) // registered by A and waitlisted
	w.Must(err)
	w.checkReadModel("enrolled and waitlisted")

	var firstEnrolment int64
	w.Must(w.DB.NewRaw("SELECT id FROM enrolments WHERE class_id = ? AND worker_id = ?", full.ID, a.ID).Scan(ctx, &firstEnrolment))
	_, err = w.Svc.Withdraw(ctx, a.P, firstEnrolment) // c is promoted
	w.Must(err)
	w.checkReadModel("withdrawn, next promoted")
	_, err = w.Svc.EnrolByIDNumber(ctx, w.ProviderA, full.ID, a.IDNumber) // back, now waiting
	w.Must(err)
	w.checkReadModel("re-enrolled on the waiting list")

	// Starting the class ends its waiting list (a and b leave it).
	w.Start(w.ProviderA, full)
	w.checkReadModel("started")
	if w.inScope(w.ProviderA, a) || !w.inScope(w.ProviderA, b) || !w.inScope(w.ProviderA, c) {
		t.Errorf("after the start: a %v, b %v, c %v; want b (registered) and c (enrolled)",
			w.inScope(w.ProviderA, a), w.inScope(w.ProviderA, b), w.inScope(w.ProviderA, c))
	}

	// Cancelling a class ends every place.
	other := w.Class(w.ProviderB, "BYS-5", "420502", "2027-07-01", 3, 5)
	_, err = w.Svc.Enrol(ctx, d.P, other.ID, 0)
	w.Must(err)
	w.checkReadModel("enrolled with B")
	_, err = w.Svc.Cancel(ctx, w.ProviderB, other.ID, "测试取消")
	w.Must(err)
	w.checkReadModel("cancelled")

	// The calendar job ends the waiting lists of the classes it starts.
	cal := w.Class(w.ProviderB, "BYS-5", "420502", "2027-08-01", 3, 1)
	_, err = w.Svc.Enrol(ctx, d.P, cal.ID, 0)
	w.Must(err)
	_, err = w.Svc.Enrol(ctx, a.P, cal.ID, 0)
	w.Must(err)
	w.checkReadModel("second class of B")
	_, _, err = w.At("2027-08-01").Advance(ctx)
	w.Must(err)
	w.checkReadModel("advanced")

	// A roster graduate placed in a class.
	_, err = w.Svc.EnrolFromRoster(ctx, w.DB, enrolment.RosterRequest{WorkerID: d.ID, PlanCode: "BYS-GQ", CollegeRegion: "420100"})
	w.Must(err)
	w.checkReadModel("roster")

}

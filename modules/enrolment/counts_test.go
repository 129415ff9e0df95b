package enrolment_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/pg"
)

// TestPlacesCountsFollowWholeStatements: the places counts of a class are
// kept by statement-level triggers, so statements that write many
// enrolments at once (roster links, the scale seed) leave the same counts
// as row-by-row changes, and one that would overfill the class fails whole.
func TestPlacesCountsFollowWholeStatements(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.Class(w.ProviderA, "BYS-GQ", "420106", "2027-01-10", 20, 10)
	for range 6 {
		x := w.RegisteredBy(w.ProviderA, w.Worker())
		if _, err := w.Svc.Enrol(ctx, w.ProviderA, c.ID, x.ID); err != nil {
			t.Fatal(err)
		}
	}
	counts := func() (enrolled, waiting, recount int) {
		t.Helper()
		err := w.DB.NewRaw(`SELECT c.enrolled_count, c.waitlisted_count,
			(SELECT count(*) FROM enrolments e WHERE e.class_id = c.id AND e.status IN ('enrolled', 'completed'))
			FROM classes c WHERE c.id = ?`, c.ID).Scan(ctx, &enrolled, &waiting, &recount)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	exec := func(q string, args ...any) error {
		_, err := w.DB.NewRaw(q, args...).Exec(ctx)
		return err
	}
	if e, _, r := counts(); e != 6 || r != 6 {
		t.Fatalf("after 6 enrolments: count %d, recount %d", e, r)
	}

	// Three withdrawals in one statement, and one that changes nothing.
	if err := exec(`UPDATE enrolments SET status = 'withdrawn', withdrawn_at = now()
		WHERE id IN (SELECT id FROM enrolments WHERE class_id = ? ORDER BY id LIMIT 3)`, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := exec(`UPDATE enrolments SET updated_at = now() WHERE class_id = ?`, c.ID); err != nil {
		t.Fatal(err)
	}
	if e, wl, r := counts(); e != 3 || r != 3 || wl != 0 {
		t.Fatalf("after withdrawing 3 at once: count %d (waiting %d), recount %d, want 3", e, wl, r)
	}

	// Seven new places in one statement: three plus seven is the capacity.
	insert := func(n int) error {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = w.RegisteredBy(w.ProviderA, w.Worker()).ID
		}
		return exec(`INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period)
			SELECT e.class_id, x.id, e.plan_version_id, 'enrolled', 'provider', e.period
			FROM unnest(?::bigint[]) AS x(id), (SELECT * FROM enrolments WHERE class_id = ? LIMIT 1) AS e`,
			pgdialect.Array(ids), c.ID)
	}
	if err := insert(7); err != nil {
		t.Fatal(err)
	}
	if e, _, r := counts(); e != 10 || r != 10 {
		t.Fatalf("after 7 at once: count %d, recount %d, want 10", e, r)
	}
	// One more would overfill it: the whole statement fails, nothing moves.
	err := insert(2)
	if code, _ := pg.Violation(err); code != pg.CheckViolation {
		t.Fatalf("overfilling insert: %v, want a check violation", err)
	}
	if e, _, r := counts(); e != 10 || r != 10 {
		t.Fatalf("after the refused insert: count %d, recount %d, want 10", e, r)
	}
}

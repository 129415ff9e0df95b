package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
)

// GenerateScale enrols the workers people selects (columns id and city,
// workers.RegisteredIn) in one class per era of the classes draw selects
// (classes.ScaleDraw), drawn by a hash of worker and era, skipping one era
// in ten: ≈ 4.5 enrolments per worker, completed or withdrawn in past
// classes, cancelled in cancelled ones, enrolled in running and open ones.
// versions gives the plan version of each plan (parallel to planIDs). The
// scale seed's verb, one statement per call; the places counts follow by
// the statement triggers. Errors: only internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, draw, people *bun.SelectQuery, planIDs, versions []int64) (int, error) {
	// The draw is an equality join: each (worker, era) first gets the
	// number of its class within its city's classes of that era, then
	// meets that one class, so the plan is hash joins, not a filter over
	// every class of the city. The CTEs are MATERIALIZED because the
	// planner cannot estimate the draw; inlined, it chose nested loops
	// that took 40 times longer.
	res, err := db.NewRaw(`
		WITH cls AS MATERIALIZED (?),
		parts AS MATERIALIZED (SELECT city, era, count(*) AS n FROM cls GROUP BY city, era),
		picks AS MATERIALIZED (
			SELECT w.id AS worker_id, e, p.city, 1 + (w.id * 2654435761 + e * 40503) % p.n AS rn
			FROM (?) AS w
			CROSS JOIN generate_series(0, ? - 1) AS e
			JOIN parts AS p ON p.city = w.city AND p.era = e
			WHERE (w.id + e) % 10 <> 9
		)
		INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on, withdrawn_at)
		SELECT c.id, k.worker_id, v.version_id, st.status, 'provider', daterange(c.starts_on, c.ends_on, '[]'),
		       CASE WHEN st.status = 'completed' THEN c.ends_on END,
		       CASE WHEN st.status = 'withdrawn' THEN c.starts_on::timestamptz + interval '2 days' END
		FROM picks AS k
		JOIN cls AS c ON c.city = k.city AND c.era = k.e AND c.rn = k.rn
		JOIN unnest(?::bigint[], ?::bigint[]) AS v(plan_id, version_id) ON v.plan_id = c.plan_id
		CROSS JOIN LATERAL (SELECT CASE
		        WHEN c.state = 'cancelled' THEN 'cancelled'
		        WHEN c.state = 'completed' AND (k.worker_id + k.e) % 12 = 5 THEN 'withdrawn'
		        WHEN c.state = 'completed' THEN 'completed'
		        ELSE 'enrolled' END AS status) AS st`,
		draw, people, classes.ScaleEras, pgdialect.Array(planIDs), pgdialect.Array(versions)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("generate scale enrolments: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ActivePlaces selects, per provider and worker, the places the workers
// with ids in [fromID, toID] hold (enrolled, waitlisted or completed): a
// sub-query for workers.LinkEnrolled after a set-based load.
func ActivePlaces(db bun.IDB, fromID, toID int64) *bun.SelectQuery {
	return db.NewSelect().TableExpr("enrolments AS e").
		Join("JOIN (?) AS c ON c.id = e.class_id", classes.Providers(db)).
		ColumnExpr("c.provider_org_id AS organisation_id, e.worker_id, count(*) AS places").
		Where("e.worker_id BETWEEN ? AND ?", fromID, toID).
		Where("e.status IN ('enrolled', 'waitlisted', 'completed')").
		GroupExpr("c.provider_org_id, e.worker_id")
}

// AnyOfWorkers reports whether a worker with id in [fromID, toID] holds
// an enrolment: how a rerun of the scale seed knows a chunk is done.
// Errors: only internal ones (database).
func AnyOfWorkers(ctx context.Context, db bun.IDB, fromID, toID int64) (bool, error) {
	ok, err := db.NewSelect().TableExpr("enrolments").Where("worker_id BETWEEN ? AND ?", fromID, toID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("enrolments of workers %d–%d: %w", fromID, toID, err)
	}
	return ok, nil
}

// PlaceCounts selects per class the places its enrolments hold
// (class_id, taken: enrolled or completed, waiting: waitlisted), computed
// afresh: what the statement triggers on enrolments keep in classes, for
// classes.RebuildCounts after a load that ran without them.
func PlaceCounts(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("enrolments").ColumnExpr("class_id").
		ColumnExpr("count(*) FILTER (WHERE status IN ('enrolled', 'completed')) AS taken").
		ColumnExpr("count(*) FILTER (WHERE status = 'waitlisted') AS waiting").
		GroupExpr("class_id")
}

// InStatus selects the enrolments in one of statuses (id, class_id,
// worker_id, plan_version_id, status, completed_on): a sub-query for the
// scale seed's lessons, sittings and certificates.
func InStatus(db bun.IDB, statuses ...string) *bun.SelectQuery {
	return db.NewSelect().TableExpr("enrolments AS e").
		ColumnExpr("e.id, e.class_id, e.worker_id, e.plan_version_id, e.status, e.completed_on").
		Where("e.status IN (?)", bun.In(statuses))
}

// ScaleCompletions selects the completed enrolments with ids in [fromID,
// toID] the scale seed certifies without a pass (enrolment_id, passed_on:
// the day completed): those of plans that ask for no assessment, and two
// in five of those completed before sittingsSince, the classes of which have no
// sittings in the scale world (their assessment predates the system).
// With assessments.ScalePasses, what the scale seed certifies.
func ScaleCompletions(db bun.IDB, fromID, toID int64, sittingsSince time.Time) *bun.SelectQuery {
	return db.NewSelect().TableExpr("enrolments AS e").
		ColumnExpr("e.id AS enrolment_id, e.completed_on AS passed_on").
		Where("e.id BETWEEN ? AND ?", fromID, toID).
		Where("e.status = 'completed'").
		Where("(e.completed_on < ? AND e.id % 5 < 2) OR e.plan_version_id IN (SELECT pv.id FROM (?) AS pv JOIN (?) AS pa ON pa.id = pv.plan_id WHERE pa.assessment = 'none')",
			sittingsSince.Format(time.DateOnly), catalog.VersionPlans(db), catalog.PlanAssessments(db))
}

// IDRange returns the smallest and largest enrolment id (0, 0 when there
// are none). Errors: only internal ones (database).
func IDRange(ctx context.Context, db bun.IDB) (lo, hi int64, err error) {
	err = db.NewSelect().TableExpr("enrolments").ColumnExpr("coalesce(min(id), 0), coalesce(max(id), 0)").Scan(ctx, &lo, &hi)
	if err != nil {
		return 0, 0, fmt.Errorf("id range of enrolments: %w", err)
	}
	return lo, hi, nil
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	// VACUUM too, for the visibility map index-only scans need (workers.Analyze).
	if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) enrolments, plan_waitlist"); err != nil {
		return fmt.Errorf("analyze enrolments, plan_waitlist: %w", err)
	}
	return nil
}

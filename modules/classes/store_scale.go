package classes

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ScaleEras is how many yearly terms the scale world's classes span: four
// past years of completed (and some cancelled) classes, then the last
// year: half its classes ended in it (the certificates still in their
// claim window), half are the current term's running, open and draft ones. A class lies within its era
// (starts in its first 300 days, lasts 31), so a worker enrolled once per
// era never holds two classes whose dates overlap.
const ScaleEras = 5

// ScaleEra is the SQL expression of the era (0 … ScaleEras-1) of a class
// starting on the date in col, as GenerateScale laid them out from today.
func ScaleEra(col string, today time.Time) string {
	return fmt.Sprintf("least(%d, %d - ceil((DATE '%s' - %s) / 365.0))::int",
		ScaleEras-1, ScaleEras, today.Format(time.DateOnly), col)
}

// GenerateScale adds perProvider classes for each provider that has none
// yet (so a rerun continues), in the provider's city (regions[i] for
// providers[i]), cycling through planIDs, spread over ScaleEras terms
// ending today; states follow the dates, one class in twenty of the past
// is cancelled. It is the scale seed's verb, set-based in one statement.
// Errors: only internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, providers []int64, regions []string, planIDs []int64, perProvider int, today time.Time) (int, error) {
	res, err := db.NewRaw(`
		INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, place, region_code, capacity,
		                     enrol_opens_on, enrol_closes_on, state, cancel_reason, cancelled_at)
		SELECT p.id, (?::bigint[])[1 + g % ?], '规模测试班 ' || p.id || '-' || g, d.s, d.s + 30, '培训教室',
		       p.region, 100, d.s - 30, d.s - 1, st.state,
		       CASE WHEN st.state = 'cancelled' THEN '报名人数不足' END,
		       CASE WHEN st.state = 'cancelled' THEN d.s::timestamptz - interval '3 days' END
		FROM unnest(?::bigint[], ?::text[]) AS p(id, region)
		CROSS JOIN generate_series(0, ? - 1) AS g
		CROSS JOIN LATERAL (SELECT CASE WHEN g % ? < ? - 1
		        THEN ?::date - (? - g % ?) * 365 + (g * 37) % 300
		        WHEN (g / ?) % 2 = 0 THEN ?::date - 340 + (g * 37) % 280
		        ELSE ?::date - 20 + (g * 37) % 60 END AS s) AS d
		CROSS JOIN LATERAL (SELECT CASE
		        WHEN g % 20 = 7 AND d.s + 30 < ?::date THEN 'cancelled'
		        WHEN d.s + 30 < ?::date THEN 'completed'
		        WHEN d.s <= ?::date THEN 'running'
		        WHEN g % 3 = 0 THEN 'draft'
		        ELSE 'open' END AS state) AS st
		WHERE NOT EXISTS (SELECT 1 FROM classes AS c WHERE c.provider_org_id = p.id)`,
		pgdialect.Array(planIDs), len(planIDs), pgdialect.Array(providers), pgdialect.Array(regions),
		perProvider, ScaleEras, ScaleEras, today, ScaleEras, ScaleEras, ScaleEras, today, today,
		today, today, today).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("generate scale classes: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Analyze refreshes the planner's statistics of classes after a bulk
// load, for the enrolments drawn next and the lists' estimates.
// Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE classes"); err != nil {
		return fmt.Errorf("analyze classes: %w", err)
	}
	return nil
}

// ScaleDraw selects the classes of providers that take enrolments (all but
// drafts) with their city (first four digits of the region), era and
// number within (city, era): the sub-query enrolment.GenerateScale draws
// each worker's classes from.
func ScaleDraw(db bun.IDB, providers []int64, today time.Time) *bun.SelectQuery {
	era := ScaleEra("c.starts_on", today)
	return db.NewSelect().TableExpr("classes AS c").
		ColumnExpr("c.id, c.plan_id, c.state, c.starts_on, c.ends_on, left(c.region_code, 4) AS city").
		ColumnExpr(era+" AS era").
		ColumnExpr("row_number() OVER (PARTITION BY left(c.region_code, 4), "+era+" ORDER BY c.id) AS rn").
		Where("c.provider_org_id = ANY(?)", pgdialect.Array(providers)).
		Where("c.state <> 'draft'")
}

// Providers selects each class's id, provider and plan: a sub-query for the
// enrolment store's set-based work.
func Providers(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("classes").Column("id", "provider_org_id", "plan_id")
}

// placeCounts joins every class with its counts afresh (counts:
// enrolment.PlaceCounts; no row means none).
func placeCounts(db bun.IDB, counts *bun.SelectQuery) *bun.SelectQuery {
	return db.NewSelect().TableExpr("classes AS c").
		Join("LEFT JOIN (?) AS n ON n.class_id = c.id", counts).
		ColumnExpr("c.id, coalesce(n.taken, 0) AS taken, coalesce(n.waiting, 0) AS waiting")
}

// RebuildCounts sets enrolled_count and waitlisted_count of every class
// to counts (enrolment.PlaceCounts) where they differ: how the scale seed
// restores what the enrolment triggers keep after loading enrolments with
// triggers off. It returns how many classes changed. Errors: only
// internal ones (database).
func RebuildCounts(ctx context.Context, db bun.IDB, counts *bun.SelectQuery) (int, error) {
	res, err := db.NewRaw(`UPDATE classes AS c SET enrolled_count = f.taken, waitlisted_count = f.waiting
		FROM (?) AS f
		WHERE c.id = f.id AND (c.enrolled_count, c.waitlisted_count) IS DISTINCT FROM (f.taken, f.waiting)`,
		placeCounts(db, counts)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild place counts of classes: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountMismatches counts the classes whose place counts differ from counts
// (enrolment.PlaceCounts): the scale seed's test. Errors: only internal
// ones (database).
func CountMismatches(ctx context.Context, db bun.IDB, counts *bun.SelectQuery) (int, error) {
	n, err := db.NewSelect().TableExpr("classes AS c").
		Join("JOIN (?) AS f ON f.id = c.id", placeCounts(db, counts)).
		Where("(c.enrolled_count, c.waitlisted_count) IS DISTINCT FROM (f.taken, f.waiting)").Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("compare place counts: %w", err)
	}
	return int(n), nil
}

// ScaleInState selects the classes of providers in one of states (id,
// plan_id, provider_org_id, region_code, starts_on, ends_on, state): the
// classes the scale seed's later steps (lessons, sittings) work on.
func ScaleInState(db bun.IDB, providers []int64, states ...string) *bun.SelectQuery {
	return db.NewSelect().TableExpr("classes AS c").
		ColumnExpr("c.id, c.plan_id, c.provider_org_id, c.region_code, c.starts_on, c.ends_on, c.state").
		Where("c.provider_org_id = ANY(?)", pgdialect.Array(providers)).
		Where("c.state IN (?)", bun.In(states))
}

// ScaleEndedSince selects the completed classes of providers that ended on
// or after since, with the columns of ScaleInState: the classes the scale
// seed holds sittings for.
func ScaleEndedSince(db bun.IDB, providers []int64, since time.Time) *bun.SelectQuery {
	return ScaleInState(db, providers, "completed").Where("c.ends_on >= ?", since.Format(time.DateOnly))
}

package attendance

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// GenerateScale records the lessons held so far of the classes cls selects
// (classes.ScaleInState: running ones) that have none yet, and who
// attended them: per course of the plan version (courses:
// catalog.VersionCourses) as many lessons of up to 8 hours as its required
// hours need, one a day from the class's first day up to today, attended
// by the class's enrolments (enrolled: enrolment.InStatus, with
// plan_version_id) but for one lesson in ten each misses. One lesson a day
// per class and no two overlapping places per worker keep everyone within
// 8 hours a day, so it runs without the per-row lesson_day_limit trigger
// (pg.Replica). It returns the lessons and attendances written. The scale
// seed's verb. Errors: only internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, cls, courses, enrolled *bun.SelectQuery, today time.Time) (lessons, attended int, err error) {
	err = db.NewRaw(`
		WITH cls AS MATERIALIZED (SELECT c.* FROM (?) AS c
			WHERE NOT EXISTS (SELECT 1 FROM lessons AS l WHERE l.class_id = c.id)),
		ver AS MATERIALIZED (SELECT DISTINCT e.class_id, e.plan_version_id FROM (?) AS e JOIN cls ON cls.id = e.class_id),
		parts AS (SELECT v.class_id, pc.course_id, pc.position, k.k,
				ceil(pc.required_hours * 2 / k.n) / 2 AS hours
			FROM ver AS v
			JOIN (?) AS pc ON pc.plan_version_id = v.plan_version_id
			CROSS JOIN LATERAL (SELECT greatest(1, ceil(pc.required_hours / 8))::int AS n) AS k0
			CROSS JOIN LATERAL (SELECT g AS k, k0.n AS n FROM generate_series(1, k0.n) AS g) AS k
			WHERE pc.required_hours > 0),
		days AS (SELECT p.*, c.starts_on + (row_number() OVER (PARTITION BY p.class_id ORDER BY p.position, p.k) - 1)::int AS held_on,
				c.ends_on
			FROM parts AS p JOIN cls AS c ON c.id = p.class_id),
		les AS (INSERT INTO lessons (class_id, course_id, held_on, hours, source)
			SELECT class_id, course_id, held_on, hours, 'form' FROM days
			WHERE held_on <= ?::date AND held_on <= ends_on
			RETURNING id, class_id),
		att AS (INSERT INTO lesson_attendees (lesson_id, enrolment_id)
			SELECT l.id, e.id FROM les AS l JOIN (?) AS e ON e.class_id = l.class_id
			WHERE (l.id * 7 + e.id) % 10 <> 3
			RETURNING 1)
		SELECT (SELECT count(*) FROM les), (SELECT count(*) FROM att)`,
		cls, enrolled, courses, today, enrolled).Scan(ctx, &lessons, &attended)
	if err != nil {
		return 0, 0, fmt.Errorf("generate scale lessons: %w", err)
	}
	return lessons, attended, nil
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE lessons, lesson_attendees"); err != nil {
		return fmt.Errorf("analyze lessons, lesson_attendees: %w", err)
	}
	return nil
}

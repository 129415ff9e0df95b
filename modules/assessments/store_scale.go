package assessments

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
)

// GenerateScale holds the first sitting of each part of the assessment of
// the classes cls selects (classes.ScaleInState: completed ones) that have
// none yet, a week after the class ended (theory 9–11, practical 14–16,
// closed the next day), with every completed enrolment (completed:
// enrolment.InStatus) as a candidate and a result each: three in a hundred
// absent, the others scored 35–99.9 by a hash of enrolment and part, so
// about 62 % pass a part (pass mark of the enrolment's plan version). Plans
// without an assessment get no sitting. Set-based in one statement, run
// with triggers and foreign-key checks off (pg.Replica): the rows it joins
// exist, the exclusion constraint still holds. It returns the sittings,
// candidates and results written. The scale seed's verb. Errors: only
// internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, cls, completed *bun.SelectQuery) (sittings, candidates, results int, err error) {
	err = db.NewRaw(`
		WITH cls AS MATERIALIZED (SELECT c.id, c.provider_org_id, c.region_code, c.ends_on, pa.assessment
			FROM (?) AS c JOIN (?) AS pa ON pa.id = c.plan_id
			WHERE pa.assessment <> 'none'
				AND NOT EXISTS (SELECT 1 FROM assessment_sittings AS s WHERE s.class_id = c.id)),
		sit AS (INSERT INTO assessment_sittings (class_id, provider_org_id, region_code, kind, attempt,
				starts_at, ends_at, place, capacity, state, created_by_job, closed_at, created_at, updated_at)
			SELECT c.id, c.provider_org_id, c.region_code, k.kind, 1, t.s, t.s + interval '2 hours', '规模测试考场',
				5000, 'closed', true, t.s + interval '1 day', t.s - interval '7 days', t.s + interval '1 day'
			FROM cls AS c
			CROSS JOIN (VALUES ('theory', 9), ('practical', 14)) AS k(kind, hour)
			CROSS JOIN LATERAL (SELECT (c.ends_on + 7 + make_interval(hours => k.hour)) AT TIME ZONE 'Asia/Shanghai' AS s) AS t
			WHERE k.kind = 'theory' OR c.assessment = 'theory_practical'
			RETURNING id, class_id, kind, starts_at, ends_at),
		cand AS (INSERT INTO assessment_candidates (sitting_id, enrolment_id, worker_id, during)
			SELECT s.id, e.id, e.worker_id, tstzrange(s.starts_at, s.ends_at)
			FROM sit AS s JOIN (?) AS e ON e.class_id = s.class_id
			RETURNING sitting_id, enrolment_id, worker_id),
		res AS (INSERT INTO assessment_results (sitting_id, enrolment_id, worker_id, score, absent, passed, recorded_at, updated_at)
			SELECT ca.sitting_id, ca.enrolment_id, ca.worker_id, sc.score, sc.score IS NULL,
				coalesce(sc.score >= vr.pass_mark, false), s.ends_at, s.ends_at
			FROM cand AS ca
			JOIN sit AS s ON s.id = ca.sitting_id
			JOIN (?) AS e ON e.id = ca.enrolment_id
			JOIN (?) AS vr ON vr.id = e.plan_version_id
			CROSS JOIN LATERAL (SELECT (ca.enrolment_id * 2654435761 + length(s.kind) * 40503) % 100003 AS h) AS hh
			CROSS JOIN LATERAL (SELECT CASE WHEN hh.h % 33 = 0 THEN NULL
				ELSE 35 + (hh.h % 650) / 10.0 END::numeric(4,1) AS score) AS sc
			RETURNING 1)
		SELECT (SELECT count(*) FROM sit), (SELECT count(*) FROM cand), (SELECT count(*) FROM res)`,
		cls, catalog.PlanAssessments(db), completed, completed, catalog.VersionRules(db)).
		Scan(ctx, &sittings, &candidates, &results)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("generate scale sittings: %w", err)
	}
	return sittings, candidates, results, nil
}

// ScalePasses selects the enrolments with ids in [fromID, toID] that
// passed every part their plan's assessment asks for (enrolment_id,
// passed_on: the day of the last passing result, in China): what the
// scale seed certifies.
func ScalePasses(db bun.IDB, fromID, toID int64) *bun.SelectQuery {
	return db.NewSelect().TableExpr("assessment_results AS r").
		Join("JOIN assessment_sittings AS s ON s.id = r.sitting_id").
		Join("JOIN (?) AS cl ON cl.id = s.class_id", classes.Providers(db)).
		ColumnExpr("r.enrolment_id, max(r.recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS passed_on").
		Where("r.passed AND r.enrolment_id BETWEEN ? AND ?", fromID, toID).
		GroupExpr("r.enrolment_id").
		Having("count(DISTINCT s.kind) >= (SELECT CASE pa.assessment WHEN 'theory_practical' THEN 2 ELSE 1 END FROM (?) AS pa WHERE pa.id = min(cl.plan_id))",
			catalog.PlanAssessments(db))
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE assessment_sittings, assessment_candidates, assessment_results"); err != nil {
		return fmt.Errorf("analyze assessment_sittings, assessment_candidates, assessment_results: %w", err)
	}
	return nil
}

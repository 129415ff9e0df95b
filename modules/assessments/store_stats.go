package assessments

import (
	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
)

// PassesForStats is a sub-query for the HR overview (package payouts): one
// row per enrolment that passed every part its plan's assessment asks for
// (theory, or theory and practical), with the region of its sittings as
// region_code and the day of its last passing result as day (in the
// session's time zone). The overview filters and counts it, so the SQL
// naming this module's tables stays here.
func PassesForStats(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("assessment_results AS r").
		Join("JOIN assessment_sittings AS s ON s.id = r.sitting_id").
		Join("JOIN (?) AS cl ON cl.id = s.class_id", classes.Display(idb)).
		Join("JOIN (?) AS pa ON pa.id = cl.plan_id", catalog.PlanAssessments(idb)).
		ColumnExpr("min(s.region_code) AS region_code, max(r.updated_at)::date AS day").
		Where("r.passed").
		GroupExpr("r.enrolment_id, pa.assessment").
		Having("count(DISTINCT s.kind) >= CASE pa.assessment WHEN 'theory_practical' THEN 2 ELSE 1 END")
}

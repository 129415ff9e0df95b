package enrolment

import (
	"github.com/uptrace/bun"

	"tuoyu/modules/classes"
)

// CompletionsForStats is a sub-query for the HR overview (package payouts):
// one row per completed enrolment with the class's region_code and the
// completion date as day. The overview filters and counts it, so the SQL
// naming this module's tables stays in this module.
func CompletionsForStats(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("enrolments AS e").
		Join("JOIN (?) AS cl ON cl.id = e.class_id", classes.Display(idb)).
		ColumnExpr("cl.region_code AS region_code, e.completed_on AS day").
		Where("e.status = 'completed'")
}

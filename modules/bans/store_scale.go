package bans

import "github.com/uptrace/bun"

// Unlifted selects the blind index (id_number_idx) of every ban in force:
// the sub-query with which workers recomputes its ban flag after a bulk
// load that ran without the flag's insert trigger.
func Unlifted(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("bans").Column("id_number_idx").Where("lifted_at IS NULL")
}

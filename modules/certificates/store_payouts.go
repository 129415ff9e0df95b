package certificates

import "github.com/uptrace/bun"

// IssuedForStats is a sub-query for the HR overview (package payouts): one
// row per certificate issued here (not those recorded from elsewhere), with
// the holder's region at issue as region_code and the issue date as day.
// A later revocation does not undo that it was issued that month.
func IssuedForStats(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("certificates AS cs").
		ColumnExpr("cs.region_code, cs.issued_on AS day").
		Where("cs.source = 'issued'")
}

package payouts

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// rollupZone is the zone of the rollup's months: the migration's triggers
// take a claim's month of submission in it. The overview reads the rollup
// only when it runs in this zone, and counts fresh otherwise.
const rollupZone = "Asia/Shanghai"

// rollupCell is one summed row of payouts_stats_monthly: a region code, a
// month of the year, a measure (claimed, approved, certified, trained,
// passed, paid), its key (the claim's or item's status, or ”) and the count and
// yuan.
type rollupCell struct {
	RegionCode string `bun:"region_code"`
	Month      int    `bun:"month"`
	Measure    string `bun:"measure"`
	Key        string `bun:"key"`
	N          int64  `bun:"n"`
	Yuan       int64  `bun:"yuan"`
}

// rollupCells sums the rollup of year under prefix by region, month,
// measure and key: a few thousand rows for a province, where the sources
// hold millions.
func (s Store) rollupCells(ctx context.Context, prefix string, year int) ([]rollupCell, error) {
	var out []rollupCell
	err := s.db.NewSelect().TableExpr("payouts_stats_monthly AS r").
		ColumnExpr("r.region_code, extract(month FROM r.month)::int AS month, r.measure, r.key").
		ColumnExpr("sum(r.n) AS n, sum(r.yuan) AS yuan").
		Where("r.month >= make_date(?, 1, 1) AND r.month < make_date(?, 1, 1)", year, year+1).
		Where("r.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2, 3, 4").
		Having("sum(r.n) <> 0 OR sum(r.yuan) <> 0").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("sum the overview's rollup: %w", err)
	}
	return out, nil
}

// RollupDiff is rollupDiff with the service's sources: for the checks of
// writers that bypass the triggers (the scale seed).
func (s *Service) RollupDiff(ctx context.Context) ([]string, error) {
	return rollupDiff(ctx, s.db, s.sources)
}

// rollupDiff compares the whole rollup with a fresh count of the sources
// (the owners' sub-queries and the batch items), every year and region, and
// returns the rows that differ, as text, for a test to show. An empty
// answer is an exact rollup.
func rollupDiff(ctx context.Context, idb bun.IDB, src Sources) ([]string, error) {
	fresh := idb.NewSelect().TableExpr("(?) AS c", src.Claims(idb)).
		ColumnExpr("date_trunc('month', c.submitted_at AT TIME ZONE ?)::date AS month, c.region_code, 'claimed' AS measure, c.status AS key, count(*) AS n, sum(c.amount_yuan) AS yuan", rollupZone).
		GroupExpr("1, 2, 3, 4").
		UnionAll(idb.NewSelect().TableExpr("(?) AS c", src.Claims(idb)).
			ColumnExpr("date_trunc('month', c.approved_on::timestamp)::date, c.region_code, 'approved', '', count(*), sum(c.amount_yuan)").
			Where("c.approved_on IS NOT NULL").GroupExpr("1, 2, 3, 4")).
		UnionAll(idb.NewSelect().TableExpr("(?) AS e", src.Certified(idb)).
			ColumnExpr("date_trunc('month', e.day::timestamp)::date, e.region_code, 'certified', '', count(*), 0").GroupExpr("1, 2, 3, 4")).
		UnionAll(idb.NewSelect().TableExpr("(?) AS e", src.Trained(idb)).
			ColumnExpr("date_trunc('month', e.day::timestamp)::date, e.region_code, 'trained', '', count(*), 0").GroupExpr("1, 2, 3, 4")).
		UnionAll(idb.NewSelect().TableExpr("(?) AS e", src.Passed(idb)).
			ColumnExpr("date_trunc('month', e.day::timestamp)::date, e.region_code, 'passed', '', count(*), 0").GroupExpr("1, 2, 3, 4")).
		UnionAll(idb.NewSelect().TableExpr("payout_batch_items AS pi").
			Join("JOIN payout_batches AS pb ON pb.id = pi.batch_id").
			ColumnExpr("date_trunc('month', pb.paid_on::timestamp)::date, pi.region_code, 'paid', pi.status, count(*), sum(pi.amount_yuan)").
			Where("pb.status = 'paid' AND pi.status IN ('included', 'returned')").GroupExpr("1, 2, 3, 4"))
	var out []string
	err := idb.NewSelect().
		With("f", fresh).
		With("r", idb.NewSelect().TableExpr("payouts_stats_monthly").Where("n <> 0 OR yuan <> 0")).
		TableExpr("f").
		Join("FULL JOIN r ON r.month = f.month AND r.region_code = f.region_code AND r.measure = f.measure AND r.key = f.key").
		ColumnExpr("concat_ws(' ', coalesce(f.month, r.month), coalesce(f.region_code, r.region_code), coalesce(f.measure, r.measure), coalesce(f.key, r.key), 'fresh', f.n, f.yuan, 'rollup', r.n, r.yuan)").
		Where("f.n IS DISTINCT FROM r.n OR f.yuan IS DISTINCT FROM r.yuan").
		OrderExpr("1").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("compare the rollup with a fresh count: %w", err)
	}
	return out, nil
}

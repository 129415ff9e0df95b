package payouts

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// GenerateScale gathers the claims toPay selects (claims.ScaleToPay) that
// are in no batch yet into payout batches, per region: the batched claims
// into a draft and an exported batch, the paid and returned ones into four
// paid batches (a returned claim's item returned by the bank). Each batch
// is written with its totals, computed from its claims in the same
// statement, because the items are written with triggers off (pg.Replica:
// the per-row state check and the totals trigger); a test compares the
// totals with a fresh sum. by creates, exports and confirms the batches.
// The scale seed's verb; it returns the batches and items written.
// Errors: only internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, toPay *bun.SelectQuery, by int64, today time.Time) (batches, items int, err error) {
	err = db.NewRaw(`
		WITH cl AS MATERIALIZED (SELECT c.*,
				CASE WHEN c.status = 'batched' THEN CASE WHEN c.id % 2 = 0 THEN 'draft' ELSE 'exported' END
					ELSE 'paid' END AS bstatus,
				CASE WHEN c.status = 'batched' THEN 0 ELSE c.id % 4 END AS part
			FROM (?) AS c
			WHERE NOT EXISTS (SELECT 1 FROM payout_batch_items AS i WHERE i.claim_id = c.id)),
		grp AS (SELECT region_code, bstatus, part, count(*) AS claims, sum(amount_yuan) AS total,
				count(*) FILTER (WHERE status = 'returned') AS rc,
				coalesce(sum(amount_yuan) FILTER (WHERE status = 'returned'), 0) AS ry,
				max(approved_on) AS last_approved
			FROM cl GROUP BY region_code, bstatus, part),
		b AS (INSERT INTO payout_batches (region_code, status, claims, total_yuan, returned_claims, returned_yuan,
				created_by, created_at, exported_at, exported_by, exports, paid_on, bank_reference, paid_at, paid_by)
			SELECT g.region_code, g.bstatus, g.claims, g.total, g.rc, g.ry, ?, t.made,
				CASE WHEN g.bstatus <> 'draft' THEN t.made + interval '1 day' END,
				CASE WHEN g.bstatus <> 'draft' THEN ?::bigint END,
				CASE WHEN g.bstatus <> 'draft' THEN 1 ELSE 0 END,
				CASE WHEN g.bstatus = 'paid' THEN (t.made + interval '5 days')::date END,
				CASE WHEN g.bstatus = 'paid' THEN 'SCALE-' || g.region_code || '-' || g.part END,
				CASE WHEN g.bstatus = 'paid' THEN t.made + interval '5 days' END,
				CASE WHEN g.bstatus = 'paid' THEN ?::bigint END
			FROM grp AS g
			CROSS JOIN LATERAL (SELECT CASE WHEN g.bstatus = 'paid' THEN g.last_approved + 10
				ELSE ?::date - 2 END::timestamptz + interval '10 hours' AS made) AS t
			RETURNING id, region_code, status, exported_at, paid_at, bank_reference),
		it AS (INSERT INTO payout_batch_items (batch_id, claim_id, worker_id, region_code, subsidy, amount_yuan,
				status, return_reason, returned_at, created_at)
			SELECT b.id, cl.id, cl.worker_id, cl.region_code, cl.subsidy, cl.amount_yuan,
				CASE WHEN cl.status = 'returned' THEN 'returned' ELSE 'included' END,
				CASE WHEN cl.status = 'returned' THEN '账户已注销（规模测试数据）' END,
				CASE WHEN cl.status = 'returned' THEN b.paid_at + interval '3 days' END,
				coalesce(b.exported_at, now()) - interval '1 day'
			FROM cl JOIN b ON b.region_code = cl.region_code AND b.status = cl.bstatus
				AND coalesce(b.bank_reference, '') = CASE WHEN cl.bstatus = 'paid'
					THEN 'SCALE-' || cl.region_code || '-' || cl.part ELSE '' END
			RETURNING 1)
		SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM it)`,
		toPay, by, by, by, today.Format(time.DateOnly)).Scan(ctx, &batches, &items)
	if err != nil {
		return 0, 0, fmt.Errorf("generate scale payout batches: %w", err)
	}
	return batches, items, nil
}

// TotalMismatches counts the batches whose totals differ from a fresh sum
// of their items (what the items' totals trigger keeps): the scale seed's
// test. Errors: only internal ones (database).
func TotalMismatches(ctx context.Context, db bun.IDB) (int, error) {
	n, err := db.NewSelect().TableExpr("payout_batches AS b").
		Join(`LEFT JOIN (SELECT batch_id,
				count(*) FILTER (WHERE status <> 'removed') AS claims,
				coalesce(sum(amount_yuan) FILTER (WHERE status <> 'removed'), 0) AS total,
				count(*) FILTER (WHERE status = 'returned') AS rc,
				coalesce(sum(amount_yuan) FILTER (WHERE status = 'returned'), 0) AS ry
			FROM payout_batch_items GROUP BY batch_id) AS f ON f.batch_id = b.id`).
		Where("(b.claims, b.total_yuan, b.returned_claims, b.returned_yuan) IS DISTINCT FROM (coalesce(f.claims, 0), coalesce(f.total, 0), coalesce(f.rc, 0), coalesce(f.ry, 0))").
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("compare payout batch totals: %w", err)
	}
	return int(n), nil
}

// RebuildRollup recounts payouts_stats_monthly from the source tables: a
// bulk load with the triggers off (the scale seed) leaves it behind.
// Errors: only internal ones (database).
func RebuildRollup(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "SELECT payouts_stats_rebuild()"); err != nil {
		return fmt.Errorf("rebuild the overview rollup: %w", err)
	}
	return nil
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE payout_batches, payout_batch_items"); err != nil {
		return fmt.Errorf("analyze payout_batches, payout_batch_items: %w", err)
	}
	return nil
}

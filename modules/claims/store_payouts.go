package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// This file is what the payouts module (above this one) needs of claims:
// lock the payable claims of a region, move claims between the payout
// statuses inside payouts' transaction, and a sub-query for the HR overview.
// Claim statuses stay this module's: payouts only asks for moves.

// Claim statuses that payouts moves between.
const (
	PayoutPayable  = "payable"
	PayoutBatched  = "batched"
	PayoutPaid     = "paid"
	PayoutReturned = "returned"
)

// PayableClaim is a claim ready to be paid, as a payout batch takes it.
type PayableClaim struct {
	ID         int64  `bun:"id"`
	WorkerID   int64  `bun:"worker_id"`
	Subsidy    string `bun:"subsidy"`
	AmountYuan int64  `bun:"amount_yuan"`
	RegionCode string `bun:"region_code"`
}

// LockPayable locks (FOR UPDATE) and returns the payable claims whose region
// lies under regionPrefix, oldest first. Run inside the transaction that
// batches them: a concurrent caller waits, then no longer sees them payable.
func LockPayable(ctx context.Context, idb bun.IDB, regionPrefix string) ([]PayableClaim, error) {
	var out []PayableClaim
	if err := payableQuery(idb, regionPrefix).For("UPDATE OF c").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("lock payable claims under %s: %w", regionPrefix, err)
	}
	return out, nil
}

// Payable is LockPayable without the lock, for pages.
func Payable(ctx context.Context, idb bun.IDB, regionPrefix string) ([]PayableClaim, error) {
	var out []PayableClaim
	if err := payableQuery(idb, regionPrefix).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("payable claims under %s: %w", regionPrefix, err)
	}
	return out, nil
}

func payableQuery(idb bun.IDB, regionPrefix string) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("claims AS c").
		ColumnExpr("c.id, c.worker_id, c.subsidy, c.amount_yuan, c.region_code").
		Where("c.status = ?", PayoutPayable).
		Where("c.region_code LIKE ?", regionPrefix+"%").
		OrderExpr("c.id")
}

// MoveForPayout moves the claims ids that are in status from to status to,
// in one statement, and returns how many moved; the caller compares it with
// len(ids) and rolls back on a difference. Only the payout moves are
// allowed: payable → batched, batched → payable (removed from a draft),
// paid → returned (the bank sent it back; the paid date goes with it),
// returned → payable (account fixed). batched → paid is PayForPayout.
func MoveForPayout(ctx context.Context, idb bun.IDB, ids []int64, from, to string) (int64, error) {
	switch from + ">" + to {
	case "payable>batched", "batched>payable", "paid>returned", "returned>payable":
	default:
		return 0, fmt.Errorf("claims: %s → %s is not a payout move", from, to)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	q := idb.NewUpdate().Table("claims").Set("status = ?", to).Set("updated_at = now()")
	switch {
	case to == PayoutReturned:
		q = q.Set("paid_on = NULL")
	case from == PayoutReturned:
		// payable again after the account was fixed: from now on
		q = q.Set("payable_at = now()")
	}
	res, err := q.Where("id IN (?)", bun.In(ids)).Where("status = ?", from).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("move %d claims %s → %s: %w", len(ids), from, to, err)
	}
	return res.RowsAffected()
}

// PayForPayout moves the batched claims ids to paid on paidOn, in one
// statement, and returns how many moved.
func PayForPayout(ctx context.Context, idb bun.IDB, ids []int64, paidOn time.Time) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := idb.NewUpdate().Table("claims").
		Set("status = ?", PayoutPaid).Set("paid_on = ?", paidOn.Format(time.DateOnly)).Set("updated_at = now()").
		Where("id IN (?)", bun.In(ids)).Where("status = ?", PayoutBatched).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("pay %d claims: %w", len(ids), err)
	}
	return res.RowsAffected()
}

// StatusesOf returns the current status of each of the claims ids.
func StatusesOf(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID     int64  `bun:"id"`
		Status string `bun:"status"`
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := idb.NewSelect().Table("claims").Column("id", "status").Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("claim statuses: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out, nil
}

// StatsForPayouts is a sub-query for the HR overview: one row per claim with
// region_code, submitted_at (timestamptz), approved_on (date or NULL),
// status and amount_yuan. The instant is given as stored: converting it to
// a local date per row with AT TIME ZONE costs more than the rest of the
// scan, so the overview compares instants and sets the session's zone.
func StatsForPayouts(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("claims AS c").
		ColumnExpr("c.region_code, c.submitted_at, c.approved_on, c.status, c.amount_yuan")
}

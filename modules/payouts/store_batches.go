package payouts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/workers"
)

func errBatchNotFound() *apperr.Error {
	return apperr.NotFound("batch_not_found", "拨付批次不存在")
}

// batchScope limits a batch query to p's scope: HR by the batch's region.
func batchScope(q *bun.SelectQuery, p *accounts.Principal) *bun.SelectQuery {
	return p.Scope().Apply(q, accounts.ScopeColumns{Region: "pb.region_code"})
}

func (s Store) batchQuery(dst any) *bun.SelectQuery {
	return s.db.NewSelect().Model(dst).ColumnExpr("pb.*, r.name AS region_name").
		Join("JOIN (?) AS r ON r.code = pb.region_code", orgs.RegionNames(s.db))
}

// BatchByID returns batch id if p may see it. Errors: NotFound
// batch_not_found.
func (s Store) BatchByID(ctx context.Context, p *accounts.Principal, id int64) (*Batch, error) {
	b := new(Batch)
	err := batchScope(s.batchQuery(b), p).Where("pb.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBatchNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("select batch %d: %w", id, err)
	}
	return b, nil
}

// LockBatch locks batch id (FOR UPDATE) if p may see it and returns it.
// Errors: NotFound batch_not_found.
func (s Store) LockBatch(ctx context.Context, p *accounts.Principal, id int64) (*Batch, error) {
	b := new(Batch)
	err := batchScope(s.db.NewSelect().Model(b), p).Where("pb.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errBatchNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("lock batch %d: %w", id, err)
	}
	return b, nil
}

// Batches returns a page of the batches p may see, newest first, and the
// total.
func (s Store) Batches(ctx context.Context, p *accounts.Principal, status Status, limit, offset int) ([]Batch, int, error) {
	var out []Batch
	q := batchScope(s.batchQuery(&out), p)
	if status != "" {
		q = q.Where("pb.status = ?", status)
	}
	n, err := q.OrderExpr("pb.id DESC").Limit(int64(limit)).Offset(int64(offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list batches: %w", err)
	}
	return out, int(n), nil
}

// InsertBatch stores a new draft batch.
func (s Store) InsertBatch(ctx context.Context, b *Batch) error {
	_, err := s.db.NewInsert().Model(b).Column("region_code", "created_by").Returning("*").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert batch: %w", err)
	}
	return nil
}

// InsertItems stores items in multi-row inserts of a thousand; the trigger
// adds each to its batch's totals.
func (s Store) InsertItems(ctx context.Context, items []Item) error {
	for i := 0; i < len(items); i += 1000 {
		chunk := items[i:min(i+1000, len(items))]
		if _, err := s.db.NewInsert().Model(&chunk).
			Column("batch_id", "claim_id", "worker_id", "region_code", "subsidy", "amount_yuan").Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return apperr.Conflict("claim_in_batch", "有补贴申请已在另一个拨付批次中，请刷新后重试")
			}
			return fmt.Errorf("insert %d batch items: %w", len(chunk), err)
		}
	}
	return nil
}

// ItemFilter selects items of a batch.
type ItemFilter struct {
	Statuses []ItemStatus // empty: all
	AfterID  int64        // items with a larger id only (streaming)
	Limit    int
	Offset   int
}

// Items returns items of batch batchID in id order, and the total matching.
func (s Store) Items(ctx context.Context, batchID int64, f ItemFilter) ([]Item, int, error) {
	var out []Item
	q := s.db.NewSelect().Model(&out).Where("pi.batch_id = ?", batchID)
	if len(f.Statuses) > 0 {
		q = q.Where("pi.status IN (?)", bun.In(f.Statuses))
	}
	if f.AfterID > 0 {
		q = q.Where("pi.id > ?", f.AfterID)
	}
	q = q.OrderExpr("pi.id")
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit)).Offset(int64(f.Offset))
	}
	n, err := q.ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("items of batch %d: %w", batchID, err)
	}
	return out, int(n), nil
}

// BlockingItems returns the included items of batch batchID whose worker
// has no bank account on file.
func (s Store) BlockingItems(ctx context.Context, batchID int64) ([]Item, error) {
	var out []Item
	err := s.db.NewSelect().Model(&out).Where("pi.batch_id = ?", batchID).
		Where("pi.status = ?", ItemIncluded).
		Where("pi.worker_id IN (?)", workers.WithoutBankAccount(s.db)).
		OrderExpr("pi.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("blocking items of batch %d: %w", batchID, err)
	}
	return out, nil
}

// IncludedItemByClaim returns the included item of claim claimID in batch
// batchID, locked. Errors: NotFound claim_not_in_batch.
func (s Store) IncludedItemByClaim(ctx context.Context, batchID, claimID int64) (*Item, error) {
	it := new(Item)
	err := s.db.NewSelect().Model(it).Where("pi.batch_id = ? AND pi.claim_id = ? AND pi.status = ?", batchID, claimID, ItemIncluded).
		For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("claim_not_in_batch", "该补贴申请不在此批次中")
	}
	if err != nil {
		return nil, fmt.Errorf("item of claim %d in batch %d: %w", claimID, batchID, err)
	}
	return it, nil
}

// RemoveItem marks an included item removed with its reason.
func (s Store) RemoveItem(ctx context.Context, id, by int64, reason string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*Item)(nil)).
		Set("status = ?", ItemRemoved).Set("removed_reason = ?", reason).Set("removed_by = ?", by).Set("removed_at = ?", at).
		Where("id = ? AND status = ?", id, ItemIncluded).Exec(ctx)
	return expectOne(res, err, "remove batch item %d", id)
}

// SetAccountIdx records, per item, the blind index of the account the bank
// file carried.
func (s Store) SetAccountIdx(ctx context.Context, idx map[int64][]byte) error {
	if len(idx) == 0 {
		return nil
	}
	type row struct {
		ID  int64  `bun:"id"`
		Idx []byte `bun:"idx"`
	}
	rows := make([]row, 0, len(idx))
	for id, v := range idx {
		rows = append(rows, row{id, v})
	}
	for i := 0; i < len(rows); i += 1000 {
		chunk := rows[i:min(i+1000, len(rows))]
		_, err := s.db.NewUpdate().With("v", s.db.NewValues(&chunk)).
			TableExpr("payout_batch_items AS pi").TableExpr("v").
			Set("account_idx = v.idx").Where("pi.id = v.id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record accounts of %d items: %w", len(chunk), err)
		}
	}
	return nil
}

// MarkExported moves a draft batch to exported, or counts one more export
// of an exported one.
func (s Store) MarkExported(ctx context.Context, id, by int64, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*Batch)(nil)).
		Set("status = ?", StatusExported).
		Set("exported_at = coalesce(exported_at, ?)", at).
		Set("exported_by = coalesce(exported_by, ?)", by).
		Set("exports = exports + 1").
		Where("id = ? AND status IN (?)", id, bun.In([]Status{StatusDraft, StatusExported})).Exec(ctx)
	return expectOne(res, err, "mark batch %d exported", id)
}

// MarkPaid moves batch id from exported to paid and reports whether it did.
// The condition on the status is the guard of "paid exactly once": of two
// concurrent callers the second waits for the first's row lock, then finds
// the batch no longer exported and changes nothing.
func (s Store) MarkPaid(ctx context.Context, p *accounts.Principal, id int64, paidOn time.Time, ref string, at time.Time) (bool, error) {
	q := s.db.NewUpdate().Model((*Batch)(nil)).
		Set("status = ?", StatusPaid).Set("paid_on = ?", paidOn).Set("bank_reference = ?", ref).
		Set("paid_at = ?", at).Set("paid_by = ?", p.UserID).
		Where("id = ? AND status = ?", id, StatusExported)
	if sc := p.Scope(); !sc.All {
		q = q.Where("region_code LIKE ?", sc.RegionPrefix+"%")
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark batch %d paid: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReturnItem marks an included item of a paid batch returned by the bank.
func (s Store) ReturnItem(ctx context.Context, id int64, reason string, at time.Time) error {
	res, err := s.db.NewUpdate().Model((*Item)(nil)).
		Set("status = ?", ItemReturned).Set("return_reason = ?", reason).Set("returned_at = ?", at).
		Where("id = ? AND status = ?", id, ItemIncluded).Exec(ctx)
	return expectOne(res, err, "return batch item %d", id)
}

// ReleaseFixedReturns marks released, at at, every returned item under
// regionPrefix not released yet whose worker now has a bank account other
// than the one the bank returned the money from, and returns the items'
// claims. One statement: it reads and locks only the items it changes, not
// every return of the province with its workers (which the job did every
// ten minutes).
func (s Store) ReleaseFixedReturns(ctx context.Context, regionPrefix string, at time.Time) ([]int64, error) {
	var claimIDs []int64
	err := s.db.NewRaw(`UPDATE payout_batch_items AS pi SET released_at = ?
		FROM (?) AS wa
		WHERE wa.id = pi.worker_id AND pi.status = ? AND pi.released_at IS NULL AND pi.region_code LIKE ?
			AND wa.bank_account_idx IS DISTINCT FROM pi.account_idx
		RETURNING pi.claim_id`, at, workers.BankAccounts(s.db), ItemReturned, regionPrefix+"%").Scan(ctx, &claimIDs)
	if err != nil {
		return nil, fmt.Errorf("release returned items under %s: %w", regionPrefix, err)
	}
	return claimIDs, nil
}

func expectOne(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf(format+": %w", append(args, err)...)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.Conflict("batch_changed", "批次已被他人修改，请刷新后重试")
	}
	return nil
}

// isUniqueViolation reports a unique constraint violation (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "23505"
}

package payouts

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Store reads and writes payout batches, their items and budgets, on the
// database or inside a transaction a service opened.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (a *bun.DB or a bun.Tx).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// eventCells counts the rows of an owner's event sub-query by region code
// and month, for days in [from, to) and regions under prefix.
func (s Store) eventCells(ctx context.Context, src *bun.SelectQuery, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("(?) AS e", src).
		ColumnExpr("e.region_code, extract(month FROM e.day)::int AS month, count(*) AS n").
		Where("e.day >= ? AND e.day < ?", from, to).
		Where("e.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	return out, nil
}

// claimCells counts claims submitted in [from, to) by region, month and
// status (key = status), with their amounts.
func (s Store) claimCells(ctx context.Context, src *bun.SelectQuery, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("(?) AS c", src).
		ColumnExpr("c.region_code, extract(month FROM c.submitted_on)::int AS month, c.status AS key").
		ColumnExpr("count(*) AS n, coalesce(sum(c.amount_yuan), 0) AS yuan").
		Where("c.submitted_on >= ? AND c.submitted_on < ?", from, to).
		Where("c.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2, 3").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count claims: %w", err)
	}
	return out, nil
}

// approvalCells counts claims approved in [from, to) by region and month,
// with their amounts.
func (s Store) approvalCells(ctx context.Context, src *bun.SelectQuery, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("(?) AS c", src).
		ColumnExpr("c.region_code, extract(month FROM c.approved_on)::int AS month").
		ColumnExpr("count(*) AS n, coalesce(sum(c.amount_yuan), 0) AS yuan").
		Where("c.approved_on >= ? AND c.approved_on < ?", from, to).
		Where("c.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count approvals: %w", err)
	}
	return out, nil
}

// paidCells counts the items of batches paid in [from, to) by the claim's
// region, the month of payment and the item's status: included (paid and
// kept) or returned (sent back by the bank).
func (s Store) paidCells(ctx context.Context, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("payout_batch_items AS pi").
		Join("JOIN payout_batches AS pb ON pb.id = pi.batch_id").
		ColumnExpr("pi.region_code, extract(month FROM pb.paid_on)::int AS month, pi.status AS key").
		ColumnExpr("count(*) AS n, coalesce(sum(pi.amount_yuan), 0) AS yuan").
		Where("pb.status = 'paid' AND pb.paid_on >= ? AND pb.paid_on < ?", from, to).
		Where("pi.status IN ('included', 'returned')").
		Where("pi.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2, 3").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count payments: %w", err)
	}
	return out, nil
}

// Budgets returns the budgets of a year for the given regions.
func (s Store) Budgets(ctx context.Context, year int, codes []string) ([]Budget, error) {
	var out []Budget
	if len(codes) == 0 {
		return out, nil
	}
	err := s.db.NewSelect().Model(&out).Where("bg.year = ?", year).Where("bg.region_code IN (?)", bun.In(codes)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("select budgets of %d: %w", year, err)
	}
	return out, nil
}

// ListBudgets returns every budget, newest year first, with region names.
func (s Store) ListBudgets(ctx context.Context) ([]Budget, error) {
	var out []Budget
	err := s.db.NewSelect().Model(&out).ColumnExpr("bg.*, r.name AS region_name").
		Join("JOIN regions AS r ON r.code = bg.region_code").
		OrderExpr("bg.year DESC, bg.region_code").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list budgets: %w", err)
	}
	return out, nil
}

// UpsertBudget sets the budget of b's region and year, replacing one set
// before, and returns the stored row.
func (s Store) UpsertBudget(ctx context.Context, b *Budget) error {
	_, err := s.db.NewInsert().Model(b).ExcludeColumn("id", "set_at").
		On("CONFLICT (region_code, year) DO UPDATE").
		Set("amount_yuan = EXCLUDED.amount_yuan, note = EXCLUDED.note, set_by = EXCLUDED.set_by, set_at = now()").
		Returning("id, set_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("set budget %s/%d: %w", b.RegionCode, b.Year, err)
	}
	return nil
}

package payouts

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/orgs"
)

// Store reads and writes payout batches, their items and budgets, on the
// database or inside a transaction a service opened.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (a *bun.DB or a bun.Tx).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// monthDays are the first days of February to December of from's year:
// width_bucket(day, monthDays) + 1 is a date's month by comparisons alone.
// extract(month …) turns every row's date or instant into a local
// timestamp first, which cost more than the rest of the overview's scans
// (≈ 4 × a count of the same rows).
func monthDays(from time.Time) any {
	out := make([]string, 11)
	for m := 2; m <= 12; m++ {
		out[m-2] = fmt.Sprintf("%04d-%02d-01", from.Year(), m)
	}
	return pgdialect.Array(out)
}

// monthInstants are the local midnights starting February to December of
// from's year, in from's zone: width_bucket(instant, monthInstants) + 1 is
// the local month of an instant.
func monthInstants(from time.Time) any {
	out := make([]string, 11)
	for m := 2; m <= 12; m++ {
		out[m-2] = time.Date(from.Year(), time.Month(m), 1, 0, 0, 0, 0, from.Location()).Format(time.RFC3339)
	}
	return pgdialect.Array(out)
}

// eventCells counts the rows of an owner's event sub-query by region code
// and month, for days in [from, to) and regions under prefix.
func (s Store) eventCells(ctx context.Context, src *bun.SelectQuery, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("(?) AS e", src).
		ColumnExpr("e.region_code, width_bucket(e.day, ?::date[]) + 1 AS month, count(*) AS n", monthDays(from)).
		Where("e.day >= ? AND e.day < ?", from, to).
		Where("e.region_code LIKE ?", prefix+"%").
		GroupExpr("1, 2").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count events: %w", err)
	}
	return out, nil
}

// claimCell is one aggregated row of the claims sub-query: either a
// (region, month of submission, status) group or, when Approval is set, a
// (region, month of approval) group.
type claimCell struct {
	RegionCode string `bun:"region_code"`
	Month      int    `bun:"month"`
	Status     string `bun:"status"`
	Approval   bool   `bun:"approval"`
	N          int64  `bun:"n"`
	Yuan       int64  `bun:"yuan"`
}

// claimCells counts, in one scan of the claims sub-query, the claims
// submitted in [from, to) by region, month and status, and the claims
// approved in [from, to) by region and month, with their amounts. from and
// to are local midnights; the month of submission is the local month in
// from's zone (monthInstants).
func (s Store) claimCells(ctx context.Context, src *bun.SelectQuery, prefix string, from, to time.Time) ([]claimCell, error) {
	dayFrom, dayTo := from.Format(time.DateOnly), to.Format(time.DateOnly)
	inner := s.db.NewSelect().TableExpr("(?) AS c", src).
		ColumnExpr("c.region_code, c.status, c.amount_yuan").
		ColumnExpr("width_bucket(c.submitted_at, ?::timestamptz[]) + 1 AS sub_month", monthInstants(from)).
		ColumnExpr("(c.submitted_at >= ? AND c.submitted_at < ?) AS sub_in", from, to).
		ColumnExpr("width_bucket(c.approved_on, ?::date[]) + 1 AS appr_month", monthDays(from)).
		ColumnExpr("coalesce(c.approved_on >= ? AND c.approved_on < ?, false) AS appr_in", dayFrom, dayTo).
		Where("c.region_code LIKE ?", prefix+"%").
		Where("((c.submitted_at >= ? AND c.submitted_at < ?) OR (c.approved_on >= ? AND c.approved_on < ?))", from, to, dayFrom, dayTo)
	var out []claimCell
	err := s.db.NewSelect().TableExpr("(?) AS x", inner).
		ColumnExpr("x.region_code").
		ColumnExpr("CASE WHEN grouping(x.sub_month) = 0 THEN x.sub_month ELSE x.appr_month END AS month").
		ColumnExpr("coalesce(x.status, '') AS status").
		ColumnExpr("grouping(x.sub_month) = 1 AS approval").
		ColumnExpr("CASE WHEN grouping(x.sub_month) = 0 THEN count(*) FILTER (WHERE x.sub_in) ELSE count(*) FILTER (WHERE x.appr_in) END AS n").
		ColumnExpr(`CASE WHEN grouping(x.sub_month) = 0 THEN coalesce(sum(x.amount_yuan) FILTER (WHERE x.sub_in), 0)
			ELSE coalesce(sum(x.amount_yuan) FILTER (WHERE x.appr_in), 0) END AS yuan`).
		GroupExpr("GROUPING SETS ((x.region_code, x.sub_month, x.status), (x.region_code, x.appr_month))").
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("count claims: %w", err)
	}
	return out, nil
}

// setZone sets the transaction's time zone, in which PostgreSQL takes the
// month of an instant (the overview's months are Asia/Shanghai months).
func (s Store) setZone(ctx context.Context, loc *time.Location) error {
	if _, err := s.db.ExecContext(ctx, "SELECT set_config('timezone', ?, true)", loc.String()); err != nil {
		return fmt.Errorf("set time zone %s: %w", loc, err)
	}
	return nil
}

// paidCells counts the items of batches paid in [from, to) by the claim's
// region, the month of payment and the item's status: included (paid and
// kept) or returned (sent back by the bank).
func (s Store) paidCells(ctx context.Context, prefix string, from, to time.Time) ([]cell, error) {
	var out []cell
	err := s.db.NewSelect().TableExpr("payout_batch_items AS pi").
		Join("JOIN payout_batches AS pb ON pb.id = pi.batch_id").
		ColumnExpr("pi.region_code, width_bucket(pb.paid_on, ?::date[]) + 1 AS month, pi.status AS key", monthDays(from)).
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
		Join("JOIN (?) AS r ON r.code = bg.region_code", orgs.RegionNames(s.db)).
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

// exportSnapshot exports the snapshot of tx (pg_export_snapshot) for
// another connection to read the same data.
func exportSnapshot(ctx context.Context, tx bun.Tx) (string, error) {
	var snap string
	if err := tx.NewRaw("SELECT pg_export_snapshot()").Scan(ctx, &snap); err != nil {
		return "", fmt.Errorf("export snapshot: %w", err)
	}
	return snap, nil
}

// importSnapshot makes tx (repeatable read, not yet queried) read the
// snapshot snap exported by exportSnapshot.
func importSnapshot(ctx context.Context, tx bun.Tx, snap string) error {
	if _, err := tx.ExecContext(ctx, "SET TRANSACTION SNAPSHOT ?", snap); err != nil {
		return fmt.Errorf("import snapshot: %w", err)
	}
	return nil
}

package workers

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// FactsAfter returns up to limit workers with id > after, in id order,
// with only what the subsidy rules read (id, region, subsidy facts and
// their sources, ban flag): batch jobs walk every worker with it.
func FactsAfter(ctx context.Context, idb bun.IDB, after int64, limit int) ([]Worker, error) {
	var out []Worker
	err := idb.NewSelect().Model(&out).
		Column("id", "region_code", "employment", "employment_set_by", "insured_months", "insured_months_set_by",
			"target_groups", "target_groups_set_by", "banned").
		Where("w.id > ?", after).OrderExpr("w.id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("worker facts after %d: %w", after, err)
	}
	return out, nil
}

// FactsIn is FactsAfter for the workers ids, in id order.
// Errors: only internal ones (database).
func FactsIn(ctx context.Context, idb bun.IDB, ids []int64) ([]Worker, error) {
	var out []Worker
	err := idb.NewSelect().Model(&out).
		Column("id", "region_code", "employment", "employment_set_by", "insured_months", "insured_months_set_by",
			"target_groups", "target_groups_set_by", "banned").
		Where("w.id IN (?)", bun.In(ids)).OrderExpr("w.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("facts of %d workers: %w", len(ids), err)
	}
	return out, nil
}

// Located is a worker found by ID number index, with the region that
// decides HR scope.
type Located struct {
	ID          int64  `bun:"id"`
	IDNumberIdx []byte `bun:"id_number_idx"`
	RegionCode  string `bun:"region_code"`
}

// LocateByIDNumberIdx returns the workers whose ID number index is in
// idxs, keyed by string(index), in one query.
func LocateByIDNumberIdx(ctx context.Context, idb bun.IDB, idxs [][]byte) (map[string]Located, error) {
	out := make(map[string]Located, len(idxs))
	if len(idxs) == 0 {
		return out, nil
	}
	var rows []Located
	err := idb.NewSelect().TableExpr("workers AS w").ColumnExpr("w.id, w.id_number_idx, coalesce(w.region_code, '') AS region_code").
		Where("w.id_number_idx = ANY(?)", pgdialect.Array(idxs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("locate workers by id number: %w", err)
	}
	for _, r := range rows {
		out[string(r.IDNumberIdx)] = r
	}
	return out, nil
}

// InsuredMonths is one worker's cumulative unemployment-insurance months
// as of a date, from the social-insurance system.
type InsuredMonths struct {
	WorkerID int64     `json:"worker_id"`
	Months   int       `json:"months"`
	AsOf     time.Time `json:"as_of"`
}

// SetInsuredMonths writes imported months in the caller's transaction,
// marked as supplied by an HR import (they win over what a worker
// declared); a stored figure dated later than the import is kept. It
// returns how many workers changed.
func SetInsuredMonths(ctx context.Context, idb bun.IDB, rows []InsuredMonths, source string, at time.Time) (int, error) {
	n := 0
	for _, r := range rows {
		res, err := idb.NewUpdate().TableExpr("workers AS w").
			Set("insured_months = ?", r.Months).Set("insured_months_on = ?", r.AsOf.Format(time.DateOnly)).
			Set("insured_months_source = ?", source).Set("insured_months_set_at = ?", at).
			Set("insured_months_set_by = ?", FactByHRImport).Set("updated_at = now()").
			Where("w.id = ?", r.WorkerID).
			Where("w.insured_months_on IS NULL OR w.insured_months_on <= ?", r.AsOf.Format(time.DateOnly)).Exec(ctx)
		if err != nil {
			return n, fmt.Errorf("set insured months of worker %d: %w", r.WorkerID, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

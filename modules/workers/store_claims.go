package workers

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
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

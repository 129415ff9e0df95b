package pg

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"
)

// ExactUpTo is how far a list's total is counted exactly; above it the
// total is the planner's estimate, flagged as such. Counting 10 000 index
// entries costs a few milliseconds, counting a province's million costs
// hundreds on every request.
const ExactUpTo = 10_000

// Total counts the rows of q (a SELECT with the list's filters and scope,
// without ORDER BY or LIMIT): exactly when there are at most exactUpTo,
// else the planner's estimate with estimate true. The plan is asked first
// so a large scope is never counted at all; a small estimate is checked by
// a count capped at exactUpTo+1 rows, because estimates of small scopes
// (a provider's links) can be far off. Errors: only internal ones (database).
func Total(ctx context.Context, db bun.IDB, q *bun.SelectQuery, exactUpTo int) (n int, estimate bool, err error) {
	planned, err := PlanRows(ctx, db, q)
	if err != nil {
		return 0, false, err
	}
	if planned > 2*float64(exactUpTo) {
		return int(planned), true, nil
	}
	var counted int
	err = db.NewSelect().TableExpr("(?) AS capped", q.Limit(int64(exactUpTo+1))).
		ColumnExpr("count(*)").Scan(ctx, &counted)
	if err != nil {
		return 0, false, fmt.Errorf("count rows: %w", err)
	}
	if counted <= exactUpTo {
		return counted, false, nil
	}
	return max(int(planned), counted), true, nil
}

// PlanRows is the planner's estimate of the rows q returns (EXPLAIN, no
// execution). Errors: only internal ones (database).
func PlanRows(ctx context.Context, db bun.IDB, q *bun.SelectQuery) (float64, error) {
	var plan string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", q).Scan(ctx, &plan); err != nil {
		return 0, fmt.Errorf("explain count: %w", err)
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil || len(out) == 0 {
		return 0, fmt.Errorf("read plan %q: %v", plan, err)
	}
	return out[0].Plan.Rows, nil
}

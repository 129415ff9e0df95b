package pg

import (
	"context"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Plans remembers the planner's row estimates of count queries for a while,
// so a hot list asks EXPLAIN once a minute per scope instead of on every
// request: the estimate only moves when the statistics do (ANALYZE), and
// it only decides whether a list's total is counted or estimated. A nil
// *Plans asks the planner every time. Safe for concurrent use.
type Plans struct {
	ttl  time.Duration
	now  func() time.Time
	mu   sync.Mutex
	rows map[string]plannedRows
}

type plannedRows struct {
	rows float64
	at   time.Time
}

// maxPlans bounds the cache: searches make a query per prefix, and an
// attacker could make many; past the bound it starts afresh.
const maxPlans = 1024

// NewPlans returns a cache that keeps each estimate for ttl.
func NewPlans(ttl time.Duration, now func() time.Time) *Plans {
	return &Plans{ttl: ttl, now: now, rows: map[string]plannedRows{}}
}

// Rows is PlanRows of q, from the cache while it is fresh. The key is q's
// SQL text with its arguments, so each scope and filter has its own entry.
// Errors: only internal ones (database).
func (p *Plans) Rows(ctx context.Context, db bun.IDB, q *bun.SelectQuery) (float64, error) {
	if p == nil {
		return PlanRows(ctx, db, q)
	}
	key := q.String()
	now := p.now()
	p.mu.Lock()
	e, ok := p.rows[key]
	p.mu.Unlock()
	if ok && now.Sub(e.at) < p.ttl {
		return e.rows, nil
	}
	rows, err := PlanRows(ctx, db, q)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	if len(p.rows) >= maxPlans {
		p.rows = map[string]plannedRows{}
	}
	p.rows[key] = plannedRows{rows: rows, at: now}
	p.mu.Unlock()
	return rows, nil
}

// CappedCount is the count of q capped at exactUpTo+1 rows as a scalar
// subquery, for a page query to return beside its rows (one round trip
// instead of two). Settle turns it into a total.
func CappedCount(q *bun.SelectQuery, exactUpTo int) *bun.SelectQuery {
	return q.NewSelect().TableExpr("(?) AS capped", q.Limit(int64(exactUpTo+1))).ColumnExpr("count(*)")
}

// Settle is Total's decision on a count capped at exactUpTo+1 and the
// planner's estimate: exact up to exactUpTo, else the larger of the two,
// flagged as an estimate.
func Settle(counted int, planned float64, exactUpTo int) (n int, estimate bool) {
	if counted <= exactUpTo {
		return counted, false
	}
	return max(int(planned), counted), true
}

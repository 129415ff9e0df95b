package certificates

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
)

// Held is what the subsidy rules read of a certificate a worker holds.
type Held struct {
	ID         int64          `bun:"id"`
	WorkerID   int64          `bun:"worker_id"`
	Kind       Kind           `bun:"kind"`
	Source     Source         `bun:"source"`
	Occupation string         `bun:"occupation"`
	Level      *int           `bun:"level"`
	Hours      *catalog.Hours `bun:"hours"`
	IssuedOn   time.Time      `bun:"issued_on"`
	Status     Status         `bun:"status"`
}

// HeldBy returns the certificates the workers hold (issued here or
// recorded from elsewhere; revoked ones are not held), ordered by worker and
// issue date, in one query so that batch callers stay set-based.
func HeldBy(ctx context.Context, idb bun.IDB, workerIDs []int64) ([]Held, error) {
	var out []Held
	if len(workerIDs) == 0 {
		return out, nil
	}
	err := idb.NewSelect().TableExpr("certificates AS ce").
		ColumnExpr("ce.id, ce.worker_id, ce.kind, ce.source, ce.occupation, ce.level, ce.hours, ce.issued_on, ce.status").
		Where("ce.worker_id IN (?)", bun.In(workerIDs)).Where("ce.status <> ?", StatusRevoked).
		OrderExpr("ce.worker_id, ce.issued_on, ce.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("certificates held by %d workers: %w", len(workerIDs), err)
	}
	return out, nil
}

// HeldByIDs returns the certificates ids whatever their status (a claim
// paid on a certificate revoked later still counts as paid).
func HeldByIDs(ctx context.Context, idb bun.IDB, ids []int64) ([]Held, error) {
	var out []Held
	if len(ids) == 0 {
		return out, nil
	}
	err := idb.NewSelect().TableExpr("certificates AS ce").
		ColumnExpr("ce.id, ce.worker_id, ce.kind, ce.source, ce.occupation, ce.level, ce.hours, ce.issued_on, ce.status").
		Where("ce.id IN (?)", bun.In(ids)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("certificates by id: %w", err)
	}
	return out, nil
}

// Display selects the columns other modules' lists show of a certificate
// (id, number, occupation, level, issued_on): a sub-query the claims store
// joins, so a claims list stays one statement.
func Display(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().Table("certificates").Column("id", "number", "occupation", "level", "issued_on")
}

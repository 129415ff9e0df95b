package bans

import (
	"context"

	"github.com/uptrace/bun"
)

// Store reads its own table (clean) joined with another module's (planted).
type Store struct{ db bun.IDB }

func (s Store) active(ctx context.Context) error {
	return s.db.NewSelect().Table("bans").Join("JOIN workers AS w ON w.id = bans.worker_id").Scan(ctx)
}

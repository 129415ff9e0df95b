package pg

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Replica runs fn in a transaction, on a connection of its own, with
// session_replication_role = replica: ordinary triggers and foreign-key
// checks do not fire, while CHECK, unique and exclusion constraints still
// hold. Only the scale seed's set-based loads use it, and only for rows
// whose references they draw from existing rows; each such load rebuilds
// afterwards, set-based, what the skipped triggers maintain (counters,
// read models). It needs a superuser (database.DB.Bulk). fn may COPY on
// conn. Errors: those of fn, and internal ones (database).
func Replica(ctx context.Context, db *bun.DB, fn func(ctx context.Context, conn bun.Conn, tx bun.Tx) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection for a bulk load: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
		return fmt.Errorf("switch triggers off for a bulk load: %w", err)
	}
	if err := fn(ctx, conn, tx); err != nil {
		return err
	}
	return tx.Commit()
}

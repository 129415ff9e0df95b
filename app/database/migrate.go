package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"tuoyu/migrations"
)

// migrationLockKey is the pg_advisory_lock key every tuoyu instance takes
// around schema changes ("tuoyu" in ASCII, so it is recognisable in pg_locks).
const migrationLockKey int64 = 0x74756f7975

// Status lists migrations by name (timestamp_module_change), oldest first.
type Status struct {
	Applied []string
	Pending []string
}

// Migrate applies every pending migration as one group. Concurrent callers
// (other goroutines or instances) wait for the advisory lock, then find
// nothing left to do.
func Migrate(ctx context.Context, db *bun.DB, logger *slog.Logger) error {
	return withMigrator(ctx, db, func(m *migrate.Migrator) error {
		group, err := m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if logger != nil && !group.IsZero() {
			logger.Info("database migrated", "group", group.ID, "migrations", names(group.Migrations))
		}
		return nil
	})
}

// Rollback undoes the most recently applied group of migrations and returns
// the names it undid, in the order undone (none when nothing is applied).
func Rollback(ctx context.Context, db *bun.DB, logger *slog.Logger) ([]string, error) {
	var undone []string
	err := withMigrator(ctx, db, func(m *migrate.Migrator) error {
		group, err := m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		undone = names(group.Migrations) // bun undoes them newest first
		slices.Reverse(undone)
		if logger != nil && !group.IsZero() {
			logger.Info("database rolled back", "group", group.ID, "migrations", undone)
		}
		return nil
	})
	return undone, err
}

// DownAll undoes every applied migration, newest group first.
func DownAll(ctx context.Context, db *bun.DB, logger *slog.Logger) error {
	for {
		undone, err := Rollback(ctx, db, logger)
		if err != nil {
			return err
		}
		if len(undone) == 0 {
			return nil
		}
	}
}

// MigrationStatus reports which migrations are applied and which are
// pending. A database never migrated has every migration pending.
func MigrationStatus(ctx context.Context, db *bun.DB) (Status, error) {
	m, ms, err := newMigrator(db)
	if err != nil {
		return Status{}, err
	}
	var exists bool
	if err := db.NewRaw("SELECT to_regclass('bun_migrations') IS NOT NULL").Scan(ctx, &exists); err != nil {
		return Status{}, fmt.Errorf("migration status: %w", err)
	}
	var all migrate.MigrationSlice
	if exists {
		if all, err = m.MigrationsWithStatus(ctx); err != nil {
			return Status{}, fmt.Errorf("migration status: %w", err)
		}
	} else {
		all = ms.Sorted()
	}
	var s Status
	for _, mig := range all {
		if mig.IsApplied() {
			s.Applied = append(s.Applied, mig.String())
		} else {
			s.Pending = append(s.Pending, mig.String())
		}
	}
	return s, nil
}

// Ready reports whether the database answers and has no pending migration;
// /readyz uses it.
func Ready(ctx context.Context, db *bun.DB) error {
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	s, err := MigrationStatus(ctx, db)
	if err != nil {
		return err
	}
	if len(s.Pending) > 0 {
		return fmt.Errorf("%d migrations pending, first %s", len(s.Pending), s.Pending[0])
	}
	return nil
}

// withMigrator runs fn holding the migration advisory lock on one dedicated
// connection. The lock belongs to that session, so a crashed process
// releases it with its connection.
func withMigrator(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) (err error) {
	m, _, err := newMigrator(db)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		var unlocked bool
		uerr := conn.NewRaw("SELECT pg_advisory_unlock(?)", migrationLockKey).
			Scan(context.WithoutCancel(ctx), &unlocked)
		if uerr != nil || !unlocked {
			// A pooled session still holding the lock would block the next
			// migration of this process: throw the connection away instead.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if uerr != nil {
				err = errors.Join(err, fmt.Errorf("release migration lock: %w", uerr))
			}
		}
	}()
	// Init creates bun's bookkeeping tables; concurrent CREATE TABLE IF NOT
	// EXISTS can still collide, so it runs under the lock too.
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("create migration tables: %w", err)
	}
	return fn(m)
}

func newMigrator(db *bun.DB) (*migrate.Migrator, *migrate.Migrations, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(migrations.FS); err != nil {
		return nil, nil, fmt.Errorf("discover migrations: %w", err)
	}
	// Marking a migration applied only after it succeeded keeps a failed
	// migration pending, so fixing it and starting again retries it.
	return migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true)), ms, nil
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

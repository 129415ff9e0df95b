// Package database opens the application's PostgreSQL database and keeps its
// schema current.
//
// With a URL it connects to that server. Without one it runs the embedded
// default: a private PostgreSQL cluster in <data dir>/pg, made from the
// machine's PostgreSQL binaries, created on first start, kept across
// restarts, shared by every tuoyu process on the same data dir and stopped by
// the process that started it. Migrations come from the embedded migrations
// package and run under a PostgreSQL advisory lock, so two instances never
// migrate at once.
//
// Two roles reach the database. The owner runs the migrations and owns every
// table. The application pool connects as AppRole (embedded mode) or as the
// user of DATABASE_URL (external mode), which in production should be a role
// that owns nothing: the migration 20261129000150 grants AppRole row access
// but no UPDATE or DELETE on the audit trail, and a role that is neither
// owner nor superuser cannot drop triggers or switch them off.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// poolSize is the number of connections per pool: on two cores about eight
// connections serve more requests than a large pool (measured, DESIGN §11).
const poolSize = 8

// AppRole is the database role the application connects as. A migration
// creates it when missing and grants it row access; it owns nothing.
const AppRole = "tuoyu_app"

// AppDatabase is the name of the application database inside the embedded
// cluster.
const AppDatabase = "tuoyu"

// Config says where the database is.
type Config struct {
	// URL is a PostgreSQL URL (postgres://user:pass@host:port/db?sslmode=disable)
	// the application connects with. When empty, the embedded cluster under
	// DataDir is used.
	URL string
	// MigrateURL, optional with URL, is the owning role's URL used for
	// migrations; when empty, URL serves both.
	MigrateURL string
	// DataDir holds the embedded cluster in DataDir/pg. Required without URL.
	DataDir string
	// Logger receives the line saying where the data lives; nil discards.
	Logger *slog.Logger
	// BinDirs lists directories searched for pg_ctl and initdb. Nil means
	// PATH, then the newest /usr/lib/postgresql/<version>/bin.
	BinDirs []string
	// KeepRunning leaves an embedded cluster this process started running
	// after Close. Test helpers set it because test packages run in parallel
	// processes that share one cluster.
	KeepRunning bool
}

// DB is an open application database. The embedded *bun.DB is the
// application's pool (AppRole in embedded mode); Owner is the pool of the
// owning role, for migrations only. Close also stops the embedded cluster
// when this process started it.
type DB struct {
	*bun.DB
	owner    *bun.DB           // the same pool as DB when one URL serves both
	opts     []pgdriver.Option // how to reach the server as the owner, without the database name
	cluster  *cluster          // nil with a URL
	ownerURL string            // the owner's URL (URL mode), for libpq tools
}

// Open connects to the database described by cfg, starting or joining the
// embedded cluster when cfg.URL is empty, and pings the owner's pool. It does
// not migrate, and the application pool of a fresh embedded cluster only
// works once Migrate has created AppRole.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.URL != "" {
		app := connect(append([]pgdriver.Option{pgdriver.WithDSN(cfg.URL)}, appTimeouts...))
		if err := ping(ctx, app); err != nil {
			app.Close()
			return nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
		}
		ownerURL := cfg.MigrateURL
		if ownerURL == "" {
			ownerURL = cfg.URL
		}
		opts := []pgdriver.Option{pgdriver.WithDSN(ownerURL)}
		owner := connect(append(slices.Clone(opts), migrationTimeouts...))
		if err := ping(ctx, owner); err != nil {
			app.Close()
			owner.Close()
			return nil, fmt.Errorf("connect to TUOYU_MIGRATE_DATABASE_URL: %w", err)
		}
		return &DB{DB: app, owner: owner, opts: opts, ownerURL: ownerURL}, nil
	}

	if cfg.DataDir == "" {
		return nil, errors.New("open embedded database: no data directory given")
	}
	c, err := startCluster(ctx, cfg.DataDir, cfg.BinDirs, cfg.KeepRunning, logger)
	if err != nil {
		return nil, err
	}
	opts := c.connOptions()
	db := &DB{
		// Inside the private cluster every role is trusted on the socket
		// only the data directory's owner can reach, so AppRole needs no
		// password.
		DB:      connect(append(slices.Clone(opts), append([]pgdriver.Option{pgdriver.WithUser(AppRole), pgdriver.WithDatabase(AppDatabase)}, appTimeouts...)...)),
		owner:   connect(append(slices.Clone(opts), append([]pgdriver.Option{pgdriver.WithDatabase(AppDatabase)}, migrationTimeouts...)...)),
		opts:    opts,
		cluster: c,
	}
	if err := ping(ctx, db.owner); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to embedded database: %w", err)
	}
	return db, nil
}

// migrationTimeouts are the owner pool's: a migration that builds an index
// or back-fills a column over a million rows outlasts the driver's default
// read timeout of 10 seconds, and a timed-out migration leaves the server
// unable to start.
var migrationTimeouts = []pgdriver.Option{pgdriver.WithReadTimeout(30 * time.Minute), pgdriver.WithWriteTimeout(30 * time.Minute)}

// appTimeouts are the application pool's. The driver's default of 10
// seconds failed the scheduled jobs at province size (the load test at a
// million workers: the certificate catch-up's scan of two million results,
// a re-sit of 8 000 candidates, releasing 20 000 returned claims, an
// eligibility batch), each one statement that is slow but not stuck.
var appTimeouts = []pgdriver.Option{pgdriver.WithReadTimeout(2 * time.Minute), pgdriver.WithWriteTimeout(2 * time.Minute)}

// Owner returns the pool of the role that owns the schema. Only migrations
// (Migrate, Rollback, DownAll, MigrationStatus) use it; the application uses
// the embedded pool.
func (db *DB) Owner() *bun.DB { return db.owner }

// Database opens a pool, as the owner, on another database of the same
// server, for tools and tests that create databases. The caller closes it.
func (db *DB) Database(name string) *bun.DB {
	return connect(append(slices.Clone(db.opts), pgdriver.WithDatabase(name)))
}

// DatabaseAs opens a pool on another database of the same server as user,
// without a password (the server must trust that user, as the embedded
// cluster and the test servers do). The caller closes it.
func (db *DB) DatabaseAs(name, user string) *bun.DB {
	return connect(append(slices.Clone(db.opts), pgdriver.WithUser(user), pgdriver.WithPassword(""), pgdriver.WithDatabase(name)))
}

// Bulk opens a pool of the owning role with read and write timeouts of
// half an hour, for the scale seed: its set-based statements over a
// million rows outlast the driver's default of 10 seconds on a loaded
// machine, and its loads switch triggers off (session_replication_role),
// which only a superuser may. The caller closes it.
func (db *DB) Bulk() *bun.DB {
	opts := slices.Clone(db.opts)
	if db.cluster != nil {
		opts = append(opts, pgdriver.WithDatabase(AppDatabase))
	}
	return connect(append(opts, pgdriver.WithReadTimeout(30*time.Minute), pgdriver.WithWriteTimeout(30*time.Minute)))
}

// Close closes the pools, then stops the embedded cluster if this process
// started it (other processes sharing it lose their connections).
func (db *DB) Close() error {
	err := db.DB.Close()
	if db.owner != db.DB {
		err = errors.Join(err, db.owner.Close())
	}
	if db.cluster != nil {
		err = errors.Join(err, db.cluster.release())
	}
	return err
}

func connect(opts []pgdriver.Option) *bun.DB {
	sqldb := sql.OpenDB(pgdriver.NewConnector(opts...))
	sqldb.SetMaxOpenConns(poolSize)
	sqldb.SetMaxIdleConns(poolSize)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New())
}

func ping(ctx context.Context, db *bun.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

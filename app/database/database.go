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
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// poolSize is the number of connections per pool: on two cores about eight
// connections serve more requests than a large pool (measured, DESIGN §11).
const poolSize = 8

// AppDatabase is the name of the application database inside the embedded
// cluster.
const AppDatabase = "tuoyu"

// Config says where the database is.
type Config struct {
	// URL is a PostgreSQL URL (postgres://user:pass@host:port/db?sslmode=disable).
	// When empty, the embedded cluster under DataDir is used.
	URL string
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

// DB is an open application database. It embeds *bun.DB; Close also stops
// the embedded cluster when this process started it.
type DB struct {
	*bun.DB
	opts    []pgdriver.Option // how to reach the server, without the database name
	cluster *cluster          // nil with a URL
}

// Open connects to the database described by cfg, starting or joining the
// embedded cluster when cfg.URL is empty, and pings it. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.URL != "" {
		opts := []pgdriver.Option{pgdriver.WithDSN(cfg.URL)}
		db := &DB{DB: connect(opts), opts: opts}
		if err := ping(ctx, db.DB); err != nil {
			db.DB.Close()
			return nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
		}
		return db, nil
	}

	if cfg.DataDir == "" {
		return nil, errors.New("open embedded database: no data directory given")
	}
	c, err := startCluster(ctx, cfg.DataDir, cfg.BinDirs, cfg.KeepRunning, logger)
	if err != nil {
		return nil, err
	}
	opts := c.connOptions()
	db := &DB{DB: connect(append(opts, pgdriver.WithDatabase(AppDatabase))), opts: opts, cluster: c}
	if err := ping(ctx, db.DB); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to embedded database: %w", err)
	}
	return db, nil
}

// Database opens a pool on another database of the same server, for tools
// and tests that create databases. The caller closes it.
func (db *DB) Database(name string) *bun.DB {
	return connect(append(append([]pgdriver.Option{}, db.opts...), pgdriver.WithDatabase(name)))
}

// Close closes the pool, then stops the embedded cluster if this process
// started it (other processes sharing it lose their connections).
func (db *DB) Close() error {
	err := db.DB.Close()
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

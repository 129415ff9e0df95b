// Package dbtest gives each test package its own fresh, fully migrated
// PostgreSQL database, dropped when the package's tests end.
//
// The server is TEST_DATABASE_URL when set (a URL whose database the helper
// may connect to and create databases from, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); otherwise an
// embedded cluster under the system temp dir, shared by all test processes
// and left running for the next run. Tests never skip for want of a
// database: they fail and say why.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }
//
// and call DB(t) in tests. DB connects as the owner of the schema (the
// server's user); AppDB connects to the same database as the application's
// role, database.AppRole, which the server must let log in without a password
// (the embedded cluster does; so does a server with trust authentication).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/app/database"
)

// setupTimeout bounds creating and migrating one database, including a
// first-time initdb of the embedded cluster.
const setupTimeout = 2 * time.Minute

var (
	mu       sync.Mutex
	running  bool         // Run is active, so the package database will be dropped
	server   *database.DB // connection used to create and drop databases
	pkgDB    *bun.DB
	pkgApp   *bun.DB // pkgDB's database as database.AppRole
	pkgName  string
	setupErr error
)

// Run runs the package's tests, then drops the package database if a test
// created one. TestMain passes its result to os.Exit.
func Run(m *testing.M) int {
	mu.Lock()
	running = true
	mu.Unlock()

	code := m.Run()

	mu.Lock()
	defer mu.Unlock()
	running = false
	if err := teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "dbtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// DB returns the package's database, created and migrated with every
// migration on first use. All tests of the package share it.
func DB(t testing.TB) *bun.DB {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !running {
		t.Fatal("dbtest: call dbtest.Run from TestMain so the test database is dropped afterwards")
	}
	if pkgDB == nil && setupErr == nil {
		pkgDB, pkgName, setupErr = create(true)
	}
	if setupErr != nil {
		t.Fatalf("dbtest: no test database: %v", setupErr)
	}
	return pkgDB
}

// AppDB returns the package's database (the one DB returns) connected as
// database.AppRole, the role the application runs as: tests on it prove that
// code works without owning the schema, and that what the role may not do is
// refused.
func AppDB(t testing.TB) *bun.DB {
	t.Helper()
	DB(t)
	mu.Lock()
	defer mu.Unlock()
	if pkgApp == nil {
		pkgApp = server.DatabaseAs(pkgName, database.AppRole)
	}
	return pkgApp
}

// Fresh returns a separate, empty (unmigrated) database, dropped when t
// ends. Tests of migrations themselves use it.
func Fresh(t testing.TB) *bun.DB { t.Helper(); return fresh(t, false) }

// FreshMigrated returns a separate, fully migrated database, dropped when t
// ends, for tests that damage what they touch (e.g. the audit chain).
func FreshMigrated(t testing.TB) *bun.DB { t.Helper(); return fresh(t, true) }

func fresh(t testing.TB, migrate bool) *bun.DB {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	db, name, err := create(migrate)
	if err != nil {
		t.Fatalf("dbtest: no fresh database: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if err := drop(db, name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return db
}

// create makes a new database on the test server; mu is held.
func create(migrate bool) (*bun.DB, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if server == nil {
		s, err := openServer(ctx)
		if err != nil {
			return nil, "", err
		}
		server = s
	}
	name := databaseName()
	if err := createDatabase(ctx, server, name); err != nil {
		return nil, "", err
	}
	db := server.Database(name)
	if migrate {
		if err := database.Migrate(ctx, db, nil); err != nil {
			return nil, "", errors.Join(fmt.Errorf("migrate %s: %w", name, err), drop(db, name))
		}
	}
	return db, name, nil
}

func openServer(ctx context.Context) (*database.DB, error) {
	if raw := os.Getenv("TEST_DATABASE_URL"); raw != "" {
		db, err := database.Open(ctx, database.Config{URL: raw})
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL=%s: %w", redact(raw), err)
		}
		return db, nil
	}
	// One cluster per user under the temp dir, shared by the test processes
	// `go test ./...` runs in parallel and kept running for the next run.
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("tuoyu-test-%d", os.Getuid()))
	db, err := database.Open(ctx, database.Config{DataDir: dir, KeepRunning: true})
	if err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL is not set and the embedded test cluster in %s did not start: %w", dir, err)
	}
	return db, nil
}

func createDatabase(ctx context.Context, server *database.DB, name string) error {
	// Only the owner may create databases; the application role may not.
	// template0 cannot have sessions, so parallel test processes never hit
	// "source database is being accessed by other users"; retry anyway in
	// case another tool holds a lock on it.
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		_, err = server.Owner().ExecContext(ctx, "CREATE DATABASE ? TEMPLATE template0 ENCODING 'UTF8'", bun.Ident(name))
		var pgErr pgdriver.Error
		if err == nil || !errors.As(err, &pgErr) || pgErr.Field('C') != "55006" {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// drop closes db's pool and drops its database; mu is held.
func drop(db *bun.DB, name string) error {
	closeErr := db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := server.Owner().ExecContext(ctx, "DROP DATABASE IF EXISTS ? WITH (FORCE)", bun.Ident(name)); err != nil {
		return errors.Join(closeErr, fmt.Errorf("drop database %s: %w", name, err))
	}
	return closeErr
}

func teardown() error {
	var err error
	if pkgApp != nil {
		err = pkgApp.Close()
		pkgApp = nil
	}
	if pkgDB != nil {
		err = errors.Join(err, drop(pkgDB, pkgName))
		pkgDB, pkgName, setupErr = nil, "", nil
	}
	if server != nil {
		err = errors.Join(err, server.Close())
		server = nil
	}
	return err
}

// databaseName is tuoyu_test_<package>_<random>, within PostgreSQL's 63
// bytes, so a leftover database says which package left it.
func databaseName() string {
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	var b strings.Builder
	for _, r := range strings.ToLower(pkg) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	pkg = b.String()
	if len(pkg) > 30 {
		pkg = pkg[:30]
	}
	random := make([]byte, 6)
	_, _ = rand.Read(random) // crypto/rand.Read never fails
	return "tuoyu_test_" + pkg + "_" + hex.EncodeToString(random)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// ConnString returns how libpq tools (pg_dump, pg_restore) reach the
// package's database as its owner.
func ConnString(t testing.TB) string {
	t.Helper()
	DB(t)
	mu.Lock()
	defer mu.Unlock()
	s, err := server.ConnString(pkgName)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return s
}

// FreshConn returns a separate, empty database, dropped when t ends, and
// how libpq tools reach it (restore tests).
func FreshConn(t testing.TB) (*bun.DB, string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	db, name, err := create(false)
	if err != nil {
		t.Fatalf("dbtest: no fresh database: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if err := drop(db, name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	s, err := server.ConnString(name)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return db, s
}

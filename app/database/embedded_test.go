package database_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/app/database"
)

// childEnv makes the test binary, re-executed by a test, open the embedded
// database in the directory it names, write a row and wait to be killed.
const childEnv = "TUOYU_DATABASE_TEST_CHILD_DIR"

func runChild(dir string) {
	ctx := context.Background()
	db, err := database.Open(ctx, database.Config{DataDir: dir})
	if err == nil {
		_, err = db.Owner().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('from child')")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
	os.Exit(0)
}

// Created on first Open, shared by a second Open, stopped by the process
// that started it, and its data kept for the next Open.
func TestEmbeddedCreateShareReuse(t *testing.T) {
	ctx := context.Background()
	dir := dataDir(t)

	first := open(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "pg", "data", "PG_VERSION")); err != nil {
		t.Fatalf("no cluster created: %v", err)
	}
	var listen string
	if err := first.Owner().NewRaw("SHOW listen_addresses").Scan(ctx, &listen); err != nil || listen != "" {
		t.Fatalf("listen_addresses = %q (%v), want no TCP", listen, err)
	}
	exec1(t, first, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('first')")

	second := open(t, dir) // joins the running cluster instead of starting one
	if got := notes(t, second); got != "first" {
		t.Fatalf("second sees %q, want the first's row", got)
	}
	exec1(t, second, "INSERT INTO notes VALUES ('second')")
	if got := notes(t, first); got != "first,second" {
		t.Fatalf("first sees %q after the second wrote", got)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Owner().PingContext(ctx); err != nil {
		t.Fatalf("closing the joiner stopped the cluster: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if serverUp(dir) {
		t.Fatal("cluster still running after its starter closed")
	}

	again := open(t, dir)
	if got := notes(t, again); got != "first,second" {
		t.Fatalf("after restart notes are %q", got)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

// A tuoyu process killed with SIGKILL leaves its cluster running: the next
// Open adopts it and stops it on Close. When the server died too, the next
// Open starts it again over the stale postmaster.pid.
func TestEmbeddedRecoversAfterKill(t *testing.T) {
	dir := dataDir(t)

	startAndKillChild(t, dir)
	db := open(t, dir)
	if got := notes(t, db); got != "from child" {
		t.Fatalf("after kill -9 notes are %q", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if serverUp(dir) {
		t.Fatal("adopted cluster still running after Close")
	}

	startAndKillChild(t, dir)
	pidFile := filepath.Join(dir, "pg", "data", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill postmaster %d: %v", pid, err)
	}
	waitGone(t, pid)
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("want a stale postmaster.pid to recover from: %v", err)
	}

	db = open(t, dir)
	if got := notes(t, db); got != "from child,from child" {
		t.Fatalf("after crash recovery notes are %q", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// Migrations run as the cluster's superuser; the application's pool then
// connects as AppRole, which is no superuser and may not change the audit
// trail.
func TestEmbeddedAppRole(t *testing.T) {
	ctx := context.Background()
	db := open(t, dataDir(t))
	defer db.Close()
	if err := database.Migrate(ctx, db.Owner(), nil); err != nil {
		t.Fatal(err)
	}
	var user string
	var super bool
	if err := db.NewRaw("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").Scan(ctx, &user, &super); err != nil {
		t.Fatalf("application pool: %v", err)
	}
	if user != database.AppRole || super {
		t.Fatalf("application pool is %s (superuser %v), want %s without superuser", user, super, database.AppRole)
	}
	if err := database.Ready(ctx, db.DB); err != nil {
		t.Fatalf("Ready as %s: %v", user, err)
	}
	_, err := db.ExecContext(ctx, "DELETE FROM audit_events")
	if !isPermissionDenied(err) {
		t.Fatalf("DELETE FROM audit_events as %s: %v, want permission denied", user, err)
	}
}

func TestEmbeddedWithoutBinaries(t *testing.T) {
	_, err := database.Open(context.Background(), database.Config{DataDir: dataDir(t), BinDirs: []string{t.TempDir()}})
	if err == nil {
		t.Fatal("Open without PostgreSQL binaries succeeded")
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("error does not name the Debian package: %v", err)
	}
}

// dataDir makes a data dir the PostgreSQL user can reach when the tests run
// as root (t.TempDir's parent is private to root) and stops any cluster
// left in it at the end.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tuoyu-db-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if serverUp(dir) {
			// Adopting and closing stops a cluster a failed test left running.
			if db, err := database.Open(context.Background(), database.Config{DataDir: dir}); err == nil {
				_ = db.Close()
			}
		}
		_ = os.RemoveAll(dir)
	})
	return dir
}

func open(t *testing.T, dir string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), database.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open embedded database: %v", err)
	}
	return db
}

func exec1(t *testing.T, db *database.DB, sql string) {
	t.Helper()
	if _, err := db.Owner().ExecContext(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func notes(t *testing.T, db *database.DB) string {
	t.Helper()
	var s string
	if err := db.Owner().NewRaw("SELECT coalesce(string_agg(body, ',' ORDER BY body), '') FROM notes").Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// serverUp reports whether a server listens on the cluster's socket; the
// server removes the socket when it shuts down.
func serverUp(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "pg", ".s.PGSQL.5432"))
	return !errors.Is(err, fs.ErrNotExist)
}

// startAndKillChild runs this test binary as a tuoyu-like process that opens
// the database, then kills it with SIGKILL.
func startAndKillChild(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not open the database: %q %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	t.Fatalf("process %d did not exit", pid)
}

// isPermissionDenied reports PostgreSQL's own privilege refusal, not the
// append-only trigger (which raises the same SQLSTATE 42501).
func isPermissionDenied(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "42501" &&
		strings.HasPrefix(pgErr.Field('M'), "permission denied")
}

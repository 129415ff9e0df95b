package database_test

import (
	"context"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/app/database"
	"tuoyu/app/dbtest"
	"tuoyu/migrations"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runChild(dir) // never returns
	}
	os.Exit(dbtest.Run(m))
}

var migrationName = regexp.MustCompile(`^(\d{14})_[a-z0-9]+_[a-z0-9_]+\.(up|down)\.sql$`)

// Every migration file is well named and every up has its down.
func TestMigrationFilesArePaired(t *testing.T) {
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no migrations embedded")
	}
	for _, f := range files {
		m := migrationName.FindStringSubmatch(f)
		if m == nil {
			t.Errorf("%s: want YYYYMMDDHHMMSS_<module>_<change>.up.sql or .down.sql", f)
			continue
		}
		other := strings.TrimSuffix(f, ".up.sql") + ".down.sql"
		if m[2] == "down" {
			other = strings.TrimSuffix(f, ".down.sql") + ".up.sql"
		}
		if !slices.Contains(files, other) {
			t.Errorf("%s has no %s", f, other)
		}
	}
}

// All migrations go up, all come down leaving an empty schema, and all go
// up again. It reads the embedded files, so it covers every migration added
// later.
func TestMigrationsAllDownThenUp(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Fresh(t)
	want := allMigrations(t)

	if err := database.Ready(ctx, db); err == nil {
		t.Fatal("Ready on an unmigrated database: want an error")
	}
	if err := database.Migrate(ctx, db, nil); err != nil {
		t.Fatalf("first up: %v", err)
	}
	st := status(t, db)
	if !slices.Equal(st.Applied, want) || len(st.Pending) != 0 {
		t.Fatalf("after up: applied %v pending %v, want applied %v", st.Applied, st.Pending, want)
	}

	// The leftover check sees grants: after up there are some.
	if up := userObjects(t, db); !slices.Contains(up, "default privileges on r") || !slices.Contains(up, "grant on audit_events") {
		t.Fatalf("after up the leftover check misses the grants: %v", up)
	}

	if err := database.DownAll(ctx, db, nil); err != nil {
		t.Fatalf("all down: %v", err)
	}
	if left := userObjects(t, db); len(left) > 0 {
		t.Fatalf("down migrations left objects behind: %v", left)
	}
	st = status(t, db)
	if len(st.Applied) != 0 || !slices.Equal(st.Pending, want) {
		t.Fatalf("after down: applied %v pending %v", st.Applied, st.Pending)
	}

	if err := database.Migrate(ctx, db, nil); err != nil {
		t.Fatalf("second up: %v", err)
	}
	if err := database.Ready(ctx, db); err != nil {
		t.Fatalf("Ready after up: %v", err)
	}
}

// Rollback undoes exactly the last group.
func TestRollbackUndoesLastGroup(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Fresh(t)
	if err := database.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	undone, err := database.Rollback(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(undone, reversed(allMigrations(t))) {
		t.Fatalf("rollback undid %v", undone)
	}
	undone, err = database.Rollback(ctx, db, nil)
	if err != nil || len(undone) != 0 {
		t.Fatalf("rollback with nothing applied: %v, %v", undone, err)
	}
}

// Two migrators at once: the advisory lock lets one apply everything and
// the other find nothing to do.
func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Fresh(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = database.Migrate(ctx, db, nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	var rows, groups int
	if err := db.NewRaw("SELECT count(*), count(DISTINCT group_id) FROM bun_migrations").Scan(ctx, &rows, &groups); err != nil {
		t.Fatal(err)
	}
	if rows != len(allMigrations(t)) || groups != 1 {
		t.Fatalf("bun_migrations has %d rows in %d groups, want %d rows in 1 group", rows, groups, len(allMigrations(t)))
	}
}

// The package database from dbtest is migrated and writable.
func TestPackageDatabaseIsMigrated(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	if err := database.Ready(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO regions (code, name, level) VALUES ('990000', '测试', 1)"); err != nil {
		t.Fatal(err)
	}
	// The schema's own rules hold: a code must be six digits.
	if _, err := db.ExecContext(ctx, "INSERT INTO regions (code, name, level) VALUES ('42', '坏', 1)"); err == nil {
		t.Fatal("region code 42 accepted")
	}
}

func allMigrations(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, strings.TrimSuffix(f, ".up.sql"))
	}
	slices.Sort(out)
	return out
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func status(t *testing.T, db *bun.DB) database.Status {
	t.Helper()
	st, err := database.MigrationStatus(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// userObjects lists what migrations own in the database: relations,
// types, functions and extra schemas, apart from bun's bookkeeping, and the
// privileges they granted (default privileges, grants to the application
// role, on bun's tables too). The application role itself is not listed: it
// belongs to the server, not to this database, and stays.
// Extensions (and the objects they bring) are allowed to stay: they belong
// to the database, not to one module, since two modules' migrations may each
// CREATE EXTENSION IF NOT EXISTS the same one and neither may drop it from
// under the other.
func userObjects(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var objs []string
	err := db.NewRaw(`
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND c.relname NOT LIKE 'bun\_migration%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND t.typtype IN ('e', 'd', 'c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'schema ' || nspname FROM pg_namespace
 WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\_%'
UNION ALL
SELECT 'default privileges on ' || defaclobjtype::text FROM pg_default_acl
UNION ALL
SELECT 'grant on schema ' || nspname FROM pg_namespace WHERE nspacl::text LIKE '%' || ? || '=%'
UNION ALL
SELECT 'grant on ' || relname FROM pg_class WHERE relacl::text LIKE '%' || ? || '=%'
`, database.AppRole, database.AppRole).Scan(context.Background(), &objs)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/app/dbtest"
	"tuoyu/modules/audit"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func record(t *testing.T, ctx context.Context, db bun.IDB, action string, summary map[string]any) {
	t.Helper()
	if err := audit.Record(ctx, db, audit.Event{Action: action, TargetType: "worker", TargetID: "1", Summary: summary}); err != nil {
		t.Fatal(err)
	}
}

func lastID(t *testing.T, db *bun.DB) int64 {
	var id int64
	if err := db.NewSelect().Table("audit_events").ColumnExpr("max(id)").Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// The tests of this package run one after another on one database; each
// leaves the chain intact except the tamper tests, which repair nothing and
// therefore run on their own fresh database.

func TestChainVerifiesAndCarriesRequest(t *testing.T) {
	db := dbtest.DB(t)
	ctx := audit.WithRequest(context.Background(), audit.Request{UserID: 7, OrgID: 3, Label: "hr_reviewer1", IP: "10.1.2.3", RequestID: "req-1"})
	for i := 0; i < 5; i++ {
		record(t, ctx, db, "workers.update", map[string]any{"changed": []string{"phone"}, "n": i})
	}
	res, err := audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Checked < 5 {
		t.Fatalf("verify = %+v", res)
	}
	rows, total, err := audit.List(ctx, db, audit.Filter{Action: "workers.", ActorLabel: "hr_reviewer1"})
	if err != nil {
		t.Fatal(err)
	}
	if total < 5 || rows[0].IP != "10.1.2.3" || rows[0].RequestID != "req-1" || rows[0].ActorUserID != 7 || rows[0].ActorOrgID != 3 {
		t.Fatalf("list = %d rows, first %+v", total, rows[0])
	}
}

func TestRolledBackChangeLeavesNoEvent(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	before := lastID(t, db)
	_ = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		record(t, ctx, tx, "workers.create", nil)
		return fmt.Errorf("the change fails")
	})
	if lastID(t, db) != before {
		t.Fatal("an event outlived its rolled-back transaction")
	}
}

func TestConcurrentRecordsKeepOneChain(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return audit.Record(ctx, tx, audit.Event{Action: "claims.review", Summary: map[string]any{"i": i}})
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK {
		t.Fatalf("verify after concurrent appends = %+v, %v", res, err)
	}
}

// TestConcurrentRecordsOutsideATransaction: events recorded on the database
// itself (reads that are audited, such as a download) still form one chain
// when they come at once. Found by the access matrix, whose concurrent
// requests forked the chain.
func TestConcurrentRecordsOutsideATransaction(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- audit.Record(ctx, db, audit.Event{Action: "rosters.errors_download", Summary: map[string]any{"i": i}})
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK {
		t.Fatalf("verify after concurrent appends outside transactions = %+v, %v", res, err)
	}
}

func TestApplicationCannotChangeOrDelete(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	record(t, ctx, db, "orgs.create", nil)
	id := lastID(t, db)
	for _, stmt := range []string{
		"UPDATE audit_events SET action = 'x' WHERE id = ?",
		"DELETE FROM audit_events WHERE id = ?",
	} {
		_, err := db.ExecContext(ctx, stmt, id)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: err = %v, want the append-only refusal", stmt, err)
		}
	}
	if _, err := db.ExecContext(ctx, "TRUNCATE audit_events"); err == nil {
		t.Fatal("TRUNCATE succeeded")
	}
}

// tamper changes rows the way only a superuser can: with triggers disabled
// for the session.
func tamper(t *testing.T, db *bun.DB, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, stmt, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNamesTheFirstAlteredRow(t *testing.T) {
	db := dbtest.FreshMigrated(t)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		record(t, ctx, db, "bans.record", map[string]any{"i": i})
	}
	var ids []int64
	_ = db.NewSelect().Table("audit_events").Column("id").OrderExpr("id").Scan(ctx, &ids)
	victim := ids[3]
	tamper(t, db, "UPDATE audit_events SET summary = '{\"i\": 99}' WHERE id = ?", victim)
	res, err := audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.BrokenID != victim {
		t.Fatalf("verify = %+v, want broken at %d", res, victim)
	}
}

func TestVerifyNamesTheRowAfterADeletion(t *testing.T) {
	db := dbtest.FreshMigrated(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		record(t, ctx, db, "claims.approve", map[string]any{"i": i})
	}
	var ids []int64
	_ = db.NewSelect().Table("audit_events").Column("id").OrderExpr("id").Scan(ctx, &ids)
	tamper(t, db, "DELETE FROM audit_events WHERE id = ?", ids[2])
	res, err := audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.BrokenID != ids[3] {
		t.Fatalf("verify = %+v, want broken at %d (the row after the deleted one)", res, ids[3])
	}
}

// permissionDenied reports PostgreSQL's own privilege refusal (SQLSTATE
// 42501 "permission denied …" or "must be owner …"), not the append-only
// trigger, which raises the same SQLSTATE with its own message.
func permissionDenied(err error) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || pgErr.Field('C') != "42501" {
		return false
	}
	msg := pgErr.Field('M')
	return strings.HasPrefix(msg, "permission denied") || strings.HasPrefix(msg, "must be owner")
}

// The application's role may append to the trail and read it, and nothing
// else: not change or delete rows, not switch triggers off, not change the
// checkpoints. Each refusal comes from PostgreSQL's privileges, so it holds
// even with the triggers gone.
func TestApplicationRoleCannotTamper(t *testing.T) {
	app := dbtest.AppDB(t)
	ctx := context.Background()
	var user string
	if err := app.NewRaw("SELECT current_user").Scan(ctx, &user); err != nil || user != "tuoyu_app" {
		t.Fatalf("AppDB connects as %q (%v), want tuoyu_app", user, err)
	}
	record(t, ctx, app, "orgs.create", nil)
	id := lastID(t, app)
	res, err := audit.Verify(ctx, app)
	if err != nil || !res.OK {
		t.Fatalf("verify as %s = %+v, %v", user, res, err)
	}
	if err := audit.RecordCheckpoint(ctx, app, res); err != nil {
		t.Fatalf("checkpoint as %s: %v", user, err)
	}

	for _, stmt := range []string{
		"UPDATE audit_events SET action = 'x' WHERE id = ?",
		"DELETE FROM audit_events WHERE id = ?",
		"TRUNCATE audit_events",
		"ALTER TABLE audit_events DISABLE TRIGGER ALL",
		"DROP TRIGGER audit_events_no_update ON audit_events",
		"UPDATE audit_checkpoints SET events_checked = 1 WHERE event_id = ?",
		"DELETE FROM audit_checkpoints WHERE event_id = ?",
		"TRUNCATE audit_checkpoints",
		"DELETE FROM bun_migrations WHERE id > ?",
	} {
		_, err := app.ExecContext(ctx, stmt, id)
		if !permissionDenied(err) {
			t.Errorf("%s as %s: err = %v, want permission denied", stmt, user, err)
		}
	}
	// Only a superuser may switch triggers off for a session.
	err = app.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica")
		return err
	})
	if !permissionDenied(err) {
		t.Errorf("SET session_replication_role = replica as %s: err = %v, want permission denied", user, err)
	}
	if got := lastID(t, app); got != id {
		t.Fatalf("newest event is %d after the refusals, want %d", got, id)
	}
}

// Deleting the newest rows (as a superuser, triggers off) leaves a chain
// that is intact at its new end; the checkpoint of the last verification
// names the row that has gone.
func TestVerifyNoticesDeletedNewestRows(t *testing.T) {
	db := dbtest.FreshMigrated(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		record(t, ctx, db, "claims.approve", map[string]any{"i": i})
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK || res.Checked != 5 {
		t.Fatalf("verify before = %+v, %v", res, err)
	}
	if err := audit.RecordCheckpoint(ctx, db, res); err != nil {
		t.Fatal(err)
	}
	newest := res.LastID
	record(t, ctx, db, "claims.approve", map[string]any{"i": 5}) // after the checkpoint

	tamper(t, db, "DELETE FROM audit_events WHERE id >= ?", newest-1)
	res, err = audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("编号 %d 已不存在", newest)
	if res.OK || res.BrokenID != newest || !strings.Contains(res.Reason, want) {
		t.Fatalf("verify after deleting the newest rows = %+v, want broken at %d saying %q", res, newest, want)
	}
}

// A trail rewritten from the start (every hash recomputed) still differs
// from the checkpoint's hash; fewer rows than the checkpoint counted are
// noticed too.
func TestVerifyHoldsTheTrailToTheCheckpoint(t *testing.T) {
	db := dbtest.FreshMigrated(t)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		record(t, ctx, db, "bans.record", map[string]any{"i": i})
	}
	res, err := audit.Verify(ctx, db)
	if err != nil || !res.OK {
		t.Fatalf("verify = %+v, %v", res, err)
	}
	if err := audit.RecordCheckpoint(ctx, db, res); err != nil {
		t.Fatal(err)
	}
	if err := audit.RecordCheckpoint(ctx, db, audit.VerifyResult{BrokenID: 1}); err == nil {
		t.Fatal("a failed verification was recorded as a checkpoint")
	}

	// A forged checkpoint claiming more rows than exist.
	tamper(t, db, "INSERT INTO audit_checkpoints (event_id, event_hash, events_checked) VALUES (?, ?, ?)",
		res.LastID, res.LastHash, res.Checked+2)
	got, err := audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got.OK || !strings.Contains(got.Reason, "少于") {
		t.Fatalf("verify with fewer rows than the checkpoint = %+v", got)
	}

	tamper(t, db, "INSERT INTO audit_checkpoints (event_id, event_hash, events_checked) VALUES (?, ?, ?)",
		res.LastID, []byte("another hash"), res.Checked)
	got, err = audit.Verify(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got.OK || got.BrokenID != res.LastID || !strings.Contains(got.Reason, "重写") {
		t.Fatalf("verify with a different checkpoint hash = %+v", got)
	}
}

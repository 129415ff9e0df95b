package accounts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/pg/pgtest"
)

// TestSessionLookupPlansByKey: every authenticated request runs the session
// look-up as one prepared statement, and its generic plan (the one
// PostgreSQL may keep for every session after five executions) finds the
// session and its user by their keys among 20 000, not by reading them all.
func TestSessionLookupPlansByKey(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	svc := accounts.NewService(db, time.Now)
	name := newUser(t, svc, db, accounts.RoleHRReviewer, "420100")
	res, err := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	if err != nil {
		t.Fatal(err)
	}
	// 20 000 other users with a session each: at these sizes a plan that
	// reads either table whole costs far more than one by key.
	if _, err := db.ExecContext(ctx, `INSERT INTO users (username, role, organisation_id, password_hash)
		SELECT 'bulk' || g, u.role, u.organisation_id, u.password_hash
		FROM generate_series(1, 20000) AS g, users AS u WHERE u.username = ?`, name); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token)
		SELECT sha256(('other ' || u.id)::bytea), u.id, 'x' FROM users AS u WHERE u.username LIKE 'bulk%'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE sessions, users, organisations"); err != nil {
		t.Fatal(err)
	}

	log := pgtest.ObservePrepared(t, svc.Prepared())
	for i := 0; i < 7; i++ { // past the five custom plans
		p, _, err := svc.Authenticate(ctx, res.SessionID)
		if err != nil || p.Username != name {
			t.Fatalf("authenticate %d: %+v, %v", i, p, err)
		}
	}
	stmts := log.Take()
	if len(stmts) != 7 {
		t.Fatalf("%d prepared look-ups seen for 7 requests", len(stmts))
	}
	st := stmts[0]
	if !strings.Contains(st.Text, "$1") || len(st.Args) != 1 {
		t.Fatalf("the look-up is not parameterised: %s %v", st.Text, st.Args)
	}
	pgtest.Generic(t, db, st.Text, st.Args, func(conn bun.IDB, execute string) {
		if seq := pgtest.SeqScans(t, conn, execute, "sessions", "users"); len(seq) > 0 {
			t.Errorf("the generic plan reads %v sequentially:\n%s", seq, st.Text)
		}
		if removed := pgtest.RowsFiltered(t, conn, execute, "sessions"); removed > 0 {
			t.Errorf("the generic plan read %.0f sessions it then dropped", removed)
		}
	})
}

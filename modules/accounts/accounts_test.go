package accounts_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var seq atomic.Int64

// newOrg creates an organisation of kind in region and returns its code.
func newOrg(t *testing.T, db *bun.DB, kind, region string) string {
	t.Helper()
	code := fmt.Sprintf("t%s%d", kind[:3], seq.Add(1))
	_, err := db.ExecContext(context.Background(),
		"INSERT INTO organisations (code, name, kind, region_code) VALUES (?, ?, ?, ?)", code, "测试"+code, kind, region)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newUser(t *testing.T, svc *accounts.Service, db *bun.DB, role accounts.Role, region string) string {
	t.Helper()
	name := fmt.Sprintf("u%s%d", role[:3], seq.Add(1))
	_, err := svc.CreateUser(context.Background(), accounts.NewUser{Username: name, DisplayName: name, Role: role,
		OrgCode: newOrg(t, db, accounts.OrgKindFor(role), region), Password: "Good-Pass-2026"})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestPasswordRule(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"Tuoyu@2026", true},      // 10 chars, 4 classes
		{"abcdefgh12", false},     // 2 classes
		{"abcdefgH12", true},      // 3 classes
		{"Ab1!Ab1!A", false},      // 9 chars
		{"密码密码密码密码Aa1", true},     // non-ASCII counts as "other"
		{"ABCDEFGHIJ", false},     // 1 class
		{"abcdefghij!!!!", false}, // 2 classes
		{"abcdefghij!!!!9", true}, // 3 classes
	} {
		err := accounts.CheckPasswordRule(tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPasswordRule(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
		if err != nil && !apperr.Is(err, "weak_password") {
			t.Errorf("CheckPasswordRule(%q) code = %v", tc.pw, err)
		}
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := accounts.HashPassword("Tuoyu@2026")
	if err != nil {
		t.Fatal(err)
	}
	if !accounts.CheckPassword(h, "Tuoyu@2026") || accounts.CheckPassword(h, "Tuoyu@2027") {
		t.Fatal("argon2id hash does not verify exactly the password it was made from")
	}
	h2, _ := accounts.HashPassword("Tuoyu@2026")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestLoginLockoutAndRecovery(t *testing.T) {
	db := dbtest.DB(t)
	ck := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	svc := accounts.NewService(db, ck.now)
	ctx := context.Background()
	name := newUser(t, svc, db, accounts.RoleCollege, "420100")

	for i := 1; i <= 4; i++ {
		_, err := svc.Login(ctx, name, "wrong-password", "10.0.0.1", "test")
		if !apperr.Is(err, "invalid_credentials") {
			t.Fatalf("failure %d: got %v, want invalid_credentials", i, err)
		}
		ck.t = ck.t.Add(time.Minute)
	}
	if _, err := svc.Login(ctx, name, "wrong-password", "10.0.0.1", "test"); !apperr.Is(err, "account_locked") {
		t.Fatalf("5th failure: got %v, want account_locked", err)
	}
	// Every failure is audited, and the one that locked the account says so.
	var failed, locked int
	_ = db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'accounts.login_failed' AND actor_label = ?", name).Scan(ctx, &failed)
	_ = db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'accounts.locked' AND actor_label = ?", name).Scan(ctx, &locked)
	if failed != 5 || locked != 1 {
		t.Fatalf("audited %d failed logins and %d locks, want 5 and 1", failed, locked)
	}
	// Locked: even the right password is refused.
	ck.t = ck.t.Add(10 * time.Minute)
	if _, err := svc.Login(ctx, name, "Good-Pass-2026", "10.0.0.1", "test"); !apperr.Is(err, "account_locked") {
		t.Fatalf("right password while locked: got %v, want account_locked", err)
	}
	// 15 minutes after the failure that locked it, the lock is gone.
	ck.t = ck.t.Add(6 * time.Minute)
	res, err := svc.Login(ctx, name, "Good-Pass-2026", "10.0.0.1", "test")
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if res.Principal.Username != name || res.CSRFToken == "" || res.SessionID == "" {
		t.Fatalf("login result incomplete: %+v", res)
	}
	// A success resets the count: four new failures do not lock.
	for i := 0; i < 4; i++ {
		if _, err := svc.Login(ctx, name, "nope", "", ""); !apperr.Is(err, "invalid_credentials") {
			t.Fatalf("after success, failure %d: %v", i+1, err)
		}
	}
}

func TestUnknownUserIsInvalidCredentials(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	if _, err := svc.Login(context.Background(), "nobody-here", "whatever", "", ""); !apperr.Is(err, "invalid_credentials") {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	db := dbtest.DB(t)
	ck := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	svc := accounts.NewService(db, ck.now)
	ctx := context.Background()
	name := newUser(t, svc, db, accounts.RoleProvider, "420500")
	res, err := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	if err != nil {
		t.Fatal(err)
	}
	// Activity every 20 minutes keeps the session alive …
	for i := 0; i < 3; i++ {
		ck.t = ck.t.Add(20 * time.Minute)
		p, _, err := svc.Authenticate(ctx, res.SessionID)
		if err != nil {
			t.Fatalf("after %d×20 min of activity: %v", i+1, err)
		}
		if p.Username != name || p.Region != "420500" || p.Role != accounts.RoleProvider {
			t.Fatalf("principal = %+v", p)
		}
	}
	// … 31 idle minutes end it, and it stays ended.
	ck.t = ck.t.Add(31 * time.Minute)
	if _, _, err := svc.Authenticate(ctx, res.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("after 31 idle minutes: %v", err)
	}
	ck.t = ck.t.Add(-31 * time.Minute)
	if _, _, err := svc.Authenticate(ctx, res.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("expired session came back: %v", err)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	name := newUser(t, svc, db, accounts.RoleRegulator, "420000")
	res, err := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, res.SessionID); err != nil {
		t.Fatal(err)
	}
	var logouts int
	_ = db.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'accounts.logout' AND actor_label = ?", name).Scan(ctx, &logouts)
	if logouts != 1 {
		t.Fatalf("%d logout events, want 1", logouts)
	}
	if err := svc.Logout(ctx, res.SessionID); err != nil {
		t.Fatalf("logging out an ended session: %v", err)
	}
	if _, _, err := svc.Authenticate(ctx, res.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("after logout: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	org := newOrg(t, db, "college", "420500")
	raw, tok, err := svc.CreateToken(ctx, org, "教务系统", 0)
	if err != nil {
		t.Fatal(err)
	}
	var stored []byte
	if err := db.NewSelect().Table("api_tokens").Column("token_hash").Where("id = ?", tok.ID).Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if string(stored) == raw || len(stored) != 32 {
		t.Fatal("token must be stored as its SHA-256 only")
	}
	p, err := svc.AuthenticateToken(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != accounts.RoleCollege || p.OrgCode != org || p.Region != "420500" || p.TokenID != tok.ID {
		t.Fatalf("token principal = %+v", p)
	}
	var used *time.Time
	_ = db.NewSelect().Table("api_tokens").Column("last_used_at").Where("id = ?", tok.ID).Scan(ctx, &used)
	if used == nil {
		t.Fatal("last_used_at not recorded")
	}
	if _, err := svc.AuthenticateToken(ctx, raw+"x"); !apperr.Is(err, "invalid_token") {
		t.Fatalf("wrong token: %v", err)
	}
	if err := svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthenticateToken(ctx, raw); !apperr.Is(err, "invalid_token") {
		t.Fatalf("revoked token still works: %v", err)
	}
	if err := svc.RevokeToken(ctx, tok.ID); apperr.KindOf(err) != apperr.KindNotFound {
		t.Fatalf("second revoke: %v", err)
	}
	// Only organisations whose systems push data get tokens.
	if _, _, err := svc.CreateToken(ctx, newOrg(t, db, "hr_bureau", "420100"), "x", 0); !apperr.Is(err, "token_org_kind") {
		t.Fatalf("token for an HR bureau: %v", err)
	}
}

func TestCreateUserChecksRoleAndOrganisation(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	hr := newOrg(t, db, "hr_bureau", "420100")
	_, err := svc.CreateUser(ctx, accounts.NewUser{Username: "mismatch1", Role: accounts.RoleCollege, OrgCode: hr, Password: "Good-Pass-2026"})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || e.Fields[0].Code != "role_org_mismatch" {
		t.Fatalf("college user in an HR bureau: %v", err)
	}
	_, err = svc.CreateUser(ctx, accounts.NewUser{Username: "noorg1", Role: accounts.RoleCollege, OrgCode: "does-not-exist", Password: "Good-Pass-2026"})
	if e, ok := apperr.As(err); !ok || e.Fields[0].Code != "unknown_organisation" {
		t.Fatalf("unknown organisation: %v", err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "dup1", Role: accounts.RoleHRReviewer, OrgCode: hr, Password: "Good-Pass-2026"}); err != nil {
		t.Fatal(err)
	}
	// Logins match usernames case-insensitively, so "DUP1" would shadow "dup1".
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "DUP1", Role: accounts.RoleHRReviewer, OrgCode: hr, Password: "Good-Pass-2026"}); !apperr.Is(err, "username_taken") {
		t.Fatalf("case variant of a taken username: %v", err)
	}
}

func TestRegionPrefix(t *testing.T) {
	for in, want := range map[string]string{"420000": "42", "420100": "4201", "420102": "420102", "429004": "429004", "422800": "4228"} {
		if got := accounts.RegionPrefix(in); got != want {
			t.Errorf("RegionPrefix(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestScopeMatrix checks the one scope helper for every role against rows in
// several regions, organisations and workers.
func TestScopeMatrix(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TEMP TABLE scope_probe (id int, region_code text, org_id bigint, worker_id bigint)`); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		id            int
		region        string
		org, workerID int64
	}{
		{1, "420102", 10, 100}, {2, "420106", 10, 101}, {3, "420502", 20, 102}, {4, "420602", 30, 103}, {5, "429004", 20, 104},
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, "INSERT INTO scope_probe VALUES (?, ?, ?, ?)", r.id, r.region, r.org, r.workerID); err != nil {
			t.Fatal(err)
		}
	}
	cols := accounts.ScopeColumns{Region: "p.region_code", Org: "p.org_id", Worker: "p.worker_id"}
	for _, tc := range []struct {
		name string
		p    *accounts.Principal
		cols accounts.ScopeColumns
		want []int
	}{
		{"admin", &accounts.Principal{Role: accounts.RoleAdmin}, cols, []int{1, 2, 3, 4, 5}},
		{"hr province", &accounts.Principal{Role: accounts.RoleHRReviewer, Region: "420000"}, cols, []int{1, 2, 3, 4, 5}},
		{"hr wuhan", &accounts.Principal{Role: accounts.RoleHRApprover, Region: "420100"}, cols, []int{1, 2}},
		{"hr jiang'an", &accounts.Principal{Role: accounts.RoleHRReviewer, Region: "420102"}, cols, []int{1}},
		{"regulator yichang", &accounts.Principal{Role: accounts.RoleRegulator, Region: "420500"}, cols, []int{3}},
		{"regulator xiantao", &accounts.Principal{Role: accounts.RoleRegulator, Region: "429004"}, cols, []int{5}},
		{"college own org", &accounts.Principal{Role: accounts.RoleCollege, OrgID: 20, Region: "420500"}, cols, []int{3, 5}},
		{"provider own org", &accounts.Principal{Role: accounts.RoleProvider, OrgID: 10, Region: "420100"}, cols, []int{1, 2}},
		{"worker self", &accounts.Principal{Role: accounts.RoleWorker, WorkerID: 103}, cols, []int{4}},
		{"provider by several orgs", &accounts.Principal{Role: accounts.RoleProvider, OrgID: 99},
			accounts.ScopeColumns{OrgIn: "SELECT p.org_id UNION SELECT 99 WHERE p.worker_id IN (100, 104)"}, []int{1, 5}},
		{"provider without org column", &accounts.Principal{Role: accounts.RoleProvider, OrgID: 10}, accounts.ScopeColumns{Region: "p.region_code"}, nil},
		{"worker without worker column", &accounts.Principal{Role: accounts.RoleWorker, WorkerID: 100}, accounts.ScopeColumns{Region: "p.region_code"}, nil},
		{"anonymous", nil, cols, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			q := db.NewSelect().TableExpr("scope_probe AS p").Column("p.id")
			if err := tc.p.Scope().Apply(q, tc.cols).Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			sort.Ints(got)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("scope %s sees %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// TestWorkerLoginNeedsAnExistingWorker: an account linked to a worker id
// that does not exist yet would take over whoever gets that id later.
func TestWorkerLoginNeedsAnExistingWorker(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	for _, id := range []int64{999999, -5} {
		_, err := svc.CreateUser(ctx, accounts.NewUser{Username: fmt.Sprintf("preclaim%d", seq.Add(1)), Role: accounts.RoleWorker, WorkerID: id, Password: "Good-Pass-2026"})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid {
			t.Fatalf("worker login for worker %d: %v", id, err)
		}
	}
	var workerID int64
	err := db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		VALUES ('甲', '\x00', '\x01', 'm', 'female', '1990-01-01', '420106') RETURNING id`).Scan(ctx, &workerID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "linked1", Role: accounts.RoleWorker, WorkerID: workerID, Password: "Good-Pass-2026"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "linked2", Role: accounts.RoleWorker, WorkerID: workerID, Password: "Good-Pass-2026"}); !apperr.Is(err, "worker_has_login") {
		t.Fatalf("second login for one worker: %v", err)
	}
}

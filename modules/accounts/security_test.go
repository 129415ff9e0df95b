package accounts_test

import (
	"context"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

// TestNewPasswordRule: the character rule, then the username, the demo
// password and the common passwords are refused (issue 15).
func TestNewPasswordRule(t *testing.T) {
	for _, c := range []struct {
		user, pw string
		ok       bool
	}{
		{"hr_reviewer9", "Kettle-Sun-2031", true},
		{"hr_reviewer9", "short1A!", false},          // under 10
		{"hr_reviewer9", "alllowercase", false},      // one class
		{"hr_reviewer9", "Hr_Reviewer9-2031", false}, // contains the username
		{"hr_reviewer9", "HR_REVIEWER9x!", false},    // … in any case
		{"bob", "Bob-the-builder-7", false},
		{"ab", "Ab-Ab-Ab-2031", true},             // a two-letter name is no pattern
		{"someone", accounts.DemoPassword, false}, // printed in the README
		{"someone", "tuoyu@2026", false},          // … in any case
		{"someone", "Admin@123456", false},        // common
		{"someone", "1qaz@WSX3edc", false},        // keyboard walk
		{"someone", "Tuoyu@2026-river!", true},    // longer than the demo password: fine
	} {
		err := accounts.CheckNewPassword(c.user, c.pw)
		if (err == nil) != c.ok {
			t.Errorf("CheckNewPassword(%q, %q) = %v, want ok=%v", c.user, c.pw, err, c.ok)
		}
		if err != nil && !apperr.Is(err, "weak_password") {
			t.Errorf("CheckNewPassword(%q, %q) = %v, want weak_password", c.user, c.pw, err)
		}
	}
}

// TestDemoPasswordOnlyForTheDemoSeed: a user created with the demo password
// is refused unless the demo seed creates it.
func TestDemoPasswordOnlyForTheDemoSeed(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	org := newOrg(t, db, "college", "420100")
	_, err := svc.CreateUser(ctx, accounts.NewUser{Username: "demoish1", Role: accounts.RoleCollege, OrgCode: org, Password: accounts.DemoPassword})
	if !apperr.Is(err, "invalid_user") {
		t.Fatalf("demo password for a real user: %v", err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "demoish2", Role: accounts.RoleCollege, OrgCode: org,
		Password: accounts.DemoPassword, Demo: true}); err != nil {
		t.Fatalf("demo seed: %v", err)
	}
	// The demo flag does not lift the character rule.
	_, err = svc.CreateUser(ctx, accounts.NewUser{Username: "demoish3", Role: accounts.RoleCollege, OrgCode: org, Password: "short", Demo: true})
	if !apperr.Is(err, "invalid_user") {
		t.Fatalf("short demo password: %v", err)
	}
}

// TestSessionAbsoluteTimeout: a session in constant use still ends 12
// hours after login, and the purge job removes idle and old sessions alike.
func TestSessionAbsoluteTimeout(t *testing.T) {
	db := dbtest.DB(t)
	ck := &clock{t: time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)}
	svc := accounts.NewService(db, ck.now)
	ctx := context.Background()
	name := newUser(t, svc, db, accounts.RoleCollege, "420100")
	busy, err := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	if err != nil {
		t.Fatal(err)
	}
	start := ck.t
	for ck.t.Sub(start) < accounts.AbsoluteTimeout-20*time.Minute {
		ck.t = ck.t.Add(20 * time.Minute)
		if _, _, err := svc.Authenticate(ctx, busy.SessionID); err != nil {
			t.Fatalf("after %s of activity: %v", ck.t.Sub(start), err)
		}
	}
	ck.t = start.Add(accounts.AbsoluteTimeout + time.Minute)
	if _, _, err := svc.Authenticate(ctx, busy.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("12 h 1 min after login: %v", err)
	}

	// The purge: one session old but busy, one idle, one fresh.
	t0 := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
	ck.t = t0
	old, _ := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	for ck.t.Sub(t0) < 11*time.Hour+20*time.Minute {
		ck.t = ck.t.Add(20 * time.Minute)
		if _, _, err := svc.Authenticate(ctx, old.SessionID); err != nil {
			t.Fatal(err)
		}
	}
	ck.t = t0.Add(11*time.Hour + 30*time.Minute)
	idle, _ := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	ck.t = t0.Add(11*time.Hour + 50*time.Minute)
	if _, _, err := svc.Authenticate(ctx, old.SessionID); err != nil {
		t.Fatal(err)
	}
	fresh, _ := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	ck.t = t0.Add(12*time.Hour + 5*time.Minute) // old: 12 h 5 min old; idle: 35 min idle; fresh: 15 min
	if _, err := svc.ExpireIdleSessions(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.NewRaw("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = ?", name).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Fatalf("%d sessions left after the purge, want only the fresh one", left)
	}
	if _, _, err := svc.Authenticate(ctx, fresh.SessionID); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	if _, _, err := svc.Authenticate(ctx, idle.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("idle session: %v", err)
	}
}

// TestAdminResetForcesChange: an admin's reset ends the user's sessions and
// makes them choose their own password at the next login; changing it
// clears the mark.
func TestAdminResetForcesChange(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	name := newUser(t, svc, db, accounts.RoleProvider, "420100")
	before, err := svc.Login(ctx, name, "Good-Pass-2026", "", "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := svc.PrincipalByUsername(ctx, name)
	if p.MustChangePassword {
		t.Fatal("a new user must not be forced to change")
	}
	if err := svc.SetPassword(ctx, p.UserID, "Temp-Reset-4471"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Authenticate(ctx, before.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("session before the reset: %v", err)
	}
	res, err := svc.Login(ctx, name, "Temp-Reset-4471", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Principal.MustChangePassword {
		t.Fatal("after an admin reset the login must ask for a new password")
	}
	if err := svc.ChangePassword(ctx, p.UserID, "wrong", "Own-Choice-8812"); !apperr.Is(err, "wrong_password") {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := svc.ChangePassword(ctx, p.UserID, "Temp-Reset-4471", "Temp-Reset-4471"); !apperr.Is(err, "same_password") {
		t.Fatalf("same password: %v", err)
	}
	if err := svc.ChangePassword(ctx, p.UserID, "Temp-Reset-4471", name+"-X1!"); !apperr.Is(err, "weak_password") {
		t.Fatalf("password with the username: %v", err)
	}
	if err := svc.ChangePassword(ctx, p.UserID, "Temp-Reset-4471", "Own-Choice-8812"); err != nil {
		t.Fatal(err)
	}
	after, err := svc.Login(ctx, name, "Own-Choice-8812", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if after.Principal.MustChangePassword {
		t.Fatal("the mark stays after the change")
	}
	if _, _, err := svc.Authenticate(ctx, res.SessionID); !apperr.Is(err, "session_expired") {
		t.Fatalf("session from before the change: %v", err)
	}
}

// TestUnknownNumbersAreMaskedInAttempts: a phone or ID number typed as the
// username is stored masked, and still locks like any unknown name (so the
// lock does not tell which names exist).
func TestUnknownNumbersAreMaskedInAttempts(t *testing.T) {
	db := dbtest.DB(t)
	svc := accounts.NewService(db, time.Now)
	ctx := context.Background()
	for _, typed := range []string{"13912345678", "42010619900101123X"} {
		var err error
		for i := 0; i < accounts.MaxFailures; i++ {
			_, err = svc.Login(ctx, typed, "Wrong-Password-1", "", "")
		}
		if !apperr.Is(err, "account_locked") {
			t.Fatalf("%d failures for %s…: %v, want account_locked", accounts.MaxFailures, typed[:3], err)
		}
		var stored []string
		if err := db.NewRaw("SELECT username FROM login_attempts WHERE username LIKE ?", typed[:3]+"%").Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if len(stored) != accounts.MaxFailures {
			t.Fatalf("%d attempts stored, want %d", len(stored), accounts.MaxFailures)
		}
		for _, s := range stored {
			if s == typed || len(s) != len(typed) {
				t.Fatalf("attempt stored as %q", s)
			}
		}
	}
}

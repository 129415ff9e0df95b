package app

import (
	"context"
	"testing"
	"time"

	"tuoyu/modules/bans"
	"tuoyu/modules/claims"
	"tuoyu/modules/claims/claimstest"
)

// TestBanRejectsLiveClaims: a ban recorded through the bans service (as
// app wires it) rejects the person's live claim in the ban's transaction
// and leaves a paid one alone.
func TestBanRejectsLiveClaims(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	const county = "420113"
	w := payoutWorker(t, county, "禁入者", true)
	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	reviewer, _ := a.Accounts.PrincipalByUsername(ctx, "hr_reviewer1")
	approver, _ := a.Accounts.PrincipalByUsername(ctx, "hr_approver2")
	kit := &claimstest.Kit{DB: a.DB, Certs: a.Certificates, Admin: &admin, Reviewer: reviewer.UserID, Approver: approver.UserID}
	live := kit.Claim(t, w.ID, county, "training", "submitted", 1000, time.Now().AddDate(0, 0, -3))
	paid := kit.Claim(t, w.ID, county, "appraisal", "paid", 500, time.Now().AddDate(0, -2, 0))

	reg, err := a.Accounts.PrincipalByUsername(ctx, "regulator1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Bans.Record(ctx, &reg, bans.RecordInput{Person: bans.Person{Name: "禁入者", IDNumber: w.IDNumber},
		Reason: "虐待婴幼儿，经查证属实", DecisionNo: "鄂卫禁〔2026〕31号", DecidedOn: time.Now().Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	want := map[int64]claims.Status{live: claims.StatusRejected, paid: claims.Status("paid")}
	for id, st := range want {
		c, err := a.Claims.Get(ctx, &admin, id)
		if err != nil {
			t.Fatalf("claim %d: %v", id, err)
		}
		if c.Status != st {
			t.Errorf("claim %d after the ban: %s, want %s", id, c.Status, st)
		}
	}
}

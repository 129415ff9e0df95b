package seed_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app"
	"tuoyu/app/dbtest"
	"tuoyu/modules/bans"
	"tuoyu/modules/certificates"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/payouts"
	"tuoyu/modules/workers"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// scaleTables are the tables the scale seed writes, counted before and
// after a rerun.
var scaleTables = []string{"workers", "provider_workers", "classes", "enrolments", "lessons", "lesson_attendees",
	"assessment_sittings", "assessment_candidates", "assessment_results", "certificates", "claim_eligibility",
	"claims", "payout_batches", "payout_batch_items"}

func counts(t *testing.T, db *bun.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tb := range scaleTables {
		var n int
		if err := db.NewSelect().TableExpr(tb).ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

// TestScaleWorld builds a small scale world on the demo and checks each
// area is there in its intended proportions, every claim status and batch
// state appears, what the bulk loads' skipped triggers keep equals a fresh
// computation, a rerun adds nothing, and a generated certificate verifies
// through the API with a valid signature.
func TestScaleWorld(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t) // the owning role: the bulk loads switch triggers off
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cfg := app.Config{Addr: ":0", DataDir: t.TempDir(), SecretKey: bytes.Repeat([]byte{7}, 32),
		BaseURL: "http://localhost:8080", Location: loc, Getenv: func(string) string { return "" }}
	a, err := app.Wire(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	before := counts(t, db)
	const n = 2000
	var out bytes.Buffer
	if err := a.SeedScale(ctx, db, n, &out); err != nil {
		t.Fatalf("scale: %v\n%s", err, out.String())
	}
	after := counts(t, db)
	added := func(tb string) float64 { return float64(after[tb] - before[tb]) }
	per := func(tb string) float64 { return added(tb) / n }

	if got := added("workers"); got != n {
		t.Errorf("%v workers added, want %d", got, n)
	}
	for _, c := range []struct {
		table  string
		lo, hi float64 // per generated worker
	}{
		{"enrolments", 4, 5}, {"lessons", 0.01, 2}, {"lesson_attendees", 0.3, 10},
		{"assessment_sittings", 0.001, 1}, {"assessment_results", 0.3, 3},
		{"certificates", 1.2, 1.9}, {"claim_eligibility", 0.1, 10}, {"claims", 0.5, 5},
		{"payout_batches", 0.001, 1}, {"payout_batch_items", 0.3, 5},
	} {
		if got := per(c.table); got < c.lo || got > c.hi {
			t.Errorf("%s: %.3f per worker, want %.3f–%.3f", c.table, got, c.lo, c.hi)
		}
	}
	// The loads bypass the triggers; the overview's rollup is rebuilt after
	// them and must equal a fresh count.
	if diff, err := a.Payouts.RollupDiff(ctx); err != nil || len(diff) > 0 {
		t.Errorf("the overview rollup differs from a fresh count after the scale seed (%v): %v", err, diff)
	}
	distinct := func(q string) map[string]int {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int{}
		for rows.Next() {
			var k string
			var v int
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			m[k] = v
		}
		return m
	}
	claimStatuses := distinct("SELECT status, count(*) FROM claims GROUP BY 1")
	t.Logf("claims by status: %v", claimStatuses)
	for _, s := range []string{"submitted", "reviewed", "notice", "payable", "batched", "paid", "rejected", "returned"} {
		if claimStatuses[s] == 0 {
			t.Errorf("no claim in status %s: %v", s, claimStatuses)
		}
	}
	batchStates := distinct("SELECT status, count(*) FROM payout_batches GROUP BY 1")
	for _, s := range []string{"draft", "exported", "paid"} {
		if batchStates[s] == 0 {
			t.Errorf("no payout batch %s: %v", s, batchStates)
		}
	}
	results := distinct("SELECT passed::text, count(*) FROM assessment_results GROUP BY 1")
	if results["true"] == 0 || results["false"] == 0 {
		t.Errorf("results are not a pass/fail mix: %v", results)
	}
	certStatuses := distinct("SELECT status, count(*) FROM certificates GROUP BY 1")
	for _, s := range []string{"valid", "revoked", "expired"} {
		if certStatuses[s] == 0 {
			t.Errorf("no %s certificate: %v", s, certStatuses)
		}
	}
	classStates := distinct("SELECT c.state, count(*) FROM classes c JOIN organisations o ON o.id = c.provider_org_id WHERE o.code LIKE 'scale-%' GROUP BY 1")
	for _, s := range classes.States {
		if classStates[string(s)] == 0 {
			t.Errorf("no generated class %s: %v", s, classStates)
		}
	}

	checkDerived(t, ctx, db)

	// A batch's items belong to claims of its state: batched claims in
	// draft or exported batches, paid and returned ones in paid batches.
	var wrong int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM payout_batch_items i
		JOIN payout_batches b ON b.id = i.batch_id JOIN claims c ON c.id = i.claim_id
		WHERE c.snapshot ? 'scale_seed' AND ((c.status = 'batched') <> (b.status IN ('draft', 'exported'))
			OR (c.status = 'returned') <> (i.status = 'returned') OR c.amount_yuan <> i.amount_yuan)`).Scan(&wrong); err != nil || wrong != 0 {
		t.Errorf("%d payout items do not match their claims (%v)", wrong, err)
	}

	out.Reset()
	if err := a.SeedScale(ctx, db, n, &out); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out.String())
	}
	again := counts(t, db)
	for _, tb := range scaleTables {
		if again[tb] != after[tb] {
			t.Errorf("rerun changed %s: %d → %d", tb, after[tb], again[tb])
		}
	}

	checkVerify(t, ctx, a, db)
}

// checkDerived compares what the loads' skipped triggers keep with a fresh
// computation.
func checkDerived(t *testing.T, ctx context.Context, db *bun.DB) {
	t.Helper()
	if n, err := workers.DerivedMismatches(ctx, db, bans.Unlifted(db), 0, 1<<62); err != nil || n != 0 {
		t.Errorf("%d workers' region or ban flag differ from the triggers' (%v)", n, err)
	}
	if n, err := classes.CountMismatches(ctx, db, enrolment.PlaceCounts(db)); err != nil || n != 0 {
		t.Errorf("%d classes' place counts differ from a fresh count (%v)", n, err)
	}
	if n, err := certificates.SerialMismatches(ctx, db); err != nil || n != 0 {
		t.Errorf("%d certificate serial counters are behind their numbers (%v)", n, err)
	}
	if n, err := payouts.TotalMismatches(ctx, db); err != nil || n != 0 {
		t.Errorf("%d payout batches' totals differ from their items (%v)", n, err)
	}
	// provider_workers: each provider sees the workers it registered and
	// those holding places in its classes, with the number of places.
	var n int
	err := db.QueryRowContext(ctx, `
		WITH fresh AS (
			SELECT organisation_id, worker_id, bool_or(registered) AS registered, sum(places) AS places FROM (
				SELECT w.registered_by_org_id AS organisation_id, w.id AS worker_id, true AS registered, 0 AS places
				FROM workers w JOIN organisations o ON o.id = w.registered_by_org_id
				WHERE o.code LIKE 'scale-provider-%'
				UNION ALL
				SELECT c.provider_org_id, e.worker_id, false, count(*) FROM enrolments e JOIN classes c ON c.id = e.class_id
				JOIN organisations o ON o.id = c.provider_org_id
				WHERE o.code LIKE 'scale-provider-%' AND e.status IN ('enrolled', 'waitlisted', 'completed')
				GROUP BY 1, 2) x GROUP BY 1, 2)
		SELECT count(*) FROM fresh f FULL JOIN (SELECT pw.* FROM provider_workers pw
			JOIN organisations o ON o.id = pw.organisation_id WHERE o.code LIKE 'scale-provider-%') p
			ON p.organisation_id = f.organisation_id AND p.worker_id = f.worker_id
		WHERE (p.registered, p.places) IS DISTINCT FROM (f.registered, f.places)`).Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("%d provider_workers rows differ from a fresh computation (%v)", n, err)
	}
	// Nobody attends more than 8 hours a day (the trigger the lessons
	// load skipped).
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT a.enrolment_id, l.held_on FROM lesson_attendees a
		JOIN lessons l ON l.id = a.lesson_id WHERE NOT l.carried_over GROUP BY 1, 2 HAVING sum(l.hours) > 8) x`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d enrolment days over 8 hours (%v)", n, err)
	}
}

// checkVerify verifies a generated certificate through the API and checks
// its signature against the published key.
func checkVerify(t *testing.T, ctx context.Context, a *app.App, db *bun.DB) {
	t.Helper()
	var code string
	if err := db.QueryRowContext(ctx, `SELECT c.verify_code FROM certificates c JOIN organisations o ON o.id = c.provider_org_id
		WHERE o.code LIKE 'scale-provider-%' AND c.kind = 'skill' ORDER BY c.id DESC LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	resp, err := a.Fiber.Test(httptest.NewRequest("GET", "/api/v1/verify/"+code, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	var ans certificates.Answer
	if resp.StatusCode != 200 || json.Unmarshal(body, &ans) != nil || ans.Status != "valid" {
		t.Fatalf("verify %s: %d %s", code, resp.StatusCode, body)
	}
	keys, err := a.Certificates.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := keys.Find(ans.KeyID)
	if !ok || !certificates.CheckSignature(ed25519.PublicKey(pub), ans) {
		sig, _ := base64.StdEncoding.DecodeString(ans.Signature)
		t.Errorf("certificate %s: signature (%d bytes) does not verify under key %s", ans.Number, len(sig), ans.KeyID)
	}
}

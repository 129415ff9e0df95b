// Package payouts benchmarks the payouts module on a real PostgreSQL
// database: building a batch of 10 000 payable claims and exporting its bank
// file (time and peak RSS), and the HR overview of the whole province with
// 1 000 000 workers on file (time per page). Figures go to
// docs/performance.md, section "Payouts"; see README for how to run it.
package payouts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
	"tuoyu/app/seed"

	"github.com/uptrace/bun"

	"tuoyu/app"
	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/claims"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/payouts"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// maxRSS is the process's peak resident set so far, in MB.
func maxRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // Linux reports KB
}

func exec(b *testing.B, db bun.IDB, query string, args ...any) int64 {
	b.Helper()
	res, err := db.ExecContext(context.Background(), query, args...)
	if err != nil {
		b.Fatalf("%.80s: %v", query, err)
	}
	n, _ := res.RowsAffected()
	return n
}

// insertClaims stores, for every worker that workerWhere selects (alias w),
// an external certificate and a claim on it in the status statusExpr gives,
// submitted at submittedExpr, with everything the claims table requires of
// that status (reviewer, approver, 公示 dates, paid date, rejection).
// Reviewer and approver are two different users.
func insertClaims(b *testing.B, db bun.IDB, workerWhere, statusExpr, submittedExpr string, reviewer, approver int64, args ...any) {
	b.Helper()
	exec(b, db, `INSERT INTO certificate_signing_keys (key_id, public_key)
		VALUES ('00000000000000be', sha256('bench'::bytea)) ON CONFLICT DO NOTHING`)
	exec(b, db, `INSERT INTO certificates (kind, source, number, verify_code, worker_id, region_code, holder_name, holder_id_mask,
			issuer_name, issued_on, issued_at, signature, key_id, level, occupation)
		SELECT 'skill', 'external', 'BENCH' || w.id,
			substr(lpad(w.id::text, 20, '0'), 1, 4) || '-' || substr(lpad(w.id::text, 20, '0'), 5, 4) || '-' ||
			substr(lpad(w.id::text, 20, '0'), 9, 4) || '-' || substr(lpad(w.id::text, 20, '0'), 13, 4) || '-' || substr(lpad(w.id::text, 20, '0'), 17, 4),
			w.id, w.region_code, w.name, w.id_mask, '压测评价机构', current_date - 60, now(),
			sha512('bench'::bytea), '00000000000000be', 4, '4-10-01-03'
		FROM workers w WHERE `+workerWhere, args...)
	exec(b, db, `INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status, policy_version,
			snapshot, submitted_at, submitted_by, reviewer_id, reviewed_at, approver_id, approved_at, approved_on, notice_ends_on,
			paid_on, reject_code, rejected_at)
		SELECT x.worker_id, x.cert, 'skill_upgrade', x.status, x.region_code, 1000 + (x.worker_id % 3) * 500, 'eligible', 'bench', '{}',
			x.submitted, ?, CASE WHEN x.status NOT IN ('submitted', 'rejected') THEN ? END,
			CASE WHEN x.status NOT IN ('submitted', 'rejected') THEN x.submitted END,
			CASE WHEN x.status NOT IN ('submitted', 'reviewed', 'rejected') THEN ? END,
			CASE WHEN x.status NOT IN ('submitted', 'reviewed', 'rejected') THEN x.submitted + interval '1 day' END,
			CASE WHEN x.status NOT IN ('submitted', 'reviewed', 'rejected') THEN (x.submitted + interval '1 day')::date END,
			CASE WHEN x.status NOT IN ('submitted', 'reviewed', 'rejected') THEN (x.submitted + interval '8 days')::date END,
			CASE WHEN x.status = 'paid' THEN (x.submitted + interval '20 days')::date END,
			CASE WHEN x.status = 'rejected' THEN 'other' END,
			CASE WHEN x.status = 'rejected' THEN x.submitted + interval '1 day' END
		FROM (SELECT c.worker_id, c.id AS cert, c.region_code, `+statusExpr+` AS status, `+submittedExpr+` AS submitted
			FROM certificates c JOIN workers w ON w.id = c.worker_id
			WHERE c.number LIKE 'BENCH%' AND `+workerWhere+`) AS x`, append([]any{reviewer, reviewer, approver}, args...)...)
}

// BenchmarkBatchAndBankFile builds one batch of PAYOUT_CLAIMS (10 000)
// payable claims of workers with bank accounts and exports its bank file.
func BenchmarkBatchAndBankFile(b *testing.B) {
	n := envInt("PAYOUT_CLAIMS", 10_000)
	db := dbtest.DB(b)
	ctx := context.Background()
	ws := workers.NewService(db, workerstest.Cipher(b), time.Now)
	// Generated workers: a third have a bank account; give the others one
	// through the cipher, as the demo does, until n have.
	if err := seed.Scale(ctx, seed.Services{DB: db, Now: time.Now, Workers: ws}, n*3+n/2, io.Discard); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	if err := db.NewSelect().Table("workers").Column("id").Where("bank_account_enc IS NOT NULL AND region_code IS NOT NULL").
		OrderExpr("id").Limit(int64(n)).Scan(ctx, &ids); err != nil || len(ids) < n {
		b.Fatalf("workers with accounts: %d of %d, %v", len(ids), n, err)
	}
	org := workerstest.Org(b, db, "hr_bureau", "420000")
	approver := workerstest.Staff(b, db, accounts.RoleHRApprover, org, "420000")
	reviewer := workerstest.Staff(b, db, accounts.RoleHRReviewer, org, "420000")
	insertClaims(b, db, "w.id IN (?)", "'payable'", "now() - interval '20 days'", reviewer.UserID, approver.UserID, bun.In(ids))
	svc := payouts.NewService(db, ws, payouts.Sources{}, time.Now, shanghai)
	rssBefore := maxRSS()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		batch, err := svc.CreateBatch(ctx, approver, "420000")
		if err != nil {
			b.Fatal(err)
		}
		built := time.Since(t0)
		var file bytes.Buffer
		t1 := time.Now()
		if _, err := svc.Export(ctx, approver, batch.ID, &file); err != nil {
			b.Fatal(err)
		}
		exported := time.Since(t1)
		b.StopTimer()
		fmt.Printf("\n| claims | build | export (XLSX %.1f MB) | total | peak RSS before → after |\n|---:|---:|---:|---:|---:|\n| %d | %s | %s | %s | %.0f MB → %.0f MB |\n",
			float64(file.Len())/1e6, batch.Claims, built.Round(time.Millisecond), exported.Round(time.Millisecond),
			(built + exported).Round(time.Millisecond), rssBefore, maxRSS())
		if batch.Claims != n {
			b.Fatalf("batch holds %d claims, want %d", batch.Claims, n)
		}
		// Put the claims back for another round.
		b.StartTimer()
	}
}

// BenchmarkDashboard fills the database like a province with STATS_WORKERS
// (1 000 000) workers — 40 % of them with a claim, 20 % trained this year in
// 200 classes, two thirds of the approved claims paid in 20 batches — and
// times the overview of the whole province: the JSON (service) and the page
// (HTTP, charts and tables rendered).
// generateProvince fills db with nWorkers workers over Hubei's counties, 20 %
// of them trained this year in classes of 1 000, 40 % with a claim spread
// over the year and the statuses, and the paid ones in 20 paid batches.
func generateProvince(b *testing.B, db *bun.DB, nWorkers, year int) {
	ctx := context.Background()
	// Workers: fake ciphertexts (the overview never decrypts), areas spread
	// over Hubei's counties.
	// In chunks: one statement stays well under the driver's read timeout.
	const chunk = 20_000
	for from := 1; from <= nWorkers; from += chunk {
		exec(b, db, `INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		SELECT '测试' || g, '\x00'::bytea, sha256(('bench' || g)::bytea), '420***', 'female', date '1990-01-01',
			r.codes[1 + g % array_length(r.codes, 1)]
		FROM generate_series(?::int, ?::int) AS g,
			(SELECT array_agg(code ORDER BY code) AS codes FROM regions WHERE level = 3 AND code LIKE '42%') AS r`, from, min(from+chunk-1, nWorkers))
	}
	var firstWorker int64
	if err := db.NewRaw("SELECT min(id) FROM workers WHERE name LIKE '测试%'").Scan(ctx, &firstWorker); err != nil {
		b.Fatal(err)
	}
	// Trained: 200 classes of 1000 completed enrolments.
	var planVersion, provider int64
	if err := db.NewRaw("SELECT current_version_id FROM plans WHERE code = 'BYS-GQ'").Scan(ctx, &planVersion); err != nil {
		b.Fatal(err)
	}
	if err := db.NewRaw("SELECT id FROM organisations WHERE code = 'provider1'").Scan(ctx, &provider); err != nil {
		b.Fatal(err)
	}
	classes := nWorkers / 5 / 1000
	exec(b, db, `INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, region_code, capacity, state)
		SELECT ?, (SELECT plan_id FROM plan_versions WHERE id = ?), '压测班' || g, make_date(?, 1 + g % 12, 1), make_date(?, 1 + g % 12, 20),
			r.codes[1 + g % array_length(r.codes, 1)], 1000, 'completed'
		FROM generate_series(1, ?) AS g,
			(SELECT array_agg(code ORDER BY code) AS codes FROM regions WHERE level = 2 AND code LIKE '42%') AS r`, provider, planVersion, year, year, classes)
	for k := 0; k < classes; k += 5 {
		exec(b, db, `INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
		SELECT c.id, w.id, ?, 'completed', 'provider', daterange(c.starts_on, c.ends_on, '[]'), c.ends_on
		FROM (SELECT id, starts_on, ends_on, row_number() OVER (ORDER BY id) AS k FROM classes WHERE name LIKE '压测班%') c
		JOIN workers w ON w.id BETWEEN ? + (c.k - 1) * 1000 AND ? + c.k * 1000 - 1
		WHERE c.k > ? AND c.k <= ?`, planVersion, firstWorker, firstWorker, k, k+5)
	}
	// Claims of 40 % of the workers, spread over the year and the statuses.
	var reviewer, approver int64
	if err := db.NewRaw("SELECT (SELECT id FROM users WHERE username = 'hr_reviewer1'), (SELECT id FROM users WHERE username = 'hr_approver2')").
		Scan(ctx, &reviewer, &approver); err != nil {
		b.Fatal(err)
	}
	for from := firstWorker; from < firstWorker+int64(nWorkers); from += chunk {
		insertClaims(b, db, "w.id >= ? AND w.id < ? AND w.id % 5 < 2",
			"(ARRAY['submitted','reviewed','notice','payable','paid','paid','paid','rejected'])[1 + w.id % 8]",
			fmt.Sprintf("make_timestamptz(%d, (1 + w.id %% 12)::int, (1 + w.id %% 28)::int, 10, 0, 0)", year),
			reviewer, approver, from, from+chunk)
	}
	// Paid: the paid claims in 20 batches (items join drafts; then paid).
	exec(b, db, `INSERT INTO payout_batches (region_code, created_by)
		SELECT '420000', (SELECT id FROM users WHERE username = 'hr_approver1') FROM generate_series(1, 20)`)
	for k := 0; k < 20; k++ {
		exec(b, db, `INSERT INTO payout_batch_items (batch_id, claim_id, worker_id, region_code, subsidy, amount_yuan)
		SELECT (SELECT max(id) - 19 FROM payout_batches) + ?, c.id, c.worker_id, c.region_code, c.subsidy, c.amount_yuan
		FROM claims c WHERE c.status = 'paid' AND c.worker_id >= ? AND c.id % 20 = ?`, k, firstWorker, k)
	}
	exec(b, db, `UPDATE payout_batches SET status = 'paid', exported_at = now(), exports = 1, paid_on = make_date(?, (1 + id % 12)::int, 15),
		bank_reference = 'BENCH' || id, paid_at = now() WHERE id > (SELECT max(id) - 20 FROM payout_batches)`, year)
	// VACUUM as autovacuum does after bulk inserts: it sets the visibility
	// map, so the overview's index-only scans need not visit the heap.
	exec(b, db, "VACUUM ANALYZE")
}

func BenchmarkDashboard(b *testing.B) {
	nWorkers := envInt("STATS_WORKERS", 1_000_000)
	db := dbtest.DB(b)
	if name := os.Getenv("STATS_DB"); name != "" {
		// An existing database (kept between runs to compare plans): the
		// world is generated into it only when it has none yet.
		existing, closeDB, err := dbtest.Existing(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { closeDB() })
		db = existing
	}
	ctx := context.Background()
	year := time.Now().In(shanghai).Year()
	t0 := time.Now()
	a, err := app.Wire(app.Config{SecretKey: bytes.Repeat([]byte{0x42}, 32), Location: shanghai, DataDir: b.TempDir(), BaseURL: "http://localhost:8080",
		Getenv: func(string) string { return "" }}, db, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.SeedDemo(ctx); err != nil {
		b.Fatal(err)
	}
	var generated int
	if err := db.NewRaw("SELECT count(*) FROM workers WHERE name LIKE '测试%'").Scan(ctx, &generated); err != nil {
		b.Fatal(err)
	}
	if generated == 0 {
		generateProvince(b, db, nWorkers, year)
	}
	setup := time.Since(t0)

	svc := a.Payouts
	regulator, err := a.Accounts.PrincipalByUsername(ctx, "regulator1")
	if err != nil {
		b.Fatal(err)
	}
	var counts struct{ Workers, Enrolments, Claims, Items int }
	_ = db.NewRaw(`SELECT (SELECT count(*) FROM workers), (SELECT count(*) FROM enrolments WHERE status = 'completed'),
		(SELECT count(*) FROM claims), (SELECT count(*) FROM payout_batch_items)`).Scan(ctx, &counts.Workers, &counts.Enrolments, &counts.Claims, &counts.Items)

	// Log in through the API for the page.
	res, err := a.Fiber.Test(httptest.NewRequest("POST", "/api/v1/session", bytes.NewBufferString(`{"username":"regulator1","password":"`+app.DemoPassword+`"}`)), -1)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("login: %v", err)
	}
	cookie := res.Cookies()[0]

	var jsonTimes, cityTimes, pageTimes []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for r := 0; r < 10; r++ {
			t := time.Now()
			st, err := svc.Stats(ctx, &regulator, "420000", year)
			if err != nil {
				b.Fatal(err)
			}
			jsonTimes = append(jsonTimes, time.Since(t))
			if st.Total.Claimed == 0 || st.Total.Trained == 0 || st.Total.Paid == 0 {
				b.Fatalf("empty figures: %+v", st.Total)
			}
			t = time.Now()
			if _, err := svc.Stats(ctx, &regulator, "420100", year); err != nil {
				b.Fatal(err)
			}
			cityTimes = append(cityTimes, time.Since(t))
			req := httptest.NewRequest("GET", "/hr/dashboard", nil)
			req.AddCookie(cookie)
			t = time.Now()
			res, err := a.Fiber.Test(req, -1)
			if err != nil || res.StatusCode != 200 {
				b.Fatalf("page: %v %d", err, res.StatusCode)
			}
			io.Copy(io.Discard, res.Body)
			pageTimes = append(pageTimes, time.Since(t))
		}
	}
	b.StopTimer()
	q := func(ds []time.Duration, p float64) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(float64(len(s)-1)*p)].Round(time.Millisecond)
	}
	fmt.Printf("\nsetup %s: %d workers, %d completed enrolments, %d claims, %d batch items\n| what | median | p90 | max |\n|---|---:|---:|---:|\n| Stats (JSON figures), province | %s | %s | %s |\n| Stats, 武汉 (420100) | %s | %s | %s |\n| GET /hr/dashboard, province | %s | %s | %s |\n",
		setup.Round(time.Second), counts.Workers, counts.Enrolments, counts.Claims, counts.Items,
		q(jsonTimes, .5), q(jsonTimes, .9), q(jsonTimes, 1), q(cityTimes, .5), q(cityTimes, .9), q(cityTimes, 1),
		q(pageTimes, .5), q(pageTimes, .9), q(pageTimes, 1))
	_ = claims.PayoutPaid
	_ = enrolment.CompletionsForStats
}

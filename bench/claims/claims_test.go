// Package claims benchmarks the subsidy claims at volume: eligibility.refresh
// over generated workers holding 1.5 certificates each (every worker has
// one skill certificate, every other worker a second), and the latency of
// the HR claims list and the 免申即享 proposals list afterwards, with one
// claim per ten workers in the table. Data is generated set-based in SQL
// (generate_series), not through the services: only the measured parts
// run through them. See README; figures go to docs/performance.md.
package claims

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/calendar"
	"tuoyu/modules/claims"
	"tuoyu/modules/subsidies"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func workerCount() int {
	if n, err := strconv.Atoi(os.Getenv("CLAIMS_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchCounties spread the generated workers like a province: half in four
// districts of 武汉, the rest in 宜昌 and 襄阳, and 1 % in 秭归 (420527, with 0.1 % of the claims), the
// small district whose lists must not read the province.
const benchCounties = `(ARRAY['420102','420106','420111','420115','420102','420106','420111','420115',
	'420502','420506','420602','420607','420502','420506','420602','420607'])[1 + (i / 7) % 16]`

// generate writes n workers over benchCounties with HR-set facts, 1.5 n
// skill certificates issued two months ago and n/10 claims in mixed
// statuses (submitted, reviewed, rejected).
func generate(b *testing.B, db *bun.DB, n int, userID int64) {
	ctx := context.Background()
	steps := []string{
		`INSERT INTO certificate_signing_keys (key_id, public_key) VALUES ('00000000000000be', decode(repeat('ab', 32), 'hex')) ON CONFLICT DO NOTHING`,
		`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
			employment, employment_set_at, employment_set_by, insured_months, insured_months_on, insured_months_set_at, insured_months_set_by,
			target_groups, target_groups_set_at, target_groups_set_by)
		SELECT '测试' || i, '\x00'::bytea, sha256(('bench-' || i)::bytea), '420106********0000', 'female', date '1995-01-01',
			CASE WHEN i % 97 = 1 THEN '420527' ELSE ` + benchCounties + ` END,
			'enterprise_employee', now(), 'hr_reviewer', 20 + i % 30, current_date, now(), 'hr_import',
			ARRAY['graduate_of_year'], now(), 'hr_reviewer'
		FROM generate_series(1, ?) AS i`,
		`INSERT INTO certificates (kind, source, number, verify_code, worker_id, region_code, occupation, level,
			holder_name, holder_id_mask, issuer_name, issued_on, issued_at, signature, key_id)
		SELECT 'skill', 'external', 'BENCH-' || w.id || '-' || k,
			(SELECT string_agg(substr(h, g * 4 + 1, 4), '-') FROM generate_series(0, 4) AS g),
			w.id, w.region_code, '4-10-01-03', 5 - k, w.name, w.id_mask, '鉴定中心', current_date - 60, now(),
			decode(repeat('00', 64), 'hex'), '00000000000000be'
		FROM workers AS w CROSS JOIN generate_series(0, 1) AS k
		CROSS JOIN LATERAL (SELECT upper(lpad(to_hex(w.id * 2 + k), 20, '0')) AS h) AS x
		WHERE k = 0 OR w.id % 2 = 0`,
		`INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status, policy_version,
			snapshot, submitted_at, submitted_by, reviewer_id, reviewed_at, reject_code, rejected_at)
		SELECT ce.worker_id, ce.id, 'training', (ARRAY['submitted','reviewed','rejected'])[1 + ce.id % 3], ce.region_code, 1200,
			'eligible', 'bench', '{}', now() - (ce.id % 300) * interval '1 day', ?,
			CASE WHEN ce.id % 3 = 0 THEN NULL ELSE ? END::bigint, CASE WHEN ce.id % 3 = 0 THEN NULL ELSE now() END,
			CASE WHEN ce.id % 3 = 2 THEN 'other' END, CASE WHEN ce.id % 3 = 2 THEN now() END
		FROM certificates AS ce WHERE ce.worker_id % 10 = 0 AND ce.level = 5`,
		`VACUUM ANALYZE workers`, `VACUUM ANALYZE certificates`, `VACUUM ANALYZE claims`, // as autovacuum would: index-only counts
	}
	for i, q := range steps {
		var args []any
		switch i {
		case 1:
			args = []any{n}
		case 3:
			args = []any{userID, userID}
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("generate step %d: %v", i, err)
		}
	}
}

// benchDB is the database the benchmark runs on: CLAIMS_DB names an
// existing one (a copy of a scale world, which is used as it is when it
// holds certificates), else a fresh test database is generated.
func benchDB(b *testing.B, n int, userID func(*bun.DB) int64) *bun.DB {
	name := os.Getenv("CLAIMS_DB")
	if name == "" {
		db := dbtest.DB(b)
		t0 := time.Now()
		generate(b, db, n, userID(db))
		b.Logf("generated %d workers, %d certificates in %s", n, n+n/2, time.Since(t0).Round(time.Second))
		return db
	}
	db, closeDB, err := dbtest.Existing(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeDB() })
	var certs int
	if err := db.NewRaw("SELECT count(*) FROM certificates").Scan(context.Background(), &certs); err != nil {
		b.Fatal(err)
	}
	if certs == 0 {
		t0 := time.Now()
		generate(b, db, n, userID(db))
		b.Logf("generated %d workers, %d certificates in %s", n, n+n/2, time.Since(t0).Round(time.Second))
	}
	return db
}

func BenchmarkClaimsAtVolume(b *testing.B) {
	n := workerCount()
	hrOf := map[string]*accounts.Principal{}
	run := time.Now().Unix() // codes unique per run: CLAIMS_DB keeps the last run's users
	staff := func(db *bun.DB, region string) *accounts.Principal {
		if hrOf[region] == nil {
			var orgID, userID int64
			code := fmt.Sprintf("bench_hr_%s_%d", region, run)
			err := db.NewRaw(`WITH o AS (INSERT INTO organisations (code, name, kind, region_code) VALUES (?0, ?0, 'hr_bureau', ?1) RETURNING id)
				INSERT INTO users (username, role, password_hash, organisation_id) SELECT ?0, 'hr_reviewer', 'x', o.id FROM o
				RETURNING organisation_id, id`, code, region).Scan(context.Background(), &orgID, &userID)
			if err != nil {
				b.Fatal(err)
			}
			hrOf[region] = &accounts.Principal{UserID: userID, Username: code, Role: accounts.RoleHRReviewer, OrgID: orgID,
				OrgKind: accounts.OrgKindFor(accounts.RoleHRReviewer), Region: region}
		}
		return hrOf[region]
	}
	db := benchDB(b, n, func(db *bun.DB) int64 { return staff(db, "420100").UserID })
	for _, r := range []string{"420000", "420100", "420527"} {
		staff(db, r)
	}

	now := time.Now
	svc := claims.NewService(db, subsidies.NewService(db, time.Local, now), calendar.NewService(db, time.Local, now), time.Local, now)
	if os.Getenv("CLAIMS_SKIP_REFRESH") == "" {
		refresh(b, svc)
	}
	fmt.Fprintln(os.Stderr)
	for _, r := range []string{"420000", "420100", "420527"} {
		measureLists(b, svc, r, hrOf[r])
	}
	fmt.Fprintln(os.Stderr)
}

// refresh runs eligibility.refresh once over every worker, sampling the
// heap while it runs.
func refresh(b *testing.B, svc *claims.Service) {
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() { // sample the heap while the refresh runs
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	res, err := svc.Refresh(context.Background(), claims.RefreshBatch)
	took := time.Since(start)
	close(stop)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "eligibility.refresh: %d workers, %d results (%d eligible) in %s = %.0f workers/s; peak heap in use %d MB\n",
		res.Workers, res.Results, res.Eligible, took.Round(time.Millisecond), float64(res.Workers)/took.Seconds(), peak.Load()>>20)
}

// measureLists times 200 requests of each list for hr of region: the first
// page, a status filter, the page after a cursor 1 000 rows deep, and the
// proposals' first page and a page after a cursor.
func measureLists(b *testing.B, svc *claims.Service, region string, hr *accounts.Principal) {
	ctx := context.Background()
	measure := func(name string, fn func() error) {
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			start := time.Now()
			if err := fn(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		// Printed, not b.Logf: the test log of a benchmark is cut short.
		fmt.Fprintf(os.Stderr, "hr %s %-34s p50 %6.1f ms  p99 %6.1f ms\n", region, name, ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]))
	}
	var deepClaim, deepProposal int64
	f := claims.Filter{PerPage: 200}
	for i := 0; i < 5; i++ {
		rows, _, _, err := svc.List(ctx, hr, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) > 0 {
			f.AfterID, deepClaim = rows[len(rows)-1].ID, rows[len(rows)-1].ID
		}
		props, _, _, err := svc.Proposals(ctx, hr, claims.ProposalWindow{Limit: 200, AfterID: deepProposal})
		if err != nil {
			b.Fatal(err)
		}
		if len(props) > 0 {
			deepProposal = props[len(props)-1].ID
		}
	}
	rows, total, est, _ := svc.List(ctx, hr, claims.Filter{Page: 1, PerPage: 20})
	props, ptotal, pest, _ := svc.Proposals(ctx, hr, claims.ProposalWindow{Limit: 21})
	fmt.Fprintf(os.Stderr, "hr %s: claims total %d (estimate %v, %d on page 1), proposals total %d (estimate %v, %d on page 1)\n",
		region, total, est, len(rows), ptotal, pest, len(props))
	measure("claims list, page 1", func() error {
		_, _, _, err := svc.List(ctx, hr, claims.Filter{Page: 1, PerPage: 20})
		return err
	})
	measure("claims list, status=submitted", func() error {
		_, _, _, err := svc.List(ctx, hr, claims.Filter{Status: claims.StatusSubmitted, Page: 1, PerPage: 20})
		return err
	})
	measure("claims list, after 1 000 rows", func() error {
		_, _, _, err := svc.List(ctx, hr, claims.Filter{PerPage: 20, AfterID: deepClaim})
		return err
	})
	measure("proposals, page 1", func() error {
		_, _, _, err := svc.Proposals(ctx, hr, claims.ProposalWindow{Limit: 21})
		return err
	})
	measure("proposals, after 1 000 rows", func() error {
		_, _, _, err := svc.Proposals(ctx, hr, claims.ProposalWindow{Limit: 21, AfterID: deepProposal})
		return err
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

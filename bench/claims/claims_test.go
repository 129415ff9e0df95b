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
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func workerCount() int {
	if n, err := strconv.Atoi(os.Getenv("CLAIMS_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// generate writes n workers in 武汉 with HR-set facts, 1.5 n skill
// certificates issued two months ago and n/10 claims in mixed statuses.
func generate(b *testing.B, db *bun.DB, n int, userID int64) {
	ctx := context.Background()
	steps := []string{
		`INSERT INTO certificate_signing_keys (key_id, public_key) VALUES ('00000000000000be', decode(repeat('ab', 32), 'hex')) ON CONFLICT DO NOTHING`,
		`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
			employment, employment_set_at, employment_set_by, insured_months, insured_months_on, insured_months_set_at, insured_months_set_by,
			target_groups, target_groups_set_at, target_groups_set_by)
		SELECT '测试' || i, '\x00'::bytea, sha256(('bench-' || i)::bytea), '420106********0000', 'female', date '1995-01-01', '420106',
			'enterprise_employee', now(), 'hr_reviewer', 20 + i % 30, current_date, now(), 'hr_import',
			ARRAY['graduate_of_year'], now(), 'hr_reviewer'
		FROM generate_series(1, ?) AS i`,
		`INSERT INTO certificates (kind, source, number, verify_code, worker_id, region_code, occupation, level,
			holder_name, holder_id_mask, issuer_name, issued_on, issued_at, signature, key_id)
		SELECT 'skill', 'external', 'BENCH-' || w.id || '-' || k,
			(SELECT string_agg(substr(h, g * 4 + 1, 4), '-') FROM generate_series(0, 4) AS g),
			w.id, '420106', '4-10-01-03', 5 - k, w.name, w.id_mask, '鉴定中心', current_date - 60, now(),
			decode(repeat('00', 64), 'hex'), '00000000000000be'
		FROM workers AS w CROSS JOIN generate_series(0, 1) AS k
		CROSS JOIN LATERAL (SELECT upper(lpad(to_hex(w.id * 2 + k), 20, '0')) AS h) AS x
		WHERE k = 0 OR w.id % 2 = 0`,
		`INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status, policy_version,
			snapshot, submitted_at, submitted_by, reviewer_id, reviewed_at)
		SELECT ce.worker_id, ce.id, 'training', CASE WHEN ce.id % 2 = 0 THEN 'submitted' ELSE 'reviewed' END, '420106', 1200,
			'eligible', 'bench', '{}', now(), ?, CASE WHEN ce.id % 2 = 0 THEN NULL ELSE ? END::bigint, CASE WHEN ce.id % 2 = 0 THEN NULL ELSE now() END
		FROM certificates AS ce WHERE ce.worker_id % 10 = 0 AND ce.level = 5`,
		`ANALYZE workers`, `ANALYZE certificates`, `ANALYZE claims`,
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

func BenchmarkClaimsAtVolume(b *testing.B) {
	db := dbtest.DB(b)
	ctx := context.Background()
	n := workerCount()
	hr := workerstest.Staff(b, db, accounts.RoleHRReviewer, workerstest.Org(b, db, "hr_bureau", "420100"), "420100")
	t0 := time.Now()
	generate(b, db, n, hr.UserID)
	b.Logf("generated %d workers, %d certificates in %s", n, n+n/2, time.Since(t0).Round(time.Second))

	now := time.Now
	svc := claims.NewService(db, subsidies.NewService(db, time.Local, now), calendar.NewService(db, time.Local, now), time.Local, now)
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
	b.ResetTimer()
	var res claims.RefreshResult
	var took time.Duration
	for range b.N {
		start := time.Now()
		var err error
		if res, err = svc.Refresh(ctx, claims.RefreshBatch); err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
	}
	b.StopTimer()
	close(stop)
	b.Logf("eligibility.refresh: %d workers, %d results (%d eligible) in %s = %.0f workers/s; peak heap in use %d MB",
		res.Workers, res.Results, res.Eligible, took.Round(time.Millisecond), float64(res.Workers)/took.Seconds(), peak.Load()>>20)

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
		b.Logf("%-36s p50 %6.1f ms  p99 %6.1f ms", name, ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]))
	}
	measure("claims list, hr 420100, page 1", func() error {
		_, _, err := svc.List(ctx, hr, claims.Filter{Page: 1, PerPage: 20})
		return err
	})
	measure("claims list, status=submitted", func() error {
		_, _, err := svc.List(ctx, hr, claims.Filter{Status: claims.StatusSubmitted, Page: 1, PerPage: 20})
		return err
	})
	measure("proposals, hr 420100, page 1", func() error {
		_, _, err := svc.Proposals(ctx, hr, 1, 20)
		return err
	})
	measure("proposals, page 50", func() error {
		_, _, err := svc.Proposals(ctx, hr, 50, 20)
		return err
	})
	fmt.Fprintln(os.Stderr)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

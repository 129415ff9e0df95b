// Package assessments benchmarks the two performance points of issue 10 on
// a real PostgreSQL database: recording the results of a 500-candidate
// sitting in one call (< 1 s), and assessments.schedule over 10 000 ended
// classes without sittings (< 10 s, a fixed number of statements per batch
// of 1 000 classes). See README; figures go to docs/performance.md.
package assessments

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/assessments"
	"tuoyu/modules/catalog"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

func classes() int {
	if n, err := strconv.Atoi(os.Getenv("ASSESS_CLASSES")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// setup seeds the catalogue and a provider, once per database.
func setup(b *testing.B, db *bun.DB) *accounts.Principal {
	b.Helper()
	if err := catalog.NewService(db).Seed(context.Background()); err != nil {
		b.Fatal(err)
	}
	org := workerstest.Org(b, db, "provider", "420100")
	return workerstest.Staff(b, db, accounts.RoleProvider, org, "420100")
}

// endedClasses inserts n completed classes of plan ending on end, each with
// per completed enrolments of new workers, set-based.
func endedClasses(b *testing.B, db *bun.DB, orgID int64, plan, end string, n, per int) {
	b.Helper()
	ctx := context.Background()
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	_, err := db.NewRaw(`INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, place, region_code, capacity, state)
		SELECT ?, p.id, ? || '-' || i, ?::date - 9, ?::date, '武汉', '420100', ?, 'completed'
		  FROM plans AS p, generate_series(1, ?) AS i WHERE p.code = ?`, orgID, "bench-"+tag, end, end, max(per, 100), n, plan).Exec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	_, err = db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		SELECT 'B' || ? || '-' || i, '\x00'::bytea, decode(md5(? || i), 'hex'), '420106********0000', 'female', '1990-01-01', '420106'
		  FROM generate_series(1, ?) AS i`, tag, tag, n*per).Exec(ctx)
	if err != nil {
		b.Fatal(err)
	}
	// In chunks of 1 000 classes: the enrolment trigger updates each
	// class row, and one statement for 50 000 rows outlasts the driver's
	// read timeout.
	for from := 1; from <= n; from += 1000 {
		_, err = db.NewRaw(`WITH c AS (SELECT id, starts_on, ends_on, k FROM (SELECT id, starts_on, ends_on, row_number() OVER (ORDER BY id) AS k FROM classes WHERE name LIKE ?) AS x WHERE k BETWEEN ? AND ?),
			w AS (SELECT id, row_number() OVER (ORDER BY id) AS k FROM workers WHERE name LIKE ?)
			INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
			SELECT c.id, w.id, (SELECT current_version_id FROM plans WHERE code = ?), 'completed', 'provider', daterange(c.starts_on, c.ends_on, '[]'), c.ends_on
			  FROM w JOIN c ON c.k = (w.k - 1) / ? + 1`, "bench-"+tag+"-%", from, from+999, "B"+tag+"-%", plan, per).Exec(ctx)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func service(b *testing.B, db *bun.DB, now time.Time) *assessments.Service {
	return assessments.NewService(db, workerstest.Cipher(b), func() time.Time { return now }, shanghai)
}

// BenchmarkSchedule10000Classes: one run of assessments.schedule over
// 10 000 classes that ended yesterday, five candidates each.
func BenchmarkSchedule10000Classes(b *testing.B) {
	db := dbtest.DB(b)
	p := setup(b, db)
	n := classes()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// Each round a new night with classes that ended the day before.
		end := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 14*i)
		endedClasses(b, db, p.OrgID, "BYS-4", end.Format(time.DateOnly), n, 5)
		svc := service(b, db, end.AddDate(0, 0, 1).Add(17*time.Hour)) // 01:00 the next day in Hubei
		b.StartTimer()
		start := time.Now()
		got, err := svc.ScheduleDue(context.Background())
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if got.Sittings != 2*n || got.Candidates != 2*n*5 {
			b.Fatalf("created %+v, want %d sittings and %d candidates", got, 2*n, 10*n)
		}
		b.ReportMetric(took.Seconds(), "s/run")
		fmt.Printf("| assessments.schedule, %d ended classes (%d sittings, %d candidates) | %.2f s |\n", n, got.Sittings, got.Candidates, took.Seconds())
		if n >= 10_000 && took > 10*time.Second {
			b.Errorf("schedule over %d classes took %v, want < 10 s", n, took)
		}
	}
}

// BenchmarkRecord500Results: one RecordResults call with 500 rows.
func BenchmarkRecord500Results(b *testing.B) {
	db := dbtest.DB(b)
	p := setup(b, db)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		end := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 14*i)
		endedClasses(b, db, p.OrgID, "FZR-GW", end.Format(time.DateOnly), 1, 500)
		svc := service(b, db, end.AddDate(0, 0, 1))
		if _, err := svc.ScheduleDue(ctx); err != nil {
			b.Fatal(err)
		}
		var classID int64
		if err := db.NewRaw("SELECT id FROM classes WHERE ends_on = ? AND provider_org_id = ? ORDER BY id DESC LIMIT 1", end.Format(time.DateOnly), p.OrgID).Scan(ctx, &classID); err != nil {
			b.Fatal(err)
		}
		_, sits, err := svc.ClassSittings(ctx, p, classID)
		if err != nil || len(sits) != 1 {
			b.Fatalf("sittings %v %v", sits, err)
		}
		var panel []assessments.ExaminerInput
		for k := 0; k < 34; k++ {
			panel = append(panel, assessments.ExaminerInput{Name: fmt.Sprintf("监考%02d", k), Role: assessments.RoleProctor})
		}
		if _, err := svc.SetExaminers(ctx, p, sits[0].ID, panel); err != nil {
			b.Fatal(err)
		}
		_, cands, err := svc.Candidates(ctx, p, sits[0].ID)
		if err != nil || len(cands) != 500 {
			b.Fatalf("%d candidates, %v", len(cands), err)
		}
		rows := make([]assessments.ResultInput, len(cands))
		for k, c := range cands {
			rows[k] = assessments.ResultInput{EnrolmentID: c.EnrolmentID, ScoreText: strconv.Itoa(40 + k%61)}
		}
		svc = service(b, db, sits[0].StartsAt.Add(3*time.Hour))
		b.StartTimer()
		start := time.Now()
		res, err := svc.RecordResults(ctx, p, sits[0].ID, rows)
		took := time.Since(start)
		if err != nil || res.Recorded != 500 {
			b.Fatalf("recorded %+v, %v", res, err)
		}
		b.ReportMetric(took.Seconds()*1000, "ms/500")
		fmt.Printf("| results of a 500-candidate sitting in one call | %.0f ms |\n", took.Seconds()*1000)
		if took > time.Second {
			b.Errorf("500 results took %v, want < 1 s", took)
		}
	}
}

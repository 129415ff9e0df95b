package workers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/pg"
	"tuoyu/modules/pg/pgtest"
	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// scaleRows is the size of the table the plan guard runs on: large enough
// that a sequential scan is a real choice for the planner and a wrong one.
const scaleRows = 100_000

// scaleWorld fills workers with scaleRows rows in one statement, spread
// over Wuhan's districts, Yichang and Xiangyang like the scale seed, with a
// college's graduates, an institution's employees, a big provider (5 000
// links) and provider1's 38, then ANALYZEs so the plans are those of a
// province-size database.
type scaleWorld struct {
	*world
	district    *accounts.Principal // 420102
	bigProvider *accounts.Principal
	institution *accounts.Principal
}

func newScaleWorld(t *testing.T) *scaleWorld {
	t.Helper()
	w := &scaleWorld{world: newWorld(t)}
	db, ctx := w.db, context.Background()
	w.district = workerstest.Staff(t, db, accounts.RoleHRReviewer, workerstest.Org(t, db, "hr_bureau", "420102"), "420102")
	bigOrg := workerstest.Org(t, db, "provider", "420500")
	w.bigProvider = workerstest.Staff(t, db, accounts.RoleProvider, bigOrg, "420500")
	instOrg := workerstest.Org(t, db, "institution", "420100")
	w.institution = workerstest.Staff(t, db, accounts.RoleInstitution, instOrg, "420100")
	var instID int64
	mustExec(t, db, `INSERT INTO institutions (uscc, name, kind, region_code, places, organisation_id)
		VALUES ('91420100MA4K000001', '测试托育园', 'for_profit', '420106', 50, ?) RETURNING id`, instOrg)
	if err := db.NewRaw("SELECT id FROM institutions WHERE organisation_id = ?", instOrg).Scan(ctx, &instID); err != nil {
		t.Fatal(err)
	}
	// In batches: one statement of 100 000 rows outlasts the test
	// connection's read timeout on a busy machine.
	const batch = 5_000
	for from := 1; from <= scaleRows; from += batch {
		// The region is written with the rows, as bulk writers do (the
		// institution's, else college A's, else the area code); the
		// table's statement trigger checks it.
		mustExec(t, db, `INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code,
			employer_institution_id, college_org_id, region_code)
		SELECT (ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周'])[1 + g % 10]
		         || (ARRAY['芳','娜','敏','静','丽','强','磊','洋','艳','勇','军','杰'])[1 + (g / 10) % 12]
		         || CASE WHEN g % 3 = 0 THEN (ARRAY['华','平','红','霞'])[1 + (g / 120) % 4] ELSE '' END,
		       '\x00'::bytea, sha256(g::text::bytea), '420106********' || lpad((g % 10000)::text, 4, '0'),
		       CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1990-01-01' + g % 7000,
		       (ARRAY['420102','420106','420111','420115','420502','420506','420602','420607','420102','420106'])[1 + (g / 7) % 10],
		       CASE WHEN g % 50 = 0 THEN ? END,
		       CASE WHEN g % 40 = 1 THEN ? END,
		       CASE WHEN g % 50 = 0 THEN '420106' WHEN g % 40 = 1 THEN '420100'
		            ELSE (ARRAY['420102','420106','420111','420115','420502','420506','420602','420607','420102','420106'])[1 + (g / 7) % 10] END
		FROM generate_series(?, ?) AS g`, instID, w.collegeA.OrgID, from, from+batch-1)
	}
	mustExec(t, db, `INSERT INTO provider_workers (organisation_id, worker_id, registered, places)
		SELECT ?, id, false, 1 FROM workers WHERE id % 20 = 0`, bigOrg)
	mustExec(t, db, `INSERT INTO provider_workers (organisation_id, worker_id, registered, places)
		SELECT ?, id, true, 0 FROM workers WHERE id % 2600 = 3`, w.provider.OrgID)
	// Other providers' links fill provider_workers to province size too, so
	// that reading all of it is a choice the planner could wrongly make.
	for k := 0; k < 10; k++ {
		other := workerstest.Org(t, db, "provider", "420600")
		mustExec(t, db, `INSERT INTO provider_workers (organisation_id, worker_id, registered, places)
			SELECT ?, id, false, 1 FROM workers WHERE id % 10 = ?`, other, k)
	}
	mustExec(t, db, `ANALYZE workers; ANALYZE provider_workers; ANALYZE institutions`)
	return w
}

func mustExec(t *testing.T, db bun.IDB, q string, args ...any) {
	t.Helper()
	if _, err := db.NewRaw(q, args...).Exec(context.Background()); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestListsAtScale builds one 100 000-worker world (a few seconds) for the
// plan guard and the cursor and estimate checks.
func TestListsAtScale(t *testing.T) {
	w := newScaleWorld(t)
	t.Run("plans", func(t *testing.T) { testListPlansAvoidSeqScan(t, w) })
	t.Run("cursor", func(t *testing.T) { testListCursorAndEstimate(t, w) })
	t.Run("search", func(t *testing.T) { testNameSearchReadsOnlyItsNames(t, w) })
	t.Run("prepared", func(t *testing.T) { testPreparedPagesPlanAlike(t, w) })
}

// testPreparedPagesPlanAlike guards the prepared statements of the list:
// the scopes that run prepared (a city, a district, a college, the admin)
// get the same rows as a page planned per request, and the generic plan
// PostgreSQL may switch to reads no worker sequentially and drops no row
// it read, for the values of other scopes too; the scopes whose best plan
// depends on their size (providers, an institution, the province) are
// never prepared.
func testPreparedPagesPlanAlike(t *testing.T, w *scaleWorld) {
	ctx := context.Background()
	log := pgtest.ObservePrepared(t, w.svc.Prepared())

	prepared := map[string]*accounts.Principal{
		"admin": w.admin, "hr_city": w.hrWuhan, "hr_district": w.district, "college": w.collegeA,
	}
	planned := map[string]*accounts.Principal{
		"hr_province": w.hrHubei, "provider_small": w.provider, "provider_big": w.bigProvider, "institution": w.institution,
	}
	filters := []workers.Filter{{Page: 1, PerPage: 20}, {PerPage: 20, AfterName: "李", AfterID: 5000}}
	for name, p := range planned {
		log.Take()
		for _, f := range filters {
			if _, _, _, err := w.svc.Browse(ctx, p, f); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if seen := log.Take(); len(seen) != 0 {
			t.Errorf("%s: the list ran prepared (%s); its best plan depends on the scope's size", name, seen[0].Text)
		}
	}
	for name, p := range prepared {
		for _, f := range filters {
			log.Take()
			ws, _, _, err := w.svc.Browse(ctx, p, f)
			if err != nil {
				t.Fatalf("%s %+v: %v", name, f, err)
			}
			seen := log.Take()
			if len(seen) != 1 {
				t.Fatalf("%s %+v: %d prepared statements ran, want the page's one", name, f, len(seen))
			}
			// The same page planned per request.
			want, _, _, err := workers.NewStore(w.db).List(ctx, p, workers.ListQuery{
				Limit: f.PerPage + 1, AfterName: f.AfterName, AfterID: f.AfterID, Brief: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) == 0 || len(ws) != len(want) {
				t.Fatalf("%s %+v: %d rows prepared, %d planned per request", name, f, len(ws), len(want))
			}
			for i := range ws {
				if ws[i].ID != want[i].ID || ws[i].EmployerName != want[i].EmployerName || ws[i].CollegeName != want[i].CollegeName {
					t.Fatalf("%s %+v: row %d is %+v prepared, %+v planned per request", name, f, i, ws[i], want[i])
				}
			}
			// The generic plan, with this scope's values and another's.
			st := seen[0]
			for _, args := range [][]any{st.Args, otherScope(st.Args)} {
				pgtest.Generic(t, w.db, st.Text, args, func(conn bun.IDB, execute string) {
					if removed := pgtest.RowsFiltered(t, conn, execute, "workers"); removed > 1000 {
						t.Errorf("%s %+v: the generic plan read %.0f workers it then dropped:\n%s", name, f, removed, execute)
					}
				})
			}
		}
	}
}

// testNameSearchReadsOnlyItsNames: a name search reads the index range of
// its prefix, not every later name of the scope. Under a linguistic
// collation (CI's C.UTF-8 server; the embedded cluster is in C already)
// only the lower bound of LIKE '王%' bounded the scan, and a city's search
// for 王 filtered out tens of thousands of rows (182 ms at a million
// workers); without migration workers_name_collate_c this test reads
// 116 072 of them for the city.
func testNameSearchReadsOnlyItsNames(t *testing.T, w *scaleWorld) {
	log := &pgtest.QueryLog{}
	w.db.AddQueryHook(log)
	ctx := context.Background()
	roles := map[string]*accounts.Principal{
		"admin": w.admin, "hr_province": w.hrHubei, "hr_city": w.hrWuhan, "hr_district": w.district, "college": w.collegeA,
	}
	for name, p := range roles {
		log.Take(true)
		ws, total, _, err := w.svc.Browse(ctx, p, workers.Filter{Q: "李", Page: 1, PerPage: 20})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ws) == 0 || total == 0 {
			t.Errorf("%s: no 李 found (total %d): the world does not test this scope", name, total)
		}
		for _, q := range log.Take(false) {
			if removed := pgtest.RowsFiltered(t, w.db, q, "workers"); removed > 1000 {
				t.Errorf("%s: the search read %.0f rows it then filtered out:\n%s", name, removed, q)
			}
		}
	}
}

// testListPlansAvoidSeqScan is the cheap guard of issue 14: every
// role's workers list (first page, a name search, a page after a cursor and
// its count) is planned on an index at 100 000 rows. It fails when a change
// of query or index makes any of them read the whole table.
func testListPlansAvoidSeqScan(t *testing.T, w *scaleWorld) {
	log := &pgtest.QueryLog{}
	w.db.AddQueryHook(log)
	// The pages that run prepared are not bun's queries: their generic
	// plans are checked too.
	prepared := pgtest.ObservePrepared(t, w.svc.Prepared())
	ctx := context.Background()
	roles := map[string]*accounts.Principal{
		"admin": w.admin, "hr_province": w.hrHubei, "hr_city": w.hrWuhan, "hr_district": w.district,
		"college": w.collegeA, "provider_small": w.provider, "provider_big": w.bigProvider, "institution": w.institution,
	}
	for name, p := range roles {
		for _, f := range []workers.Filter{
			{Page: 1, PerPage: 20},
			{Q: "王芳", Page: 1, PerPage: 20},
			{Page: 3, PerPage: 50},
			{PerPage: 20, AfterName: "李", AfterID: 5000},
		} {
			log.Take(true)
			prepared.Take()
			ws, total, _, err := w.svc.Browse(ctx, p, f)
			if err != nil {
				t.Fatalf("%s %+v: %v", name, f, err)
			}
			if f.Q == "" && f.Page == 1 && (len(ws) == 0 || total == 0) {
				t.Errorf("%s %+v: empty list (%d rows, total %d): the world does not test this scope", name, f, len(ws), total)
			}
			sqls, stmts := log.Take(false), prepared.Take()
			if len(sqls)+len(stmts) == 0 {
				t.Fatalf("%s: no query seen", name)
			}
			for _, st := range stmts {
				pgtest.Generic(t, w.db, st.Text, st.Args, func(conn bun.IDB, execute string) {
					if seq := pgtest.SeqScans(t, conn, execute, "workers", "provider_workers"); len(seq) > 0 {
						t.Errorf("%s %+v: sequential scan of %v in the generic plan at %d rows:\n%s", name, f, seq, scaleRows, st.Text)
					}
				})
			}
			for _, q := range sqls {
				if strings.HasPrefix(q, "SELECT") {
					if seq := pgtest.SeqScans(t, w.db, q, "workers", "provider_workers"); len(seq) > 0 {
						t.Errorf("%s %+v: sequential scan of %v at %d rows:\n%s", name, f, seq, scaleRows, q)
					}
				}
			}
		}
	}
}

// otherScope is args with the values of a different scope of the same kind:
// another district or city (Yichang, 420502) and another college (an
// organisation without graduates), the cursor left as it is.
func otherScope(args []any) []any {
	out := slices.Clone(args)
	for i, a := range out {
		switch v := a.(type) {
		case string:
			if len(v) == 4 && strings.HasPrefix(v, "42") {
				out[i] = "4205"
			} else if len(v) == 6 && strings.HasPrefix(v, "42") {
				out[i] = "420502"
			}
		case int64:
			if i == 0 {
				out[i] = v + 1
			}
		}
	}
	return out
}

// testListCursorAndEstimate: following next cursors visits every worker of a
// scope once in name order, and the total is exact up to pg.ExactUpTo and
// an estimate above it.
func testListCursorAndEstimate(t *testing.T, w *scaleWorld) {
	ctx := context.Background()

	// The admin's province: an estimate, near the real size.
	_, total, estimate, err := w.svc.Browse(ctx, w.admin, workers.Filter{Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	if !estimate || total < scaleRows*8/10 || total > scaleRows*12/10 {
		t.Errorf("admin total = %d (estimate %v), want an estimate near %d", total, estimate, scaleRows)
	}

	// The college's 2 500 graduates: exact, and a cursor walk meets each once.
	_, total, estimate, err = w.svc.Browse(ctx, w.collegeA, workers.Filter{Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	if estimate || total != scaleRows/40 {
		t.Errorf("college total = %d (estimate %v), want exactly %d", total, estimate, scaleRows/40)
	}
	all, _, err := w.svc.List(ctx, w.collegeA, workers.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var walked []int64
	f := workers.Filter{PerPage: 200}
	for pages := 0; ; pages++ {
		if pages > total/200+2 {
			t.Fatalf("cursor walk does not end after %d pages", pages)
		}
		ws, _, _, err := w.svc.Browse(ctx, w.collegeA, f)
		if err != nil {
			t.Fatal(err)
		}
		more := len(ws) > f.PerPage
		if more {
			ws = ws[:f.PerPage]
		}
		for _, wk := range ws {
			walked = append(walked, wk.ID)
		}
		if !more {
			break
		}
		last := ws[len(ws)-1]
		f.AfterName, f.AfterID = last.Name, last.ID
	}
	if len(walked) != len(all) || len(all) != total {
		t.Fatalf("cursor walk saw %d workers, the whole list has %d, total says %d", len(walked), len(all), total)
	}
	for i := range all {
		if walked[i] != all[i].ID {
			t.Fatalf("row %d: cursor walk has worker %d, the whole list %d", i, walked[i], all[i].ID)
		}
	}

	// A tiny scope is counted exactly even when the plan guesses big.
	_, total, estimate, err = w.svc.Browse(ctx, w.provider, workers.Filter{Page: 1, PerPage: 20})
	if err != nil || estimate || total != 39 {
		t.Errorf("provider total = %d (estimate %v, %v), want exactly 39", total, estimate, err)
	}
	if pg.ExactUpTo != 10_000 {
		t.Errorf("ExactUpTo = %d: DESIGN and the API docs say 10 000", pg.ExactUpTo)
	}
}

package claims_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/claims"
	"tuoyu/modules/pg/pgtest"
	"tuoyu/modules/workers/workerstest"
)

// scaleRows is how many claims (and twice as many open proposals) the plan
// guard runs on: large enough that a sequential scan is a real choice for
// the planner and a wrong one.
const scaleRows = 100_000

// newScaleWorld adds 50 000 workers over seven districts of 武汉, 宜昌 and
// 襄阳 plus 秭归 (420527, 1 %), two external certificates each, a claim on
// every certificate (submitted, reviewed or rejected) and two eligible,
// unclaimed evaluations per certificate, in a few statements; then
// ANALYZEs, so the plans are those of a province-size database.
func newScaleWorld(t *testing.T) *world {
	t.Helper()
	// Its own database: the package's other tests refresh every worker on
	// file, which these 50 000 would turn into minutes.
	w := newWorldOn(t, dbtest.FreshMigrated(t))
	ctx := context.Background()
	if _, err := w.db.ExecContext(ctx, `INSERT INTO certificate_signing_keys (key_id, public_key)
		VALUES ('00000000000000cc', decode(repeat('ab', 32), 'hex')) ON CONFLICT DO NOTHING`); err != nil {
		t.Fatal(err)
	}
	// Each step over 2 500 workers at a time (?0 to ?1): one statement of
	// 100 000 rows outlasts the test connection's read timeout on a busy
	// machine.
	steps := []string{
		`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		SELECT '规模' || i, '\x00'::bytea, sha256(('scale-' || i)::bytea), '420106********0000', 'female', date '1995-01-01',
			CASE WHEN i % 97 = 1 THEN '420527'
			ELSE (ARRAY['420102','420106','420111','420502','420506','420602','420607'])[1 + (i / 7) % 7] END
		FROM generate_series(?0::int, ?1::int - 1) AS i`,
		`INSERT INTO certificates (kind, source, number, verify_code, worker_id, region_code, occupation, level,
			holder_name, holder_id_mask, issuer_name, issued_on, issued_at, signature, key_id)
		SELECT 'skill', 'external', 'SCALE-' || w.id || '-' || k,
			(SELECT string_agg(substr(h, g * 4 + 1, 4), '-') FROM generate_series(0, 4) AS g),
			w.id, w.region_code, '4-10-01-03', 5 - k, w.name, w.id_mask, '鉴定中心', date '2026-10-01', now(),
			decode(repeat('00', 64), 'hex'), '00000000000000cc'
		FROM workers AS w CROSS JOIN generate_series(0, 1) AS k
		CROSS JOIN LATERAL (SELECT upper(lpad(to_hex(w.id * 2 + k + 7000000), 20, '0')) AS h) AS x
		WHERE w.name IN (SELECT '规模' || i FROM generate_series(?0::int, ?1::int - 1) AS i)`,
		`INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status, policy_version,
			snapshot, submitted_at, submitted_by, reviewer_id, reviewed_at, reject_code, rejected_at)
		SELECT ce.worker_id, ce.id, 'training', (ARRAY['submitted','reviewed','rejected'])[1 + ce.id % 3], ce.region_code, 1200,
			'eligible', 'scale', '{}', now(), ?2, CASE WHEN ce.id % 3 = 0 THEN NULL ELSE ?2 END::bigint,
			CASE WHEN ce.id % 3 = 0 THEN NULL ELSE now() END, CASE WHEN ce.id % 3 = 2 THEN 'other' END, CASE WHEN ce.id % 3 = 2 THEN now() END
		FROM certificates AS ce WHERE ce.number IN (SELECT 'SCALE-' || w.id || '-' || k FROM workers AS w CROSS JOIN generate_series(0, 1) AS k
			WHERE w.name IN (SELECT '规模' || i FROM generate_series(?0::int, ?1::int - 1) AS i))`,
		`INSERT INTO claim_eligibility (worker_id, certificate_id, subsidy, status, amount_yuan, window_ends_on, region_code, policy_version, evaluated_at)
		SELECT ce.worker_id, ce.id, s, CASE WHEN ce.id % 10 = 0 THEN 'ineligible' ELSE 'eligible' END, 1500, date '2027-10-01',
			ce.region_code, 'scale', now()
		FROM certificates AS ce CROSS JOIN unnest(ARRAY['skill_upgrade', 'appraisal']) AS s
		WHERE ce.number IN (SELECT 'SCALE-' || w.id || '-' || k FROM workers AS w CROSS JOIN generate_series(0, 1) AS k
			WHERE w.name IN (SELECT '规模' || i FROM generate_series(?0::int, ?1::int - 1) AS i))`,
	}
	const chunk = 2_500
	for from := 1; from <= scaleRows/2; from += chunk {
		for _, q := range steps {
			if _, err := w.db.NewRaw(q, from, from+chunk, w.reviewer.UserID).Exec(ctx); err != nil {
				t.Fatalf("%s (from %d): %v", q, from, err)
			}
		}
	}
	for _, table := range []string{"workers", "certificates", "claims", "claim_eligibility"} {
		if _, err := w.db.ExecContext(ctx, "ANALYZE "+table); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// planCheck explains query and returns what is wrong with its plan: a
// sequential scan of one of the big tables, or, when scoped, a read of
// claims or claim_eligibility whose index does not start at the region
// (the region only filtered out of the province's rows).
func planCheck(t *testing.T, db bun.IDB, query string, scoped bool) []string {
	t.Helper()
	var raw string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) "+query).Scan(context.Background(), &raw); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var plans []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(raw), &plans); err != nil {
		t.Fatal(err)
	}
	big := map[string]bool{"claims": true, "claim_eligibility": true, "workers": true, "certificates": true}
	var bad []string
	regionBound := map[string]bool{}
	read := map[string]bool{}
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		rel, _ := n["Relation Name"].(string)
		if n["Node Type"] == "Seq Scan" && big[rel] {
			bad = append(bad, "sequential scan of "+rel)
		}
		if rel == "claims" || rel == "claim_eligibility" || strings.HasPrefix(n["Node Type"].(string), "Bitmap Index") {
			cond, _ := n["Index Cond"].(string)
			if strings.Contains(cond, "region_code") {
				regionBound[rel] = true
				if idx, _ := n["Index Name"].(string); strings.HasPrefix(idx, "claim_eligibility") {
					regionBound["claim_eligibility"] = true
				} else if strings.HasPrefix(idx, "claims") {
					regionBound["claims"] = true
				}
			}
			if rel != "" {
				read[rel] = true
			}
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(plans[0].Plan)
	if scoped {
		// The main table of a list is the first one read; the claims of an
		// anti-join are looked up by key, not by region.
		for _, rel := range []string{"claim_eligibility", "claims"} {
			if read[rel] {
				if !regionBound[rel] {
					bad = append(bad, rel+" not read from its region")
				}
				break
			}
		}
	}
	return bad
}

// TestListsAtScale builds one world of 100 000 claims (a few seconds) for
// the plan guard and the cursor and estimate checks of both lists.
func TestListsAtScale(t *testing.T) {
	w := newScaleWorld(t)
	t.Run("plans", func(t *testing.T) { testListPlans(t, w) })
	t.Run("cursor", func(t *testing.T) { testCursorWalk(t, w) })
}

// testListPlans is the cheap guard of issue 12's lists: every HR scope's
// claims list (first page, a status, a page after a cursor) and proposals
// (first page, after a cursor), and their counts, are planned on an index
// at 100 000 claims, and a small district's from its region. It
// fails when a change of query or index makes one read the whole table.
func testListPlans(t *testing.T, w *world) {
	log := &pgtest.QueryLog{}
	w.db.AddQueryHook(log)
	db := w.db
	ctx := context.Background()
	hr := func(region string) *accounts.Principal {
		return workerstest.Staff(t, db, accounts.RoleHRReviewer, workerstest.Org(t, db, "hr_bureau", region), region)
	}
	roles := map[string]*accounts.Principal{
		"admin": {Role: accounts.RoleAdmin}, "hr_province": hr("420000"), "hr_city": w.reviewer,
		"hr_district": hr("420102"), "hr_small_district": hr("420527"),
	}
	for name, p := range roles {
		// A scope with 1 % of the rows must start at its region: walking the
		// province's newest rows and filtering would read a hundred times
		// the page. Larger scopes may do that (the planner's choice: a
		// district with 14 % of the rows finds a page in ~150 rows).
		scoped := name == "hr_small_district"
		for _, f := range []claims.Filter{
			{Page: 1, PerPage: 20},
			{Status: claims.StatusSubmitted, Page: 1, PerPage: 20},
			{PerPage: 20, AfterID: 60_000},
		} {
			log.Take(true)
			rows, total, _, err := w.svc.List(ctx, p, f)
			if err != nil {
				t.Fatalf("%s %+v: %v", name, f, err)
			}
			if f.AfterID == 0 && (len(rows) == 0 || total == 0) {
				t.Errorf("%s %+v: empty list (%d rows, total %d): the world does not test this scope", name, f, len(rows), total)
			}
			checkPlans(t, db, name, f, log.Take(false), scoped)
		}
		if p.Role != accounts.RoleHRReviewer {
			continue
		}
		for _, pw := range []claims.ProposalWindow{{Limit: 21}, {Limit: 21, AfterID: 100_000}} {
			log.Take(true)
			rows, total, _, err := w.svc.Proposals(ctx, p, pw)
			if err != nil {
				t.Fatalf("%s proposals %+v: %v", name, pw, err)
			}
			if pw.AfterID == 0 && (len(rows) == 0 || total == 0) {
				t.Errorf("%s proposals: empty list (%d rows, total %d)", name, len(rows), total)
			}
			checkPlans(t, db, name, pw, log.Take(false), scoped)
		}
	}
}

func checkPlans(t *testing.T, db bun.IDB, name string, what any, sqls []string, scoped bool) {
	t.Helper()
	if len(sqls) == 0 {
		t.Fatalf("%s %+v: no query seen", name, what)
	}
	for _, q := range sqls {
		if bad := planCheck(t, db, q, scoped); len(bad) > 0 {
			t.Errorf("%s %+v: %v at %d claims:\n%s", name, what, bad, scaleRows, q)
		}
	}
}

// testCursorWalk: following the cursors visits every claim (newest first)
// and every open proposal (oldest first) of a small district once; its
// totals are exact, and the province's are flagged estimates near the size.
func testCursorWalk(t *testing.T, w *world) {
	ctx := context.Background()
	small := workerstest.Staff(t, w.db, accounts.RoleHRReviewer, workerstest.Org(t, w.db, "hr_bureau", "420527"), "420527")
	var want int
	if err := w.db.NewRaw("SELECT count(*) FROM claims WHERE region_code = '420527'").Scan(ctx, &want); err != nil {
		t.Fatal(err)
	}
	f := claims.Filter{PerPage: 200}
	var walked []int64
	for pages := 0; ; pages++ {
		rows, total, estimate, err := w.svc.List(ctx, small, f)
		if err != nil {
			t.Fatal(err)
		}
		if estimate || total != want || pages > want/200+2 {
			t.Fatalf("page %d: total %d (estimate %v), want exactly %d", pages, total, estimate, want)
		}
		more := len(rows) > f.PerPage
		if more {
			rows = rows[:f.PerPage]
		}
		for _, r := range rows {
			if len(walked) > 0 && r.ID >= walked[len(walked)-1] {
				t.Fatalf("claim %d after %d: not newest first", r.ID, walked[len(walked)-1])
			}
			walked = append(walked, r.ID)
		}
		if !more {
			break
		}
		f.AfterID = rows[len(rows)-1].ID
	}
	if len(walked) != want || want < 500 {
		t.Fatalf("cursor walk saw %d claims of 420527, there are %d", len(walked), want)
	}

	var wantProps int
	if err := w.db.NewRaw(`SELECT count(*) FROM claim_eligibility WHERE region_code = '420527' AND status = 'eligible'`).Scan(ctx, &wantProps); err != nil {
		t.Fatal(err)
	}
	pw := claims.ProposalWindow{Limit: 201}
	seen := map[int64]bool{}
	for pages := 0; pages <= wantProps/200+2; pages++ {
		rows, total, estimate, err := w.svc.Proposals(ctx, small, pw)
		if err != nil {
			t.Fatal(err)
		}
		if estimate || total != wantProps {
			t.Fatalf("proposals total %d (estimate %v), want exactly %d", total, estimate, wantProps)
		}
		for i, r := range rows[:min(len(rows), 200)] {
			if seen[r.ID] || (i > 0 && r.ID <= rows[i-1].ID) || r.RegionCode != "420527" {
				t.Fatalf("proposal %+v: repeated, out of order or out of scope", r)
			}
			seen[r.ID] = true
		}
		if len(rows) <= 200 {
			break
		}
		pw.AfterID = rows[199].ID
	}
	if len(seen) != wantProps {
		t.Fatalf("cursor walk saw %d proposals of 420527, there are %d", len(seen), wantProps)
	}

	_, total, estimate, err := w.svc.List(ctx, &accounts.Principal{Role: accounts.RoleAdmin}, claims.Filter{Page: 1, PerPage: 20})
	if err != nil || !estimate || total < scaleRows*8/10 || total > scaleRows*12/10 {
		t.Errorf("admin total = %d (estimate %v, %v), want an estimate near %d", total, estimate, err, scaleRows)
	}
}

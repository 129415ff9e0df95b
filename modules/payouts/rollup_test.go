package payouts

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/modules/assessments"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers/workerstest"
)

// allSources are the overview's sources as the app wires them.
var allSources = Sources{Trained: enrolment.CompletionsForStats, Passed: assessments.PassesForStats,
	Certified: certificates.IssuedForStats, Claims: claims.StatsForPayouts}

// TestRollupEqualsFreshCount proves payouts_stats_monthly equal to a fresh
// count of its sources after every kind of change that feeds it, and after
// the migration's back-fill; and the overview from the rollup equal to the
// overview counted fresh. Enrolments, classes and issued certificates are
// written with plain statements: the triggers see statements, whichever
// module sends them, and multi-row statements are the harder case.
func TestRollupEqualsFreshCount(t *testing.T) {
	e := newEnv(t)
	e.svc.sources = allSources
	ctx := context.Background()
	year := time.Now().In(shanghai).Year()
	city := e.region[:4] + "00"
	step := func(what string) {
		t.Helper()
		diff, err := rollupDiff(ctx, e.db, allSources)
		if err != nil {
			t.Fatal(err)
		}
		if len(diff) > 0 {
			t.Fatalf("after %s the rollup differs from a fresh count:\n%s", what, strings.Join(diff, "\n"))
		}
		for _, p := range []struct {
			who    string
			region string
		}{{"approver", e.region}, {"admin", "420000"}, {"admin", city}} {
			pr := e.approver
			if p.who == "admin" {
				pr = e.admin
			}
			e.svc.rollup = false
			fresh, err := e.svc.Stats(ctx, pr, p.region, year)
			if err != nil {
				t.Fatal(err)
			}
			e.svc.rollup = true
			rolled, err := e.svc.Stats(ctx, pr, p.region, year)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(fresh)
			b, _ := json.Marshal(rolled)
			if string(a) != string(b) {
				t.Fatalf("after %s the overview of %s differs:\nfresh  %s\nrollup %s", what, p.region, a, b)
			}
		}
	}
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := e.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	step("the migration on an empty database")

	// Claims in every status, over the months, one on the edge of March
	// (still February in UTC) and one of last year.
	var ids []int64
	for i, st := range []string{"submitted", "reviewed", "notice", "payable", "payable", "payable", "rejected", "paid"} {
		w := e.worker("汇总", true)
		ids = append(ids, e.kit.Claim(t, w.ID, e.region, "training", st, int64(100*(i+1)), time.Date(year, time.Month(1+i), 10, 9, 0, 0, 0, shanghai)))
	}
	edge := e.worker("月初", true)
	e.kit.Claim(t, edge.ID, e.region, "training", "submitted", 300, time.Date(year, 3, 1, 0, 30, 0, 0, shanghai))
	old := e.worker("去年", true)
	e.kit.Claim(t, old.ID, e.region, "training", "payable", 999, time.Date(year-1, 12, 30, 9, 0, 0, 0, shanghai))
	step("new claims")

	// Batch, removal from the draft, export, paid, returned, released.
	b, err := e.svc.CreateBatch(ctx, e.approver, e.region)
	if err != nil {
		t.Fatal(err)
	}
	step("a batch built")
	if _, err := e.svc.RemoveClaim(ctx, e.approver, b.ID, ids[3], "材料待补"); err != nil {
		t.Fatal(err)
	}
	step("a claim removed from the draft")
	rows, _ := e.exportRows(b.ID)
	if _, err := e.paid(b.ID); err != nil {
		t.Fatal(err)
	}
	step("the batch paid")
	if _, err := e.svc.ImportReturns(ctx, e.approver, b.ID, []byte("身份证号,金额,失败原因\n"+rows[1][1]+","+rows[1][4]+",户名不符\n"), "r.csv"); err != nil {
		t.Fatal(err)
	}
	step("a payment returned")

	// Status moves and corrections by plain statements, several rows at once.
	mustExec(`UPDATE claims SET status = 'rejected', reject_code = 'other', rejected_at = now() WHERE id IN (?, ?)`, ids[0], ids[1])
	step("claims rejected")
	mustExec(`UPDATE claims SET amount_yuan = amount_yuan + 7, approved_on = approved_on + 40,
		notice_ends_on = notice_ends_on + 40 WHERE region_code = ? AND approved_on IS NOT NULL`, e.region)
	step("amounts and approval days corrected")
	mustExec(`UPDATE claims SET region_code = ? WHERE id = ?`, city, ids[2])
	step("a claim moved to the city")
	mustExec(`DELETE FROM claims WHERE id = ?`, ids[6])
	step("a claim deleted")

	// Training: a plan, two classes, enrolments completed, withdrawn,
	// deleted, a class moved to another region.
	provider := workerstest.Org(t, e.db, "provider", e.region)
	var planID, versionID int64
	if err := e.db.NewRaw(`INSERT INTO plans (code, name, occupation, purpose) VALUES ('RLP-A', '汇总测试', '4-10-01-03', 'pre_service') RETURNING id`).Scan(ctx, &planID); err != nil {
		t.Fatal(err)
	}
	if err := e.db.NewRaw(`INSERT INTO plan_versions (plan_id, version, min_total_hours, pass_mark, max_attempts) VALUES (?, 1, 0, 60, 1) RETURNING id`, planID).Scan(ctx, &versionID); err != nil {
		t.Fatal(err)
	}
	var classIDs []int64
	if err := e.db.NewRaw(`INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, region_code, capacity, state)
		SELECT ?, ?, '汇总班' || g, make_date(?, g, 1), make_date(?, g, 20), ?, 50, 'completed' FROM generate_series(4, 5) AS g RETURNING id`,
		provider, planID, year, year, e.region).Scan(ctx, &classIDs); err != nil {
		t.Fatal(err)
	}
	var trainees []int64
	for i := 0; i < 4; i++ {
		trainees = append(trainees, e.worker("学员", false).ID)
	}
	mustExec(`INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
		SELECT c.id, w, ?, CASE WHEN k % 2 = 0 THEN 'completed' ELSE 'enrolled' END, 'provider',
			daterange(c.starts_on, c.ends_on, '[]'), CASE WHEN k % 2 = 0 THEN c.ends_on END
		FROM unnest(?::bigint[]) WITH ORDINALITY AS x (w, k) JOIN classes c ON c.id = (?::bigint[])[1 + k % 2]`,
		versionID, pgdialect.Array(trainees), pgdialect.Array(classIDs))
	step("enrolments, some completed")
	mustExec(`UPDATE enrolments SET status = 'completed', completed_on = upper(period) - 1 WHERE status = 'enrolled' AND worker_id = ANY(?)`, pgdialect.Array(trainees))
	step("enrolments completed")
	mustExec(`UPDATE enrolments SET status = 'withdrawn', completed_on = NULL WHERE worker_id = ?`, trainees[0])
	step("a completion withdrawn")
	mustExec(`UPDATE classes SET region_code = ? WHERE id = ?`, city, classIDs[0])
	mustExec(`UPDATE classes SET name = name || '（改）'`)
	step("a class moved to the city, the names of all changed")

	// Certificates issued here, revoked, deleted; external ones do not count.
	var enrolmentIDs []int64
	if err := e.db.NewRaw(`SELECT id FROM enrolments WHERE status = 'completed' AND worker_id = ANY(?) ORDER BY id`, pgdialect.Array(trainees)).Scan(ctx, &enrolmentIDs); err != nil {
		t.Fatal(err)
	}
	mustExec(`INSERT INTO certificate_templates (version, layout, title, issuer_name, signatory)
		VALUES ((SELECT coalesce(max(version), 0) + 1 FROM certificate_templates), 'plain', '结业证书', '测试机构', '测试')`)
	mustExec(`INSERT INTO certificates (kind, source, number, verify_code, worker_id, enrolment_id, class_id, provider_org_id,
			region_code, holder_name, holder_id_mask, issuer_name, issued_on, issued_at, template_id, pdf_sha256, signature, key_id)
		SELECT 'training', 'issued', 'RL-' || en.id, '0000-0000-0000-0000-' || lpad(en.id::text, 4, '0'), en.worker_id, en.id,
			en.class_id, ?, ?, '学员', '420***', '测试机构', en.completed_on + 3, now(),
			(SELECT max(id) FROM certificate_templates), sha256('x'), x.signature, x.key_id
		FROM enrolments en, (SELECT signature, key_id FROM certificates LIMIT 1) x WHERE en.id = ANY(?)`,
		provider, e.region, pgdialect.Array(enrolmentIDs))
	step("certificates issued")
	mustExec(`UPDATE certificates SET status = 'revoked', revoked_on = current_date, revoke_reason = 'fraud' WHERE enrolment_id = ?`, enrolmentIDs[0])
	step("a certificate revoked")
	mustExec(`UPDATE certificates SET issued_on = issued_on - 60 WHERE source = 'issued'`)
	step("issue days corrected")
	mustExec(`DELETE FROM certificates WHERE enrolment_id = ?`, enrolmentIDs[1])
	mustExec(`DELETE FROM enrolments WHERE id = ?`, enrolmentIDs[1])
	step("a certificate and its enrolment deleted")

	// Passes: sittings of the second class, results recorded, corrected,
	// deleted; then what every pass rests on changed (a sitting's region,
	// the plan's assessment).
	var sittings []int64
	if err := e.db.NewRaw(`INSERT INTO assessment_sittings (class_id, provider_org_id, region_code, kind, attempt, starts_at, ends_at, capacity, created_by_job)
		SELECT ?, ?, ?, k, 1, make_timestamptz(?, 6, d, 9, 0, 0, 'Asia/Shanghai'), make_timestamptz(?, 6, d, 11, 0, 0, 'Asia/Shanghai'), 50, true
		FROM (VALUES ('theory', 1), ('practical', 2)) AS v (k, d) RETURNING id`, classIDs[1], provider, e.region, year, year).Scan(ctx, &sittings); err != nil {
		t.Fatal(err)
	}
	mustExec(`INSERT INTO assessment_candidates (sitting_id, enrolment_id, worker_id, during)
		SELECT s.id, en.id, en.worker_id, tstzrange(s.starts_at, s.ends_at) FROM assessment_sittings s, enrolments en
		WHERE s.id = ANY(?) AND en.class_id = ?`, pgdialect.Array(sittings), classIDs[1])
	mustExec(`INSERT INTO assessment_results (sitting_id, enrolment_id, worker_id, score, passed, updated_at)
		SELECT c.sitting_id, c.enrolment_id, c.worker_id, 80, true, make_timestamptz(?, 6, 30, 23, 30, 0, 'Asia/Shanghai')
		FROM assessment_candidates c WHERE c.sitting_id = ANY(?)`, year, pgdialect.Array(sittings))
	step("results recorded: passes")
	mustExec(`UPDATE assessment_results SET score = 40, passed = false WHERE id = (SELECT min(id) FROM assessment_results WHERE sitting_id = ?)`, sittings[1])
	step("a result corrected to a fail")
	mustExec(`UPDATE assessment_results SET updated_at = make_timestamptz(?, 7, 2, 8, 0, 0, 'Asia/Shanghai') WHERE sitting_id = ?`, year, sittings[1])
	step("results corrected in July")
	mustExec(`DELETE FROM assessment_results WHERE id = (SELECT max(id) FROM assessment_results WHERE sitting_id = ?)`, sittings[0])
	step("a result deleted")
	mustExec(`UPDATE assessment_sittings SET region_code = ? WHERE id = ?`, city, sittings[0])
	step("a sitting moved to the city")
	mustExec(`UPDATE plans SET assessment = 'theory' WHERE id = ?`, planID)
	step("the plan's assessment changed")

	// The migration's back-fill gives the same rollup from the data as it
	// stands.
	up, err := os.ReadFile("../../migrations/20261204170000_payouts_stats_rollup.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(up), "DO $$")
	if i < 0 {
		t.Fatal("the migration has no back-fill block")
	}
	mustExec("DELETE FROM payouts_stats_monthly")
	mustExec(string(up[i:]))
	step("the back-fill")
	var n int
	if err := e.db.NewRaw("SELECT count(DISTINCT measure) FROM payouts_stats_monthly WHERE measure IN ('trained', 'certified', 'paid', 'passed') AND n > 0").Scan(ctx, &n); err != nil || n < 4 {
		t.Fatalf("the fixture does not reach every measure: %d rows, %v", n, err)
	}
}

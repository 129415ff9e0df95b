package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// GenerateScale files claims for the workers with ids in [fromID, toID]
// where none exists for the certificate and subsidy. A hash spreads them:
// of the stored eligibility's eligible rows (certificates in their claim
// window) four in five are claimed, in flight — submitted, reviewed, in
// public notice, payable, batched — or paid or rejected, the rest left as
// proposals; of the certificates (certs: certificates.ScaleClaimable)
// issued before the window, seven in ten had their subsidy (skill upgrade
// for a skill certificate, training otherwise) claimed a month or two
// after issue and paid, rejected or returned by the bank, at a stand-in
// amount by level. Filed on the worker's behalf by reviewer, who reviews;
// approver approves (four eyes). The snapshot is a short stand-in naming
// the scale seed, not an evaluation. Payout batches for the batched, paid
// and returned ones follow (payouts.GenerateScale). The scale seed's verb;
// it returns the claims written. Errors: only internal ones (database).
func GenerateScale(ctx context.Context, db bun.IDB, certs *bun.SelectQuery, fromID, toID, reviewer, approver int64, windowFrom, today time.Time) (int, error) {
	res, err := db.NewRaw(`
		WITH src AS (
			SELECT e.worker_id, e.certificate_id, e.subsidy, e.region_code, e.amount_yuan, e.policy_version,
				true AS now, e.id AS k
			FROM claim_eligibility AS e
			WHERE e.worker_id BETWEEN ? AND ? AND e.status = 'eligible' AND e.amount_yuan > 0 AND e.region_code IS NOT NULL
			UNION ALL
			SELECT c.worker_id, c.id, CASE WHEN c.level IS NULL THEN 'training' ELSE 'skill_upgrade' END, c.region_code,
				CASE WHEN c.level IS NULL THEN 800 ELSE 1000 + 500 * (5 - c.level) END, 'scale-seed', false, c.id
			FROM (?) AS c
			WHERE c.worker_id BETWEEN ? AND ? AND c.issued_on < ?)
		INSERT INTO claims (worker_id, certificate_id, subsidy, status, region_code, amount_yuan, eval_status,
			policy_version, snapshot, submitted_at, submitted_by, on_behalf, from_proposal, reviewer_id, reviewed_at,
			approver_id, approved_at, approved_on, notice_ends_on, payable_at, paid_on,
			rejected_at, rejected_by, reject_code, reject_reason, updated_at)
		SELECT e.worker_id, e.certificate_id, e.subsidy, st.status, e.region_code, e.amount_yuan, 'eligible',
			e.policy_version, jsonb_build_object('scale_seed', true, 'policy_version', e.policy_version),
			d.submitted, ?, true, e.now AND h.h % 2 = 0,
			CASE WHEN st.stage >= 2 THEN ?::bigint END,
			CASE WHEN st.stage >= 2 THEN d.submitted + interval '2 days' END,
			CASE WHEN st.stage >= 3 THEN ?::bigint END,
			CASE WHEN st.stage >= 3 THEN d.approved::timestamptz + interval '10 hours' END,
			CASE WHEN st.stage >= 3 THEN d.approved END,
			CASE WHEN st.stage >= 3 THEN d.approved + 7 END,
			CASE WHEN st.stage >= 4 THEN (d.approved + 8)::timestamptz END,
			CASE WHEN st.status = 'paid' THEN d.approved + 30 END,
			CASE WHEN st.status = 'rejected' THEN d.submitted + interval '3 days' END,
			CASE WHEN st.status = 'rejected' THEN ?::bigint END,
			CASE WHEN st.status = 'rejected' THEN 'documents' END,
			CASE WHEN st.status = 'rejected' THEN '材料不全（规模测试数据）' ELSE '' END,
			d.submitted + interval '3 days'
		FROM src AS e
		JOIN (?) AS ce ON ce.id = e.certificate_id
		CROSS JOIN LATERAL (SELECT (e.k * 2654435761) % 100 AS h) AS h
		CROSS JOIN LATERAL (SELECT s.status, s.stage, s.days FROM (VALUES
				(true, 0, 12, 'submitted', 1, 3), (true, 12, 24, 'reviewed', 2, 5), (true, 24, 36, 'notice', 3, 6),
				(true, 36, 50, 'payable', 4, 25), (true, 50, 64, 'batched', 5, 40), (true, 64, 74, 'paid', 6, 80),
				(true, 74, 80, 'rejected', 0, 20),
				(false, 0, 60, 'paid', 6, 0), (false, 60, 66, 'rejected', 0, 0), (false, 66, 70, 'returned', 6, 0))
				AS s(now, lo, hi, status, stage, days)
			WHERE s.now = e.now AND h.h >= s.lo AND h.h < s.hi) AS st
		-- in flight: filed days ago by status (a claim in notice was
		-- approved three days ago, so its notice still runs); older
		-- certificates: filed a month or two after issue
		CROSS JOIN LATERAL (SELECT CASE WHEN e.now THEN ?::date - (st.days + e.k % 5)::int
				ELSE ce.issued_on + (30 + e.k % 30)::int END AS day) AS d0
		CROSS JOIN LATERAL (SELECT d0.day::timestamptz + interval '9 hours' AS submitted, d0.day + 3 AS approved) AS d
		WHERE NOT EXISTS (SELECT 1 FROM claims AS c WHERE c.worker_id = e.worker_id
				AND c.certificate_id = e.certificate_id AND c.subsidy = e.subsidy)`,
		fromID, toID, certs, fromID, toID, windowFrom.Format(time.DateOnly),
		reviewer, reviewer, approver, reviewer, certs, today.Format(time.DateOnly)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("generate scale claims: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ScaleToPay selects the claims the scale seed puts in payout batches
// (id, worker_id, region_code, subsidy, amount_yuan, status: batched, paid
// or returned, approved_on), for payouts.GenerateScale.
func ScaleToPay(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("claims").
		Column("id", "worker_id", "region_code", "subsidy", "amount_yuan", "status", "approved_on").
		Where("status IN ('batched', 'paid', 'returned')")
}

// Analyze refreshes the planner's statistics of this module's tables
// after the scale seed's bulk load. Errors: only internal ones (database).
func Analyze(ctx context.Context, db bun.IDB) error {
	if _, err := db.ExecContext(ctx, "ANALYZE claims, claim_eligibility"); err != nil {
		return fmt.Errorf("analyze claims, claim_eligibility: %w", err)
	}
	return nil
}

// AnyScale reports whether a worker with id in [fromID, toID] holds a
// claim the scale seed filed: how a rerun knows that range is done (the
// eligibility it was filed from has changed since).
// Errors: only internal ones (database).
func AnyScale(ctx context.Context, db bun.IDB, fromID, toID int64) (bool, error) {
	ok, err := db.NewSelect().TableExpr("claims").
		Where("worker_id BETWEEN ? AND ? AND snapshot ? 'scale_seed'", fromID, toID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("scale claims of workers %d–%d: %w", fromID, toID, err)
	}
	return ok, nil
}

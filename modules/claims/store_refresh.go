package claims

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/pg"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// storeBatch writes the batch's results set-based: COPY into a temporary
// table, one upsert that touches only rows whose result changed, and one
// delete of the workers' rows this run did not produce (certificates
// revoked since). evaluated_at is when a row last changed.
func storeBatch(ctx context.Context, db *bun.DB, ws []workers.Worker, rows []Stored, at time.Time) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The key serves the removal of stale rows below: planned against a
	// claim_eligibility the statistics still saw empty (the first refresh,
	// the scale seed), it was a nested loop reading the whole batch for
	// each stored row, 50-60 s a batch of 5 000 workers; with the key each
	// probe is an index look-up.
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE eligibility_batch (worker_id bigint, certificate_id bigint,
		subsidy text, status text, amount_yuan bigint, window_ends_on date, region_code text, policy_version text,
		PRIMARY KEY (worker_id, certificate_id, subsidy)) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("create eligibility_batch: %w", err)
	}
	if len(rows) > 0 {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeCopy(pw, rows)) }()
		_, err = pgdriver.CopyFrom(ctx, conn, pr, `COPY eligibility_batch FROM STDIN`)
		pr.Close()
		if err != nil {
			return fmt.Errorf("copy eligibility: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claim_eligibility AS e (worker_id, certificate_id, subsidy, status,
			amount_yuan, window_ends_on, region_code, policy_version, evaluated_at)
		SELECT worker_id, certificate_id, subsidy, status, amount_yuan, window_ends_on, region_code, policy_version, ?
		FROM eligibility_batch
		ON CONFLICT (worker_id, certificate_id, subsidy) DO UPDATE SET status = EXCLUDED.status,
			amount_yuan = EXCLUDED.amount_yuan, window_ends_on = EXCLUDED.window_ends_on,
			region_code = EXCLUDED.region_code, policy_version = EXCLUDED.policy_version, evaluated_at = EXCLUDED.evaluated_at
		WHERE (e.status, e.amount_yuan, e.window_ends_on, e.region_code, e.policy_version)
			IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.amount_yuan, EXCLUDED.window_ends_on, EXCLUDED.region_code, EXCLUDED.policy_version)`,
		at); err != nil {
		return fmt.Errorf("store eligibility: %w", err)
	}
	ids := make([]int64, len(ws))
	for i := range ws {
		ids[i] = ws[i].ID
	}
	// By the batch's ids, not its id range: a batch of chosen workers
	// (RefreshWorkers) leaves the others' rows alone.
	if _, err := tx.ExecContext(ctx, `DELETE FROM claim_eligibility AS e
		WHERE e.worker_id = ANY(?)
			AND NOT EXISTS (SELECT 1 FROM eligibility_batch AS b WHERE b.worker_id = e.worker_id
				AND b.certificate_id = e.certificate_id AND b.subsidy = e.subsidy)`, pgdialect.Array(ids)); err != nil {
		return fmt.Errorf("remove stale eligibility: %w", err)
	}
	return tx.Commit()
}

// analyzeEligibility refreshes the planner's statistics of
// claim_eligibility after a refresh rewrote it. Without them, the night
// after the first refresh of a million workers, the proposals list was
// planned for 4 rows (a never-analysed table) and sorted 4 000 000 eligible
// rows per page (55 s) until autovacuum came round.
func analyzeEligibility(ctx context.Context, db bun.IDB) error {
	// Through the owner's function: the application role may not analyze.
	if _, err := db.ExecContext(ctx, "SELECT claims_analyze_eligibility()"); err != nil {
		return fmt.Errorf("analyze claim_eligibility: %w", err)
	}
	return nil
}

// writeCopy writes rows in COPY text format; every value is a number, a
// date or a code without tabs, backslashes or newlines.
func writeCopy(w io.Writer, rows []Stored) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	var line []byte
	for _, r := range rows {
		line = strconv.AppendInt(line[:0], r.WorkerID, 10)
		line = strconv.AppendInt(append(line, '\t'), r.CertificateID, 10)
		line = append(append(append(append(line, '\t'), r.Subsidy...), '\t'), r.Status...)
		line = strconv.AppendInt(append(line, '\t'), r.AmountYuan, 10)
		if r.WindowEndsOn.IsZero() {
			line = append(line, "\t\\N"...)
		} else {
			line = append(append(line, '\t'), r.WindowEndsOn.String()...)
		}
		if r.RegionCode == "" {
			line = append(line, "\t\\N"...)
		} else {
			line = append(append(line, '\t'), r.RegionCode...)
		}
		line = append(append(append(line, '\t'), r.PolicyVersion...), '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Proposal is an eligible certificate and subsidy nobody has claimed
// (免申即享), as HR sees it.
type Proposal struct {
	ID            int64          `bun:"id" json:"id"`
	WorkerID      int64          `bun:"worker_id" json:"worker_id"`
	CertificateID int64          `bun:"certificate_id" json:"certificate_id"`
	Subsidy       string         `bun:"subsidy" json:"subsidy"`
	AmountYuan    int64          `bun:"amount_yuan" json:"amount_yuan"`
	WindowEndsOn  subsidies.Date `bun:"window_ends_on" json:"window_ends_on"`
	WorkerName    string         `bun:"worker_name" json:"-"`
	RegionCode    string         `bun:"region_code" json:"-"`
}

// proposals selects the open proposals in p's scope: eligible at the last
// refresh, the claim window still open, no live claim.
func (s Store) proposals(p *accounts.Principal, today time.Time) *bun.SelectQuery {
	q := s.db.NewSelect().TableExpr("claim_eligibility AS e").
		Where("e.status = ?", subsidies.StatusEligible).
		Where("e.window_ends_on >= ?", today.Format(time.DateOnly)).
		// OFFSET 0 keeps the test a look-up of claims_live_key per row: as
		// an anti-join the planner hashed every live claim of the province
		// (a sequential scan) to count a district's few thousand proposals.
		Where("NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> ? OFFSET 0)", StatusRejected)
	if p.Scope().WorkerID != 0 {
		return q.Where("FALSE") // proposals are HR's work, never a worker's list
	}
	return applyScope(q, p, "e")
}

func (s Store) withNames(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("e.id, e.worker_id, e.certificate_id, e.subsidy, e.amount_yuan, e.window_ends_on, e.region_code").
		ColumnExpr("w.name AS worker_name").Join("JOIN (?) AS w ON w.id = e.worker_id", workers.Display(s.db))
}

// ProposalWindow is the part of the proposals list to read: Limit rows
// after proposal AfterID when it is set, else after Offset rows.
type ProposalWindow struct {
	Offset  int
	Limit   int
	AfterID int64
}

// Proposals lists the open proposals p may act on, in id order, and their
// total: exact up to pg.ExactUpTo, else the planner's estimate with
// estimate true (a province's open proposals are never counted). Errors:
// only internal ones (database).
func (s Store) Proposals(ctx context.Context, p *accounts.Principal, today time.Time, w ProposalWindow) (rows []Proposal, total int, estimate bool, err error) {
	q := s.withNames(s.proposals(p, today)).OrderExpr("e.id").Limit(int64(w.Limit))
	if w.AfterID != 0 {
		q = q.Where("e.id > ?", w.AfterID)
	} else {
		q = q.Offset(int64(w.Offset))
	}
	if err := q.Scan(ctx, &rows); err != nil {
		return nil, 0, false, fmt.Errorf("list proposals: %w", err)
	}
	if total, estimate, err = pg.Total(ctx, s.db, s.proposals(p, today).ColumnExpr("e.id"), pg.ExactUpTo); err != nil {
		return nil, 0, false, fmt.Errorf("count proposals: %w", err)
	}
	return rows, total, estimate, nil
}

// Proposal returns open proposal id if p may act on it. Errors: NotFound
// proposal_not_found (also outside scope, claimed or closed).
func (s Store) Proposal(ctx context.Context, p *accounts.Principal, today time.Time, id int64) (Proposal, error) {
	var out Proposal
	err := s.withNames(s.proposals(p, today)).Where("e.id = ?", id).Scan(ctx, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return out, apperr.NotFound("proposal_not_found", "该建议不存在或已处理")
	}
	return out, err
}

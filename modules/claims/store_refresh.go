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
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE eligibility_batch (worker_id bigint, certificate_id bigint,
		subsidy text, status text, amount_yuan bigint, window_ends_on date, region_code text, policy_version text) ON COMMIT DROP`); err != nil {
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
		Where("NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> ?)", StatusRejected)
	return p.Scope().Apply(q, accounts.ScopeColumns{Region: "e.region_code"})
}

func (s Store) withNames(q *bun.SelectQuery) *bun.SelectQuery {
	return q.ColumnExpr("e.id, e.worker_id, e.certificate_id, e.subsidy, e.amount_yuan, e.window_ends_on, e.region_code").
		ColumnExpr("w.name AS worker_name").Join("JOIN (?) AS w ON w.id = e.worker_id", workers.Display(s.db))
}

// MaxCounted is where proposal totals stop counting: at a million workers
// an exact count of open proposals alone costs seconds, and nobody pages
// past it (accepting is in pages of at most 200).
const MaxCounted = 10_000

// Proposals lists the open proposals p may act on, in id order, with the
// total up to MaxCounted (more reads as MaxCounted). Errors: Invalid
// page_too_deep beyond the counted rows.
func (s Store) Proposals(ctx context.Context, p *accounts.Principal, today time.Time, page, perPage int) ([]Proposal, int, error) {
	if (page-1)*perPage >= MaxCounted {
		return nil, 0, apperr.Invalid("page_too_deep", "页码过大，请先受理前面的建议",
			apperr.FieldError{Field: "page", Code: "page_too_deep", Message: fmt.Sprintf("最多翻到第 %d 条", MaxCounted)})
	}
	var out []Proposal
	err := s.withNames(s.proposals(p, today)).OrderExpr("e.id").Limit(int64(perPage)).Offset(int64((page-1)*perPage)).Scan(ctx, &out)
	if err != nil {
		return nil, 0, fmt.Errorf("list proposals: %w", err)
	}
	var n int
	err = s.db.NewSelect().TableExpr("(?) AS capped", s.proposals(p, today).ColumnExpr("1").Limit(MaxCounted)).
		ColumnExpr("count(*)").Scan(ctx, &n)
	if err != nil {
		return nil, 0, fmt.Errorf("count proposals: %w", err)
	}
	return out, n, nil
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

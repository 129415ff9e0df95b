package claims

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/certificates"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// Stored is one row of claim_eligibility: the nightly evaluation of one
// certificate and subsidy.
type Stored struct {
	bun.BaseModel `bun:"table:claim_eligibility,alias:e"`

	ID            int64          `bun:"id,pk,autoincrement"`
	WorkerID      int64          `bun:"worker_id"`
	CertificateID int64          `bun:"certificate_id"`
	Subsidy       string         `bun:"subsidy"`
	Status        string         `bun:"status"`
	AmountYuan    int64          `bun:"amount_yuan"`
	WindowEndsOn  subsidies.Date `bun:"window_ends_on,nullzero"`
	RegionCode    string         `bun:"region_code,nullzero"`
	PolicyVersion string         `bun:"policy_version"`
	EvaluatedAt   time.Time      `bun:"evaluated_at"`
}

// RefreshBatch is how many workers eligibility.refresh evaluates per step:
// four queries load a batch, one statement writes it, so memory stays
// bounded whatever the number of workers.
const RefreshBatch = 5000

// RefreshResult counts what a refresh did.
type RefreshResult struct {
	Workers  int
	Results  int
	Eligible int
}

// Refresh is the eligibility.refresh job: it evaluates every certificate
// of every worker from stored facts, batch by batch (set-based loading, no
// query per worker), and stores the results; rows of certificates no
// longer held are removed.
func (s *Service) Refresh(ctx context.Context, batch int) (RefreshResult, error) {
	var res RefreshResult
	if batch <= 0 {
		batch = RefreshBatch
	}
	ps, err := s.subsidies.Params(ctx)
	if err != nil {
		return res, err
	}
	started := s.now()
	asOf := dateOf(s.today())
	for after := int64(0); ; {
		ws, err := workers.FactsAfter(ctx, s.db, after, batch)
		if err != nil {
			return res, err
		}
		if len(ws) == 0 {
			return res, nil
		}
		after = ws[len(ws)-1].ID
		rows, err := s.evaluateBatch(ctx, ps, asOf, started, ws)
		if err != nil {
			return res, err
		}
		if err := s.storeBatch(ctx, ws, rows, started); err != nil {
			return res, err
		}
		res.Workers += len(ws)
		res.Results += len(rows)
		for _, r := range rows {
			if r.Status == subsidies.StatusEligible {
				res.Eligible++
			}
		}
	}
}

// evaluateBatch loads the certificates and counted claims of the workers
// in one query each and evaluates them in memory.
func (s *Service) evaluateBatch(ctx context.Context, ps subsidies.ParamSet, asOf subsidies.Date, at time.Time, ws []workers.Worker) ([]Stored, error) {
	ids := make([]int64, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	held, err := certificates.HeldBy(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	if len(held) == 0 {
		return nil, nil
	}
	cnt, err := NewStore(s.db).Counted(ctx, ids, 0)
	if err != nil {
		return nil, err
	}
	if err := fillCounted(ctx, s.db, cnt); err != nil {
		return nil, err
	}
	byWorker := map[int64][]certificates.Held{}
	for _, h := range held {
		byWorker[h.WorkerID] = append(byWorker[h.WorkerID], h)
	}
	countedBy := map[int64][]Counted{}
	for _, c := range cnt {
		countedBy[c.WorkerID] = append(countedBy[c.WorkerID], c)
	}
	var out []Stored
	for i := range ws {
		w := &ws[i]
		hs := byWorker[w.ID]
		if len(hs) == 0 {
			continue
		}
		f := Facts{AsOf: asOf, Region: w.RegionCode, Employment: string(w.Employment), InsuredMonths: w.InsuredMonths,
			TargetGroups: w.TargetGroups, Banned: w.Banned, Certificates: hs, Counted: countedBy[w.ID]}
		ev := subsidies.Evaluate(SituationOf(f), ps)
		for _, r := range ev.Results {
			var certID int64
			fmt.Sscan(r.CertificateID, &certID)
			out = append(out, Stored{WorkerID: w.ID, CertificateID: certID, Subsidy: r.Subsidy, Status: r.Status,
				AmountYuan: r.AmountYuan, WindowEndsOn: WindowEnd(r), RegionCode: w.RegionCode,
				PolicyVersion: ev.PolicyVersion, EvaluatedAt: at})
		}
	}
	return out, nil
}

// storeBatch upserts the batch's results in one statement and removes the
// workers' rows this run did not write (certificates revoked since).
func (s *Service) storeBatch(ctx context.Context, ws []workers.Worker, rows []Stored, at time.Time) error {
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for from := 0; from < len(rows); from += 1000 {
			part := rows[from:min(from+1000, len(rows))]
			_, err := tx.NewInsert().Model(&part).ExcludeColumn("id").
				On("CONFLICT (worker_id, certificate_id, subsidy) DO UPDATE").
				Set("status = EXCLUDED.status, amount_yuan = EXCLUDED.amount_yuan, window_ends_on = EXCLUDED.window_ends_on").
				Set("region_code = EXCLUDED.region_code, policy_version = EXCLUDED.policy_version, evaluated_at = EXCLUDED.evaluated_at").
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("store eligibility: %w", err)
			}
		}
		_, err := tx.NewDelete().TableExpr("claim_eligibility AS e").
			Where("e.worker_id >= ? AND e.worker_id <= ?", ws[0].ID, ws[len(ws)-1].ID).
			Where("e.evaluated_at < ?", at).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove stale eligibility: %w", err)
		}
		return nil
	})
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
		ColumnExpr("e.id, e.worker_id, e.certificate_id, e.subsidy, e.amount_yuan, e.window_ends_on, e.region_code").
		ColumnExpr("w.name AS worker_name").
		Join("JOIN workers AS w ON w.id = e.worker_id").
		Where("e.status = ?", subsidies.StatusEligible).
		Where("e.window_ends_on >= ?", today.Format(time.DateOnly)).
		Where("NOT EXISTS (SELECT 1 FROM claims AS cl WHERE cl.worker_id = e.worker_id AND cl.certificate_id = e.certificate_id AND cl.subsidy = e.subsidy AND cl.status <> ?)", StatusRejected)
	return p.Scope().Apply(q, accounts.ScopeColumns{Region: "e.region_code"})
}

// Proposals lists the open proposals p may act on, in id order.
func (s Store) Proposals(ctx context.Context, p *accounts.Principal, today time.Time, page, perPage int) ([]Proposal, int, error) {
	var out []Proposal
	n, err := s.proposals(p, today).OrderExpr("e.id").Limit(int64(perPage)).Offset(int64((page-1)*perPage)).
		ScanAndCount(ctx, &out)
	if err != nil {
		return nil, 0, fmt.Errorf("list proposals: %w", err)
	}
	return out, int(n), nil
}

// Proposal returns open proposal id if p may act on it. Errors: NotFound
// proposal_not_found (also outside scope, claimed or closed).
func (s Store) Proposal(ctx context.Context, p *accounts.Principal, today time.Time, id int64) (Proposal, error) {
	var out Proposal
	err := s.proposals(p, today).Where("e.id = ?", id).Scan(ctx, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return out, apperr.NotFound("proposal_not_found", "该建议不存在或已处理")
	}
	return out, err
}

// Proposals lists the eligible certificates nobody has claimed in p's
// scope (hr_reviewer). Errors: Forbidden forbidden_role.
func (s *Service) Proposals(ctx context.Context, p *accounts.Principal, page, perPage int) ([]Proposal, int, error) {
	if !p.Is(accounts.RoleHRReviewer) {
		return nil, 0, apperr.Forbidden("forbidden_role", "只有人社初审人员可以处理免申即享建议")
	}
	return NewStore(s.db).Proposals(ctx, p, s.today(), page, perPage)
}

// Accepted is the outcome of accepting one proposal.
type Accepted struct {
	ProposalID int64  `json:"proposal_id"`
	ClaimID    int64  `json:"claim_id,omitempty"`
	Code       string `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
}

// MaxAccept is how many proposals one request may accept.
const MaxAccept = 200

// AcceptProposals submits a claim on the worker's behalf for each proposal
// (audited as claims.submit_on_behalf with from_proposal; the worker is
// told in the inbox). Each proposal stands alone: one that cannot be
// claimed any more is reported, not fatal.
// Errors: Forbidden forbidden_role; Invalid validation_failed.
func (s *Service) AcceptProposals(ctx context.Context, p *accounts.Principal, ids []int64) ([]Accepted, error) {
	if !p.Is(accounts.RoleHRReviewer) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社初审人员可以处理免申即享建议")
	}
	if len(ids) == 0 || len(ids) > MaxAccept {
		return nil, apperr.Invalid("validation_failed", "请选择要受理的建议", apperr.FieldError{Field: "proposal_ids",
			Code: "invalid_count", Message: fmt.Sprintf("一次可受理 1–%d 条建议", MaxAccept)})
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]Accepted, 0, len(ids))
	st := NewStore(s.db)
	for _, id := range ids {
		a := Accepted{ProposalID: id}
		prop, err := st.Proposal(ctx, p, s.today(), id)
		if err == nil {
			var c *Claim
			c, _, err = s.Submit(ctx, p, SubmitInput{CertificateID: prop.CertificateID, Subsidy: prop.Subsidy, FromProposal: true})
			if err == nil {
				a.ClaimID = c.ID
			}
		}
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind == apperr.KindInternal {
				return nil, err
			}
			a.Code, a.Message = e.Code, e.Message
		}
		out = append(out, a)
	}
	return out, nil
}

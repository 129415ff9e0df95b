package claims

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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
			return res, analyzeEligibility(ctx, s.db)
		}
		after = ws[len(ws)-1].ID
		if err := s.refreshBatch(ctx, ps, asOf, started, ws, &res); err != nil {
			return res, err
		}
	}
}

// RefreshWorkers is Refresh for the workers ids only, batch by batch: the
// scale seed's eligibility for the holders of recent certificates, where
// the whole nightly run would take half an hour at a million workers.
// Errors: only internal ones (database).
func (s *Service) RefreshWorkers(ctx context.Context, ids []int64) (RefreshResult, error) {
	var res RefreshResult
	ps, err := s.subsidies.Params(ctx)
	if err != nil {
		return res, err
	}
	started := s.now()
	asOf := dateOf(s.today())
	for len(ids) > 0 {
		n := min(len(ids), RefreshBatch)
		ws, err := workers.FactsIn(ctx, s.db, ids[:n])
		ids = ids[n:]
		if err != nil || len(ws) == 0 {
			if err != nil {
				return res, err
			}
			continue
		}
		if err := s.refreshBatch(ctx, ps, asOf, started, ws, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// refreshBatch evaluates and stores the eligibility of the workers ws and
// counts them into res.
func (s *Service) refreshBatch(ctx context.Context, ps subsidies.ParamSet, asOf subsidies.Date, started time.Time, ws []workers.Worker, res *RefreshResult) error {
	rows, err := s.evaluateBatch(ctx, ps, asOf, started, ws)
	if err != nil {
		return err
	}
	if err := storeBatch(ctx, s.db, ws, rows, started); err != nil {
		return err
	}
	res.Workers += len(ws)
	res.Results += len(rows)
	for _, r := range rows {
		if r.Status == subsidies.StatusEligible {
			res.Eligible++
		}
	}
	return nil
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
			// The engine names certificates by CertKey; ParseInt, not
			// fmt.Sscan, since this runs once per result (millions a night).
			certID, _ := strconv.ParseInt(r.CertificateID, 10, 64)
			out = append(out, Stored{WorkerID: w.ID, CertificateID: certID, Subsidy: r.Subsidy, Status: r.Status,
				AmountYuan: r.AmountYuan, WindowEndsOn: WindowEnd(r), RegionCode: w.RegionCode,
				PolicyVersion: ev.PolicyVersion, EvaluatedAt: at})
		}
	}
	return out, nil
}

// Proposals lists the eligible certificates nobody has claimed in p's
// scope (hr_reviewer), the window w of them, as Store.Proposals.
// Errors: Forbidden forbidden_role.
func (s *Service) Proposals(ctx context.Context, p *accounts.Principal, w ProposalWindow) ([]Proposal, int, bool, error) {
	if !p.Is(accounts.RoleHRReviewer) {
		return nil, 0, false, apperr.Forbidden("forbidden_role", "只有人社初审人员可以处理免申即享建议")
	}
	return NewStore(s.db).Proposals(ctx, p, s.today(), w)
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

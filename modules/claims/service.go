package claims

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/calendar"
	"tuoyu/modules/certificates"
	"tuoyu/modules/notify"
	"tuoyu/modules/pii"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// DefaultNoticeWorkingDays is claims.notice_working_days (DESIGN §6.4) when
// no value of the parameter is in force for a claim's region.
const DefaultNoticeWorkingDays = 5

// Service runs the claim use cases, each in one transaction.
type Service struct {
	db        *bun.DB
	subsidies *subsidies.Service
	calendar  *calendar.Service
	loc       *time.Location
	now       func() time.Time
	// Cipher gives the blind index that finds workers by ID number
	// (insurance imports).
	Cipher *pii.Cipher
}

// NewService returns the claims service.
func NewService(db *bun.DB, subs *subsidies.Service, cal *calendar.Service, loc *time.Location, now func() time.Time) *Service {
	if loc == nil {
		loc = time.UTC
	}
	return &Service{db: db, subsidies: subs, calendar: cal, loc: loc, now: now}
}

// today is the current date in the service's zone, at midnight UTC (the
// form dates are stored in).
func (s *Service) today() time.Time {
	t := s.now().In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

var hrRoles = []accounts.Role{accounts.RoleHRReviewer, accounts.RoleHRApprover}

// loadFacts reads what is on file about worker w (certificates held,
// claims counted as paid except one) as of today.
func (s *Service) loadFacts(ctx context.Context, idb bun.IDB, w *workers.Worker, except int64) (Facts, error) {
	held, err := certificates.HeldBy(ctx, idb, []int64{w.ID})
	if err != nil {
		return Facts{}, err
	}
	cnt, err := NewStore(idb).Counted(ctx, []int64{w.ID}, except)
	if err != nil {
		return Facts{}, err
	}
	if err := fillCounted(ctx, idb, cnt); err != nil {
		return Facts{}, err
	}
	return Facts{AsOf: dateOf(s.today()), Region: w.RegionCode, Employment: string(w.Employment),
		InsuredMonths: w.InsuredMonths, TargetGroups: w.TargetGroups, Banned: w.Banned,
		Certificates: held, Counted: cnt}, nil
}

// fillCounted adds the occupation and level of each counted claim's
// certificate, in one query.
func fillCounted(ctx context.Context, idb bun.IDB, cnt []Counted) error {
	ids := make([]int64, 0, len(cnt))
	for _, c := range cnt {
		ids = append(ids, c.CertificateID)
	}
	certs, err := certificates.HeldByIDs(ctx, idb, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]certificates.Held, len(certs))
	for _, c := range certs {
		byID[c.ID] = c
	}
	for i := range cnt {
		c := byID[cnt[i].CertificateID]
		cnt[i].Occupation, cnt[i].Level = c.Occupation, c.Level
	}
	return nil
}

// sources says who supplied each fact of w, for reviewers.
func sources(w *workers.Worker) map[string]string {
	return map[string]string{"employment": string(w.EmploymentSetBy), "insured_months": string(w.InsuredMonthsSetBy),
		"target_groups": string(w.TargetGroupsSetBy)}
}

// evaluate builds the snapshot of one certificate and subsidy from facts.
func (s *Service) evaluate(ps subsidies.ParamSet, f Facts, w *workers.Worker, certID int64, subsidy string) (Snapshot, error) {
	sit := SituationOf(f)
	ev := subsidies.Evaluate(sit, ps)
	r, ok := resultFor(ev, certID, subsidy)
	if !ok {
		return Snapshot{}, apperr.NotFound("certificate_not_found", "证书不存在")
	}
	snap := Snapshot{EvaluatedAt: s.now(), Situation: sit, TargetGroups: sit.Person.Groups, Result: r, PolicyVersion: ev.PolicyVersion,
		Unknown: unknownChecks(r), Sources: sources(w)}
	for _, name := range ps.Names() {
		if p, ok := ps.Lookup(name, sit.Region, sit.AsOf); ok {
			snap.Parameters = append(snap.Parameters, p)
		}
	}
	return snap, nil
}

// Eligibility is the evaluation of every certificate a worker holds, built
// from stored facts, with who supplied each fact.
type Eligibility struct {
	Worker     *workers.Worker
	Evaluation subsidies.Evaluation
	Sources    map[string]string
	Held       []certificates.Held
	// Claimed maps "certificate_id/subsidy" to the live claim's status.
	Claimed map[string]Status
}

// Eligibility evaluates what worker id can claim (the worker themself, HR
// in scope, admins). Errors: NotFound worker_not_found (also outside scope).
func (s *Service) Eligibility(ctx context.Context, p *accounts.Principal, workerID int64) (Eligibility, error) {
	w, err := workers.NewStore(s.db).ByID(ctx, p, workerID)
	if err != nil {
		return Eligibility{}, err
	}
	f, err := s.loadFacts(ctx, s.db, w, 0)
	if err != nil {
		return Eligibility{}, err
	}
	ps, err := s.subsidies.Params(ctx)
	if err != nil {
		return Eligibility{}, err
	}
	el := Eligibility{Worker: w, Evaluation: subsidies.Evaluate(SituationOf(f), ps), Sources: sources(w),
		Held: f.Certificates, Claimed: map[string]Status{}}
	mine, _, _, err := NewStore(s.db).List(ctx, &accounts.Principal{Role: accounts.RoleAdmin}, Filter{WorkerID: w.ID, Page: 1, PerPage: 200})
	if err != nil {
		return Eligibility{}, err
	}
	for _, c := range mine {
		if c.Status != StatusRejected {
			el.Claimed[CertKey(c.CertificateID)+"/"+c.Subsidy] = c.Status
		}
	}
	return el, nil
}

// SubmitInput is a claim to make.
type SubmitInput struct {
	CertificateID int64
	Subsidy       string
	// FromProposal marks a claim accepted from the proposals (免申即享).
	FromProposal bool
}

// Submit makes a claim for one subsidy on one certificate: the worker for
// themself, an hr_reviewer on a worker's behalf (in scope). The evaluation
// is frozen with it. A repeat of the same submission by the same person
// returns the claim already made (created false).
// Errors: NotFound certificate_not_found (another's, or outside scope);
// Invalid invalid_subsidy, not_eligible (with the failing checks);
// Conflict duplicate_claim, certificate_revoked; Forbidden forbidden_role.
func (s *Service) Submit(ctx context.Context, p *accounts.Principal, in SubmitInput) (c *Claim, created bool, err error) {
	if !p.Is(accounts.RoleWorker, accounts.RoleHRReviewer) {
		return nil, false, apperr.Forbidden("forbidden_role", "只有学员本人或人社初审人员可以提交补贴申请")
	}
	if !slices.Contains(subsidies.Subsidies, in.Subsidy) {
		return nil, false, apperr.Invalid("invalid_subsidy", "补贴类别有误", apperr.FieldError{Field: "subsidy",
			Code: "invalid_subsidy", Message: "补贴类别须为 skill_upgrade（技能提升补贴）、training（职业培训补贴）或 appraisal（技能评价补贴）"})
	}
	// Parameters are read before the transaction: a transaction waiting for
	// the person's lock must not need a second pool connection.
	ps, err := s.subsidies.Params(ctx)
	if err != nil {
		return nil, false, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, created, err = s.submit(ctx, tx, p, ps, in)
		return err
	})
	return c, created, err
}

func (s *Service) submit(ctx context.Context, tx bun.Tx, p *accounts.Principal, ps subsidies.ParamSet, in SubmitInput) (*Claim, bool, error) {
	notFound := apperr.NotFound("certificate_not_found", "证书不存在")
	certs, err := certificates.HeldByIDs(ctx, tx, []int64{in.CertificateID})
	if err != nil {
		return nil, false, err
	}
	if len(certs) == 0 {
		return nil, false, notFound
	}
	cert := certs[0]
	// The holder must be the caller or a worker in the caller's scope.
	if p.Is(accounts.RoleWorker) && cert.WorkerID != p.WorkerID {
		return nil, false, notFound
	}
	w, err := workers.NewStore(tx).ByID(ctx, p, cert.WorkerID)
	if err != nil {
		if apperr.Is(err, "worker_not_found") {
			return nil, false, notFound
		}
		return nil, false, err
	}
	if cert.Status == certificates.StatusRevoked {
		return nil, false, apperr.Conflict("certificate_revoked", "该证书已被撤销，不能申请补贴")
	}
	st := NewStore(tx)
	if err := st.LockWorker(ctx, w.ID); err != nil {
		return nil, false, err
	}
	if old, err := st.Live(ctx, w.ID, cert.ID, in.Subsidy); err != nil {
		return nil, false, err
	} else if old != nil {
		// A double click or a second tab: the same person gets the same claim.
		if old.SubmittedBy == p.UserID && old.Status == StatusSubmitted {
			c, err := st.ByID(ctx, old.ID)
			return c, false, err
		}
		return nil, false, errDuplicate()
	}
	f, err := s.loadFacts(ctx, tx, w, 0)
	if err != nil {
		return nil, false, err
	}
	snap, err := s.evaluate(ps, f, w, cert.ID, in.Subsidy)
	if err != nil {
		return nil, false, err
	}
	if snap.Result.Status == subsidies.StatusIneligible {
		return nil, false, notEligible(snap.Result)
	}
	if w.RegionCode == "" {
		return nil, false, apperr.Invalid("no_region", "此人不在湖北省内任何地区，无法受理补贴申请",
			apperr.FieldError{Field: "certificate_id", Code: "no_region", Message: "请先登记工作单位或户籍地区"})
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		return nil, false, fmt.Errorf("encode snapshot: %w", err)
	}
	now := s.now()
	c := &Claim{WorkerID: w.ID, CertificateID: cert.ID, Subsidy: in.Subsidy, Status: StatusSubmitted,
		RegionCode: w.RegionCode, AmountYuan: snap.Result.AmountYuan, EvalStatus: snap.Result.Status,
		PolicyVersion: snap.PolicyVersion, Snapshot: raw, SubmittedAt: now, SubmittedBy: p.UserID,
		OnBehalf: !p.Is(accounts.RoleWorker), FromProposal: in.FromProposal}
	if err := st.Insert(ctx, c); err != nil {
		return nil, false, err
	}
	if err := recordSubmit(ctx, tx, p, c, in); err != nil {
		return nil, false, err
	}
	out, err := st.ByID(ctx, c.ID)
	return out, true, err
}

// recordSubmit audits a new claim and tells the worker of one submitted
// on their behalf, in submit's transaction, keeping submit short.
func recordSubmit(ctx context.Context, tx bun.IDB, p *accounts.Principal, c *Claim, in SubmitInput) error {
	action := "claims.submit"
	if c.OnBehalf {
		action = "claims.submit_on_behalf"
	}
	if err := audit.Record(ctx, tx, audit.Event{ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: action,
		TargetType: "claim", TargetID: strconv.FormatInt(c.ID, 10),
		Summary: map[string]any{"worker_id": c.WorkerID, "certificate_id": c.CertificateID, "subsidy": in.Subsidy,
			"amount_yuan": c.AmountYuan, "eval_status": c.EvalStatus, "from_proposal": in.FromProposal}}); err != nil {
		return err
	}
	if c.OnBehalf {
		if err := notify.Send(ctx, tx, notify.Message{WorkerID: c.WorkerID, Kind: "claims.submitted",
			Title: "人社部门已为您申请" + subsidies.SubsidyName(in.Subsidy),
			Body:  "根据您的证书和档案信息，人社部门已代为提交" + subsidies.SubsidyName(in.Subsidy) + "申请，无需您再办理。审核结果会另行通知。",
			Link:  "/claims/" + strconv.FormatInt(c.ID, 10)}); err != nil {
			return err
		}
	}
	return nil
}

// notEligible is the 422 answer naming every failing check.
func notEligible(r subsidies.Result) *apperr.Error {
	var fields []apperr.FieldError
	for _, ch := range failing(r) {
		fields = append(fields, apperr.FieldError{Field: ch.Code, Code: "fail", Message: ch.Message})
	}
	msg := "不符合" + subsidies.SubsidyName(r.Subsidy) + "的申领条件"
	if len(r.Remedy) > 0 {
		msg += "：" + strings.Join(r.Remedy, "；")
	}
	return apperr.Invalid("not_eligible", msg, fields...)
}

// Decision is a reviewer's or approver's answer.
type Decision struct {
	Decision   string // pass|reject (review), approve|reject (approve)
	Reason     string
	ReasonCode string // for rejections; default not_eligible
}

func (d Decision) validate(accept string) (reject bool, err error) {
	var fields []apperr.FieldError
	switch d.Decision {
	case accept:
	case "reject":
		reject = true
	default:
		fields = append(fields, apperr.FieldError{Field: "decision", Code: "invalid_decision",
			Message: "决定须为 " + accept + " 或 reject"})
	}
	reason := strings.TrimSpace(d.Reason)
	if reject && reason == "" {
		fields = append(fields, apperr.FieldError{Field: "reason", Code: "required", Message: "驳回须填写理由，学员会看到这段文字"})
	}
	if utf8.RuneCountInString(reason) > 500 {
		fields = append(fields, apperr.FieldError{Field: "reason", Code: "too_long", Message: "理由不超过 500 字"})
	}
	if reject && d.ReasonCode != "" && !slices.Contains(ReasonCodes, d.ReasonCode) {
		fields = append(fields, apperr.FieldError{Field: "reason_code", Code: "invalid_reason_code", Message: "驳回原因类别有误"})
	}
	if len(fields) > 0 {
		return false, apperr.Invalid("validation_failed", "审核意见有误", fields...)
	}
	return reject, nil
}

// decide opens the transaction of a decision on claim id: the caller must
// see it; the worker's claims are locked, then the claim row.
func (s *Service) decide(ctx context.Context, p *accounts.Principal, id int64, fn func(ctx context.Context, tx bun.Tx, c *Claim, r refs) error) (*Claim, error) {
	var out *Claim
	// What the decision reads outside its rows (parameters, calendar) is
	// loaded first: a transaction waiting for the person's lock must not
	// need a second pool connection.
	var r refs
	var err error
	if r.params, err = s.subsidies.Params(ctx); err != nil {
		return nil, err
	}
	if r.cal, err = s.calendar.Snapshot(ctx); err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		seen, err := st.ForCaller(ctx, p, id)
		if err != nil {
			return err
		}
		if err := st.LockWorker(ctx, seen.WorkerID); err != nil {
			return err
		}
		c, err := st.Lock(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx, c, r); err != nil {
			return err
		}
		out, err = st.ByID(ctx, id)
		return err
	})
	return out, err
}

// NoticeWorkingDays is the policy parameter claims.notice_working_days in
// force on day for region (an administrator may change it from a date, for
// the province or one city): how many working days 公示 lasts for a claim
// approved that day. Without a value it is DefaultNoticeWorkingDays. The
// parameter form refuses anything but a whole number ≥ 1, so an error here
// means a stored value bypassed it.
func NoticeWorkingDays(ps subsidies.ParamSet, region string, day time.Time) (int, error) {
	p, ok := ps.Lookup("claims.notice_working_days", region, subsidies.DateOf(day))
	if !ok {
		return DefaultNoticeWorkingDays, nil
	}
	var n int
	if err := json.Unmarshal(p.Value, &n); err != nil || n < 1 {
		return 0, fmt.Errorf("policy parameter claims.notice_working_days (%s) is not a whole number ≥ 1", p.Value)
	}
	return n, nil
}

// NoticeEnd is the last day of 公示 for a claim approved on approvedOn:
// n working days after it, approvedOn excluded (policy/calendar.md), as a
// date at midnight UTC.
func NoticeEnd(cal *calendar.Calendar, approvedOn time.Time, n int) time.Time {
	d := cal.AddWorkingDays(time.Date(approvedOn.Year(), approvedOn.Month(), approvedOn.Day(), 12, 0, 0, 0, cal.Location()), n)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// refs is the reference data a decision reads, loaded before its transaction.
type refs struct {
	params subsidies.ParamSet
	cal    *calendar.Calendar
}

// reevaluate evaluates the claim again from today's facts, stores what
// changed since submission on c (not yet written) and returns the new snapshot.
func (s *Service) reevaluate(ctx context.Context, tx bun.Tx, c *Claim, ps subsidies.ParamSet, stage string) (Snapshot, error) {
	w, err := workers.NewStore(tx).Get(ctx, c.WorkerID)
	if err != nil {
		return Snapshot{}, err
	}
	f, err := s.loadFacts(ctx, tx, w, c.ID)
	if err != nil {
		return Snapshot{}, err
	}
	// A certificate revoked since submission is no longer held: evaluate it
	// as it was, so the checks still say why; the revocation shows in status.
	if !slices.ContainsFunc(f.Certificates, func(h certificates.Held) bool { return h.ID == c.CertificateID }) {
		certs, err := certificates.HeldByIDs(ctx, tx, []int64{c.CertificateID})
		if err != nil {
			return Snapshot{}, err
		}
		f.Certificates = append(f.Certificates, certs...)
	}
	snap, err := s.evaluate(ps, f, w, c.CertificateID, c.Subsidy)
	if err != nil {
		return Snapshot{}, err
	}
	var before Snapshot
	if err := json.Unmarshal(c.Snapshot, &before); err != nil {
		return Snapshot{}, fmt.Errorf("decode snapshot of claim %d: %w", c.ID, err)
	}
	ch := Changes{EvaluatedAt: snap.EvaluatedAt, Stage: stage, Fields: Diff(before, snap)}
	if ch.Fields == nil {
		ch.Fields = []Change{}
	}
	raw, err := json.Marshal(ch)
	if err != nil {
		return Snapshot{}, err
	}
	at := s.now()
	c.Changes, c.ReevaluatedAt = raw, &at
	return snap, nil
}

// Review is the first decision on a submitted claim (hr_reviewer, or an
// hr_approver doing a first review). The claim is evaluated again and what
// changed is kept. Errors: NotFound claim_not_found; Forbidden
// forbidden_role; Conflict invalid_status; Invalid validation_failed.
func (s *Service) Review(ctx context.Context, p *accounts.Principal, id int64, d Decision) (*Claim, error) {
	if !p.Is(hrRoles...) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社审核人员可以初审补贴申请")
	}
	reject, err := d.validate("pass")
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, p, id, func(ctx context.Context, tx bun.Tx, c *Claim, r refs) error {
		if c.Status != StatusSubmitted {
			return invalidStatus(c, "初审")
		}
		if _, err := s.reevaluate(ctx, tx, c, r.params, "review"); err != nil {
			return err
		}
		if reject {
			return s.reject(ctx, tx, p, c, d, "claims.review_reject", "changes", "reevaluated_at")
		}
		now := s.now()
		c.Status, c.ReviewerID, c.ReviewedAt, c.ReviewNote = StatusReviewed, p.UserID, &now, strings.TrimSpace(d.Reason)
		if err := NewStore(tx).Update(ctx, c, "status", "reviewer_id", "reviewed_at", "review_note", "changes", "reevaluated_at"); err != nil {
			return err
		}
		return s.record(ctx, tx, p, c, "claims.review_pass", map[string]any{"reason": c.ReviewNote}, "", "")
	})
}

// Approve is the second decision on a reviewed claim (hr_approver, never
// the user who reviewed it). Limits are checked again inside this
// transaction with the person's claims locked; an approval starts 公示,
// which ends notice_working_days working days after today.
// Errors: NotFound claim_not_found; Forbidden forbidden_role, four_eyes;
// Conflict invalid_status, limit_exceeded; Invalid validation_failed,
// not_eligible.
func (s *Service) Approve(ctx context.Context, p *accounts.Principal, id int64, d Decision) (*Claim, error) {
	if !p.Is(accounts.RoleHRApprover) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社复核人员可以审批补贴申请")
	}
	reject, err := d.validate("approve")
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, p, id, func(ctx context.Context, tx bun.Tx, c *Claim, r refs) error {
		if c.Status != StatusReviewed {
			return invalidStatus(c, "复核")
		}
		if c.ReviewerID == p.UserID {
			return errFourEyes()
		}
		snap, err := s.reevaluate(ctx, tx, c, r.params, "approve")
		if err != nil {
			return err
		}
		if reject {
			c.ApproverID = p.UserID
			return s.reject(ctx, tx, p, c, d, "claims.approve_reject", "changes", "reevaluated_at", "approver_id")
		}
		if fails := failing(snap.Result); len(fails) > 0 {
			// Keep what the re-evaluation found, for the approver's screen.
			if err := NewStore(tx).Update(ctx, c, "changes", "reevaluated_at"); err != nil {
				return err
			}
			if breaksLimit(fails) {
				return apperr.Conflict("limit_exceeded", "批准后将超过补贴次数限制："+fails[0].Message)
			}
			return notEligible(snap.Result)
		}
		today := s.today()
		days, err := NoticeWorkingDays(r.params, c.RegionCode, today)
		if err != nil {
			return err
		}
		ends := NoticeEnd(r.cal, today, days)
		now := s.now()
		c.Status, c.ApproverID, c.ApprovedAt, c.ApprovedOn, c.NoticeEndsOn = StatusNotice, p.UserID, &now, &today, &ends
		if err := NewStore(tx).Update(ctx, c, "status", "approver_id", "approved_at", "approved_on", "notice_ends_on",
			"changes", "reevaluated_at"); err != nil {
			return err
		}
		return s.record(ctx, tx, p, c, "claims.approve", map[string]any{"notice_ends_on": ends.Format(time.DateOnly),
			"notice_working_days": days, "amount_yuan": c.AmountYuan}, "您的"+subsidies.SubsidyName(c.Subsidy)+"申请已批准，正在公示",
			"公示至 "+ends.Format(time.DateOnly)+"（"+strconv.Itoa(days)+" 个工作日），期满无异议后进入拨付。")
	})
}

// Object records an objection raised during 公示 (HR in scope): the claim
// goes back to review, its earlier decisions cleared.
// Errors: NotFound claim_not_found; Forbidden forbidden_role; Conflict
// invalid_status; Invalid validation_failed (reason required).
func (s *Service) Object(ctx context.Context, p *accounts.Principal, id int64, reason string) (*Claim, error) {
	if !p.Is(hrRoles...) {
		return nil, apperr.Forbidden("forbidden_role", "只有人社审核人员可以登记公示异议")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, apperr.Invalid("validation_failed", "请填写异议内容", apperr.FieldError{Field: "reason", Code: "required",
			Message: "请填写异议内容（不超过 500 字）"})
	}
	return s.decide(ctx, p, id, func(ctx context.Context, tx bun.Tx, c *Claim, r refs) error {
		if c.Status != StatusNotice {
			return invalidStatus(c, "登记公示异议")
		}
		c.Status, c.ReviewerID, c.ReviewedAt, c.ReviewNote = StatusSubmitted, 0, nil, ""
		c.ApproverID, c.ApprovedAt, c.ApprovedOn, c.NoticeEndsOn = 0, nil, nil, nil
		if err := NewStore(tx).Update(ctx, c, "status", "reviewer_id", "reviewed_at", "review_note", "approver_id",
			"approved_at", "approved_on", "notice_ends_on"); err != nil {
			return err
		}
		return s.record(ctx, tx, p, c, "claims.objection", map[string]any{"reason": reason},
			"您的"+subsidies.SubsidyName(c.Subsidy)+"申请在公示期间收到异议", "申请已退回重新审核，结果会另行通知。")
	})
}

// reject ends c as rejected with d's reason code and text (which the
// worker sees), writing columns besides the rejection's own.
func (s *Service) reject(ctx context.Context, tx bun.Tx, p *accounts.Principal, c *Claim, d Decision, action string, columns ...string) error {
	code := d.ReasonCode
	if code == "" {
		code = ReasonNotEligible
	}
	now := s.now()
	c.Status, c.RejectCode, c.RejectReason, c.RejectedAt, c.RejectedBy = StatusRejected, code, strings.TrimSpace(d.Reason), &now, p.UserID
	cols := append([]string{"status", "reject_code", "reject_reason", "rejected_at", "rejected_by"}, columns...)
	if err := NewStore(tx).Update(ctx, c, cols...); err != nil {
		return err
	}
	return s.record(ctx, tx, p, c, action, map[string]any{"reason_code": code, "reason": c.RejectReason},
		"您的"+subsidies.SubsidyName(c.Subsidy)+"申请未通过", ReasonLabel(code)+"："+c.RejectReason)
}

// record audits a step and, when title is set, tells the worker.
func (s *Service) record(ctx context.Context, tx bun.Tx, p *accounts.Principal, c *Claim, action string, summary map[string]any, title, body string) error {
	summary["status"] = c.Status
	ev := audit.Event{Action: action, TargetType: "claim", TargetID: strconv.FormatInt(c.ID, 10), Summary: summary}
	if p != nil {
		ev.ActorUserID, ev.ActorOrgID = p.UserID, p.OrgID
	}
	if err := audit.Record(ctx, tx, ev); err != nil {
		return err
	}
	if title == "" {
		return nil
	}
	return notify.Send(ctx, tx, notify.Message{WorkerID: c.WorkerID, Kind: action, Title: title, Body: body,
		Link: "/claims/" + strconv.FormatInt(c.ID, 10)})
}

func invalidStatus(c *Claim, step string) *apperr.Error {
	return apperr.Conflict("invalid_status", "该申请当前为「"+c.Status.Label()+"」，不能"+step)
}

// EndNotices is the claims.notice job: claims whose 公示 ended before the
// date of at become payable; each move is audited and the worker told.
func (s *Service) EndNotices(ctx context.Context, at time.Time) (int, error) {
	var n int
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		local := at.In(s.loc)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		moved, err := NewStore(tx).EndNotices(ctx, day, at)
		if err != nil {
			return err
		}
		for i := range moved {
			c := &moved[i]
			if err := s.record(ctx, tx, nil, c, "claims.payable", map[string]any{"notice_ends_on": c.NoticeEndsOn.Format(time.DateOnly)},
				"您的"+subsidies.SubsidyName(c.Subsidy)+"公示期满", "公示期内无异议，补贴 "+strconv.FormatInt(c.AmountYuan, 10)+" 元将随下一批次拨付到您登记的银行账户。"); err != nil {
				return err
			}
		}
		n = len(moved)
		return nil
	})
	return n, err
}

// RejectForBan rejects the worker's live claims with reason banned, inside
// the ban's transaction (the bans module calls it through the wiring).
func RejectForBan(ctx context.Context, tx bun.IDB, workerID int64) (int, error) {
	moved, err := NewStore(tx).RejectLive(ctx, workerID, ReasonBanned, "此人已被列入托育从业人员终身禁入名单", time.Now(), 0)
	if err != nil {
		return 0, err
	}
	for _, c := range moved {
		if err := audit.Record(ctx, tx, audit.Event{Action: "claims.reject_banned", TargetType: "claim",
			TargetID: strconv.FormatInt(c.ID, 10), Summary: map[string]any{"worker_id": workerID, "reason_code": ReasonBanned}}); err != nil {
			return 0, err
		}
	}
	return len(moved), nil
}

// Get returns claim id if p may see it. Errors: NotFound claim_not_found.
func (s *Service) Get(ctx context.Context, p *accounts.Principal, id int64) (*Claim, error) {
	return NewStore(s.db).ForCaller(ctx, p, id)
}

// List returns the claims p may see, as Store.List: a row more than the
// page when there is a next one, and a total that may be an estimate.
// Errors: Invalid invalid_filter.
func (s *Service) List(ctx context.Context, p *accounts.Principal, f Filter) ([]Claim, int, bool, error) {
	var fields []apperr.FieldError
	if f.Status != "" && !f.Status.Valid() {
		fields = append(fields, apperr.FieldError{Field: "status", Code: "invalid_status", Message: "申请状态有误"})
	}
	if f.Subsidy != "" && !slices.Contains(subsidies.Subsidies, f.Subsidy) {
		fields = append(fields, apperr.FieldError{Field: "subsidy", Code: "invalid_subsidy", Message: "补贴类别有误"})
	}
	if len(fields) > 0 {
		return nil, 0, false, apperr.Invalid("invalid_filter", "筛选条件有误", fields...)
	}
	return NewStore(s.db).List(ctx, p, f)
}

// Notices lists the claims in 公示 in region (a Hubei region code; "" is
// the whole province). Errors: Invalid invalid_region.
func (s *Service) Notices(ctx context.Context, region string, page, perPage int) ([]Notice, int, error) {
	if region == "" {
		region = "420000"
	}
	if len(region) != 6 || !strings.HasPrefix(region, "42") || strings.Trim(region, "0123456789") != "" {
		return nil, 0, apperr.Invalid("invalid_region", "地区代码有误", apperr.FieldError{Field: "region",
			Code: "invalid_region", Message: "地区须为湖北省的六位行政区划代码"})
	}
	out, n, err := NewStore(s.db).Notices(ctx, accounts.RegionPrefix(region), page, perPage)
	for i := range out {
		out[i].NameMasked = certificates.MaskName(out[i].WorkerName)
	}
	return out, n, err
}

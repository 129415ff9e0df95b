package bans

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers"
)

// Service is the bans' use cases and the ban look-up other modules call.
type Service struct {
	db        *bun.DB
	cipher    *pii.Cipher
	enrolment *enrolment.Service
	now       func() time.Time
	loc       *time.Location // the days of decisions are China's
	// revoke revokes a worker's valid certificates (reason banned) inside
	// the ban's transaction; certificates.Service.RevokeForBan.
	revoke func(ctx context.Context, tx bun.IDB, workerID int64, on time.Time) (int, error)
	// rejectClaims rejects the banned worker's live subsidy claims in the
	// ban's transaction; claims.RejectForBan (claims sits above bans).
	rejectClaims func(ctx context.Context, tx bun.IDB, workerID int64) (int, error)
}

// SetClaimRejecter gives the service claims.RejectForBan, which a recorded
// ban calls for the banned worker in its own transaction.
func (s *Service) SetClaimRejecter(reject func(ctx context.Context, tx bun.IDB, workerID int64) (int, error)) {
	s.rejectClaims = reject
}

// SetRevoker gives the service the certificates' RevokeForBan, which a
// recorded ban calls for the banned worker in its own transaction.
func (s *Service) SetRevoker(revoke func(ctx context.Context, tx bun.IDB, workerID int64, on time.Time) (int, error)) {
	s.revoke = revoke
}

// NewService returns the bans service; enr withdraws a banned person's
// places when a ban is recorded; loc is the zone of the decisions' days
// (nil: China's, UTC+8).
func NewService(db *bun.DB, cipher *pii.Cipher, enr *enrolment.Service, now func() time.Time, loc *time.Location) *Service {
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: db, cipher: cipher, enrolment: enr, now: now, loc: loc}
}

// keepers record and lift bans: regulators only (DESIGN §2, §4.6: lifting
// takes two different regulators, so no other role may stand in for one).
var keepers = []accounts.Role{accounts.RoleRegulator}

// checkers may ask whether a person is banned: those who hire or train.
var checkers = []accounts.Role{accounts.RoleInstitution, accounts.RoleProvider}

func notFound() *apperr.Error { return apperr.NotFound("ban_not_found", "禁入记录不存在") }

// Index returns the blind index of an ID number as bans and workers store it.
func (s *Service) Index(idNumber string) []byte {
	return s.cipher.Index(pii.KindIDNumber, workers.NormalizeID(idNumber))
}

// IsBanned reports whether an active ban exists on the ID number, reading
// through idb (the caller's transaction, so the answer holds while it
// writes). The number is normalised first; it need not be valid.
// Errors: only internal ones (database).
func (s *Service) IsBanned(ctx context.Context, idb bun.IDB, idNumber string) (bool, error) {
	return s.IsBannedIdx(ctx, idb, s.Index(idNumber))
}

// IsBannedIdx is IsBanned for an ID number's blind index. Errors: only internal ones (database).
func (s *Service) IsBannedIdx(ctx context.Context, idb bun.IDB, idx []byte) (bool, error) {
	if idx == nil {
		return false, nil
	}
	return NewStore(idb).ActiveIdx(ctx, idx)
}

// BannedAmong returns the indexes among idxs that are under an active ban,
// keyed by string(idx), in one query (roster imports check whole files).
// Errors: only internal ones (database).
func (s *Service) BannedAmong(ctx context.Context, idb bun.IDB, idxs [][]byte) (map[string]bool, error) {
	out := map[string]bool{}
	if len(idxs) == 0 {
		return out, nil
	}
	found, err := NewStore(idb).ActiveAmong(ctx, idxs)
	if err != nil {
		return nil, err
	}
	for _, idx := range found {
		out[string(idx)] = true
	}
	return out, nil
}

// validID checks an ID number for a ban or a check. The age limits of
// registration do not apply: anyone of any age can be banned or looked up.
func validID(raw, field string, at time.Time) (string, *apperr.FieldError) {
	id, err := workers.ValidateID(raw, at)
	if err == nil {
		return id.Number, nil
	}
	e, _ := apperr.As(err)
	if e != nil && e.Code == workers.CodeIDAge {
		return workers.NormalizeID(raw), nil
	}
	fe := apperr.FieldError{Field: field, Code: "invalid_id_number", Message: "身份证号有误"}
	if e != nil {
		fe.Code, fe.Message = e.Code, e.Message
	}
	return "", &fe
}

// Record records a ban decision: one ban for the person and one for each
// manager named with them, linked to the first, and sets the ban flag of
// those who are workers, all in one transaction, each audited as
// bans.record. Errors: Forbidden forbidden_role; Invalid validation_failed
// (fields name, id_number, reason, decision_no, decided_on, region_code,
// managers[i].name, managers[i].id_number); Conflict already_banned.
func (s *Service) Record(ctx context.Context, p *accounts.Principal, in RecordInput) ([]Ban, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以记录终身禁入")
	}
	d, err := decideRecord(p, in, s.now(), s.loc)
	if err != nil {
		return nil, err
	}
	var out []Ban
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var primaryID int64
		for i, v := range d.people {
			b, err := s.recordOne(ctx, tx, p, d, v, i, primaryID)
			if err != nil {
				return err
			}
			if i == 0 {
				primaryID = b.ID
			}
			out = append(out, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// banDecision is a validated RecordInput: the people (subject first) and
// the decision they share.
type banDecision struct {
	people     []bannedPerson
	reason     string
	decisionNo string
	decidedOn  time.Time
	region     string
	at         time.Time // when it is recorded: the day certificates are revoked on
}

type bannedPerson struct{ name, number string }

// decideRecord validates in for p at now, without the database; the
// decision's day may be at most today in loc. Errors: Invalid
// validation_failed with one error per field at fault.
func decideRecord(p *accounts.Principal, in RecordInput, now time.Time, loc *time.Location) (banDecision, error) {
	var fields []apperr.FieldError
	bad := func(field, code, msg string) {
		fields = append(fields, apperr.FieldError{Field: field, Code: code, Message: msg})
	}
	d := banDecision{reason: strings.TrimSpace(in.Reason), decisionNo: strings.TrimSpace(in.DecisionNo),
		region: strings.TrimSpace(in.RegionCode), at: now}
	seen := map[string]string{}
	for i, pp := range append([]Person{in.Person}, in.Managers...) {
		prefix := ""
		if i > 0 {
			prefix = fmt.Sprintf("managers[%d].", i-1)
		}
		name, err := workers.ValidateName(pp.Name)
		if err != nil {
			e, _ := apperr.As(err)
			bad(prefix+"name", e.Code, e.Message)
		}
		number, fe := validID(pp.IDNumber, prefix+"id_number", now)
		if fe != nil {
			fields = append(fields, *fe)
		} else if other, dup := seen[number]; dup {
			bad(prefix+"id_number", "duplicate_person", "同一决定中身份证号重复（与 "+other+" 相同）")
		} else {
			seen[number] = prefix + "id_number"
		}
		d.people = append(d.people, bannedPerson{name, number})
	}
	if d.reason == "" || utf8.RuneCountInString(d.reason) > 2000 {
		bad("reason", "invalid_reason", "请填写禁入事由（不超过 2000 字）")
	}
	if d.decisionNo == "" || utf8.RuneCountInString(d.decisionNo) > 100 {
		bad("decision_no", "invalid_decision_no", "请填写处理决定文号")
	}
	var err error
	d.decidedOn, err = time.Parse(time.DateOnly, strings.TrimSpace(in.DecidedOn))
	if err != nil {
		bad("decided_on", "invalid_date", "决定日期格式应为 YYYY-MM-DD")
	} else if y, m, day := now.In(loc).Date(); d.decidedOn.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		// Against today's date in China, not the UTC instant: from
		// midnight to 08:00 in China a decision dated today was refused.
		bad("decided_on", "future_date", "决定日期不能晚于今天")
	}
	if d.region == "" {
		d.region = p.Region
	}
	if len(d.region) != 6 || !p.Scope().CoversRegion(d.region) {
		bad("region_code", "region_out_of_scope", "地区不在您的管辖范围内")
	}
	if len(fields) > 0 {
		return d, apperr.Invalid("validation_failed", "禁入记录有误", fields...)
	}
	return d, nil
}

// recordOne stores the ban of the i-th person of decision d (the subject
// when i is 0, linked to primaryID otherwise), flags the worker, revokes
// their valid certificates (reason banned), rejects their live claims and audits it, all in tx.
func (s *Service) recordOne(ctx context.Context, tx bun.Tx, p *accounts.Principal, d banDecision, v bannedPerson, i int, primaryID int64) (Ban, error) {
	enc, err := s.cipher.Encrypt(v.number)
	if err != nil {
		return Ban{}, fmt.Errorf("encrypt id number: %w", err)
	}
	b := Ban{IDNumberEnc: enc, IDNumberIdx: s.cipher.Index(pii.KindIDNumber, v.number), IDMask: pii.MaskID(v.number),
		Name: v.name, Reason: d.reason, DecisionNo: d.decisionNo, DecidedOn: d.decidedOn, RegionCode: d.region,
		PrimaryBanID: primaryID, RecordedBy: p.UserID}
	field := "id_number"
	if i > 0 {
		field = fmt.Sprintf("managers[%d].id_number", i-1)
	}
	// One person, one ban state: a person already banned where p can see
	// it is refused as before; banned elsewhere, p's decision joins that
	// ban and the answer is the same as for a new one, so it tells nothing
	// of the other region.
	state, banned, err := NewStore(tx).LockState(ctx, b.IDNumberIdx)
	if err != nil {
		return b, err
	}
	if banned && p.Scope().CoversRegion(state.RegionCode) {
		e := apperr.Conflict("already_banned", "该身份证号已在终身禁入名单中")
		e.Fields = []apperr.FieldError{{Field: field, Code: "already_banned", Message: "该身份证号已在终身禁入名单中"}}
		return b, e
	}
	if banned {
		b.JoinsBanID = state.ID
	}
	if err := NewStore(tx).Insert(ctx, &b, field); err != nil {
		return b, err
	}
	workerID, err := workers.NewStore(tx).SetBanned(ctx, b.IDNumberIdx, true)
	if err != nil {
		return b, err
	}
	summary := map[string]any{"decision_no": d.decisionNo, "region_code": d.region, "role": "subject"}
	if i > 0 {
		summary["role"], summary["primary_ban_id"] = "manager", primaryID
	}
	if b.JoinsBanID != 0 {
		summary["joins_ban_id"] = b.JoinsBanID
	}
	if workerID != 0 {
		summary["worker_id"] = workerID
		if s.revoke != nil {
			n, err := s.revoke(ctx, tx, workerID, d.at)
			if err != nil {
				return b, err
			}
			summary["certificates_revoked"] = n
		}
		// No enrolment after a ban (DESIGN §4.6): the places the person
		// holds or waits for end in this transaction, and go to the next
		// on each waiting list.
		withdrawn, err := s.enrolment.WithdrawBanned(ctx, tx, p, workerID)
		if err != nil {
			return b, err
		}
		if len(withdrawn) > 0 {
			summary["withdrawn_enrolments"] = len(withdrawn)
		}
		if s.rejectClaims != nil {
			n, err := s.rejectClaims(ctx, tx, workerID)
			if err != nil {
				return b, err
			}
			summary["claims_rejected"] = n
		}
	}
	return b, audit.Record(ctx, tx, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID,
		Action: "bans.record", TargetType: "ban", TargetID: strconv.FormatInt(b.ID, 10), Summary: summary,
	})
}

// Check answers whether the person with the ID number is banned, for staff
// of institutions and providers, and records bans.check with the number's
// blind index (never the number) and the answer; a refused number is
// recorded with the reason only. Errors: Forbidden
// forbidden_role; Invalid validation_failed (field id_number).
func (s *Service) Check(ctx context.Context, p *accounts.Principal, idNumber string) (bool, error) {
	if !p.Is(checkers...) {
		return false, apperr.Forbidden("forbidden_role", "只有托育机构和培训机构可以查询禁入名单")
	}
	number, fe := validID(idNumber, "id_number", s.now())
	if fe != nil {
		// Refused look-ups are recorded too: a run of bad numbers is itself
		// worth seeing. Only the reason is kept, not the input.
		err := audit.Record(ctx, s.db, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "bans.check",
			Summary: map[string]any{"valid": false, "code": fe.Code},
		})
		if err != nil {
			return false, err
		}
		return false, apperr.Invalid("validation_failed", "身份证号有误", *fe)
	}
	idx := s.cipher.Index(pii.KindIDNumber, number)
	var banned bool
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if banned, err = s.IsBannedIdx(ctx, tx, idx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "bans.check",
			Summary: map[string]any{"id_number_idx": hex.EncodeToString(idx), "banned": banned},
		})
	})
	return banned, err
}

// RequestLift asks for ban id to be lifted on the strength of a document;
// another regulator must confirm. Recorded as bans.lift_request. Errors:
// Forbidden forbidden_role; NotFound ban_not_found; Invalid
// validation_failed (lift_document); Conflict ban_not_active.
func (s *Service) RequestLift(ctx context.Context, p *accounts.Principal, id int64, document, reason string) (*Ban, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以解除终身禁入")
	}
	document, reason = strings.TrimSpace(document), strings.TrimSpace(reason)
	if document == "" || utf8.RuneCountInString(document) > 200 {
		return nil, apperr.Invalid("validation_failed", "解除申请有误", apperr.FieldError{
			Field: "lift_document", Code: "required", Message: "请填写解除依据的文书编号"})
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.lockScoped(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if b.Status() != StatusActive {
			return apperr.Conflict("ban_not_active", "该禁入记录已解除或已有解除申请")
		}
		if err := NewStore(tx).SetLiftRequest(ctx, id, p.UserID, s.now(), document, reason); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "bans.lift_request", TargetType: "ban", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"lift_document": document},
		})
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, p, id)
}

// ConfirmLift lifts ban id whose lift another regulator requested, clears
// the worker's ban flag and records bans.lift. The database refuses the same
// person on both sides too. Errors: Forbidden forbidden_role, four_eyes;
// NotFound ban_not_found; Conflict lift_not_requested.
func (s *Service) ConfirmLift(ctx context.Context, p *accounts.Principal, id int64) (*Ban, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以解除终身禁入")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.pendingLift(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if b.LiftRequestedBy == p.UserID {
			return fourEyes()
		}
		// One ban state: lifting lifts the person, with every decision
		// joined to it (recorded in other regions too).
		if err := NewStore(tx).LiftPerson(ctx, b.IDNumberIdx, b, p.UserID, s.now()); err != nil {
			return err
		}
		workerID, err := workers.NewStore(tx).SetBanned(ctx, b.IDNumberIdx, false)
		if err != nil {
			return err
		}
		summary := map[string]any{"lift_document": *b.LiftDocument, "requested_by": b.LiftRequestedBy}
		if workerID != 0 {
			summary["worker_id"] = workerID
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "bans.lift", TargetType: "ban", TargetID: strconv.FormatInt(id, 10), Summary: summary,
		})
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, p, id)
}

// pendingLift locks ban id, in p's scope, and requires a lift request that
// awaits its second regulator. Errors: NotFound ban_not_found; Conflict
// lift_not_requested.
func (s *Service) pendingLift(ctx context.Context, tx bun.Tx, p *accounts.Principal, id int64) (*Ban, error) {
	b, err := s.lockScoped(ctx, tx, p, id)
	if err != nil {
		return nil, err
	}
	if b.Status() != StatusLiftRequested {
		return nil, apperr.Conflict("lift_not_requested", "该禁入记录没有待复核的解除申请")
	}
	return b, nil
}

// RejectLift withdraws a pending lift request of ban id; the ban stays.
// Recorded as bans.lift_reject. Errors: Forbidden forbidden_role; NotFound
// ban_not_found; Conflict lift_not_requested.
func (s *Service) RejectLift(ctx context.Context, p *accounts.Principal, id int64) (*Ban, error) {
	if !p.Is(keepers...) {
		return nil, apperr.Forbidden("forbidden_role", "只有卫健部门可以处理解除申请")
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		b, err := s.pendingLift(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := NewStore(tx).SetLiftRequest(ctx, id, 0, time.Time{}, "", ""); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID,
			Action: "bans.lift_reject", TargetType: "ban", TargetID: strconv.FormatInt(id, 10),
			Summary: map[string]any{"requested_by": b.LiftRequestedBy},
		})
	})
	if err != nil {
		return nil, err
	}
	return s.ByID(ctx, p, id)
}

func fourEyes() *apperr.Error {
	return apperr.Forbidden("four_eyes", "解除终身禁入须由另一名监管人员复核确认")
}

// lockScoped reads ban id for update if p may see it.
func (s *Service) lockScoped(ctx context.Context, tx bun.Tx, p *accounts.Principal, id int64) (*Ban, error) {
	return NewStore(tx).LockInScope(ctx, p.Scope(), id)
}

// ByID returns ban id if p may see it. Errors: NotFound ban_not_found.
func (s *Service) ByID(ctx context.Context, p *accounts.Principal, id int64) (*Ban, error) {
	return NewStore(s.db).ByID(ctx, p.Scope(), id)
}

// Decision returns every ban of the decision ban b belongs to (the subject
// first, then the managers) that p may see. Errors: only internal ones (database).
func (s *Service) Decision(ctx context.Context, p *accounts.Principal, b *Ban) ([]Ban, error) {
	primary := b.ID
	if b.PrimaryBanID != 0 {
		primary = b.PrimaryBanID
	}
	return NewStore(s.db).Decision(ctx, p.Scope(), primary)
}

// Filter selects bans in a list.
type Filter struct {
	Q       string // an exact ID number, or the start of a name
	Status  Status // "" for all
	Page    int
	PerPage int
}

// List returns the bans p may see matching f, newest first, and the total.
// Errors: Forbidden forbidden_role.
func (s *Service) List(ctx context.Context, p *accounts.Principal, f Filter) ([]Ban, int, error) {
	if !p.Is(keepers...) {
		return nil, 0, apperr.Forbidden("forbidden_role", "只有卫健部门可以查看禁入名单")
	}
	var idx []byte
	if qs := strings.TrimSpace(f.Q); strings.ContainsAny(qs, "0123456789") {
		idx = s.Index(qs)
	}
	return NewStore(s.db).List(ctx, p.Scope(), f, idx)
}

// DecisionRecorded reports whether any ban carries decision number
// decisionNo, so a seed or an import can skip a decision already on file.
// Errors: only internal ones (database).
func (s *Service) DecisionRecorded(ctx context.Context, decisionNo string) (bool, error) {
	n, err := NewStore(s.db).CountDecision(ctx, decisionNo)
	return n > 0, err
}

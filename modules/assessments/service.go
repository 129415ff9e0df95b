package assessments

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/classes"
	"tuoyu/modules/notify"
	"tuoyu/modules/pii"
)

// Service holds the assessment use cases; each opens its own transaction.
type Service struct {
	db     *bun.DB
	cipher *pii.Cipher
	now    func() time.Time
	loc    *time.Location

	// WorkingDay returns the working-day predicate of the calendar module
	// (holidays and 调休). Nil means Monday to Friday.
	WorkingDay func(ctx context.Context) (func(time.Time) bool, error)
	// OnPass is called inside the transaction that makes an enrolment pass
	// (every part of its plan's assessment passed); the certificates module
	// issues the certificate there. Nil does nothing.
	OnPass func(ctx context.Context, tx bun.IDB, p Pass) error
	// OnPassChanged is called inside the transaction of a correction that
	// turns a pass into a fail or a fail into a pass. Nil does nothing.
	OnPassChanged func(ctx context.Context, tx bun.IDB, p Pass, passed bool) error
	// ResultDays is assessments.result_days: a sitting closes this many
	// days after its end even when results are missing.
	ResultDays int
}

// NewService returns the assessment service.
func NewService(db *bun.DB, cipher *pii.Cipher, now func() time.Time, loc *time.Location) *Service {
	return &Service{db: db, cipher: cipher, now: now, loc: loc, ResultDays: 7}
}

func (s *Service) workingDay(ctx context.Context) (func(time.Time) bool, error) {
	if s.WorkingDay == nil {
		return Weekdays, nil
	}
	return s.WorkingDay(ctx)
}

// ownClass returns class id when p is its provider (admins may read but
// decide nothing); apperr.NotFound otherwise.
func ownClass(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64) (classes.Class, error) {
	c, err := classFor(ctx, idb, p, id)
	if err != nil {
		return c, err
	}
	if !p.Is(accounts.RoleProvider) || c.ProviderOrgID != p.OrgID {
		return classes.Class{}, apperr.NotFound("class_not_found", "培训班不存在")
	}
	return c, nil
}

// ownSitting returns sitting id locked when p is its class's provider;
// apperr.NotFound otherwise.
func ownSitting(ctx context.Context, tx bun.IDB, p *accounts.Principal, id int64) (Sitting, error) {
	st, err := NewStore(tx).LockSitting(ctx, id)
	if err != nil {
		return st, err
	}
	if !p.Is(accounts.RoleProvider) || st.ProviderOrgID != p.OrgID {
		return Sitting{}, errSittingNotFound()
	}
	return st, nil
}

// SittingView is a sitting with its examiner-ratio flag.
type SittingView struct {
	Sitting
	Ratio Ratio `json:"examiner_ratio"`
}

func (s *Service) views(ctx context.Context, idb bun.IDB, ss []Sitting) ([]SittingView, error) {
	ids := make([]int64, len(ss))
	for i, st := range ss {
		ids[i] = st.ID
	}
	counts, err := NewStore(idb).ExaminerCounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SittingView, len(ss))
	for i, st := range ss {
		c := counts[st.ID]
		out[i] = SittingView{Sitting: st, Ratio: CheckRatio(st.Kind, st.Candidates, st.Rooms, c[0], c[1])}
	}
	return out, nil
}

// ClassSittings returns class id (if p may see it) and its sittings.
// Errors: apperr.NotFound (class_not_found).
func (s *Service) ClassSittings(ctx context.Context, p *accounts.Principal, classID int64) (classes.Class, []SittingView, error) {
	c, err := classFor(ctx, s.db, p, classID)
	if err != nil {
		return c, nil, err
	}
	if p.Is(accounts.RoleWorker) {
		return c, nil, apperr.NotFound("class_not_found", "培训班不存在")
	}
	ss, err := NewStore(s.db).ClassSittings(ctx, classID)
	if err != nil {
		return c, nil, err
	}
	vs, err := s.views(ctx, s.db, ss)
	return c, vs, err
}

// Sitting returns one sitting p may see, with its ratio flag. Errors:
// apperr.NotFound (sitting_not_found).
func (s *Service) Sitting(ctx context.Context, p *accounts.Principal, id int64) (SittingView, error) {
	st, err := NewStore(s.db).Sitting(ctx, p, id)
	if err != nil {
		return SittingView{}, err
	}
	vs, err := s.views(ctx, s.db, []Sitting{st})
	if err != nil {
		return SittingView{}, err
	}
	return vs[0], nil
}

// SittingInput is a sitting scheduled or moved by hand. Times are RFC 3339.
type SittingInput struct {
	Kind                 Kind   `json:"kind"`
	StartsAt             string `json:"starts_at"`
	EndsAt               string `json:"ends_at"`
	Place                string `json:"place"`
	Capacity             int    `json:"capacity"`
	Rooms                int    `json:"rooms"`
	ConfirmNonWorkingDay bool   `json:"confirm_non_working_day"`
	Reason               string `json:"reason"` // for a move, told to the candidates
}

// parseTime reads RFC 3339, or the "2006-01-02T15:04" of an HTML
// datetime-local input in the service's zone.
func (s *Service) parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", v, s.loc); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// checkTimes validates a sitting's time against its class and the calendar.
func (s *Service) checkTimes(ctx context.Context, c classes.Class, in SittingInput) (time.Time, time.Time, []apperr.FieldError, error) {
	var fields []apperr.FieldError
	start, okS := s.parseTime(in.StartsAt)
	end, okE := s.parseTime(in.EndsAt)
	if !okS {
		fields = append(fields, fieldErr("starts_at", "invalid_time", "开始时间格式应为 2026-12-10T09:00:00+08:00"))
	}
	if !okE {
		fields = append(fields, fieldErr("ends_at", "invalid_time", "结束时间格式应为 2026-12-10T11:00:00+08:00"))
	}
	if !okS || !okE {
		return start, end, fields, nil
	}
	if !end.After(start) {
		fields = append(fields, fieldErr("ends_at", "ends_before_start", "结束时间须晚于开始时间"))
	} else if end.Sub(start) > 12*time.Hour {
		fields = append(fields, fieldErr("ends_at", "too_long", "一场考核不超过 12 小时"))
	}
	day := dateOf(start.In(s.loc))
	if !day.After(dateOf(c.EndsOn)) {
		fields = append(fields, fieldErr("starts_at", "before_class_end",
			fmt.Sprintf("考核须安排在培训班结束(%s)之后", c.EndsOn.Format(time.DateOnly))))
	}
	if !in.ConfirmNonWorkingDay {
		isWorking, err := s.workingDay(ctx)
		if err != nil {
			return start, end, nil, err
		}
		if !isWorking(day) {
			fields = append(fields, fieldErr("starts_at", "non_working_day",
				fmt.Sprintf("%s 不是工作日；确需安排请确认在非工作日考核", day.Format(time.DateOnly))))
		}
	}
	if len([]rune(in.Place)) > 200 {
		fields = append(fields, fieldErr("place", "too_long", "考核地点不超过 200 字"))
	}
	return start, end, fields, nil
}

// eligible returns the completed enrolments of class c that may sit part
// kind now: no pass in that part, attempts left, not already waiting in a
// scheduled sitting of that part.
func eligible(ctx context.Context, idb bun.IDB, classID int64, kind Kind) ([]assessedEnrolment, error) {
	es, err := completedEnrolments(ctx, idb, []int64{classID})
	if err != nil || len(es) == 0 {
		return nil, err
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	st := NewStore(idb)
	results, err := st.ResultsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	pending, err := st.Pending(ctx, ids)
	if err != nil {
		return nil, err
	}
	parts := partsOf(results, pending)
	var out []assessedEnrolment
	for _, e := range es {
		p := parts[e.ID][kind]
		if !p.Passed && !p.Pending && p.Attempts < e.MaxAttempts {
			out = append(out, e)
		}
	}
	return out, nil
}

// partsOf folds results (and pending candidacies) into parts per enrolment.
func partsOf(results []PartResult, pending map[int64]map[Kind]bool) map[int64]map[Kind]Part {
	out := map[int64]map[Kind]Part{}
	get := func(id int64) map[Kind]Part {
		if out[id] == nil {
			out[id] = map[Kind]Part{}
		}
		return out[id]
	}
	for _, r := range results {
		m := get(r.EnrolmentID)
		p := m[r.Kind]
		p.Attempts++
		p.Passed = p.Passed || r.Passed
		m[r.Kind] = p
	}
	for id, kinds := range pending {
		m := get(id)
		for k := range kinds {
			p := m[k]
			p.Pending = true
			m[k] = p
		}
	}
	return out
}

// Schedule creates a sitting of class classID by hand, with its candidates.
// Errors: apperr.NotFound (class_not_found), apperr.Invalid
// (no_assessment, invalid_kind, before_class_end, non_working_day,
// no_candidates, capacity_too_small, …), apperr.Conflict (sitting_overlap).
func (s *Service) Schedule(ctx context.Context, p *accounts.Principal, classID int64, in SittingInput) (SittingView, error) {
	var out SittingView
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := ownClass(ctx, tx, p, classID)
		if err != nil {
			return err
		}
		start, end, err := s.checkSitting(ctx, tx, c, in)
		if err != nil {
			return err
		}
		cands, err := eligible(ctx, tx, c.ID, in.Kind)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			return apperr.Invalid("no_candidates", "没有可参加该科目考核的学员(须已完成学时、未通过且有剩余考核次数)")
		}
		capacity := in.Capacity
		if capacity == 0 {
			capacity = len(cands)
		}
		if capacity < len(cands) {
			return apperr.Invalid("capacity_too_small", "考位数少于考生人数",
				fieldErr("capacity", "capacity_too_small", fmt.Sprintf("共有 %d 名考生，考位数不能少于此数", len(cands))))
		}
		st := NewStore(tx)
		workers := make([]int64, len(cands))
		for i, e := range cands {
			workers[i] = e.WorkerID
		}
		if o, err := st.FirstOverlap(ctx, workers, start, end, 0); err != nil {
			return err
		} else if o != nil {
			return errOverlap(o.SittingID, o.Kind.Label()+" "+timeText(o.StartsAt, s.loc))
		}
		attempt, err := st.NextAttempt(ctx, c.ID, in.Kind)
		if err != nil {
			return err
		}
		sit := Sitting{ClassID: c.ID, ProviderOrgID: c.ProviderOrgID, RegionCode: c.RegionCode, Kind: in.Kind, Attempt: attempt,
			StartsAt: start, EndsAt: end, Place: strings.TrimSpace(in.Place), Capacity: capacity, Rooms: max(in.Rooms, 1),
			State: StateScheduled, CreatedBy: p.UserID}
		if sit.Place == "" {
			sit.Place = c.Place
		}
		if err := st.InsertSitting(ctx, &sit); err != nil {
			return err
		}
		nc := make([]newCandidate, len(cands))
		for i, e := range cands {
			nc[i] = newCandidate{SittingID: sit.ID, EnrolmentID: e.ID, WorkerID: e.WorkerID, Start: start, End: end}
		}
		if _, err := st.InsertCandidates(ctx, nc, false); err != nil {
			return err
		}
		sit.Candidates = len(nc)
		if err := notifyCandidates(ctx, tx, sit, workers, "assessments.scheduled", "考核已安排",
			fmt.Sprintf("%s第%d次考核：%s，地点：%s", in.Kind.Label(), attempt, timeText(start, s.loc), sit.Place), "scheduled"); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "assessments.schedule", TargetType: "assessment_sitting", TargetID: itoa(sit.ID),
			Summary: map[string]any{"class_id": c.ID, "kind": sit.Kind, "attempt": attempt, "starts_at": start, "candidates": len(nc)}}); err != nil {
			return err
		}
		out = SittingView{Sitting: sit, Ratio: CheckRatio(sit.Kind, sit.Candidates, sit.Rooms, 0, 0)}
		return nil
	})
	return out, err
}

// checkSitting validates a sitting of class c against its plan's mode and
// returns its start and end. Errors: apperr.Invalid (no_assessment,
// invalid_sitting).
func (s *Service) checkSitting(ctx context.Context, tx bun.IDB, c classes.Class, in SittingInput) (time.Time, time.Time, error) {
	mode, err := planMode(ctx, tx, c.PlanCode)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if len(KindsOf(mode)) == 0 {
		return time.Time{}, time.Time{}, apperr.Invalid("no_assessment", "该培训计划不设考核，完成学时即合格")
	}
	var fields []apperr.FieldError
	if !in.Kind.Valid() || (in.Kind == KindPractical && mode != "theory_practical") {
		fields = append(fields, fieldErr("kind", "invalid_kind", "该培训计划的考核科目为："+modeKinds(mode)))
	}
	start, end, tf, err := s.checkTimes(ctx, c, in)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	fields = append(fields, tf...)
	if in.Capacity < 0 || in.Capacity > 5000 {
		fields = append(fields, fieldErr("capacity", "invalid_capacity", "考位数应在 1–5000 之间"))
	}
	if in.Rooms < 0 || in.Rooms > 100 {
		fields = append(fields, fieldErr("rooms", "invalid_rooms", "考场数应在 1–100 之间"))
	}
	if len(fields) > 0 {
		return time.Time{}, time.Time{}, apperr.Invalid("invalid_sitting", "考核场次信息有误", fields...)
	}
	return start, end, nil
}

func modeKinds(mode string) string {
	var names []string
	for _, k := range KindsOf(mode) {
		names = append(names, k.Label())
	}
	if len(names) == 0 {
		return "无"
	}
	return strings.Join(names, "、")
}

func notifyCandidates(ctx context.Context, tx bun.IDB, sit Sitting, workers []int64, kind, title, body, event string) error {
	msgs := make([]notify.Message, len(workers))
	for i, w := range workers {
		msgs[i] = notify.Message{WorkerID: w, Kind: kind, Title: title, Body: body, Link: "/me/assessments",
			DedupeKey: fmt.Sprintf("assessments.%s:%d:%d:%d", event, sit.ID, w, time.Now().UnixNano())}
	}
	return notify.Send(ctx, tx, msgs...)
}

// Move changes a scheduled sitting's time and place before any result and
// notifies its candidates. Errors: apperr.NotFound, apperr.Invalid (as
// Schedule), apperr.Conflict (sitting_closed, has_results, sitting_overlap).
func (s *Service) Move(ctx context.Context, p *accounts.Principal, id int64, in SittingInput) (SittingView, error) {
	var out SittingView
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		sit, err := ownSitting(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := changeable(ctx, tx, sit); err != nil {
			return err
		}
		c, err := classByID(ctx, tx, sit.ClassID)
		if err != nil {
			return err
		}
		start, end, fields, err := s.checkTimes(ctx, c, in)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			return apperr.Invalid("invalid_sitting", "考核场次信息有误", fields...)
		}
		place := strings.TrimSpace(in.Place)
		if place == "" {
			place = sit.Place
		}
		st := NewStore(tx)
		workers, err := st.CandidateWorkers(ctx, sit.ID)
		if err != nil {
			return err
		}
		if o, err := st.FirstOverlap(ctx, workers, start, end, sit.ID); err != nil {
			return err
		} else if o != nil {
			return errOverlap(o.SittingID, o.Kind.Label()+" "+timeText(o.StartsAt, s.loc))
		}
		if err := st.MoveSitting(ctx, sit.ID, start, end, place); err != nil {
			return err
		}
		body := fmt.Sprintf("%s第%d次考核改为 %s，地点：%s", sit.Kind.Label(), sit.Attempt, timeText(start, s.loc), place)
		if r := strings.TrimSpace(in.Reason); r != "" {
			body += "。原因：" + r
		}
		if err := notifyCandidates(ctx, tx, sit, workers, "assessments.moved", "考核时间地点变更", body, "moved"); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "assessments.move", TargetType: "assessment_sitting", TargetID: itoa(sit.ID),
			Summary: map[string]any{"from": sit.StartsAt, "to": start, "place": place}}); err != nil {
			return err
		}
		sit.StartsAt, sit.EndsAt, sit.Place = start, end, place
		vs, err := s.views(ctx, tx, []Sitting{sit})
		if err != nil {
			return err
		}
		out = vs[0]
		return nil
	})
	return out, err
}

// changeable refuses changes to a sitting that is not scheduled or has results.
func changeable(ctx context.Context, tx bun.IDB, sit Sitting) error {
	if sit.State != StateScheduled {
		return apperr.Conflict("sitting_closed", "考核场次已"+sit.State.Label()+"，不能再修改")
	}
	rows, err := NewStore(tx).SittingCandidates(ctx, sit.ID)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.ResultID != 0 {
			return apperr.Conflict("has_results", "该场次已录入成绩，不能改期或取消")
		}
	}
	return nil
}

// Cancel cancels a scheduled sitting before any result, frees its
// candidates and notifies them. Errors: apperr.NotFound, apperr.Invalid
// (reason_required), apperr.Conflict (sitting_closed, has_results).
func (s *Service) Cancel(ctx context.Context, p *accounts.Principal, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return apperr.Invalid("reason_required", "请填写取消原因", fieldErr("reason", "required", "请填写取消原因"))
	}
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		sit, err := ownSitting(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := changeable(ctx, tx, sit); err != nil {
			return err
		}
		st := NewStore(tx)
		workers, err := st.CandidateWorkers(ctx, sit.ID)
		if err != nil {
			return err
		}
		if err := st.CancelSitting(ctx, sit.ID, reason); err != nil {
			return err
		}
		if err := notifyCandidates(ctx, tx, sit, workers, "assessments.cancelled", "考核已取消",
			fmt.Sprintf("原定 %s 的%s考核已取消。原因：%s", timeText(sit.StartsAt, s.loc), sit.Kind.Label(), reason), "cancelled"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "assessments.cancel", TargetType: "assessment_sitting", TargetID: itoa(sit.ID),
			Summary: map[string]any{"reason": reason}})
	})
}

// ExaminerInput is one examiner of a sitting: a user of the provider
// (user_id; the name defaults to theirs) or an outside examiner's name.
type ExaminerInput struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// SetExaminers replaces a sitting's examiners. A sitting breaking a ratio
// is saved and flagged. Errors: apperr.NotFound, apperr.Invalid
// (invalid_examiner, duplicate_examiner), apperr.Conflict (sitting_closed).
func (s *Service) SetExaminers(ctx context.Context, p *accounts.Principal, id int64, in []ExaminerInput) (SittingView, error) {
	var fields []apperr.FieldError
	es := make([]Examiner, 0, len(in))
	for i, e := range in {
		name := strings.TrimSpace(e.Name)
		if name == "" && e.UserID == 0 {
			continue
		}
		if len([]rune(name)) > 50 {
			fields = append(fields, rowErr(i+1, "name", "too_long", "姓名不超过 50 字"))
		}
		if e.Role != RoleProctor && e.Role != RoleExaminer {
			fields = append(fields, rowErr(i+1, "role", "invalid_role", "角色须为 监考(proctor) 或 考评员(examiner)"))
		}
		es = append(es, Examiner{UserID: e.UserID, Name: name, Role: e.Role})
	}
	if len(fields) > 0 {
		return SittingView{}, apperr.Invalid("invalid_examiner", "考评人员信息有误", fields...)
	}
	var out SittingView
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		sit, err := ownSitting(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if sit.State != StateScheduled {
			return apperr.Conflict("sitting_closed", "考核场次已"+sit.State.Label()+"，不能再修改")
		}
		var bad []apperr.FieldError
		for i := range es {
			if es[i].UserID == 0 {
				continue
			}
			u, err := accounts.NewStore(tx).UserByID(ctx, es[i].UserID)
			if err != nil || u.OrganisationID != sit.ProviderOrgID {
				bad = append(bad, rowErr(i+1, "user_id", "not_provider_user", "考评人员须是本机构的用户，外聘人员请只填姓名"))
				continue
			}
			if es[i].Name == "" {
				es[i].Name = u.DisplayName
				if es[i].Name == "" {
					es[i].Name = u.Username
				}
			}
		}
		if len(bad) > 0 {
			return apperr.Invalid("invalid_examiner", "考评人员信息有误", bad...)
		}
		if err := NewStore(tx).ReplaceExaminers(ctx, sit.ID, es); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{Action: "assessments.examiners", TargetType: "assessment_sitting", TargetID: itoa(sit.ID),
			Summary: map[string]any{"examiners": len(es)}}); err != nil {
			return err
		}
		vs, err := s.views(ctx, tx, []Sitting{sit})
		if err != nil {
			return err
		}
		out = vs[0]
		return nil
	})
	return out, err
}

// Examiners lists a sitting's examiners for whoever may see the sitting.
func (s *Service) Examiners(ctx context.Context, p *accounts.Principal, id int64) ([]Examiner, error) {
	if _, err := NewStore(s.db).Sitting(ctx, p, id); err != nil {
		return nil, err
	}
	return NewStore(s.db).Examiners(ctx, id)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package assessments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/pii"
)

// CandidateView is a candidate as the API and the sitting page show it.
type CandidateView struct {
	EnrolmentID int64    `json:"enrolment_id"`
	WorkerID    int64    `json:"worker_id"`
	Name        string   `json:"name"`
	IDMask      string   `json:"id_mask"`
	Attempt     int      `json:"attempt"`
	ResultID    int64    `json:"result_id,omitempty"`
	Score       *float64 `json:"score"`
	ScoreText   string   `json:"-"`
	Absent      bool     `json:"absent"`
	Passed      *bool    `json:"passed"`
}

// Candidates lists a sitting's candidates (names masked) with results.
// Errors: apperr.NotFound (sitting_not_found) outside p's scope.
func (s *Service) Candidates(ctx context.Context, p *accounts.Principal, id int64) (SittingView, []CandidateView, error) {
	sit, err := s.Sitting(ctx, p, id)
	if err != nil {
		return sit, nil, err
	}
	rows, err := NewStore(s.db).SittingCandidates(ctx, id)
	if err != nil {
		return sit, nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.EnrolmentID
	}
	ens, err := assessedEnrolments(ctx, s.db, ids)
	if err != nil {
		return sit, nil, err
	}
	out := make([]CandidateView, len(rows))
	for i, r := range rows {
		e := ens[r.EnrolmentID]
		v := CandidateView{EnrolmentID: r.EnrolmentID, WorkerID: r.WorkerID, Name: pii.MaskName(e.WorkerName), IDMask: e.WorkerIDMask,
			Attempt: sit.Attempt, ResultID: r.ResultID, Passed: r.Passed}
		if r.Score != nil {
			f := r.Score.Float()
			v.Score, v.ScoreText = &f, r.Score.String()
		}
		if r.Absent != nil {
			v.Absent = *r.Absent
		}
		out[i] = v
	}
	return sit, out, nil
}

// ResultInput is one row of results: a score, or absent.
type ResultInput struct {
	EnrolmentID int64    `json:"enrolment_id"`
	Score       *float64 `json:"score"`
	Absent      bool     `json:"absent"`
	// ScoreText is a score as typed (forms, files); it wins over Score.
	ScoreText string `json:"-"`
	// Row is the row number to report errors at (the file's line); 0
	// means the position in the list, from 1.
	Row int `json:"-"`
}

// Recorded sums up a recording.
type Recorded struct {
	Recorded int `json:"recorded"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Absent   int `json:"absent"`
}

// RecordResults stores the results of a sitting, all or nothing. Errors:
// apperr.NotFound (sitting_not_found), apperr.Conflict (not_started,
// sitting_closed, examiners_insufficient, already_recorded),
// apperr.Invalid (invalid_results with one error per bad row).
func (s *Service) RecordResults(ctx context.Context, p *accounts.Principal, id int64, rows []ResultInput) (Recorded, error) {
	return s.record(ctx, p, id, rows, false)
}

func (s *Service) record(ctx context.Context, p *accounts.Principal, id int64, rows []ResultInput, dryRun bool) (Recorded, error) {
	var out Recorded
	if len(rows) == 0 {
		return out, apperr.Invalid("no_results", "没有要录入的成绩", fieldErr("results", "required", "请至少录入一名考生的成绩"))
	}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		sit, err := ownSitting(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if sit.State != StateScheduled {
			return apperr.Conflict("sitting_closed", "考核场次已"+sit.State.Label()+"，不能再录入成绩(更正请逐条填写原因)")
		}
		if s.now().Before(sit.StartsAt) {
			return apperr.Conflict("not_started", "考核尚未开始，不能录入成绩(开始时间 "+timeText(sit.StartsAt, s.loc)+")")
		}
		st := NewStore(tx)
		views, err := s.views(ctx, tx, []Sitting{sit})
		if err != nil {
			return err
		}
		if r := views[0].Ratio; !r.OK {
			return apperr.Conflict("examiners_insufficient", "考评人员配备不足，补足后才能录入成绩："+r.Message)
		}
		cands, err := st.SittingCandidates(ctx, sit.ID)
		if err != nil {
			return err
		}
		byEnrolment := make(map[int64]CandidateRow, len(cands))
		ids := make([]int64, len(cands))
		for i, c := range cands {
			byEnrolment[c.EnrolmentID] = c
			ids[i] = c.EnrolmentID
		}
		ens, err := assessedEnrolments(ctx, tx, ids)
		if err != nil {
			return err
		}
		rs, fields := resultRows(rows, byEnrolment, ens)
		if len(fields) > 0 {
			return apperr.Invalid("invalid_results", "部分成绩有误，未保存任何成绩", fields...)
		}
		before, err := s.decisions(ctx, tx, ids, ens)
		if err != nil {
			return err
		}
		if err := st.InsertResults(ctx, sit.ID, p.UserID, rs); err != nil {
			return err
		}
		out = tally(rs)
		if dryRun {
			return errDryRun
		}
		if err := s.firePasses(ctx, tx, ids, ens, before, false); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Action: "assessments.results", TargetType: "assessment_sitting", TargetID: itoa(sit.ID),
			Summary: map[string]any{"recorded": out.Recorded, "passed": out.Passed, "failed": out.Failed, "absent": out.Absent}})
	})
	return out, err
}

// resultRows checks the entered rows against the sitting's candidates (one
// field error per bad row, numbered as entered) and returns the results to
// store, judged by each enrolment's pass mark.
func resultRows(rows []ResultInput, byEnrolment map[int64]CandidateRow, ens map[int64]assessedEnrolment) ([]newResult, []apperr.FieldError) {
	var fields []apperr.FieldError
	seen := map[int64]int{}
	rs := make([]newResult, 0, len(rows))
	for i, in := range rows {
		row := in.Row
		if row == 0 {
			row = i + 1
		}
		c, ok := byEnrolment[in.EnrolmentID]
		switch {
		case !ok:
			fields = append(fields, rowErr(row, "enrolment_id", "not_candidate", fmt.Sprintf("报名编号 %d 不是本场考生", in.EnrolmentID)))
			continue
		case seen[in.EnrolmentID] != 0:
			fields = append(fields, rowErr(row, "enrolment_id", "duplicate", fmt.Sprintf("报名编号 %d 与第 %d 行重复", in.EnrolmentID, seen[in.EnrolmentID])))
			continue
		case c.ResultID != 0:
			fields = append(fields, rowErr(row, "enrolment_id", "already_recorded", fmt.Sprintf("报名编号 %d 的成绩已录入，请用更正并填写原因", in.EnrolmentID)))
			continue
		}
		seen[in.EnrolmentID] = row
		score, ferr := rowScore(in)
		if ferr != nil {
			ferr.Row = row
			fields = append(fields, *ferr)
			continue
		}
		r := newResult{EnrolmentID: in.EnrolmentID, WorkerID: c.WorkerID, Score: score, Absent: score == nil}
		r.Passed = score != nil && score.Passes(ens[in.EnrolmentID].PassMark)
		rs = append(rs, r)
	}
	return rs, fields
}

// tally counts the stored results by outcome.
func tally(rs []newResult) Recorded {
	var out Recorded
	for _, r := range rs {
		out.Recorded++
		switch {
		case r.Absent:
			out.Absent++
		case r.Passed:
			out.Passed++
		default:
			out.Failed++
		}
	}
	return out
}

// rowScore reads a row's score; nil means absent.
func rowScore(in ResultInput) (*Score, *apperr.FieldError) {
	text := strings.TrimSpace(in.ScoreText)
	hasScore := text != "" || in.Score != nil
	if in.Absent {
		if hasScore {
			e := fieldErr("score", "score_and_absent", "缺考的考生不能同时有成绩")
			return nil, &e
		}
		return nil, nil
	}
	if !hasScore {
		e := fieldErr("score", "required", "请填写成绩或标记缺考")
		return nil, &e
	}
	var v Score
	var err error
	if text != "" {
		v, err = ParseScore(text)
	} else {
		v, err = ScoreFromFloat(*in.Score)
	}
	if err != nil {
		e := fieldErr("score", "invalid_score", "成绩须为 0–100 之间、最多一位小数的数")
		return nil, &e
	}
	return &v, nil
}

// decisions computes the outcome of enrolments from what is stored.
func (s *Service) decisions(ctx context.Context, idb bun.IDB, ids []int64, ens map[int64]assessedEnrolment) (map[int64]Decision, error) {
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
	out := make(map[int64]Decision, len(ids))
	for _, id := range ids {
		e, ok := ens[id]
		if !ok {
			continue
		}
		out[id] = Decide(e.Status == "completed", e.Assessment, e.MaxAttempts, parts[id])
	}
	return out, nil
}

// firePasses calls OnPass for enrolments that pass now and did not before,
// and OnPassChanged for those whose pass came or went by a correction.
func (s *Service) firePasses(ctx context.Context, tx bun.IDB, ids []int64, ens map[int64]assessedEnrolment, before map[int64]Decision, correction bool) error {
	after, err := s.decisions(ctx, tx, ids, ens)
	if err != nil {
		return err
	}
	today := dateOf(s.now().In(s.loc))
	for _, id := range ids {
		was, is := before[id].Outcome == OutcomePassed, after[id].Outcome == OutcomePassed
		if was == is {
			continue
		}
		e := ens[id]
		pass := Pass{EnrolmentID: id, WorkerID: e.WorkerID, ClassID: e.ClassID, ProviderOrgID: e.ProviderOrgID, PlanCode: e.PlanCode, PassedOn: today}
		if is && s.OnPass != nil {
			if err := s.OnPass(ctx, tx, pass); err != nil {
				return err
			}
		}
		if correction && s.OnPassChanged != nil {
			if err := s.OnPassChanged(ctx, tx, pass, is); err != nil {
				return err
			}
		}
	}
	return nil
}

// CorrectionInput corrects one recorded result.
type CorrectionInput struct {
	Score     *float64 `json:"score"`
	ScoreText string   `json:"-"`
	Absent    bool     `json:"absent"`
	Reason    string   `json:"reason"`
}

// Correct changes a recorded result, keeping the old value with the reason,
// and tells the certificates owner when pass/fail flips. Errors:
// apperr.NotFound (result_not_found), apperr.Invalid (reason_required,
// invalid_score), apperr.Conflict (unchanged).
func (s *Service) Correct(ctx context.Context, p *accounts.Principal, resultID int64, in CorrectionInput) (Result, error) {
	reason := strings.TrimSpace(in.Reason)
	var fields []apperr.FieldError
	if reason == "" {
		fields = append(fields, fieldErr("reason", "reason_required", "更正成绩须填写原因"))
	}
	score, ferr := rowScore(ResultInput{Score: in.Score, ScoreText: in.ScoreText, Absent: in.Absent})
	if ferr != nil {
		fields = append(fields, *ferr)
	}
	if len(fields) > 0 {
		return Result{}, apperr.Invalid("invalid_correction", "更正内容有误", fields...)
	}
	var out Result
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st := NewStore(tx)
		old, err := st.LockResult(ctx, resultID)
		if err != nil {
			return err
		}
		if _, err := ownSitting(ctx, tx, p, old.SittingID); err != nil {
			return errResultNotFound()
		}
		if old.Absent == (score == nil) && (score == nil || (old.Score != nil && *old.Score == *score)) {
			return apperr.Conflict("unchanged", "更正后的成绩与原成绩相同")
		}
		ens, err := assessedEnrolments(ctx, tx, []int64{old.EnrolmentID})
		if err != nil {
			return err
		}
		e := ens[old.EnrolmentID]
		passed := score != nil && score.Passes(e.PassMark)
		before, err := s.decisions(ctx, tx, []int64{e.ID}, ens)
		if err != nil {
			return err
		}
		if err := st.CorrectResult(ctx, old, score, score == nil, passed, reason, p.UserID); err != nil {
			return err
		}
		if err := s.firePasses(ctx, tx, []int64{e.ID}, ens, before, true); err != nil {
			return err
		}
		oldText, newText := "缺考", "缺考"
		if old.Score != nil {
			oldText = old.Score.String()
		}
		if score != nil {
			newText = score.String()
		}
		out = old
		out.Score, out.Absent, out.Passed = score, score == nil, passed
		return audit.Record(ctx, tx, audit.Event{Action: "assessments.correct", TargetType: "assessment_result", TargetID: itoa(old.ID),
			Summary: map[string]any{"old": oldText, "new": newText, "reason": reason, "passed": passed}})
	})
	return out, err
}

// Outcome is the outcome and attempts left of one enrolment; the
// enrolment handler shows it (scope is checked there).
func (s *Service) Outcome(ctx context.Context, enrolmentID int64) (Outcome, int, error) {
	ens, err := assessedEnrolments(ctx, s.db, []int64{enrolmentID})
	if err != nil {
		return "", 0, err
	}
	if _, ok := ens[enrolmentID]; !ok {
		return "", 0, apperr.NotFound("enrolment_not_found", "报名记录不存在")
	}
	ds, err := s.decisions(ctx, s.db, []int64{enrolmentID}, ens)
	if err != nil {
		return "", 0, err
	}
	return ds[enrolmentID].Outcome, ds[enrolmentID].AttemptsLeft, nil
}

// Outcomes is Outcome for many enrolments in a fixed number of queries
// (the graduates' progress pages); unknown ids are left out.
func (s *Service) Outcomes(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]Outcome, error) {
	ens, err := assessedEnrolments(ctx, idb, ids)
	if err != nil {
		return nil, err
	}
	ds, err := s.decisions(ctx, idb, ids, ens)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Outcome, len(ds))
	for id, d := range ds {
		out[id] = d.Outcome
	}
	return out, nil
}

// WorkerResult is one result of a worker, as their results list shows it.
type WorkerResult struct {
	EnrolmentID int64     `json:"enrolment_id"`
	ClassID     int64     `json:"class_id"`
	ClassName   string    `json:"class_name"`
	PlanCode    string    `json:"plan_code"`
	SittingID   int64     `json:"sitting_id"`
	Kind        Kind      `json:"kind"`
	Attempt     int       `json:"attempt"`
	StartsAt    time.Time `json:"starts_at"`
	Score       *float64  `json:"score"`
	ScoreText   string    `json:"-"`
	Absent      bool      `json:"absent"`
	Passed      bool      `json:"passed"`
}

// EnrolmentOutcome is an enrolment's outcome with its results.
type EnrolmentOutcome struct {
	EnrolmentID  int64          `json:"enrolment_id"`
	ClassID      int64          `json:"class_id"`
	ClassName    string         `json:"class_name"`
	PlanCode     string         `json:"plan_code"`
	Outcome      Outcome        `json:"outcome"`
	AttemptsLeft int            `json:"attempts_left"`
	Results      []WorkerResult `json:"results"`
}

// WorkerResults returns a worker's enrolments with outcome and results, if
// p may see the worker's assessments: the worker, the providers of their
// classes (their own classes only), the college that sent them, HR and
// regulators in the class's region, admins. Errors: apperr.NotFound (worker_not_found).
func (s *Service) WorkerResults(ctx context.Context, p *accounts.Principal, workerID int64) ([]EnrolmentOutcome, error) {
	views, err := workerEnrolments(ctx, s.db, workerID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, v := range views {
		ids = append(ids, v.ID)
	}
	ens, err := assessedEnrolments(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	sc := p.Scope()
	var visible []int64
	for _, id := range ids {
		e := ens[id]
		if sc.All || (sc.WorkerID != 0 && sc.WorkerID == e.WorkerID) || (sc.OrgID != 0 && sc.OrgID == e.ProviderOrgID) ||
			(p.Is(accounts.RoleCollege) && sc.OrgID == e.CollegeOrgID) ||
			(sc.RegionPrefix != "" && sc.CoversRegion(e.RegionCode)) {
			visible = append(visible, id)
		}
	}
	if len(visible) == 0 && !(sc.All || sc.WorkerID == workerID) {
		return nil, apperr.NotFound("worker_not_found", "学员不存在")
	}
	ds, err := s.decisions(ctx, s.db, visible, ens)
	if err != nil {
		return nil, err
	}
	results, err := NewStore(s.db).ResultsOf(ctx, visible)
	if err != nil {
		return nil, err
	}
	out := make([]EnrolmentOutcome, 0, len(visible))
	at := map[int64]int{}
	for _, id := range visible {
		e := ens[id]
		at[id] = len(out)
		out = append(out, EnrolmentOutcome{EnrolmentID: id, ClassID: e.ClassID, ClassName: e.ClassName, PlanCode: e.PlanCode,
			Outcome: ds[id].Outcome, AttemptsLeft: ds[id].AttemptsLeft, Results: []WorkerResult{}})
	}
	for _, r := range results {
		e := ens[r.EnrolmentID]
		wr := WorkerResult{EnrolmentID: r.EnrolmentID, ClassID: e.ClassID, ClassName: e.ClassName, PlanCode: e.PlanCode, SittingID: r.SittingID,
			Kind: r.Kind, Attempt: r.Attempt, StartsAt: r.StartsAt, Absent: r.Absent, Passed: r.Passed}
		if r.Score != nil {
			f := r.Score.Float()
			wr.Score, wr.ScoreText = &f, r.Score.String()
		}
		i := at[r.EnrolmentID]
		out[i].Results = append(out[i].Results, wr)
	}
	return out, nil
}

// Passes lists the passed enrolments whose pass came on or after since,
// for the certificates.issue catch-up job.
func (s *Service) Passes(ctx context.Context, since time.Time) ([]Pass, error) {
	return s.PassesExcept(ctx, since, nil, 0)
}

// PassesExcept is Passes leaving out the enrolments of sub-query except
// (those already holding a certificate), at most limit of them in
// enrolment order (0: all), in a fixed number of queries.
func (s *Service) PassesExcept(ctx context.Context, since time.Time, except *bun.SelectQuery, limit int) ([]Pass, error) {
	ids, err := NewStore(s.db).PassedEnrolments(ctx, since, except, limit)
	if err != nil {
		return nil, err
	}
	ens, err := assessedEnrolments(ctx, s.db, keysOf(ids))
	if err != nil {
		return nil, err
	}
	ds, err := s.decisions(ctx, s.db, keysOf(ids), ens)
	if err != nil {
		return nil, err
	}
	var out []Pass
	for _, id := range keysOf(ids) {
		if ds[id].Outcome != OutcomePassed {
			continue
		}
		e := ens[id]
		out = append(out, Pass{EnrolmentID: id, WorkerID: e.WorkerID, ClassID: e.ClassID, ProviderOrgID: e.ProviderOrgID,
			PlanCode: e.PlanCode, PassedOn: dateOf(ids[id].In(s.loc))})
	}
	return out, nil
}

func keysOf[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortInt64(out)
	return out
}

// PassedText is the candidate's result in words.
func (v CandidateView) PassedText() string {
	switch {
	case v.Passed == nil:
		return "未录入"
	case v.Absent:
		return "缺考"
	case *v.Passed:
		return "合格"
	}
	return "不合格"
}

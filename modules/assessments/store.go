package assessments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

// Store holds every query of this module; it names only this module's tables.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errSittingNotFound() *apperr.Error {
	return apperr.NotFound("sitting_not_found", "考核场次不存在")
}
func errResultNotFound() *apperr.Error {
	return apperr.NotFound("result_not_found", "成绩记录不存在")
}

// sittingScope keeps what p may see: providers their own sittings, HR and
// regulators those in their region, admins all. Workers read their own
// sittings through WorkerSittings only.
var sittingScope = accounts.ScopeColumns{Region: "s.region_code", Org: "s.provider_org_id"}

func (s Store) sittingQuery(dst any) *bun.SelectQuery {
	return s.db.NewSelect().Model(dst).ColumnExpr("s.*").
		ColumnExpr("(SELECT count(*) FROM assessment_candidates AS c WHERE c.sitting_id = s.id) AS candidates").
		ColumnExpr("(SELECT count(*) FROM assessment_results AS r WHERE r.sitting_id = s.id) AS results")
}

// Sitting returns sitting id if p may see it; apperr.NotFound otherwise.
func (s Store) Sitting(ctx context.Context, p *accounts.Principal, id int64) (Sitting, error) {
	var st Sitting
	q := p.Scope().Apply(s.sittingQuery(&st).Where("s.id = ?", id), sittingScope)
	if err := q.Scan(ctx); errors.Is(err, sql.ErrNoRows) {
		return Sitting{}, errSittingNotFound()
	} else if err != nil {
		return Sitting{}, fmt.Errorf("sitting %d: %w", id, err)
	}
	return st, nil
}

// LockSitting takes the row lock of sitting id (every change of its
// candidates and results holds it) and returns it; apperr.NotFound when
// absent.
func (s Store) LockSitting(ctx context.Context, id int64) (Sitting, error) {
	var st Sitting
	err := s.db.NewSelect().Model(&st).Where("s.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Sitting{}, errSittingNotFound()
	}
	if err != nil {
		return Sitting{}, fmt.Errorf("lock sitting %d: %w", id, err)
	}
	return st, s.db.NewSelect().TableExpr("assessment_candidates AS c").ColumnExpr("count(*)").
		Where("c.sitting_id = ?", id).Scan(ctx, &st.Candidates)
}

// ClassSittings lists the sittings of a class by start.
func (s Store) ClassSittings(ctx context.Context, classID int64) ([]Sitting, error) {
	var out []Sitting
	if err := s.sittingQuery(&out).Where("s.class_id = ?", classID).OrderExpr("s.starts_at, s.kind, s.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("sittings of class %d: %w", classID, err)
	}
	return out, nil
}

// NextAttempt is the next attempt number of a class's part (cancelled
// sittings keep theirs).
func (s Store) NextAttempt(ctx context.Context, classID int64, kind Kind) (int, error) {
	var n int
	err := s.db.NewSelect().TableExpr("assessment_sittings").ColumnExpr("COALESCE(max(attempt), 0) + 1").
		Where("class_id = ? AND kind = ?", classID, kind).Scan(ctx, &n)
	return n, err
}

// InsertSitting stores a sitting made by a user.
func (s Store) InsertSitting(ctx context.Context, st *Sitting) error {
	_, err := s.db.NewInsert().Model(st).
		ExcludeColumn("id", "created_at", "updated_at", "cancelled_at", "closed_at", "cancel_reason").
		Returning("id, created_at").Exec(ctx)
	if err != nil {
		if isUnique(err) {
			return apperr.Conflict("sitting_exists", "该培训班的此项考核场次已存在")
		}
		return fmt.Errorf("insert sitting: %w", err)
	}
	return nil
}

// newCandidate is one row of a bulk candidate insert.
type newCandidate struct {
	SittingID, EnrolmentID, WorkerID int64
	Start, End                       time.Time
}

// InsertCandidates stores candidates in one statement. With skip (the
// job), a worker who already sits elsewhere at an overlapping time, or twice
// in this batch, is left out and joins the next sitting; the rows are
// filtered before the insert, because letting the exclusion constraint
// decide through ON CONFLICT DO NOTHING (a speculative insertion per row)
// doubles the cost of the nightly bulk. Without skip the constraint fails
// the statement.
func (s Store) InsertCandidates(ctx context.Context, cs []newCandidate, skip bool) (int, error) {
	if skip {
		cs = withoutOverlaps(cs)
	}
	if len(cs) == 0 {
		return 0, nil
	}
	sit, en, wk := make([]int64, len(cs)), make([]int64, len(cs)), make([]int64, len(cs))
	st, et := make([]time.Time, len(cs)), make([]time.Time, len(cs))
	for i, c := range cs {
		sit[i], en[i], wk[i], st[i], et[i] = c.SittingID, c.EnrolmentID, c.WorkerID, c.Start, c.End
	}
	q := `INSERT INTO assessment_candidates (sitting_id, enrolment_id, worker_id, during)
		SELECT t.s, t.e, t.w, tstzrange(t.a, t.b) FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::timestamptz[], ?::timestamptz[]) AS t(s, e, w, a, b)`
	if skip {
		q += ` WHERE NOT EXISTS (SELECT 1 FROM assessment_candidates AS x
			WHERE x.active AND x.worker_id = t.w AND x.during && tstzrange(t.a, t.b))`
	}
	res, err := s.db.NewRaw(q, pgArray(sit), pgArray(en), pgArray(wk), pgArray(st), pgArray(et)).Exec(ctx)
	if err != nil {
		if isExclusion(err) {
			return 0, errOverlap(0, "")
		}
		return 0, fmt.Errorf("insert %d candidates: %w", len(cs), err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// withoutOverlaps drops a worker's later rows that overlap an earlier row.
func withoutOverlaps(cs []newCandidate) []newCandidate {
	seen := make(map[int64][]newCandidate, len(cs))
	out := cs[:0:0]
	for _, c := range cs {
		clash := false
		for _, o := range seen[c.WorkerID] {
			if c.Start.Before(o.End) && o.Start.Before(c.End) {
				clash = true
				break
			}
		}
		if !clash {
			seen[c.WorkerID] = append(seen[c.WorkerID], c)
			out = append(out, c)
		}
	}
	return out
}

// Overlap is another sitting a worker is in at an overlapping time.
type Overlap struct {
	SittingID int64     `bun:"sitting_id"`
	WorkerID  int64     `bun:"worker_id"`
	StartsAt  time.Time `bun:"starts_at"`
	Kind      Kind      `bun:"kind"`
}

// FirstOverlap returns a sitting other than except in which one of the
// workers is an active candidate overlapping [start, end), or nil.
func (s Store) FirstOverlap(ctx context.Context, workerIDs []int64, start, end time.Time, except int64) (*Overlap, error) {
	if len(workerIDs) == 0 {
		return nil, nil
	}
	var out []Overlap
	err := s.db.NewSelect().TableExpr("assessment_candidates AS c").
		ColumnExpr("c.sitting_id, c.worker_id, s.starts_at, s.kind").
		Join("JOIN assessment_sittings AS s ON s.id = c.sitting_id").
		Where("c.active AND c.worker_id IN (?)", bun.List(workerIDs)).
		Where("c.during && tstzrange(?, ?)", start, end).Where("c.sitting_id <> ?", except).
		OrderExpr("s.starts_at").Limit(1).Scan(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// CandidateRow is a candidate of a sitting with its result, if any.
type CandidateRow struct {
	EnrolmentID int64  `bun:"enrolment_id"`
	WorkerID    int64  `bun:"worker_id"`
	ResultID    int64  `bun:"result_id"`
	Score       *Score `bun:"score"`
	Absent      *bool  `bun:"absent"`
	Passed      *bool  `bun:"passed"`
}

// SittingCandidates lists the candidates of a sitting with their results.
func (s Store) SittingCandidates(ctx context.Context, sittingID int64) ([]CandidateRow, error) {
	var out []CandidateRow
	err := s.db.NewSelect().TableExpr("assessment_candidates AS c").
		ColumnExpr("c.enrolment_id, c.worker_id, COALESCE(r.id, 0) AS result_id, r.score, r.absent, r.passed").
		Join("LEFT JOIN assessment_results AS r ON r.sitting_id = c.sitting_id AND r.enrolment_id = c.enrolment_id").
		Where("c.sitting_id = ?", sittingID).OrderExpr("c.enrolment_id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("candidates of sitting %d: %w", sittingID, err)
	}
	return out, nil
}

// PartResult is one result of an enrolment with its sitting's part.
type PartResult struct {
	EnrolmentID int64     `bun:"enrolment_id"`
	SittingID   int64     `bun:"sitting_id"`
	Kind        Kind      `bun:"kind"`
	Attempt     int       `bun:"attempt"`
	StartsAt    time.Time `bun:"starts_at"`
	Score       *Score    `bun:"score"`
	Absent      bool      `bun:"absent"`
	Passed      bool      `bun:"passed"`
	RecordedAt  time.Time `bun:"recorded_at"`
}

// ResultsOf returns the results of the enrolments, in one query.
func (s Store) ResultsOf(ctx context.Context, enrolmentIDs []int64) ([]PartResult, error) {
	if len(enrolmentIDs) == 0 {
		return nil, nil
	}
	var out []PartResult
	err := s.db.NewSelect().TableExpr("assessment_results AS r").
		ColumnExpr("r.enrolment_id, r.sitting_id, s.kind, s.attempt, s.starts_at, r.score, r.absent, r.passed, r.recorded_at").
		Join("JOIN assessment_sittings AS s ON s.id = r.sitting_id").
		Where("r.enrolment_id IN (?)", bun.List(enrolmentIDs)).OrderExpr("s.starts_at, r.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("results of %d enrolments: %w", len(enrolmentIDs), err)
	}
	return out, nil
}

// Pending returns, per enrolment, the parts in which it is a candidate of
// a scheduled sitting without a result yet.
func (s Store) Pending(ctx context.Context, enrolmentIDs []int64) (map[int64]map[Kind]bool, error) {
	out := map[int64]map[Kind]bool{}
	if len(enrolmentIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		EnrolmentID int64 `bun:"enrolment_id"`
		Kind        Kind  `bun:"kind"`
	}
	err := s.db.NewSelect().TableExpr("assessment_candidates AS c").ColumnExpr("c.enrolment_id, s.kind").
		Join("JOIN assessment_sittings AS s ON s.id = c.sitting_id").
		Where("c.enrolment_id IN (?) AND c.active AND s.state = 'scheduled'", bun.List(enrolmentIDs)).
		Where("NOT EXISTS (SELECT 1 FROM assessment_results AS r WHERE r.sitting_id = c.sitting_id AND r.enrolment_id = c.enrolment_id)").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("pending sittings: %w", err)
	}
	for _, r := range rows {
		if out[r.EnrolmentID] == nil {
			out[r.EnrolmentID] = map[Kind]bool{}
		}
		out[r.EnrolmentID][r.Kind] = true
	}
	return out, nil
}

// newResult is one row of a bulk result insert.
type newResult struct {
	EnrolmentID, WorkerID int64
	Score                 *Score
	Absent, Passed        bool
}

// InsertResults stores the results of one sitting in one statement.
func (s Store) InsertResults(ctx context.Context, sittingID, by int64, rs []newResult) error {
	if len(rs) == 0 {
		return nil
	}
	en, wk := make([]int64, len(rs)), make([]int64, len(rs))
	sc := make([]*string, len(rs))
	ab, pa := make([]bool, len(rs)), make([]bool, len(rs))
	for i, r := range rs {
		en[i], wk[i], ab[i], pa[i] = r.EnrolmentID, r.WorkerID, r.Absent, r.Passed
		if r.Score != nil {
			v := r.Score.String()
			sc[i] = &v
		}
	}
	_, err := s.db.NewRaw(`INSERT INTO assessment_results (sitting_id, enrolment_id, worker_id, score, absent, passed, recorded_by)
		SELECT ?, t.e, t.w, t.s, t.a, t.p, ? FROM unnest(?::bigint[], ?::bigint[], ?::numeric[], ?::boolean[], ?::boolean[]) AS t(e, w, s, a, p)`,
		sittingID, nullID(by), pgArray(en), pgArray(wk), pgArray(sc), pgArray(ab), pgArray(pa)).Exec(ctx)
	if err != nil {
		if isUnique(err) {
			return apperr.Conflict("already_recorded", "部分考生的成绩已录入，请刷新后重试")
		}
		return fmt.Errorf("insert %d results of sitting %d: %w", len(rs), sittingID, err)
	}
	return nil
}

// LockResult locks one result with its sitting; apperr.NotFound when absent.
func (s Store) LockResult(ctx context.Context, id int64) (Result, error) {
	var r Result
	err := s.db.NewSelect().Model(&r).Where("r.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Result{}, errResultNotFound()
	}
	if err != nil {
		return Result{}, fmt.Errorf("lock result %d: %w", id, err)
	}
	return r, nil
}

// CorrectResult writes a corrected result and its history row.
func (s Store) CorrectResult(ctx context.Context, old Result, score *Score, absent, passed bool, reason string, by int64) error {
	_, err := s.db.NewUpdate().Model((*Result)(nil)).
		Set("score = ?", score).Set("absent = ?", absent).Set("passed = ?", passed).Set("updated_at = now()").
		Where("id = ?", old.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("correct result %d: %w", old.ID, err)
	}
	ch := ResultChange{ResultID: old.ID, OldScore: old.Score, OldAbsent: old.Absent, NewScore: score, NewAbsent: absent, Reason: reason, ChangedBy: by}
	if _, err := s.db.NewInsert().Model(&ch).ExcludeColumn("id", "changed_at").Exec(ctx); err != nil {
		return fmt.Errorf("record correction of result %d: %w", old.ID, err)
	}
	return nil
}

// Changes returns the corrections of the results of a sitting, newest first.
func (s Store) Changes(ctx context.Context, sittingID int64) ([]ResultChange, error) {
	var out []ResultChange
	err := s.db.NewSelect().Model(&out).
		Where("rc.result_id IN (SELECT id FROM assessment_results WHERE sitting_id = ?)", sittingID).
		OrderExpr("rc.id DESC").Scan(ctx)
	return out, err
}

// Examiners lists a sitting's examiners.
func (s Store) Examiners(ctx context.Context, sittingID int64) ([]Examiner, error) {
	var out []Examiner
	err := s.db.NewSelect().Model(&out).Where("e.sitting_id = ?", sittingID).OrderExpr("e.role DESC, e.id").Scan(ctx)
	return out, err
}

// ReplaceExaminers sets a sitting's examiners.
func (s Store) ReplaceExaminers(ctx context.Context, sittingID int64, es []Examiner) error {
	if _, err := s.db.NewDelete().Model((*Examiner)(nil)).Where("sitting_id = ?", sittingID).Exec(ctx); err != nil {
		return fmt.Errorf("clear examiners of sitting %d: %w", sittingID, err)
	}
	if len(es) == 0 {
		return nil
	}
	for i := range es {
		es[i].SittingID = sittingID
	}
	if _, err := s.db.NewInsert().Model(&es).ExcludeColumn("id").Exec(ctx); err != nil {
		if isUnique(err) {
			return apperr.Invalid("duplicate_examiner", "考评人员姓名重复",
				apperr.FieldError{Field: "examiners", Code: "duplicate_examiner", Message: "同一场次的考评人员姓名不能重复"})
		}
		return fmt.Errorf("insert examiners of sitting %d: %w", sittingID, err)
	}
	return nil
}

// ExaminerCounts counts proctors and examiners of sittings.
func (s Store) ExaminerCounts(ctx context.Context, sittingIDs []int64) (map[int64][2]int, error) {
	out := map[int64][2]int{}
	if len(sittingIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		SittingID int64 `bun:"sitting_id"`
		Proctors  int   `bun:"proctors"`
		Examiners int   `bun:"examiners"`
	}
	err := s.db.NewSelect().TableExpr("assessment_examiners AS e").
		ColumnExpr("e.sitting_id, count(*) FILTER (WHERE e.role = 'proctor') AS proctors, count(*) FILTER (WHERE e.role = 'examiner') AS examiners").
		Where("e.sitting_id IN (?)", bun.List(sittingIDs)).GroupExpr("e.sitting_id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("examiner counts: %w", err)
	}
	for _, r := range rows {
		out[r.SittingID] = [2]int{r.Proctors, r.Examiners}
	}
	return out, nil
}

// MoveSitting changes a sitting's time and place and its candidates' time.
func (s Store) MoveSitting(ctx context.Context, id int64, start, end time.Time, place string) error {
	if _, err := s.db.NewUpdate().Model((*Sitting)(nil)).Set("starts_at = ?, ends_at = ?, place = ?, updated_at = now()", start, end, place).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("move sitting %d: %w", id, err)
	}
	_, err := s.db.NewUpdate().Model((*Candidate)(nil)).Set("during = tstzrange(?, ?)", start, end).Where("sitting_id = ?", id).Exec(ctx)
	if isExclusion(err) {
		return errOverlap(0, "")
	}
	if err != nil {
		return fmt.Errorf("move candidates of sitting %d: %w", id, err)
	}
	return nil
}

// CancelSitting marks a sitting cancelled and frees its candidates' time.
func (s Store) CancelSitting(ctx context.Context, id int64, reason string) error {
	if _, err := s.db.NewUpdate().Model((*Sitting)(nil)).
		Set("state = 'cancelled', cancel_reason = ?, cancelled_at = now(), updated_at = now()", reason).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("cancel sitting %d: %w", id, err)
	}
	_, err := s.db.NewUpdate().Model((*Candidate)(nil)).Set("active = false").Where("sitting_id = ?", id).Exec(ctx)
	return err
}

// CandidateWorkers lists the worker IDs of a sitting's candidates.
func (s Store) CandidateWorkers(ctx context.Context, sittingID int64) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().TableExpr("assessment_candidates").Column("worker_id").
		Where("sitting_id = ?", sittingID).OrderExpr("worker_id").Scan(ctx, &ids)
	return ids, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// PassedEnrolments returns enrolments with a passing result recorded (or
// corrected) on or after since, with the time of their latest pass; except
// (a sub-query of enrolment ids, nil for none) leaves enrolments out; at
// most limit of them, lowest enrolment first (0: all).
func (s Store) PassedEnrolments(ctx context.Context, since time.Time, except *bun.SelectQuery, limit int) (map[int64]time.Time, error) {
	var rows []struct {
		EnrolmentID int64     `bun:"enrolment_id"`
		At          time.Time `bun:"at"`
	}
	q := s.db.NewSelect().TableExpr("assessment_results AS r").ColumnExpr("r.enrolment_id, max(r.updated_at) AS at").
		Where("r.passed")
	if except != nil {
		// NOT EXISTS, not NOT IN: an anti-join stays a hash join when
		// except holds millions of rows (NOT IN falls back to a per-row
		// sub-plan once the set outgrows work_mem).
		q = q.Where("NOT EXISTS (SELECT 1 FROM (?) AS x(id) WHERE x.id = r.enrolment_id)", except)
	}
	q = q.GroupExpr("r.enrolment_id").Having("max(r.updated_at) >= ?", since)
	if limit > 0 {
		q = q.OrderExpr("r.enrolment_id").Limit(int64(limit))
	}
	err := q.Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("passed enrolments: %w", err)
	}
	out := make(map[int64]time.Time, len(rows))
	for _, r := range rows {
		out[r.EnrolmentID] = r.At
	}
	return out, nil
}

// ClosedSitting is a closed sitting without a next attempt yet.
type ClosedSitting struct {
	ID            int64     `bun:"id"`
	ClassID       int64     `bun:"class_id"`
	ProviderOrgID int64     `bun:"provider_org_id"`
	RegionCode    string    `bun:"region_code"`
	Place         string    `bun:"place"`
	Kind          Kind      `bun:"kind"`
	Attempt       int       `bun:"attempt"`
	StartsAt      time.Time `bun:"starts_at"`
}

// ClosedWithoutNext lists closed sittings that started after since and
// whose class part has no later attempt, by id after afterID.
func (s Store) ClosedWithoutNext(ctx context.Context, since time.Time, afterID int64, limit int) ([]ClosedSitting, error) {
	var out []ClosedSitting
	err := s.db.NewSelect().TableExpr("assessment_sittings AS s").
		ColumnExpr("s.id, s.class_id, s.provider_org_id, s.region_code, s.place, s.kind, s.attempt, s.starts_at").
		Where("s.state = 'closed' AND s.starts_at >= ? AND s.id > ?", since, afterID).
		Where("NOT EXISTS (SELECT 1 FROM assessment_sittings AS n WHERE n.class_id = s.class_id AND n.kind = s.kind AND n.attempt > s.attempt)").
		OrderExpr("s.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("closed sittings: %w", err)
	}
	return out, nil
}

// Upcoming is a candidate of a scheduled sitting, for reminders.
type Upcoming struct {
	SittingID int64     `bun:"sitting_id"`
	WorkerID  int64     `bun:"worker_id"`
	Kind      Kind      `bun:"kind"`
	StartsAt  time.Time `bun:"starts_at"`
	Place     string    `bun:"place"`
}

// StartingBetween lists active candidates of scheduled sittings starting
// in [from, to).
func (s Store) StartingBetween(ctx context.Context, from, to time.Time) ([]Upcoming, error) {
	var out []Upcoming
	err := s.db.NewSelect().TableExpr("assessment_candidates AS c").
		ColumnExpr("c.sitting_id, c.worker_id, s.kind, s.starts_at, s.place").
		Join("JOIN assessment_sittings AS s ON s.id = c.sitting_id").
		Where("s.state = 'scheduled' AND c.active AND s.starts_at >= ? AND s.starts_at < ?", from, to).
		OrderExpr("c.sitting_id, c.worker_id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("sittings starting %v: %w", from, err)
	}
	return out, nil
}

// WorkerSitting is a sitting a worker is a candidate of, with their result.
type WorkerSitting struct {
	ID          int64     `bun:"id"`
	ClassID     int64     `bun:"class_id"`
	EnrolmentID int64     `bun:"enrolment_id"`
	Kind        Kind      `bun:"kind"`
	Attempt     int       `bun:"attempt"`
	StartsAt    time.Time `bun:"starts_at"`
	EndsAt      time.Time `bun:"ends_at"`
	Place       string    `bun:"place"`
	State       State     `bun:"state"`
	Score       *Score    `bun:"score"`
	Absent      *bool     `bun:"absent"`
	Passed      *bool     `bun:"passed"`
}

// WorkerSittings lists the sittings (not cancelled) a worker is in.
func (s Store) WorkerSittings(ctx context.Context, workerID int64) ([]WorkerSitting, error) {
	var out []WorkerSitting
	err := s.db.NewSelect().TableExpr("assessment_candidates AS c").
		ColumnExpr("s.id, s.class_id, c.enrolment_id, s.kind, s.attempt, s.starts_at, s.ends_at, s.place, s.state, r.score, r.absent, r.passed").
		Join("JOIN assessment_sittings AS s ON s.id = c.sitting_id").
		Join("LEFT JOIN assessment_results AS r ON r.sitting_id = c.sitting_id AND r.enrolment_id = c.enrolment_id").
		Where("c.worker_id = ? AND c.active", workerID).OrderExpr("s.starts_at DESC").Limit(500).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("sittings of worker %d: %w", workerID, err)
	}
	return out, nil
}

// ResultText is the worker's result in the sitting in words.
func (w WorkerSitting) ResultText() string {
	switch {
	case w.Absent == nil:
		return w.State.Label()
	case *w.Absent:
		return "缺考"
	case w.Score != nil && w.Passed != nil && *w.Passed:
		return w.Score.String() + " 分（合格）"
	case w.Score != nil:
		return w.Score.String() + " 分（不合格）"
	}
	return ""
}

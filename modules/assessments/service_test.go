package assessments_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/assessments"
	"tuoyu/modules/catalog"
	"tuoyu/modules/pii"
	"tuoyu/modules/workers/workerstest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = time.FixedZone("CST", 8*3600)

// nationalDay2026: 10-01…10-07 holidays, 09-20 and 10-10 worked.
func nationalDay2026(d time.Time) bool {
	s := d.Format("01-02")
	if d.Year() == 2026 && s >= "10-01" && s <= "10-07" {
		return false
	}
	if d.Year() == 2026 && (s == "09-20" || s == "10-10") {
		return true
	}
	return assessments.Weekdays(d)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(s string) {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type world struct {
	t        *testing.T
	db       *bun.DB
	cipher   *pii.Cipher
	clock    *clock
	svc      *assessments.Service
	provider *accounts.Principal
	other    *accounts.Principal
	passes   atomic.Int32
	changed  atomic.Int32
}

var (
	setupOnce sync.Once
	sharedDB  *bun.DB
	seq       atomic.Int64
)

func newWorld(t *testing.T) *world {
	t.Helper()
	db := dbtest.DB(t)
	setupOnce.Do(func() {
		if err := catalog.NewService(db).Seed(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	w := &world{t: t, db: db, cipher: workerstest.Cipher(t), clock: &clock{}}
	w.clock.set("2026-09-30 01:00")
	w.svc = w.service()
	org := workerstest.Org(t, db, "provider", "420100")
	w.provider = workerstest.Staff(t, db, accounts.RoleProvider, org, "420100")
	w.other = workerstest.Staff(t, db, accounts.RoleProvider, workerstest.Org(t, db, "provider", "420500"), "420500")
	return w
}

// service returns a service on the shared clock and test calendar, as a
// second app instance would build it.
func (w *world) service() *assessments.Service {
	s := assessments.NewService(w.db, w.cipher, w.clock.now, shanghai)
	s.WorkingDay = func(context.Context) (func(time.Time) bool, error) { return nationalDay2026, nil }
	s.OnPass = func(ctx context.Context, tx bun.IDB, p assessments.Pass) error { w.passes.Add(1); return nil }
	s.OnPassChanged = func(ctx context.Context, tx bun.IDB, p assessments.Pass, passed bool) error {
		w.changed.Add(1)
		return nil
	}
	return s
}

type enrolled struct {
	ID, WorkerID int64
	IDNumber     string
	P            *accounts.Principal
}

// class inserts a completed class of plan for the provider, ending on end,
// with n completed enrolments.
func (w *world) class(p *accounts.Principal, plan, end string, n int) (int64, []enrolled) {
	w.t.Helper()
	ctx := context.Background()
	e, _ := time.Parse(time.DateOnly, end)
	// Each class gets its own stretch of dates so that a worker's classes
	// never overlap (they are new workers anyway).
	start := e.AddDate(0, 0, -9)
	var classID int64
	err := w.db.NewRaw(`INSERT INTO classes (provider_org_id, plan_id, name, starts_on, ends_on, place, region_code, capacity, state)
		SELECT ?, id, ?, ?, ?, '武汉市武昌区培训中心', '420100', 100, 'completed' FROM plans WHERE code = ? RETURNING id`,
		p.OrgID, fmt.Sprintf("%s 第%d期", plan, seq.Add(1)), start.Format(time.DateOnly), end, plan).Scan(ctx, &classID)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []enrolled
	for i := 0; i < n; i++ {
		out = append(out, w.enrol(classID, plan, start, e))
	}
	return classID, out
}

func (w *world) enrol(classID int64, plan string, start, end time.Time) enrolled {
	w.t.Helper()
	ctx := context.Background()
	id := workerstest.IDNumber("420106")
	enc, err := w.cipher.Encrypt(id)
	if err != nil {
		w.t.Fatal(err)
	}
	var workerID int64
	err = w.db.NewRaw(`INSERT INTO workers (name, id_number_enc, id_number_idx, id_mask, sex, birth_date, id_area_code)
		VALUES (?, ?, ?, ?, 'female', '1990-01-01', '420106') RETURNING id`,
		fmt.Sprintf("学员%d", seq.Add(1)), enc, w.cipher.Index(pii.KindIDNumber, id), pii.MaskID(id)).Scan(ctx, &workerID)
	if err != nil {
		w.t.Fatal(err)
	}
	var enID int64
	err = w.db.NewRaw(`INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
		SELECT ?, ?, current_version_id, 'completed', 'provider', daterange(?, ?, '[]'), ? FROM plans WHERE code = ? RETURNING id`,
		classID, workerID, start.Format(time.DateOnly), end.Format(time.DateOnly), end.Format(time.DateOnly), plan).Scan(ctx, &enID)
	if err != nil {
		w.t.Fatal(err)
	}
	return enrolled{ID: enID, WorkerID: workerID, IDNumber: id, P: workerstest.WorkerUser(w.t, w.db, workerID)}
}

func (w *world) sittings(classID int64) []assessments.SittingView {
	w.t.Helper()
	_, vs, err := w.svc.ClassSittings(context.Background(), w.provider, classID)
	if err != nil {
		w.t.Fatal(err)
	}
	return vs
}

func wantCode(t *testing.T, err error, code string) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	return e
}

func TestScheduleJobFixedClock(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	classID, _ := w.class(w.provider, "BYS-4", "2026-09-29", 5)
	theoryOnly, _ := w.class(w.provider, "FZR-GW", "2026-09-29", 2)
	noAssessment, _ := w.class(w.provider, "BYS-ZG", "2026-09-29", 2)

	// Two instances at once, then a re-run: nothing twice.
	a, b := w.service(), w.service()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*assessments.Service{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = s.ScheduleDue(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.svc.ScheduleDue(ctx); err != nil || n.Sittings != 0 {
		t.Fatalf("re-run created %+v, %v", n, err)
	}

	vs := w.sittings(classID)
	if len(vs) != 2 {
		t.Fatalf("class got %d sittings, want theory and practical", len(vs))
	}
	want := map[assessments.Kind][2]string{
		assessments.KindTheory:    {"2026-10-08T09:00:00+08:00", "2026-10-08T11:00:00+08:00"},
		assessments.KindPractical: {"2026-10-09T09:00:00+08:00", "2026-10-09T12:00:00+08:00"},
	}
	for _, v := range vs {
		got := [2]string{v.StartsAt.In(shanghai).Format(time.RFC3339), v.EndsAt.In(shanghai).Format(time.RFC3339)}
		if got != want[v.Kind] || v.Attempt != 1 || v.Candidates != 5 || !v.CreatedByJob || v.State != assessments.StateScheduled {
			t.Errorf("%s sitting %+v at %v, want %v with 5 candidates", v.Kind, v.Sitting, got, want[v.Kind])
		}
	}
	if vs := w.sittings(theoryOnly); len(vs) != 1 || vs[0].Kind != assessments.KindTheory {
		t.Errorf("FZR-GW class sittings = %+v, want one theory", vs)
	}
	if vs := w.sittings(noAssessment); len(vs) != 0 {
		t.Errorf("BYS-ZG class got %d sittings, want none", len(vs))
	}
	// Another provider's class is not found.
	if _, _, err := w.svc.ClassSittings(ctx, w.other, classID); !apperr.Is(err, "class_not_found") {
		t.Errorf("other provider: %v", err)
	}
}

func TestResultsOutcomeAndCorrection(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	classID, ens := w.class(w.provider, "FZR-GW", "2026-09-29", 5)
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	sit := w.sittings(classID)[0]
	rows := func(scores ...float64) []assessments.ResultInput {
		var out []assessments.ResultInput
		for i, s := range scores {
			v := s
			if s < 0 {
				out = append(out, assessments.ResultInput{EnrolmentID: ens[i].ID, Absent: true})
				continue
			}
			out = append(out, assessments.ResultInput{EnrolmentID: ens[i].ID, Score: &v})
		}
		return out
	}

	// Before the start: not_started.
	_, err := w.svc.RecordResults(ctx, w.provider, sit.ID, rows(80))
	wantCode(t, err, "not_started")
	w.clock.set("2026-10-08 11:30")
	checkExaminers(t, w, sit.ID, rows(80))
	// Another provider: not found.
	_, err = w.svc.RecordResults(ctx, w.other, sit.ID, rows(80))
	wantCode(t, err, "sitting_not_found")

	// Bad rows: one error each, nothing stored.
	bad := rows(101, 70)
	bad = append(bad, assessments.ResultInput{EnrolmentID: 999999999, Score: ptr(50)}, assessments.ResultInput{EnrolmentID: ens[1].ID, Score: ptr(60)})
	_, err = w.svc.RecordResults(ctx, w.provider, sit.ID, bad)
	e := wantCode(t, err, "invalid_results")
	codes := map[string]int{}
	for _, f := range e.Fields {
		codes[f.Code] = f.Row
	}
	if len(e.Fields) != 3 || codes["invalid_score"] != 1 || codes["not_candidate"] != 3 || codes["duplicate"] != 4 {
		t.Fatalf("row errors = %+v", e.Fields)
	}
	_, cands, err := w.svc.Candidates(ctx, w.provider, sit.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if c.ResultID != 0 {
			t.Fatalf("a bad request stored a result: %+v", c)
		}
	}

	res, err := w.svc.RecordResults(ctx, w.provider, sit.ID, rows(60, 59.5, 88, -1))
	if err != nil {
		t.Fatal(err)
	}
	if res != (assessments.Recorded{Recorded: 4, Passed: 2, Failed: 1, Absent: 1}) {
		t.Errorf("recorded %+v", res)
	}
	if n := w.passes.Load(); n != 2 {
		t.Errorf("OnPass called %d times, want 2", n)
	}
	if o, left, err := w.svc.Outcome(ctx, ens[0].ID); err != nil || o != assessments.OutcomePassed || left != 0 {
		t.Errorf("pass outcome %s %d %v", o, left, err)
	}
	if o, left, _ := w.svc.Outcome(ctx, ens[1].ID); o != assessments.OutcomeAwaiting || left != 1 {
		t.Errorf("59.5 outcome %s left %d, want awaiting with 1", o, left)
	}

	checkCorrection(t, w, sit.ID, ens)
	checkResultReaders(t, w, classID, ens)
}

// checkExaminers: results wait for a panel meeting the ratio, and only
// users of the provider (or outside names) examine.
func checkExaminers(t *testing.T, w *world, sitID int64, one []assessments.ResultInput) {
	t.Helper()
	ctx := context.Background()
	// Ratio broken (one proctor for one room): refused until fixed.
	if v, err := w.svc.SetExaminers(ctx, w.provider, sitID, []assessments.ExaminerInput{{Name: "张监考", Role: "proctor"}}); err != nil || v.Ratio.OK {
		t.Fatalf("one proctor: %+v, %v", v.Ratio, err)
	}
	_, err := w.svc.RecordResults(ctx, w.provider, sitID, one)
	wantCode(t, err, "examiners_insufficient")
	// A user of another organisation cannot examine; one of the provider can.
	_, err = w.svc.SetExaminers(ctx, w.provider, sitID, []assessments.ExaminerInput{{Name: "张监考", Role: "proctor"}, {UserID: w.other.UserID, Role: "proctor"}})
	wantCode(t, err, "invalid_examiner")
	if v, err := w.svc.SetExaminers(ctx, w.provider, sitID, []assessments.ExaminerInput{{Name: "张监考", Role: "proctor"}, {UserID: w.provider.UserID, Role: "proctor"}}); err != nil || !v.Ratio.OK {
		t.Fatalf("two proctors: %+v, %v", v.Ratio, err)
	}
	if es, err := w.svc.Examiners(ctx, w.provider, sitID); err != nil || len(es) != 2 || es[1].UserID != w.provider.UserID || es[1].Name == "" {
		t.Errorf("examiners %+v %v", es, err)
	}
}

// checkCorrection: a correction needs a reason, keeps history, flips a
// fail into a pass (OnPassChanged) and is refused to another provider.
func checkCorrection(t *testing.T, w *world, sitID int64, ens []enrolled) {
	t.Helper()
	ctx := context.Background()
	_, cands, _ := w.svc.Candidates(ctx, w.provider, sitID)
	var failedResult int64
	for _, c := range cands {
		if c.EnrolmentID == ens[1].ID {
			failedResult = c.ResultID
		}
	}
	_, err := w.svc.Correct(ctx, w.provider, failedResult, assessments.CorrectionInput{Score: ptr(61)})
	wantCode(t, err, "invalid_correction")
	if r, err := w.svc.Correct(ctx, w.provider, failedResult, assessments.CorrectionInput{Score: ptr(61), Reason: "阅卷漏计一题"}); err != nil || !r.Passed {
		t.Fatalf("correction: %+v %v", r, err)
	}
	if w.changed.Load() != 1 || w.passes.Load() != 3 {
		t.Errorf("after correction OnPassChanged %d, OnPass %d", w.changed.Load(), w.passes.Load())
	}
	changes, err := assessments.NewStore(w.db).Changes(ctx, sitID)
	if err != nil || len(changes) != 1 || changes[0].OldScore == nil || changes[0].OldScore.String() != "59.5" || changes[0].Reason != "阅卷漏计一题" {
		t.Errorf("history = %+v, %v", changes, err)
	}
	_, err = w.svc.Correct(ctx, w.other, failedResult, assessments.CorrectionInput{Score: ptr(30), Reason: "x"})
	wantCode(t, err, "result_not_found")
}

// checkResultReaders: the worker and the college that sent them read the
// results, other workers and colleges do not; Passes lists the passes.
func checkResultReaders(t *testing.T, w *world, classID int64, ens []enrolled) {
	t.Helper()
	ctx := context.Background()
	outs, err := w.svc.WorkerResults(ctx, ens[0].P, ens[0].WorkerID)
	if err != nil || len(outs) != 1 || outs[0].Outcome != assessments.OutcomePassed || len(outs[0].Results) != 1 {
		t.Errorf("own results %+v %v", outs, err)
	}
	if _, err := w.svc.WorkerResults(ctx, ens[1].P, ens[0].WorkerID); !apperr.Is(err, "worker_not_found") {
		t.Errorf("other worker: %v", err)
	}
	// The college that sent the worker sees the outcome; another does not.
	college := workerstest.Staff(t, w.db, accounts.RoleCollege, workerstest.Org(t, w.db, "college", "420100"), "420100")
	if _, err := w.db.NewRaw("UPDATE workers SET college_org_id = ? WHERE id = ?", college.OrgID, ens[0].WorkerID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if outs, err := w.svc.WorkerResults(ctx, college, ens[0].WorkerID); err != nil || len(outs) != 1 || outs[0].Outcome != assessments.OutcomePassed {
		t.Errorf("college sees %+v %v", outs, err)
	}
	otherCollege := workerstest.Staff(t, w.db, accounts.RoleCollege, workerstest.Org(t, w.db, "college", "420100"), "420100")
	if _, err := w.svc.WorkerResults(ctx, otherCollege, ens[0].WorkerID); !apperr.Is(err, "worker_not_found") {
		t.Errorf("other college: %v", err)
	}
	passes, err := w.svc.Passes(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, p := range passes {
		if p.ClassID == classID {
			found++
		}
	}
	if found != 3 {
		t.Errorf("Passes lists %d of this class, want 3", found)
	}
}

func ptr(f float64) *float64 { return &f }

func TestCloseAndResit(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.clock.set("2026-11-02 01:00")
	classID, ens := w.class(w.provider, "FZR-GW", "2026-10-30", 3)
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	sit := w.sittings(classID)[0]
	if got := sit.StartsAt.In(shanghai).Format("2006-01-02 15:04"); got != "2026-11-06 09:00" {
		t.Fatalf("theory at %s", got)
	}
	if _, err := w.svc.SetExaminers(ctx, w.provider, sit.ID, []assessments.ExaminerInput{{Name: "甲", Role: "proctor"}, {Name: "乙", Role: "proctor"}}); err != nil {
		t.Fatal(err)
	}
	w.clock.set("2026-11-06 12:00")
	if _, err := w.svc.RecordResults(ctx, w.provider, sit.ID, []assessments.ResultInput{{EnrolmentID: ens[0].ID, Score: ptr(90)}, {EnrolmentID: ens[1].ID, Score: ptr(40)}}); err != nil {
		t.Fatal(err)
	}
	// One result missing: stays open until result_days passed.
	state := func(id int64) assessments.State {
		v, err := w.svc.Sitting(ctx, w.provider, id)
		if err != nil {
			t.Fatal(err)
		}
		return v.State
	}
	if _, err := w.svc.CloseDue(ctx); err != nil || state(sit.ID) != assessments.StateScheduled {
		t.Fatalf("closed early, %v", err)
	}
	w.clock.set("2026-11-13 12:00")
	if _, err := w.svc.CloseDue(ctx); err != nil || state(sit.ID) != assessments.StateClosed {
		t.Fatalf("not closed after result_days, %v", err)
	}
	if o, left, _ := w.svc.Outcome(ctx, ens[2].ID); o != assessments.OutcomeAwaiting || left != 1 {
		t.Errorf("absent candidate: %s left %d", o, left)
	}
	// Re-sit 14 days after 11-06: 11-20, for the failed and the absent.
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	vs := w.sittings(classID)
	if len(vs) != 2 {
		t.Fatalf("sittings %d, want the first and one re-sit", len(vs))
	}
	re := vs[1]
	if re.Attempt != 2 || re.Candidates != 2 || re.StartsAt.In(shanghai).Format(time.DateOnly) != "2026-11-20" {
		t.Errorf("re-sit %+v", re.Sitting)
	}
	// Failing the second attempt too uses the last attempt: failed.
	if _, err := w.svc.SetExaminers(ctx, w.provider, re.ID, []assessments.ExaminerInput{{Name: "甲", Role: "proctor"}, {Name: "乙", Role: "proctor"}}); err != nil {
		t.Fatal(err)
	}
	w.clock.set("2026-11-20 12:00")
	if _, err := w.svc.RecordResults(ctx, w.provider, re.ID, []assessments.ResultInput{{EnrolmentID: ens[1].ID, Score: ptr(30)}, {EnrolmentID: ens[2].ID, Score: ptr(75)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CloseDue(ctx); err != nil || state(re.ID) != assessments.StateClosed {
		t.Fatalf("all results in: not closed, %v", err)
	}
	if o, left, _ := w.svc.Outcome(ctx, ens[1].ID); o != assessments.OutcomeFailed || left != 0 {
		t.Errorf("two failures: %s left %d", o, left)
	}
	if o, _, _ := w.svc.Outcome(ctx, ens[2].ID); o != assessments.OutcomePassed {
		t.Errorf("pass at the re-sit: %s", o)
	}
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.sittings(classID)); n != 2 {
		t.Errorf("no attempts left yet %d sittings", n)
	}
}

func TestHandScheduleRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.clock.set("2026-09-30 10:00")
	classA, ens := w.class(w.provider, "BYS-4", "2026-09-29", 2)
	in := assessments.SittingInput{Kind: "theory", StartsAt: "2026-09-29T09:00:00+08:00", EndsAt: "2026-09-29T11:00:00+08:00", Place: "第一考场"}
	e := wantCode(t, func() error { _, err := w.svc.Schedule(ctx, w.provider, classA, in); return err }(), "invalid_sitting")
	if e.Fields[0].Code != "before_class_end" {
		t.Errorf("fields %+v", e.Fields)
	}
	in.StartsAt, in.EndsAt = "2026-10-03T09:00:00+08:00", "2026-10-03T11:00:00+08:00"
	e = wantCode(t, func() error { _, err := w.svc.Schedule(ctx, w.provider, classA, in); return err }(), "invalid_sitting")
	if e.Fields[0].Code != "non_working_day" {
		t.Errorf("fields %+v", e.Fields)
	}
	in.ConfirmNonWorkingDay = true
	first, err := w.svc.Schedule(ctx, w.provider, classA, in)
	if err != nil || first.Candidates != 2 || first.Attempt != 1 {
		t.Fatalf("confirmed: %+v %v", first, err)
	}
	// Someone else's class: not found.
	if _, err := w.svc.Schedule(ctx, w.other, classA, in); !apperr.Is(err, "class_not_found") {
		t.Errorf("other provider: %v", err)
	}
	// Nobody left to sit theory (all waiting in the first sitting).
	in.ConfirmNonWorkingDay = false
	in.StartsAt, in.EndsAt = "2026-10-09T09:00:00+08:00", "2026-10-09T11:00:00+08:00"
	if _, err := w.svc.Schedule(ctx, w.provider, classA, in); !apperr.Is(err, "no_candidates") {
		t.Errorf("second theory: %v", err)
	}
	// A worker in a second class at an overlapping time: sitting_overlap
	// naming the other sitting.
	classB, _ := w.class(w.provider, "BYS-4", "2026-09-18", 0)
	var workerID int64 = ens[0].WorkerID
	var enID int64
	if err := w.db.NewRaw(`INSERT INTO enrolments (class_id, worker_id, plan_version_id, status, source, period, completed_on)
		SELECT ?, ?, current_version_id, 'completed', 'provider', daterange('2026-09-09', '2026-09-18', '[]'), '2026-09-18' FROM plans WHERE code = 'BYS-4' RETURNING id`,
		classB, workerID).Scan(ctx, &enID); err != nil {
		t.Fatal(err)
	}
	in.StartsAt, in.EndsAt, in.ConfirmNonWorkingDay = "2026-10-03T10:00:00+08:00", "2026-10-03T12:00:00+08:00", true
	_, err = w.svc.Schedule(ctx, w.provider, classB, in)
	e = wantCode(t, err, "sitting_overlap")
	if e.Extra["other_sitting_id"] != first.ID {
		t.Errorf("overlap names %v, want %d", e.Extra, first.ID)
	}
	// Moving the first sitting away frees the time; its candidates are told.
	moved, err := w.svc.Move(ctx, w.provider, first.ID, assessments.SittingInput{StartsAt: "2026-10-08T14:00:00+08:00", EndsAt: "2026-10-08T16:00:00+08:00", Reason: "国庆调整"})
	if err != nil || moved.StartsAt.In(shanghai).Hour() != 14 {
		t.Fatalf("move: %+v %v", moved, err)
	}
	if _, err := w.svc.Schedule(ctx, w.provider, classB, in); err != nil {
		t.Errorf("after the move: %v", err)
	}
	var notes int
	if err := w.db.NewRaw("SELECT count(*) FROM notifications WHERE worker_id = ? AND kind = 'assessments.moved'", workerID).Scan(ctx, &notes); err != nil || notes != 1 {
		t.Errorf("moved notifications %d %v", notes, err)
	}
	if err := w.svc.Cancel(ctx, w.provider, first.ID, ""); !apperr.Is(err, "reason_required") {
		t.Errorf("cancel without reason: %v", err)
	}
	if err := w.svc.Cancel(ctx, w.provider, first.ID, "考场维修"); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.svc.Sitting(ctx, w.provider, first.ID); v.State != assessments.StateCancelled {
		t.Errorf("state %s", v.State)
	}
}

func TestRemindersOncePerWorker(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.clock.set("2026-09-30 01:00")
	classID, ens := w.class(w.provider, "FZR-GW", "2026-09-29", 2)
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	_ = classID
	count := func() int {
		var n int
		if err := w.db.NewRaw("SELECT count(*) FROM notifications WHERE worker_id = ? AND kind = 'assessments.reminder'", ens[0].WorkerID).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w.clock.set("2026-10-05 08:00") // theory on 10-08: in 3 days
	for i := 0; i < 2; i++ {
		if _, err := w.service().SendReminders(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("3-day reminders %d, want 1", n)
	}
	w.clock.set("2026-10-07 20:00")
	for i := 0; i < 2; i++ {
		if _, err := w.service().SendReminders(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 2 {
		t.Fatalf("after the 1-day reminder %d, want 2", n)
	}
}

func TestCalendarFeed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, ens := w.class(w.provider, "FZR-GW", "2026-09-29", 1)
	if _, err := w.svc.ScheduleDue(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := w.svc.ResetCalendarToken(ctx, ens[0].P)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := w.svc.CalendarFeed(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	s := string(feed)
	if c := countOf(s, "BEGIN:VEVENT"); c != 11 { // 10 class days and a sitting
		t.Errorf("%d events:\n%s", c, s)
	}
	if !contains(s, "DTSTART:20261008T010000Z") {
		t.Errorf("sitting missing:\n%s", s)
	}
	again, _ := w.svc.ResetCalendarToken(ctx, ens[0].P)
	if _, err := w.svc.CalendarFeed(ctx, tok); !apperr.Is(err, "feed_not_found") {
		t.Errorf("old token still works: %v", err)
	}
	if _, err := w.svc.CalendarFeed(ctx, again); err != nil {
		t.Error(err)
	}
	var stored int
	_ = w.db.NewRaw("SELECT count(*) FROM calendar_feed_tokens WHERE token_hash = convert_to(?, 'UTF8')", again).Scan(ctx, &stored)
	if stored != 0 {
		t.Error("token stored in clear")
	}
}

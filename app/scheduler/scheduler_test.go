package scheduler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// clock is a settable fixed clock shared by the schedulers of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func noEnv(string) string { return "" }

// emptyDB returns the package database without job runs, so each test (and
// each repetition under -count) starts from nothing.
func emptyDB(t *testing.T) *bun.DB {
	t.Helper()
	db := dbtest.DB(t)
	if _, err := db.NewDelete().Model((*Run)(nil)).Where("true").Exec(context.Background()); err != nil {
		t.Fatalf("empty job_runs: %v", err)
	}
	return db
}

// newScheduler returns a scheduler on db with the given clock and jobs,
// named as a separate instance.
func newScheduler(t *testing.T, db *bun.DB, c *clock, instance string, jobs ...Job) *Scheduler {
	t.Helper()
	s := New(db, nil, shanghai, c.now, noEnv)
	s.instance = instance
	if err := s.Add(jobs...); err != nil {
		t.Fatalf("add jobs: %v", err)
	}
	return s
}

func runsOf(t *testing.T, db *bun.DB, job string) []Run {
	t.Helper()
	var runs []Run
	if err := db.NewSelect().Model(&runs).Where("job = ?", job).Order("slot").Scan(context.Background()); err != nil {
		t.Fatalf("select runs of %s: %v", job, err)
	}
	return runs
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func TestTwoInstancesRunOneSlotOnce(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 03:00:00")}
	var calls atomic.Int32
	job := Job{Name: "test.once", Spec: "0 3 * * *", Run: func(ctx context.Context, slot time.Time) error {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond) // long enough for the runs to overlap
		return nil
	}}
	a := newScheduler(t, db, c, "a", job)
	b := newScheduler(t, db, c, "b", job)
	slot := at("2026-12-01 03:00:00")

	var wg sync.WaitGroup
	for _, s := range []*Scheduler{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runSlot(context.Background(), s.job("test.once"), slot)
		}()
	}
	wg.Wait()

	if n := calls.Load(); n != 1 {
		t.Fatalf("job body ran %d times for one slot, want 1", n)
	}
	runs := runsOf(t, db, "test.once")
	if len(runs) != 1 || runs[0].Status != StatusOK || !runs[0].Slot.Equal(slot) || runs[0].FinishedAt == nil {
		t.Fatalf("runs = %+v, want one ok run for %s", runs, slot)
	}
	if runs[0].Instance != "a" && runs[0].Instance != "b" {
		t.Errorf("instance = %q", runs[0].Instance)
	}
}

// TestRunsTakeTurns fires more jobs at one slot than MaxConcurrent: they
// all run, but never more than MaxConcurrent at once, so due jobs cannot
// take the whole connection pool.
func TestRunsTakeTurns(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 03:00:00")}
	var running, most atomic.Int32
	var jobs []Job
	for i := range 2*MaxConcurrent + 1 {
		jobs = append(jobs, Job{Name: fmt.Sprintf("test.turn%d", i), Spec: "0 * * * *", Run: func(ctx context.Context, slot time.Time) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			return nil
		}})
	}
	s := newScheduler(t, db, c, "a", jobs...)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runSlot(context.Background(), s.job(j.Name), at("2026-12-01 03:00:00"))
		}()
	}
	wg.Wait()
	if m := most.Load(); m > MaxConcurrent || m < 1 {
		t.Errorf("%d runs went at once, want 1 to %d", m, MaxConcurrent)
	}
	for _, j := range jobs {
		if runs := runsOf(t, db, j.Name); len(runs) != 1 || runs[0].Status != StatusOK {
			t.Errorf("%s: runs %+v, want one ok run", j.Name, runs)
		}
	}
}

func TestMissedSlotIsCaughtUpOnceOnStart(t *testing.T) {
	db := emptyDB(t)
	c := &clock{}
	var calls atomic.Int32
	var gotSlot atomic.Value
	job := Job{Name: "test.catchup", Spec: "0 3 * * *", Run: func(ctx context.Context, slot time.Time) error {
		calls.Add(1)
		gotSlot.Store(slot)
		return nil
	}}

	// The app ran the job on the 27th, then was down over the 28th and
	// 29th 03:00 slots; it comes back at 10:00 on the 29th.
	first := newScheduler(t, db, c, "old", job)
	c.set(at("2026-11-27 03:00:00"))
	if first.runSlot(context.Background(), first.job("test.catchup"), at("2026-11-27 03:00:00")) == nil {
		t.Fatal("first run did not run")
	}
	calls.Store(0)

	c.set(at("2026-11-29 10:00:00"))
	a := newScheduler(t, db, c, "a", job)
	b := newScheduler(t, db, c, "b", job)
	for _, s := range []*Scheduler{a, b} {
		if err := s.Start(context.Background()); err != nil {
			t.Fatalf("start: %v", err)
		}
	}
	stop(t, a)
	stop(t, b)

	if n := calls.Load(); n != 1 {
		t.Fatalf("catch-up ran %d times with two instances starting, want 1", n)
	}
	want := at("2026-11-29 03:00:00")
	if s, _ := gotSlot.Load().(time.Time); !s.Equal(want) {
		t.Errorf("caught-up slot = %v, want only the latest missed slot %v", s, want)
	}
	runs := runsOf(t, db, "test.catchup")
	if len(runs) != 2 || !runs[1].Slot.Equal(want) || runs[1].Manual || runs[1].Status != StatusOK {
		t.Fatalf("runs = %+v", runs)
	}

	// Starting again later the same day finds the slot done.
	c.set(at("2026-11-29 11:00:00"))
	again := newScheduler(t, db, c, "c", job)
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop(t, again)
	if n := calls.Load(); n != 1 {
		t.Fatalf("a second start ran the caught-up slot again (%d runs)", n)
	}
}

func TestNewJobIsNotCaughtUp(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-11-29 10:00:00")}
	var calls atomic.Int32
	s := newScheduler(t, db, c, "a", Job{Name: "test.fresh", Spec: "0 3 * * *", Run: func(context.Context, time.Time) error {
		calls.Add(1)
		return nil
	}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop(t, s)
	if n := calls.Load(); n != 0 {
		t.Fatalf("a job that never ran was run at start (%d times)", n)
	}
	if runs := runsOf(t, db, "test.fresh"); len(runs) != 0 {
		t.Fatalf("runs = %+v, want none", runs)
	}
}

func TestPanicIsRecordedAndSchedulerGoesOn(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 00:05:00")}
	var calls atomic.Int32
	s := newScheduler(t, db, c, "a", Job{Name: "test.panic", Spec: "*/5 * * * *", Run: func(context.Context, time.Time) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}})
	e := s.job("test.panic")

	run := s.runSlot(context.Background(), e, at("2026-12-01 00:05:00"))
	if run == nil || run.Status != StatusFailed || run.Error != "panic: boom" {
		t.Fatalf("panicking run = %+v, want failed with the panic text", run)
	}
	// The lock was released: the next slot runs rather than being skipped.
	c.set(at("2026-12-01 00:10:00"))
	run = s.runSlot(context.Background(), e, at("2026-12-01 00:10:00"))
	if run == nil || run.Status != StatusOK {
		t.Fatalf("run after the panic = %+v, want ok", run)
	}
	runs := runsOf(t, db, "test.panic")
	if len(runs) != 2 || runs[0].Status != StatusFailed || runs[0].Error != "panic: boom" || runs[1].Status != StatusOK || runs[1].Error != "" {
		t.Fatalf("stored runs = %+v", runs)
	}
}

func TestTimeoutCancelsTheRun(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 00:00:00")}
	var ctxErr atomic.Value
	s := newScheduler(t, db, c, "a", Job{Name: "test.slow", Spec: "0 * * * *", Timeout: 50 * time.Millisecond,
		Run: func(ctx context.Context, _ time.Time) error {
			select {
			case <-ctx.Done():
				ctxErr.Store(ctx.Err())
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return nil
			}
		}})
	begin := time.Now()
	run := s.runSlot(context.Background(), s.job("test.slow"), c.now())
	if took := time.Since(begin); took > 5*time.Second {
		t.Fatalf("run took %s despite a 50ms timeout", took)
	}
	if err, _ := ctxErr.Load().(error); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("job's context error = %v, want deadline exceeded", err)
	}
	if run == nil || run.Status != StatusFailed || !strings.Contains(run.Error, "timed out after 50ms") {
		t.Fatalf("run = %+v, want failed with a timeout", run)
	}
}

func TestOverlappingRunIsSkipped(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 00:00:00")}
	release := make(chan struct{})
	started := make(chan struct{})
	var calls atomic.Int32
	job := Job{Name: "test.long", Spec: "* * * * *", Run: func(ctx context.Context, slot time.Time) error {
		if calls.Add(1) == 1 {
			close(started)
			<-release
		}
		return nil
	}}
	a := newScheduler(t, db, c, "a", job)
	b := newScheduler(t, db, c, "b", job)

	done := make(chan *Run)
	go func() { done <- a.runSlot(context.Background(), a.job("test.long"), at("2026-12-01 00:00:00")) }()
	<-started
	next := b.runSlot(context.Background(), b.job("test.long"), at("2026-12-01 00:01:00"))
	if next == nil || next.Status != StatusSkipped || next.Error == "" {
		t.Fatalf("overlapping run = %+v, want skipped", next)
	}
	if _, err := b.RunNow(context.Background(), "test.long"); !apperr.Is(err, "job_running") {
		t.Fatalf("run now during a run: err = %v, want job_running", err)
	}
	close(release)
	if first := <-done; first.Status != StatusOK {
		t.Fatalf("long run = %+v", first)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("job body ran %d times, want 1", n)
	}
}

func TestRunNow(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 14:30:15").Add(400 * time.Millisecond)}
	var gotSlot time.Time
	s := newScheduler(t, db, c, "a", Job{Name: "test.manual", Spec: "0 3 * * *", Run: func(ctx context.Context, slot time.Time) error {
		gotSlot = slot
		return errors.New("nothing to do")
	}})

	run, err := s.RunNow(context.Background(), "test.manual")
	if err != nil {
		t.Fatal(err)
	}
	if want := at("2026-12-01 14:30:15"); !gotSlot.Equal(want) || !run.Slot.Equal(want) {
		t.Errorf("slot = %v (run %v), want now truncated to the second %v", gotSlot, run.Slot, want)
	}
	if !run.Manual || run.Status != StatusFailed || run.Error != "nothing to do" {
		t.Errorf("run = %+v, want a failed manual run", run)
	}
	if _, err := s.RunNow(context.Background(), "test.manual"); !apperr.Is(err, "job_run_exists") {
		t.Errorf("second run in the same second: err = %v, want job_run_exists", err)
	}
	if _, err := s.RunNow(context.Background(), "test.nope"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown job: err = %v, want not found", err)
	}
	if runs := runsOf(t, db, "test.manual"); len(runs) != 1 || !runs[0].Manual {
		t.Errorf("stored runs = %+v", runs)
	}
	// The run is audited, as started from the shell. (audit_events is
	// append-only, so earlier repetitions' events stay: match this run.)
	var labels []string
	err = db.NewSelect().Table("audit_events").Column("actor_label").
		Where("action = 'jobs.run' AND target_type = 'job' AND target_id = 'test.manual'").
		Where("(summary::jsonb->>'run_id')::bigint = ?", run.ID).Scan(context.Background(), &labels)
	if err != nil || len(labels) != 1 || labels[0] != "cli" {
		t.Errorf("jobs.run audit events = %v, %v; want one by cli", labels, err)
	}
}

func TestTriggerAndStopWaits(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 14:30:15")}
	var finished atomic.Bool
	s := newScheduler(t, db, c, "a", Job{Name: "test.bg", Spec: "0 3 * * *", Run: func(ctx context.Context, slot time.Time) error {
		time.Sleep(200 * time.Millisecond)
		finished.Store(true)
		return nil
	}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	run, err := s.Trigger(context.Background(), "test.bg")
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusRunning || !run.Manual {
		t.Errorf("triggered run = %+v, want running and manual", run)
	}
	stop(t, s)
	if !finished.Load() {
		t.Fatal("Stop returned before the running job finished")
	}
	if runs := runsOf(t, db, "test.bg"); len(runs) != 1 || runs[0].Status != StatusOK {
		t.Fatalf("stored runs = %+v", runs)
	}
	c.set(c.now().Add(time.Second))
	if _, err := s.Trigger(context.Background(), "test.bg"); !apperr.Is(err, "scheduler_stopping") {
		t.Fatalf("trigger after stop: err = %v", err)
	}
}

func TestStopCancelsRunsWhenItsContextEnds(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 14:30:15")}
	s := newScheduler(t, db, c, "a", Job{Name: "test.stuck", Spec: "0 3 * * *", Run: func(ctx context.Context, slot time.Time) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	if _, err := s.Trigger(context.Background(), "test.stuck"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop: err = %v, want deadline exceeded", err)
	}
	// The cancelled run still records its end.
	deadline := time.Now().Add(5 * time.Second)
	for {
		runs := runsOf(t, db, "test.stuck")
		if len(runs) == 1 && runs[0].Status == StatusFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs = %+v, want the cancelled run recorded as failed", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInterruptedRunIsMarkedFailedOnStart(t *testing.T) {
	db := emptyDB(t)
	ctx := context.Background()
	c := &clock{t: at("2026-12-01 12:00:00")}
	job := Job{Name: "test.crashed", Spec: "0 3 * * *", Timeout: time.Hour, Run: func(context.Context, time.Time) error { return nil }}
	s := newScheduler(t, db, c, "a", job)
	// A run started at 03:00 by an instance that died; another one still
	// within its timeout must be left alone.
	for _, r := range []Run{
		{Job: "test.crashed", Slot: at("2026-12-01 03:00:00"), Instance: "dead", StartedAt: at("2026-12-01 03:00:00"), Status: StatusRunning},
		{Job: "test.crashed", Slot: at("2026-12-01 11:30:00"), Manual: true, Instance: "live", StartedAt: at("2026-12-01 11:30:00"), Status: StatusRunning},
	} {
		if _, err := db.NewInsert().Model(&r).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stop(t, s)
	runs := runsOf(t, db, "test.crashed")
	if len(runs) != 2 || runs[0].Status != StatusFailed || !strings.Contains(runs[0].Error, "interrupted") || runs[1].Status != StatusRunning {
		t.Fatalf("runs = %+v", runs)
	}
}

func TestEnvOverrideChangesSpec(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 14:31:00")}
	env := map[string]string{"TUOYU_CRON_TEST_ENV_JOB": "*/10 * * * *"}
	s := New(db, nil, shanghai, c.now, func(k string) string { return env[k] })
	noop := func(context.Context, time.Time) error { return nil }
	if err := s.Add(Job{Name: "test.env_job", Spec: "0 3 * * *", Run: noop}, Job{Name: "test.plain", Spec: "0 3 * * *", Run: noop}); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "test.env_job" || list[1].Name != "test.plain" {
		t.Fatalf("list = %+v", list)
	}
	got := list[0]
	if got.Spec != "*/10 * * * *" || got.SpecSource != "TUOYU_CRON_TEST_ENV_JOB" {
		t.Errorf("overridden job = %+v", got)
	}
	if want := at("2026-12-01 14:40:00"); !got.NextRun.Equal(want) {
		t.Errorf("next run = %v, want %v from the override", got.NextRun, want)
	}
	if want := at("2026-12-02 03:00:00"); !list[1].NextRun.Equal(want) || list[1].SpecSource != "" {
		t.Errorf("plain job = %+v, next want %v", list[1], want)
	}
}

func TestBadOverrideFailsNamingTheVariable(t *testing.T) {
	c := &clock{t: at("2026-12-01 14:31:00")}
	for _, bad := range []string{"61 * * * *", "every day", "@every 5m", "TZ=UTC 0 3 * * *"} {
		s := New(nil, nil, shanghai, c.now, func(k string) string {
			if k == "TUOYU_CRON_AUDIT_VERIFY" {
				return bad
			}
			return ""
		})
		err := s.Add(Job{Name: "audit.verify", Spec: "0 3 * * *", Run: func(context.Context, time.Time) error { return nil }})
		if err == nil || !strings.Contains(err.Error(), "TUOYU_CRON_AUDIT_VERIFY") {
			t.Errorf("override %q: err = %v, want an error naming TUOYU_CRON_AUDIT_VERIFY", bad, err)
		}
	}
}

func TestAddRefusesBadJobs(t *testing.T) {
	c := &clock{}
	noop := func(context.Context, time.Time) error { return nil }
	for name, j := range map[string]Job{
		"bad name":  {Name: "Audit Verify", Spec: "0 3 * * *", Run: noop},
		"no run":    {Name: "test.norun", Spec: "0 3 * * *"},
		"bad spec":  {Name: "test.badspec", Spec: "0 3 * *", Run: noop},
		"empty":     {Name: "test.empty", Run: noop},
		"duplicate": {Name: "test.dup", Spec: "0 3 * * *", Run: noop},
	} {
		s := New(nil, nil, shanghai, c.now, noEnv)
		jobs := []Job{j}
		if name == "duplicate" {
			jobs = append(jobs, j)
		}
		if err := s.Add(jobs...); err == nil {
			t.Errorf("%s: Add accepted %+v", name, j)
		}
	}
}

func TestListShowsLastRun(t *testing.T) {
	db := emptyDB(t)
	c := &clock{t: at("2026-12-01 03:00:00")}
	s := newScheduler(t, db, c, "a", Job{Name: "test.listed", Spec: "0 3 * * *", Run: func(context.Context, time.Time) error {
		return errors.New("first broken row: 17")
	}})
	list, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].LastRun != nil {
		t.Fatalf("before any run: %+v", list)
	}
	s.runSlot(context.Background(), s.job("test.listed"), at("2026-12-01 03:00:00"))
	c.set(at("2026-12-01 09:00:00"))
	if _, err := s.RunNow(context.Background(), "test.listed"); err != nil {
		t.Fatal(err)
	}
	list, err = s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	last := list[0].LastRun
	if last == nil || !last.Slot.Equal(at("2026-12-01 09:00:00")) || last.Status != StatusFailed || last.Error != "first broken row: 17" {
		t.Fatalf("last run = %+v, want the 09:00 manual run", last)
	}
	if want := at("2026-12-02 03:00:00"); !list[0].NextRun.Equal(want) {
		t.Errorf("next run = %v, want %v", list[0].NextRun, want)
	}
}

// TestCronFires checks the wiring to robfig/cron with a real clock and a
// seconds spec, the only test that waits for a tick.
func TestCronFires(t *testing.T) {
	db := emptyDB(t)
	fired := make(chan time.Time, 10)
	s := New(db, nil, shanghai, time.Now, noEnv)
	if err := s.Add(Job{Name: "test.tick", Spec: "* * * * * *", Run: func(ctx context.Context, slot time.Time) error {
		fired <- slot
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var slot time.Time
	select {
	case slot = <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("a every-second job did not fire within 5 seconds")
	}
	stop(t, s)
	if slot.Nanosecond() != 0 {
		t.Errorf("slot %v is not a whole second", slot)
	}
	n, err := db.NewSelect().Model((*Run)(nil)).Where("job = 'test.tick' AND slot = ?", slot).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("recorded runs of slot %v = %d, %v", slot, n, err)
	}
}

func TestPrevSlot(t *testing.T) {
	for _, tc := range []struct {
		spec, now, want string
	}{
		{"0 3 * * *", "2026-11-29 10:00:00", "2026-11-29 03:00:00"},
		{"0 3 * * *", "2026-11-29 02:59:59", "2026-11-28 03:00:00"},
		{"0 3 * * *", "2026-11-29 03:00:00", "2026-11-29 03:00:00"},
		{"*/5 * * * *", "2026-11-29 10:04:59", "2026-11-29 10:00:00"},
		{"*/15 * * * *", "2026-11-29 00:01:00", "2026-11-29 00:00:00"},
		{"30 0 * * *", "2026-01-01 00:10:00", "2025-12-31 00:30:00"},
		{"0 0 1 1 *", "2026-11-29 10:00:00", "2026-01-01 00:00:00"},
		{"0 9 * * 1", "2026-11-29 10:00:00", "2026-11-23 09:00:00"}, // 29 Nov 2026 is a Sunday
		{"*/10 * * * * *", "2026-11-29 10:00:07", "2026-11-29 10:00:00"},
	} {
		sched, err := parseSpec(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := prevSlot(sched, at(tc.now))
		if !got.Equal(at(tc.want)) {
			t.Errorf("prevSlot(%q, %s) = %v, want %s", tc.spec, tc.now, got, tc.want)
		}
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("audit.verify"); got != "TUOYU_CRON_AUDIT_VERIFY" {
		t.Errorf("EnvName = %q", got)
	}
	if got := EnvName("reminders.send"); got != "TUOYU_CRON_REMINDERS_SEND" {
		t.Errorf("EnvName = %q", got)
	}
}

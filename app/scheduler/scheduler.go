// Package scheduler runs the application's periodic jobs (DESIGN §8) on
// robfig/cron v3, safely with several app instances on one database.
//
// Each job fires at slots of its cron spec, in the configured time zone. Who
// runs a slot is decided by the database: the instance whose INSERT of the
// (job, slot) row into job_runs succeeds runs it; every other instance
// conflicts and does nothing. A PostgreSQL advisory lock per job, held on a
// dedicated connection for the whole run, keeps a long run from overlapping
// the next slot's run: that slot is recorded as skipped instead.
//
// Jobs are registered explicitly by the app's wiring with Add; there is no
// init-time registration.
package scheduler

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

// DefaultTimeout bounds a run of a job that sets no Timeout.
const DefaultTimeout = time.Hour

// MaxConcurrent is how many scheduled runs one instance has going at once.
// Each run holds a pooled connection for its lock and takes more for its
// work: at the top of the hour eight jobs are due, as many as the pool
// has connections, and the load test saw them (every job due every 30 s)
// take the whole pool and wait on each other while requests queued for
// minutes. A slot waits for its turn; another instance may take it first.
const MaxConcurrent = 2

// lockClass is the first key of the two-key advisory locks of jobs ("jobs" in
// ASCII). Two-key locks live in a key space of their own, so they never
// collide with the single-key migration lock.
const lockClass int32 = 0x6a6f6273

// Run statuses as stored in job_runs.status.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusFailed  = "failed"
	// StatusSkipped marks a slot whose time came while an earlier run of the
	// same job still held the job's lock.
	StatusSkipped = "skipped"
)

// Job is one periodic task.
type Job struct {
	// Name is dotted lower case, module first: "audit.verify".
	Name string
	// Spec is the default cron spec: five fields (minute hour day month
	// weekday), or six with seconds first. TUOYU_CRON_<NAME> overrides it.
	Spec string
	// Timeout cancels the run's context; zero means DefaultTimeout.
	Timeout time.Duration
	// Run does the work for the given slot (the scheduled time it stands
	// for). It must stop when ctx is cancelled and should be idempotent: a
	// slot missed while the app was down runs later, once.
	Run func(ctx context.Context, slot time.Time) error
}

// Run is one row of job_runs.
type Run struct {
	bun.BaseModel `bun:"table:job_runs"`

	ID         int64      `bun:"id,pk,autoincrement" json:"id"`
	Job        string     `bun:"job" json:"job"`
	Slot       time.Time  `bun:"slot" json:"slot"`
	Manual     bool       `bun:"manual" json:"manual"`
	Instance   string     `bun:"instance" json:"instance"`
	StartedAt  time.Time  `bun:"started_at" json:"started_at"`
	FinishedAt *time.Time `bun:"finished_at" json:"finished_at"`
	Status     string     `bun:"status" json:"status"`
	Error      string     `bun:"error,nullzero" json:"error,omitempty"`
}

// JobStatus describes a registered job for the admin page and `jobs list`.
type JobStatus struct {
	Name string `json:"name"`
	Spec string `json:"spec"`
	// SpecSource is the environment variable the spec came from, or empty
	// for the default.
	SpecSource string        `json:"spec_source,omitempty"`
	Timeout    time.Duration `json:"-"`
	LastRun    *Run          `json:"last_run"`
	NextRun    time.Time     `json:"next_run"`
}

// entry is a registered job with its parsed schedule.
type entry struct {
	Job
	spec       string
	specSource string
	schedule   cron.Schedule
}

// Scheduler runs registered jobs at their slots. Create it with New.
type Scheduler struct {
	db       *bun.DB
	logger   *slog.Logger
	loc      *time.Location
	now      func() time.Time
	getenv   func(string) string
	instance string

	mu       sync.Mutex
	jobs     map[string]*entry
	cron     *cron.Cron
	base     context.Context // parent of every run's context
	cancel   context.CancelFunc
	started  bool
	stopping bool
	running  sync.WaitGroup // runs started outside cron: catch-up and Trigger
	turns    chan struct{}  // MaxConcurrent tokens, one per scheduled run going
}

// New returns a scheduler that computes slots in loc, reads the clock from now
// and spec overrides from getenv.
func New(db *bun.DB, logger *slog.Logger, loc *time.Location, now func() time.Time, getenv func(string) string) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	base, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		db:       db,
		logger:   logger,
		loc:      loc,
		now:      now,
		getenv:   getenv,
		instance: fmt.Sprintf("%s:%d", host, os.Getpid()),
		jobs:     map[string]*entry{},
		base:     base,
		cancel:   cancel,
		turns:    make(chan struct{}, MaxConcurrent),
	}
}

var jobName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// parser accepts standard five-field specs, six fields with seconds first,
// and descriptors such as @daily.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// EnvName returns the environment variable that overrides the spec of the
// named job: TUOYU_CRON_ and the name upper-cased with dots as underscores.
func EnvName(job string) string {
	return "TUOYU_CRON_" + strings.ToUpper(strings.ReplaceAll(job, ".", "_"))
}

// Add registers jobs. It fails on a bad or duplicate name, a missing Run, or
// a spec that does not parse; for an overriding variable the error names it.
// Jobs must be added before Start.
func (s *Scheduler) Add(jobs ...Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("add scheduled job: scheduler already started")
	}
	for _, j := range jobs {
		if !jobName.MatchString(j.Name) {
			return fmt.Errorf("add scheduled job %q: name must be dotted lower case like audit.verify", j.Name)
		}
		if _, dup := s.jobs[j.Name]; dup {
			return fmt.Errorf("add scheduled job %q: registered twice", j.Name)
		}
		if j.Run == nil {
			return fmt.Errorf("add scheduled job %q: no Run function", j.Name)
		}
		if j.Timeout <= 0 {
			j.Timeout = DefaultTimeout
		}
		e := &entry{Job: j, spec: j.Spec}
		if v := strings.TrimSpace(s.getenv(EnvName(j.Name))); v != "" {
			e.spec, e.specSource = v, EnvName(j.Name)
		}
		sched, err := parseSpec(e.spec)
		if err != nil {
			if e.specSource != "" {
				return fmt.Errorf("%s=%q is not a valid cron spec for job %s: %w", e.specSource, e.spec, j.Name, err)
			}
			return fmt.Errorf("add scheduled job %q: spec %q: %w", j.Name, e.spec, err)
		}
		e.schedule = sched
		s.jobs[j.Name] = e
	}
	return nil
}

// parseSpec parses a cron spec and refuses @every intervals: their times
// depend on when the process started, so instances would not agree on slots.
func parseSpec(spec string) (cron.Schedule, error) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, errors.New("time zone prefixes are not allowed; the scheduler uses TUOYU_TZ")
	}
	sched, err := parser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if _, ok := sched.(cron.ConstantDelaySchedule); ok {
		return nil, errors.New("@every intervals have no fixed slots; use a cron spec")
	}
	return sched, nil
}

// Start marks runs interrupted by a previous stop as failed, catches up each
// job's most recent slot if it was missed (see missedSlot), then starts the
// cron clock. Catch-up runs go on in the background. ctx bounds only the
// start-up queries: runs get the scheduler's own context, which Stop cancels
// when its wait ends.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("start scheduler: already started")
	}
	s.started = true
	s.mu.Unlock()

	for _, e := range s.sortedJobs() {
		if err := s.failInterrupted(ctx, e); err != nil {
			return err
		}
		slot, missed, err := s.missedSlot(ctx, e)
		if err != nil {
			return err
		}
		if missed {
			s.logger.Info("catching up missed job slot", "job", e.Name, "slot", slot)
			s.running.Add(1)
			go func() {
				defer s.running.Done()
				s.runSlot(s.base, e, slot)
			}()
		}
	}

	c := cron.New(cron.WithLocation(s.loc), cron.WithParser(parser))
	for _, e := range s.sortedJobs() {
		c.Schedule(e.schedule, cron.FuncJob(func() {
			// cron fires at or just after the slot; the slot is the latest
			// scheduled time not after now.
			slot := prevSlot(e.schedule, s.now().In(s.loc))
			if slot.IsZero() {
				return
			}
			s.runSlot(s.base, e, slot)
		}))
	}
	s.mu.Lock()
	s.cron = c
	s.mu.Unlock()
	c.Start()
	return nil
}

// Stop stops firing new slots and waits for running jobs to finish. When ctx
// ends first it cancels the runs' contexts and returns ctx's error.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	c := s.cron
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		if c != nil {
			<-c.Stop().Done()
		}
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return fmt.Errorf("stop scheduler: %w", ctx.Err())
	}
}

// missedSlot decides whether the job's most recent slot (the latest one not
// after now) must run at start-up. It must when that slot has no job_runs row
// and the job has a row for an earlier slot.
//
// An earlier row shows the job was already in service in this deployment, so
// an empty latest slot was missed while the app was down. A job without any
// row is new (a fresh install, or a job added by this release): it starts at
// its next slot rather than doing unrequested work during a deploy. Only the
// latest slot is caught up, and the unique (job, slot) row makes that happen
// once however many instances start.
func (s *Scheduler) missedSlot(ctx context.Context, e *entry) (time.Time, bool, error) {
	slot := prevSlot(e.schedule, s.now().In(s.loc))
	if slot.IsZero() {
		return time.Time{}, false, nil
	}
	var taken, earlier bool
	err := s.db.NewRaw(`SELECT
		EXISTS (SELECT 1 FROM job_runs WHERE job = ? AND slot = ?),
		EXISTS (SELECT 1 FROM job_runs WHERE job = ? AND slot < ?)`,
		e.Name, slot, e.Name, slot).Scan(ctx, &taken, &earlier)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("check missed slot of job %s: %w", e.Name, err)
	}
	return slot, !taken && earlier, nil
}

// failInterrupted marks as failed the job's runs left "running" longer than
// the job's timeout allows: their process stopped during the run (a live run
// is cancelled at its timeout and then recorded).
func (s *Scheduler) failInterrupted(ctx context.Context, e *entry) error {
	now := s.now()
	_, err := s.db.NewUpdate().Model((*Run)(nil)).
		Set("status = ?", StatusFailed).
		Set("finished_at = ?", now).
		Set("error = ?", "interrupted: the instance stopped during the run").
		Where("job = ?", e.Name).
		Where("status = ?", StatusRunning).
		Where("started_at < ?", now.Add(-e.Timeout-time.Minute)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark interrupted runs of job %s: %w", e.Name, err)
	}
	return nil
}

// runSlot runs the job for slot unless another run (on any instance) already
// claimed it. It returns the recorded run, or nil when the slot was taken or
// could not be claimed. Errors are logged here, once; they are in the row.
func (s *Scheduler) runSlot(ctx context.Context, e *entry, slot time.Time) *Run {
	select {
	case s.turns <- struct{}{}:
		defer func() { <-s.turns }()
	case <-ctx.Done():
		return nil
	}
	run, err := s.claim(ctx, s.db, e, slot, false)
	if err != nil {
		s.logger.Error("claim job slot", "job", e.Name, "slot", slot, "err", err)
		return nil
	}
	if run == nil {
		return nil // another instance or an earlier start has this slot
	}
	release, err := s.lock(ctx, e.Name)
	if err != nil {
		s.finish(ctx, e, run, err)
		return run
	}
	runErr := s.call(ctx, e, run.Slot)
	release()
	s.finish(ctx, e, run, runErr)
	return run
}

// claim inserts the running row for (job, slot) through idb. It returns nil
// without error when the row already exists: someone else runs that slot.
func (s *Scheduler) claim(ctx context.Context, idb bun.IDB, e *entry, slot time.Time, manual bool) (*Run, error) {
	run := &Run{
		Job:       e.Name,
		Slot:      slot,
		Manual:    manual,
		Instance:  s.instance,
		StartedAt: s.now(),
		Status:    StatusRunning,
	}
	res, err := idb.NewInsert().Model(run).
		On("CONFLICT (job, slot) DO NOTHING").
		Returning("id").
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("insert run of job %s for slot %s: %w", e.Name, slot.Format(time.RFC3339), err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return nil, err
	}
	return run, nil
}

// errLocked reports that another run of the job holds its lock.
var errLocked = errors.New("skipped: an earlier run of this job was still running")

// finish records the outcome of a run in run and in its row, and logs it
// once. errLocked makes the run skipped, any other error failed.
func (s *Scheduler) finish(ctx context.Context, e *entry, run *Run, runErr error) {
	switch {
	case errors.Is(runErr, errLocked):
		run.Status, run.Error = StatusSkipped, runErr.Error()
		s.logger.Warn("job slot skipped", "job", e.Name, "slot", run.Slot, "reason", runErr.Error())
	case runErr != nil:
		run.Status, run.Error = StatusFailed, runErr.Error()
		s.logger.Error("job failed", "job", e.Name, "slot", run.Slot, "manual", run.Manual, "err", runErr)
	default:
		run.Status = StatusOK
		s.logger.Info("job done", "job", e.Name, "slot", run.Slot, "manual", run.Manual, "took", s.now().Sub(run.StartedAt).String())
	}
	finished := s.now()
	run.FinishedAt = &finished
	// The run's context may be cancelled by now; the record must still land.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.db.NewUpdate().Model(run).
		Column("status", "finished_at", "error").
		WherePK().
		Exec(rctx)
	if err != nil {
		s.logger.Error("record job run", "job", e.Name, "run", run.ID, "err", err)
	}
}

// call runs the job body with its timeout, turning a panic into an error.
func (s *Scheduler) call(ctx context.Context, e *entry, slot time.Time) (err error) {
	ctx, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("job panicked", "job", e.Name, "slot", slot, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	err = e.Run(ctx, slot)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", e.Timeout, err)
	}
	return err
}

// lock takes the job's advisory lock on a dedicated connection and returns
// the function that releases it, or errLocked at once when another session
// holds it. It is a session lock, so a crashed instance releases it with its
// connection.
func (s *Scheduler) lock(ctx context.Context, job string) (release func(), err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take lock of job %s: %w", job, err)
	}
	var locked bool
	if err := conn.NewRaw("SELECT pg_try_advisory_lock(?, hashtext(?))", lockClass, job).Scan(ctx, &locked); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take lock of job %s: %w", job, err)
	}
	if !locked {
		conn.Close()
		return nil, errLocked
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var unlocked bool
		err := conn.NewRaw("SELECT pg_advisory_unlock(?, hashtext(?))", lockClass, job).Scan(ctx, &unlocked)
		if err != nil || !unlocked {
			// A pooled session still holding the lock would make every
			// later run skip: throw the connection away instead.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// RunNow runs the named job at once and waits for it, for "run now" and
// `tuoyu jobs run`. Its slot is now truncated to the second, marked manual.
// It returns the finished run, whose Status says whether the job succeeded;
// apperr NotFound for an unknown job, Conflict when the job is running or
// already ran in this second.
func (s *Scheduler) RunNow(ctx context.Context, name string) (Run, error) {
	e, run, release, err := s.claimManual(ctx, name)
	if err != nil {
		return Run{}, err
	}
	runErr := s.call(ctx, e, run.Slot)
	release()
	s.finish(ctx, e, run, runErr)
	return *run, nil
}

// Trigger starts the named job in the background and returns its run as
// started; Stop waits for it. Errors as RunNow, plus Conflict while stopping.
func (s *Scheduler) Trigger(ctx context.Context, name string) (Run, error) {
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		s.running.Add(1)
	}
	s.mu.Unlock()
	if stopping {
		return Run{}, apperr.Conflict("scheduler_stopping", "服务正在停止，请稍后再试")
	}
	e, run, release, err := s.claimManual(ctx, name)
	if err != nil {
		s.running.Done()
		return Run{}, err
	}
	started := *run
	go func() {
		defer s.running.Done()
		runErr := s.call(s.base, e, run.Slot)
		release()
		s.finish(s.base, e, run, runErr)
	}()
	return started, nil
}

// claimManual takes the job's lock, then claims a manual slot and records
// the jobs.run audit event. A manual run never queues behind a running one:
// when the lock is taken it answers Conflict and leaves no row, since no slot
// was missed.
func (s *Scheduler) claimManual(ctx context.Context, name string) (*entry, *Run, func(), error) {
	e := s.job(name)
	if e == nil {
		return nil, nil, nil, apperr.NotFound("job_not_found", "没有这个定时任务")
	}
	release, err := s.lock(ctx, e.Name)
	if errors.Is(err, errLocked) {
		return nil, nil, nil, apperr.Conflict("job_running", "该任务正在运行，请等它结束后再试")
	}
	if err != nil {
		return nil, nil, nil, apperr.Internal(err)
	}
	// A person started this run: the audit trail says who, in the same
	// transaction as the claim.
	var run *Run
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		run, err = s.claim(ctx, tx, e, s.now().Truncate(time.Second), true)
		if err != nil || run == nil {
			return err
		}
		ev := audit.Event{Action: "jobs.run", TargetType: "job", TargetID: e.Name,
			Summary: map[string]any{"run_id": run.ID, "slot": run.Slot.UTC().Format(time.RFC3339)}}
		if audit.RequestFrom(ctx).Label == "" {
			ev.ActorLabel = "cli" // no request: `tuoyu jobs run` at the shell
		}
		return audit.Record(ctx, tx, ev)
	})
	if err != nil {
		release()
		return nil, nil, nil, apperr.Internal(err)
	}
	if run == nil {
		release()
		return nil, nil, nil, apperr.Conflict("job_run_exists", "该任务刚刚运行过，请一秒后再试")
	}
	return e, run, release, nil
}

// List returns every registered job by name with its spec, its most recent
// run (nil before the first) and its next slot.
func (s *Scheduler) List(ctx context.Context) ([]JobStatus, error) {
	jobs := s.sortedJobs()
	names := make([]string, len(jobs))
	for i, e := range jobs {
		names[i] = e.Name
	}
	var last []Run
	if len(names) > 0 {
		err := s.db.NewSelect().Model(&last).
			DistinctOn("job").
			Where("job IN (?)", bun.In(names)).
			OrderExpr("job, started_at DESC, id DESC").
			Scan(ctx)
		if err != nil {
			return nil, fmt.Errorf("list last job runs: %w", err)
		}
	}
	byJob := make(map[string]*Run, len(last))
	for i := range last {
		byJob[last[i].Job] = &last[i]
	}
	now := s.now().In(s.loc)
	out := make([]JobStatus, 0, len(jobs))
	for _, e := range jobs {
		out = append(out, JobStatus{
			Name:       e.Name,
			Spec:       e.spec,
			SpecSource: e.specSource,
			Timeout:    e.Timeout,
			LastRun:    byJob[e.Name],
			NextRun:    e.schedule.Next(now),
		})
	}
	return out, nil
}

func (s *Scheduler) job(name string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[name]
}

func (s *Scheduler) sortedJobs() []*entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*entry, 0, len(s.jobs))
	for _, e := range s.jobs {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// prevSlot returns the latest time of sched not after now, or the zero time
// when there is none within about five years. cron schedules only look
// forward, so it searches back in doubling windows and walks forward.
func prevSlot(sched cron.Schedule, now time.Time) time.Time {
	for back := time.Minute; back <= 6*366*24*time.Hour; back *= 2 {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			n := sched.Next(t)
			if n.IsZero() || n.After(now) {
				return t
			}
			t = n
		}
	}
	return time.Time{}
}

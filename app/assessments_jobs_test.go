package app

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"tuoyu/app/scheduler"
)

// TestAssessmentScheduleCaughtUpOnceOnStart: the app was down over last
// night's 01:00 slot of assessments.schedule; two instances start; the slot
// runs once and the class that ended yesterday gets its sittings, once.
func TestAssessmentScheduleCaughtUpOnceOnStart(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	loc := a.Config.Location
	now := time.Now().In(loc)
	today1am := time.Date(now.Year(), now.Month(), now.Day(), 1, 0, 0, 0, loc)
	clock := func() time.Time { return today1am.Add(9 * time.Hour) }
	// The job ran the night before last, then the app was down.
	if _, err := a.DB.NewRaw(`INSERT INTO job_runs (job, slot, instance, started_at, finished_at, status)
		VALUES ('assessments.schedule', ?, 'old', ?, ?, 'ok') ON CONFLICT DO NOTHING`,
		today1am.AddDate(0, 0, -1), today1am.AddDate(0, 0, -1), today1am.AddDate(0, 0, -1)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	classID := demoClassID(t, "武汉 保育师五级培训（昨日结业）")
	var calls atomic.Int32
	logger := slog.New(slog.NewTextHandler(logBuf, nil))
	var started []*scheduler.Scheduler
	for range 2 {
		s := scheduler.New(a.DB, logger, loc, clock, func(string) string { return "" })
		if err := s.Add(scheduler.Job{Name: "assessments.schedule", Spec: "0 1 * * *", Run: func(ctx context.Context, _ time.Time) error {
			calls.Add(1)
			_, err := a.Assessments.ScheduleDue(ctx)
			return err
		}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		started = append(started, s)
	}
	for _, s := range started {
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("caught up %d times, want once", calls.Load())
	}
	var status string
	if err := a.DB.NewRaw("SELECT status FROM job_runs WHERE job = 'assessments.schedule' AND slot = ?", today1am).Scan(ctx, &status); err != nil || status != "ok" {
		t.Fatalf("run of today's slot: %q %v", status, err)
	}
	var byJob, practical int
	if err := a.DB.NewRaw(`SELECT count(*) FILTER (WHERE created_by_job), count(*) FILTER (WHERE kind = 'practical')
		FROM assessment_sittings WHERE class_id = ?`, classID).Scan(ctx, &byJob, &practical); err != nil {
		t.Fatal(err)
	}
	if byJob == 0 || practical != 1 {
		t.Errorf("class ended yesterday: %d sittings by the job, %d practical (want one)", byJob, practical)
	}
}

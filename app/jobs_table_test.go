package app

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

// TestJobsTableMatchesRegisteredJobs keeps the jobs table of
// docs/operations.md in step with the jobs the application registers: the
// same names with the same default specs, none missing on either side.
func TestJobsTableMatchesRegisteredJobs(t *testing.T) {
	text, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+\\.[a-z_]+)` \\| `([^`]+)` \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(text), -1) {
		documented[m[1]] = m[2]
	}
	jobs, err := testApp(t).Scheduler.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) < 10 {
		t.Fatalf("only %d jobs registered", len(jobs))
	}
	for _, j := range jobs {
		spec, ok := documented[j.Name]
		switch {
		case !ok:
			t.Errorf("job %s (%s) is not in the table of docs/operations.md", j.Name, j.Spec)
		case spec != j.Spec:
			t.Errorf("job %s: the table says %q, the default is %q", j.Name, spec, j.Spec)
		}
		delete(documented, j.Name)
	}
	for name := range documented {
		t.Errorf("docs/operations.md lists %s, which is no registered job", name)
	}
}

// The TUOYU_CRON_<JOB> override works for payouts.release_returns, the job
// DESIGN §8 does not name, as for the others.
func TestReleaseReturnsSpecOverride(t *testing.T) {
	cfg := testConfig()
	cfg.Getenv = func(k string) string {
		if k == "TUOYU_CRON_PAYOUTS_RELEASE_RETURNS" {
			return "7 */2 * * *"
		}
		return ""
	}
	a, err := Wire(cfg, dbtest.AppDB(t), slog.New(slog.NewJSONHandler(logBuf, nil)), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := a.Scheduler.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, j := range jobs {
		if j.Name != "payouts.release_returns" {
			continue
		}
		found = true
		if j.Spec != "7 */2 * * *" || j.SpecSource != "TUOYU_CRON_PAYOUTS_RELEASE_RETURNS" {
			t.Errorf("payouts.release_returns: spec %q from %q, want the override", j.Spec, j.SpecSource)
		}
		if next := j.NextRun; next.Minute() != 7 || next.In(cfg.Location).Hour()%2 != 0 {
			t.Errorf("next run %s does not follow the override", next)
		}
	}
	if !found {
		t.Fatal("payouts.release_returns is not registered")
	}
	// A bad override refuses to start, naming the variable.
	cfg.Getenv = func(k string) string {
		if k == "TUOYU_CRON_PAYOUTS_RELEASE_RETURNS" {
			return "every ten minutes"
		}
		return ""
	}
	if _, err := Wire(cfg, dbtest.AppDB(t), slog.New(slog.NewJSONHandler(logBuf, nil)), time.Now); err == nil ||
		!strings.Contains(err.Error(), "TUOYU_CRON_PAYOUTS_RELEASE_RETURNS") {
		t.Errorf("a bad override: %v", err)
	}
}

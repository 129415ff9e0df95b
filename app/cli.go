package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"tuoyu/app/database"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

const usage = `tuoyu — 湖北省托育从业人员培训与补贴管理系统

usage:
  tuoyu [serve] [--demo]             run the server (--demo: seed demo data when the database is empty)
  tuoyu migrate up|down|status       apply all, roll back the last group, or list migrations
  tuoyu seed demo                    build the demo world (idempotent)
  tuoyu seed scale --workers N       a province-size world of N workers on top of the demo (resumable)
  tuoyu user create --username U --role R [--org CODE] [--name NAME]   (password read from stdin)
  tuoyu jobs list                    scheduled jobs with last and next run
  tuoyu jobs run NAME                run a job now
  tuoyu audit verify                 check the audit hash chain
  tuoyu certificates verify --key KEY.json FILE.pdf|ANSWER.json|CODE
                                     check a certificate's signature against a saved public key
  tuoyu backup FILE                  consistent pg_dump of schema and data plus a manifest (not the secret key)
  tuoyu restore FILE                 restore a backup into an empty database and check its row counts
`

// Run is the whole program: it parses args, runs one command and returns the
// exit code. main only supplies the signal-aware context and the environment.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(ctx, args, getenv, stdin, stdout, logger); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "tuoyu:", ue.msg)
			fmt.Fprint(stderr, usage)
			return 2
		}
		fmt.Fprintln(stderr, "tuoyu:", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if cmd == "certificates" { // needs no database: a check anyone can run
		return runCertificates(ctx, args, getenv, stdout)
	}
	cfg, err := LoadConfig(getenv, logger)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve", "migrate", "seed", "user", "jobs", "audit", "backup", "restore":
	default:
		return usageError{"unknown command " + cmd}
	}
	if cmd == "migrate" {
		return runMigrate(ctx, cfg, args, stdout, logger)
	}
	if cmd == "backup" || cmd == "restore" { // neither migrates: a restore needs the database empty
		return runBackup(ctx, cfg, args, stdout, cmd == "restore")
	}

	db, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := Wire(cfg, db.DB, logger, time.Now)
	if err != nil {
		return err
	}

	switch cmd {
	case "serve":
		return runServe(ctx, a, args, logger)
	case "seed":
		return runSeed(ctx, a, db, args, stdout)
	case "user":
		return runUser(ctx, a, args, stdin, stdout)
	case "jobs":
		return runJobs(ctx, a, args, stdout)
	case "audit":
		return runAudit(ctx, a, args, stdout)
	}
	return nil
}

// runServe is the serve command apart from run's dispatch: it parses
// -demo, loads reference data, seeds an empty database when asked and serves.
func runServe(ctx context.Context, a *App, args []string, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "seed demo data when the database is empty")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if err := a.LoadReferenceData(ctx); err != nil {
		return err
	}
	if *demo {
		empty, err := a.isEmpty(ctx)
		if err != nil {
			return err
		}
		if empty {
			logger.Info("empty database: seeding demo data")
			if err := a.SeedDemo(ctx); err != nil {
				return err
			}
		}
	}
	return serve(ctx, a)
}

// runAudit is the audit verify command apart from run's dispatch.
func runAudit(ctx context.Context, a *App, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return usageError{"usage: tuoyu audit verify"}
	}
	res, err := audit.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("audit chain broken at event %d (%d checked): %s", res.BrokenID, res.Checked, res.Reason)
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events checked\n", res.Checked)
	return nil
}

func runMigrate(ctx context.Context, cfg Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) != 1 {
		return usageError{"usage: tuoyu migrate up|down|status"}
	}
	db, err := database.Open(ctx, dbConfig(cfg, logger))
	if err != nil {
		return err
	}
	defer db.Close()
	owner := db.Owner() // migrations change the schema, so they run as its owner
	switch args[0] {
	case "up":
		if err := database.Migrate(ctx, owner, logger); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
	case "down":
		names, err := database.Rollback(ctx, owner, logger)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		for _, n := range names {
			fmt.Fprintln(stdout, "rolled back", n)
		}
	case "status":
		st, err := database.MigrationStatus(ctx, owner)
		if err != nil {
			return err
		}
		for _, n := range st.Applied {
			fmt.Fprintln(stdout, "applied ", n)
		}
		for _, n := range st.Pending {
			fmt.Fprintln(stdout, "pending ", n)
		}
	default:
		return usageError{"usage: tuoyu migrate up|down|status"}
	}
	return nil
}

func runSeed(ctx context.Context, a *App, db *database.DB, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: tuoyu seed demo | seed scale --workers N"}
	}
	switch args[0] {
	case "demo":
		if err := a.SeedDemo(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "demo data ready; every demo login uses the password", DemoPassword)
		return nil
	case "scale":
		fs := flag.NewFlagSet("seed scale", flag.ContinueOnError)
		n := fs.Int("workers", 0, "number of workers to generate")
		if err := fs.Parse(args[1:]); err != nil || *n <= 0 {
			return usageError{"usage: tuoyu seed scale --workers N (N > 0)"}
		}
		bulk := db.Bulk()
		defer bulk.Close()
		return a.SeedScale(ctx, bulk, *n, stdout)
	}
	return usageError{"unknown seed " + args[0]}
}

func runUser(ctx context.Context, a *App, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: tuoyu user create --username U --role R --org CODE"}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	username := fs.String("username", "", "login name")
	role := fs.String("role", "", "role: "+roleList())
	org := fs.String("org", "", "organisation code")
	name := fs.String("name", "", "display name")
	worker := fs.Int64("worker", 0, "worker id (role worker)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *username == "" || *role == "" {
		return usageError{"--username and --role are required"}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	id, err := a.Accounts.CreateUser(ctx, accounts.NewUser{Username: *username, DisplayName: *name, Role: accounts.Role(*role),
		OrgCode: *org, WorkerID: *worker, Password: password})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "user %s created (id %d)\n", *username, id)
	return nil
}

func roleList() string {
	var s []string
	for _, r := range accounts.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func runJobs(ctx context.Context, a *App, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: tuoyu jobs list | jobs run NAME"}
	}
	switch args[0] {
	case "list":
		jobs, err := a.Scheduler.List(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-28s %-16s %-20s %-8s %s\n", "JOB", "SPEC", "LAST RUN", "STATUS", "NEXT RUN")
		for _, j := range jobs {
			last, status := "-", "-"
			if j.LastRun != nil {
				last, status = j.LastRun.StartedAt.In(a.Config.Location).Format("2006-01-02 15:04:05"), j.LastRun.Status
			}
			fmt.Fprintf(stdout, "%-28s %-16s %-20s %-8s %s\n", j.Name, j.Spec, last, status, j.NextRun.In(a.Config.Location).Format("2006-01-02 15:04:05"))
		}
		return nil
	case "run":
		if len(args) != 2 {
			return usageError{"usage: tuoyu jobs run NAME"}
		}
		run, err := a.Scheduler.RunNow(ctx, args[1])
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "%s: %s\n", run.Job, run.Status)
		if run.Status != "ok" {
			return fmt.Errorf("job %s failed: %s", run.Job, run.Error)
		}
		return nil
	}
	return usageError{"unknown jobs command " + args[0]}
}

// describe turns an application error into a message for the terminal.
func describe(err error) error {
	if ae, ok := apperr.As(err); ok {
		msg := ae.Message
		for _, f := range ae.Fields {
			msg += "; " + f.Field + ": " + f.Message
		}
		return fmt.Errorf("%s (%s)", msg, ae.Code)
	}
	return err
}

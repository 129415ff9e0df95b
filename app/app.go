// Package app is the composition root: it reads the configuration, opens the
// database, builds every module's store, service and handler bottom-up in
// Wire, and runs the HTTP server and the scheduler until the context ends.
package app

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"tuoyu/app/database"
	"tuoyu/app/scheduler"
	"tuoyu/docs"
	"tuoyu/modules/accounts"
	"tuoyu/modules/assessments"
	"tuoyu/modules/attendance"
	"tuoyu/modules/audit"
	"tuoyu/modules/bans"
	"tuoyu/modules/calendar"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/institutions"
	"tuoyu/modules/notify"
	"tuoyu/modules/orgs"
	"tuoyu/modules/payouts"
	"tuoyu/modules/pii"
	"tuoyu/modules/ratelimit"
	"tuoyu/modules/rosters"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// App is the wired application: its services (for the CLI, the seed and
// tests), the fiber app and the scheduler.
type App struct {
	Config    Config
	Logger    *slog.Logger
	DB        *bun.DB
	Fiber     *fiber.App
	Scheduler *scheduler.Scheduler
	Now       func() time.Time

	Cipher       *pii.Cipher
	Accounts     *accounts.Service
	Orgs         *orgs.Service
	Calendar     *calendar.Service
	Notify       *notify.Service
	Institutions *institutions.Service
	Workers      *workers.Service
	Bans         *bans.Service
	Subsidies    *subsidies.Service
	Catalog      *catalog.Service
	Classes      *classes.Service
	Enrolment    *enrolment.Service
	Attendance   *attendance.Service
	Rosters      *rosters.Service
	Assessments  *assessments.Service
	Certificates *certificates.Service
	Claims       *claims.Service
	Payouts      *payouts.Service
}

// Wire builds every module on db, registers routes and jobs. It neither
// migrates nor starts anything.
func Wire(cfg Config, db *bun.DB, logger *slog.Logger, now func() time.Time) (*App, error) {
	cipher, err := pii.New(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("personal-data cipher: %w", err)
	}
	a := &App{Config: cfg, Logger: logger, DB: db, Now: now, Cipher: cipher}
	a.Scheduler = scheduler.New(db, logger, cfg.Location, now, cfg.Getenv)

	// Services, bottom-up in the order of DESIGN §10.
	a.Accounts = accounts.NewService(db, now)
	a.Orgs = orgs.NewService(db)
	a.Calendar = calendar.NewService(db, cfg.Location, now)
	a.Notify = notify.NewService(db, now)
	a.Institutions = institutions.NewService(db, now)
	a.Workers = workers.NewService(db, cipher, now)
	a.Subsidies = subsidies.NewService(db, cfg.Location, now)
	a.Catalog = catalog.NewService(db)
	// A worker's view of classes follows their enrolments: the enrolment
	// store supplies that sub-query to classes, which sits below it.
	a.Classes = classes.NewService(db, a.Catalog, enrolment.Membership, now, cfg.Location)
	a.Enrolment = enrolment.NewService(db, a.Classes, a.Catalog, cipher)
	a.Attendance = attendance.NewService(db, a.Classes, a.Enrolment, a.Catalog, cipher)
	// A ban withdraws the person's places through the enrolment use case.
	a.Bans = bans.NewService(db, cipher, a.Enrolment, now, cfg.Location)
	a.Rosters = rosters.NewService(db, cipher, a.Bans, a.Catalog, a.Enrolment, now, logger)
	a.Assessments = assessments.NewService(db, cipher, now, cfg.Location)
	// Sittings fall on working days of the calendar (holidays and 调休).
	a.Assessments.WorkingDay = func(ctx context.Context) (func(time.Time) bool, error) {
		cal, err := a.Calendar.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		return cal.IsWorkingDay, nil
	}
	signer, err := certificates.LoadSigner(cfg.Getenv("TUOYU_CERT_SIGNING_KEY"), cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.Certificates = certificates.NewService(certificates.Config{
		DB: db, Classes: a.Classes, Renderer: certificates.NewRenderer(cfg.CertFont), Signer: signer, BaseURL: cfg.BaseURL,
		DataDir: cfg.DataDir, Location: cfg.Location, Now: now, Logger: logger, ValidYears: a.inServiceValidYears,
	})
	// A ban revokes the person's certificates in the ban's transaction.
	a.Bans.SetRevoker(a.Certificates.RevokeForBan)
	a.Claims = claims.NewService(db, a.Subsidies, a.Calendar, cfg.Location, now)
	a.Claims.Cipher = cipher
	// ... and rejects their live claims in the same transaction.
	a.Bans.SetClaimRejecter(claims.RejectForBan)
	a.Payouts = payouts.NewService(db, a.Workers, payouts.Sources{
		Trained:   enrolment.CompletionsForStats,
		Passed:    assessments.PassesForStats,
		Certified: certificates.IssuedForStats,
		Claims:    claims.StatsForPayouts,
	}, now, cfg.Location)
	a.wireChain()

	if err := a.routes(); err != nil {
		return nil, err
	}
	if err := a.addJobs(); err != nil {
		return nil, err
	}
	return a, nil
}

// publicLimits are the rate limits of the public endpoints
// (TUOYU_<NAME>_RATE per minute, 0: off), counted in the database so they
// hold across instances.
type publicLimits struct{ calc, banCheck, verify *ratelimit.Limiter }

func (a *App) publicLimits() (publicLimits, error) {
	var l publicLimits
	for _, r := range []struct {
		name, env string
		def       int
		dst       **ratelimit.Limiter
	}{
		{"subsidies.calculate", "CALC", subsidies.DefaultCalcPerMinute, &l.calc},
		{"bans.check", "BANCHECK", bans.CheckLimit, &l.banCheck},
		{"certificates.verify", "VERIFY", certificates.DefaultVerifyRate, &l.verify},
	} {
		n, err := ratelimit.Rate(a.Config.Getenv, r.env, r.def)
		if err != nil {
			return l, err
		}
		*r.dst = ratelimit.PerMinute(a.DB, r.name, n, a.Now)
	}
	return l, nil
}

// routes builds the fiber app and registers every module's routes.
func (a *App) routes() error {
	cfg, db := a.Config, a.DB
	limits, err := a.publicLimits()
	if err != nil {
		return err
	}
	f := newFiber(cfg, a.Logger, a.Accounts, newRegionNames(a.Orgs))
	a.Fiber = f
	f.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	f.Get("/readyz", func(c *fiber.Ctx) error {
		if err := database.Ready(c.UserContext(), db); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "reason": err.Error()})
		}
		return c.JSON(fiber.Map{"status": "ready"})
	})
	f.Get("/api/openapi.yaml", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml; charset=utf-8")
		return c.Send(docs.OpenAPI)
	})
	api := f.Group("/api/v1")
	pages := f.Group("")
	adminOnly := accounts.Require(accounts.RoleAdmin)

	accounts.NewHandler(a.Accounts, isHTTPS(cfg.BaseURL)).Routes(api, pages)
	orgs.NewHandler(a.Orgs).Routes(api, pages, accounts.Require(accounts.RoleAdmin))
	calendar.NewHandler(a.Calendar).Routes(api, pages, adminOnly, accounts.IsAdmin)
	notify.NewHandler(a.Notify).Routes(api, pages)
	institutions.NewHandler(a.Institutions).Routes(api, pages)
	workers.NewHandler(a.Workers).Routes(api, pages)
	bans.NewHandler(a.Bans, limits.banCheck).Routes(api, pages)
	subsidies.NewHandler(a.Subsidies, limits.calc).Routes(api, pages)
	catalog.NewHandler(a.Catalog).Routes(api, pages)
	// classes, then enrolment, then attendance: fixed paths such as
	// /classes/new and /classes/search come before /classes/:id.
	classes.NewHandler(a.Classes, a.Catalog).Routes(api, pages)
	enrolment.NewHandler(a.Enrolment, a.Classes, a.Catalog).Routes(api, pages)
	attendance.NewHandler(a.Attendance, a.Enrolment, a.Catalog).WithOutcome(func(ctx context.Context, id int64) (string, int, error) {
		o, left, err := a.Assessments.Outcome(ctx, id)
		return string(o), left, err
	}).Routes(api, pages)
	assessments.NewHandler(a.Assessments, cfg.Location, cfg.BaseURL).Routes(api, pages)
	rosters.NewHandler(a.Rosters).Routes(api, pages)
	certificates.NewHandler(a.Certificates, limits.verify).Routes(api, pages)
	claims.NewHandler(a.Claims).Routes(api, pages)
	payouts.NewHandler(a.Payouts).Routes(api, pages)
	audit.NewHandler(db, cfg.Location).Routes(api, pages, adminOnly)
	scheduler.NewHandler(a.Scheduler).Routes(api, pages)
	return nil
}

// addJobs registers the scheduled jobs (DESIGN §8).
func (a *App) addJobs() error {
	return a.Scheduler.Add(
		scheduler.Job{Name: "audit.verify", Spec: "0 3 * * *", Timeout: 30 * time.Minute, Run: a.verifyAudit},
		scheduler.Job{Name: "classes.advance", Spec: "10 0 * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, _, err := a.Enrolment.Advance(ctx)
			return err
		}},
		// Rate-limit windows last a minute; an hour's rows are plenty to look at.
		scheduler.Job{Name: "ratelimit.purge", Spec: "17 * * * *", Run: func(ctx context.Context, now time.Time) error {
			_, err := ratelimit.Purge(ctx, a.DB, now.Add(-time.Hour))
			return err
		}},
		scheduler.Job{Name: "accounts.expire_sessions", Spec: "*/10 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Accounts.ExpireIdleSessions(ctx)
			return err
		}},
		scheduler.Job{Name: "assessments.schedule", Spec: "0 1 * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Assessments.ScheduleDue(ctx)
			return err
		}},
		scheduler.Job{Name: "assessments.close", Spec: "*/5 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Assessments.CloseDue(ctx)
			return err
		}},
		// Shared: certificates add their expiry warnings to this job.
		scheduler.Job{Name: "reminders.send", Spec: "*/15 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			if _, err := a.Assessments.SendReminders(ctx); err != nil {
				return err
			}
			_, err := a.Certificates.RemindExpiring(ctx)
			return err
		}},
		scheduler.Job{Name: "certificates.issue", Spec: "*/5 * * * *", Run: a.issueMissing},
		// Returned payments whose worker fixed the bank account become
		// payable again without waiting for the next batch to be built.
		scheduler.Job{Name: "payouts.release_returns", Spec: "*/10 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Payouts.ReleaseAll(ctx)
			return err
		}},
		// A roster validating in the background when its process stopped
		// would stay "validating" for ever; validation takes under a minute.
		scheduler.Job{Name: "rosters.fail_interrupted", Spec: "*/10 * * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Rosters.FailInterrupted(ctx, 30*time.Minute)
			return err
		}},
		scheduler.Job{Name: "certificates.expire", Spec: "30 0 * * *", Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Certificates.Expire(ctx)
			return err
		}},
		// Class ZIPs: finish those whose process stopped, remove those
		// older than 24 hours.
		scheduler.Job{Name: "certificates.exports", Spec: "*/5 * * * *", Timeout: 30 * time.Minute, Run: func(ctx context.Context, _ time.Time) error {
			if _, err := a.Certificates.ResumeInterrupted(ctx); err != nil {
				return err
			}
			_, err := a.Certificates.CleanExports(ctx)
			return err
		}},
		// 公示 that ended yesterday or earlier makes claims payable.
		scheduler.Job{Name: "claims.notice", Spec: "0 * * * *", Run: func(ctx context.Context, at time.Time) error {
			_, err := a.Claims.EndNotices(ctx, at)
			return err
		}},
		// 免申即享: every worker's evaluation, stored for proposals and dashboards.
		scheduler.Job{Name: "eligibility.refresh", Spec: "0 2 * * *", Timeout: time.Hour, Run: func(ctx context.Context, _ time.Time) error {
			_, err := a.Claims.Refresh(ctx, claims.RefreshBatch)
			return err
		}},
	)
}

// LoadReferenceData writes the shipped reviewed data that every installation
// needs (course catalogue and plans, default policy parameters) where it is
// missing. It never overwrites what an admin changed, so it runs at every start.
func (a *App) LoadReferenceData(ctx context.Context) error {
	if err := a.Catalog.Seed(ctx); err != nil {
		return fmt.Errorf("load course catalogue: %w", err)
	}
	loaded, err := a.Subsidies.LoadDefaults(ctx)
	if err != nil {
		return fmt.Errorf("load default policy parameters: %w", err)
	}
	for _, c := range loaded.Changed {
		// The stored row stands; a correction must ship as a new dated row.
		a.Logger.Warn("shipped default policy parameter differs from the stored one and was not loaded; ship corrections as a new row with a later effective_from",
			"name", c.Param.Name, "region", c.Param.Region, "effective_from", c.Param.EffectiveFrom.String(), "differs", c.Fields)
	}
	return nil
}

// verifyAudit is the audit.verify job: a broken chain fails the run, and the
// run's error names the first broken row. A good run records a checkpoint,
// so that the next run notices rows deleted from the end of the trail; the
// log line keeps a copy of it outside the database.
func (a *App) verifyAudit(ctx context.Context, _ time.Time) error {
	res, err := audit.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	if !res.OK {
		return fmt.Errorf("audit chain broken at event %d: %s", res.BrokenID, res.Reason)
	}
	if err := audit.RecordCheckpoint(ctx, a.DB, res); err != nil {
		return err
	}
	a.Logger.Info("audit chain verified", "events", res.Checked, "checkpoint_event", res.LastID,
		"checkpoint_hash", hex.EncodeToString(res.LastHash))
	return nil
}

func isHTTPS(baseURL string) bool { return len(baseURL) > 8 && baseURL[:8] == "https://" }

// openDB opens and migrates the configured database: migrations run as the
// schema owner, then the application's pool must answer. With nothing
// pending it does not migrate at all, so an instance whose DATABASE_URL is
// the unprivileged application role starts after a separate
// `tuoyu migrate up` as the owner (docker-compose.yml does that).
func openDB(ctx context.Context, cfg Config, logger *slog.Logger) (*database.DB, error) {
	db, err := database.Open(ctx, dbConfig(cfg, logger))
	if err != nil {
		return nil, err
	}
	st, err := database.MigrationStatus(ctx, db.Owner())
	if err == nil && len(st.Pending) > 0 {
		if err = database.Migrate(ctx, db.Owner(), logger); err != nil && cfg.MigrateDatabaseURL == "" && cfg.DatabaseURL != "" {
			err = fmt.Errorf("%w (migrations need the schema owner: set TUOYU_MIGRATE_DATABASE_URL, or run tuoyu migrate up with it)", err)
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect as the application's database role: %w", err)
	}
	return db, nil
}

func dbConfig(cfg Config, logger *slog.Logger) database.Config {
	return database.Config{URL: cfg.DatabaseURL, MigrateURL: cfg.MigrateDatabaseURL, DataDir: cfg.DataDir, Logger: logger}
}

// serve runs the server and the scheduler until ctx ends, then stops them in
// order: server, scheduler (waiting for running jobs), database.
func serve(ctx context.Context, a *App) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	if err := a.Scheduler.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("start scheduler: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.Fiber.Listener(ln) }()
	if a.Config.PprofAddr != "" {
		stopProfiling := serveProfiles(a.Config.PprofAddr, a.Logger)
		defer stopProfiling()
	}
	a.Logger.Info("serving", "addr", a.Config.Addr, "url", a.Config.BaseURL)

	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	a.Logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Fiber.ShutdownWithContext(stopCtx); err != nil {
		a.Logger.Error("stop server", "error", err)
	}
	if err := a.Scheduler.Stop(stopCtx); err != nil {
		a.Logger.Error("stop scheduler", "error", err)
	}
	a.Rosters.Close()      // background roster validations end as failed: interrupted
	a.Certificates.Close() // background exports stay running; certificates.exports finishes them
	return nil
}

// inServiceValidYears is the policy parameter
// certificates.in_service_valid_years for a region on a day (default 1).
func (a *App) inServiceValidYears(ctx context.Context, region string, on time.Time) (int, error) {
	ps, err := a.Subsidies.Params(ctx)
	if err != nil {
		return 0, err
	}
	p, ok := ps.Lookup("certificates.in_service_valid_years", region, subsidies.DateOf(on))
	if !ok {
		return 1, nil
	}
	var years int
	if err := json.Unmarshal(p.Value, &years); err != nil || years < 1 {
		return 0, fmt.Errorf("policy parameter certificates.in_service_valid_years (%s) is not a whole number ≥ 1", p.Value)
	}
	return years, nil
}

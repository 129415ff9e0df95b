package app

import (
	"context"
	"fmt"
	"io"

	"github.com/uptrace/bun"

	"tuoyu/app/seed"
)

// DemoPassword is the password of every demo login (DESIGN §5.5).
const DemoPassword = seed.DemoPassword

// SeedDemo builds the demo world (DESIGN §5.5). It is idempotent: what exists
// is left as it is. The steps live in app/seed and run in dependency order.
func (a *App) SeedDemo(ctx context.Context) error {
	for _, step := range a.demoSeeds() {
		if err := step.fn(ctx); err != nil {
			return fmt.Errorf("seed %s: %w", step.name, err)
		}
	}
	return nil
}

type demoSeed struct {
	name string
	fn   func(context.Context) error
}

// seedServices are the services the seeds of app/seed work through.
func (a *App) seedServices() seed.Services {
	return seed.Services{DB: a.DB, Now: a.Now, Orgs: a.Orgs, Accounts: a.Accounts, Institutions: a.Institutions,
		Workers: a.Workers, Bans: a.Bans, Catalog: a.Catalog, Rosters: a.Rosters,
		Cipher: a.Cipher, Classes: a.Classes, Enrolment: a.Enrolment, Attendance: a.Attendance,
		Assessments: a.Assessments, Location: a.Config.Location, Certificates: a.Certificates,
		Subsidies: a.Subsidies, Calendar: a.Calendar, Claims: a.Claims, Payouts: a.Payouts}
}

// demoSeeds lists the demo seeds in dependency order (DESIGN §10). Training
// (classes, enrolment, attendance) is one step between the catalogue and
// the rosters: its seed is the hook the training modules fill.
func (a *App) demoSeeds() []demoSeed {
	s := a.seedServices()
	step := func(name string, fn func(context.Context, seed.Services) error) demoSeed {
		return demoSeed{name, func(ctx context.Context) error { return fn(ctx, s) }}
	}
	return []demoSeed{
		step("platform", seed.Platform),
		step("institutions", seed.Institutions),
		step("workers", seed.Workers),
		step("bans", seed.Ban),
		{"catalog", a.Catalog.Seed},
		step("training", seed.Training),
		step("rosters", seed.Rosters),
		step("assessments", seed.Assessments),
		step("certificates", seed.Certificates),
		step("claims", seed.Claims),
		step("payouts", seed.Payouts),
	}
}

// isEmpty reports whether the database has no users yet (make run seeds the
// demo world only then).
func (a *App) isEmpty(ctx context.Context) (bool, error) {
	has, err := a.Accounts.HasUsers(ctx)
	return !has, err
}

// SeedScale builds the province-size world of n workers for benchmarks
// (seed.Scale; resumable). bulk is a pool of the owning role (a superuser)
// with long timeouts for the set-based loads (database.DB.Bulk).
func (a *App) SeedScale(ctx context.Context, bulk *bun.DB, n int, out io.Writer) error {
	s := a.seedServices()
	s.Bulk = bulk
	return seed.Scale(ctx, s, n, out)
}

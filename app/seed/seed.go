// Package seed builds the demo world (DESIGN §5.5) and the generated people
// of scale tests through the modules' services, so the demo passes the same
// rules users do. It holds no SQL: what a seed needs of a table is a verb of
// the module that owns it. The app package decides the order of the steps.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/assessments"
	"tuoyu/modules/attendance"
	"tuoyu/modules/bans"
	"tuoyu/modules/calendar"
	"tuoyu/modules/catalog"
	"tuoyu/modules/certificates"
	"tuoyu/modules/claims"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/institutions"
	"tuoyu/modules/orgs"
	"tuoyu/modules/payouts"
	"tuoyu/modules/pii"
	"tuoyu/modules/rosters"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/workers"
)

// DemoPassword is the password of every demo login (DESIGN §5.5); only
// the demo seed may set it (accounts.NewUser.Demo).
const DemoPassword = accounts.DemoPassword

// Services are the module services the seeds work through.
type Services struct {
	DB           *bun.DB // opens the transaction that adds the demo workers and their login together
	Bulk         *bun.DB // the scale seed's set-based loads: the owning role (a superuser), long timeouts
	Now          func() time.Time
	Orgs         *orgs.Service
	Accounts     *accounts.Service
	Institutions *institutions.Service
	Workers      *workers.Service
	Bans         *bans.Service
	Catalog      *catalog.Service
	Rosters      *rosters.Service
	Cipher       *pii.Cipher
	Classes      *classes.Service
	Enrolment    *enrolment.Service
	Attendance   *attendance.Service
	Assessments  *assessments.Service
	Location     *time.Location // the local time of the demo's sittings
	Certificates *certificates.Service
	Subsidies    *subsidies.Service // for the claims demo's second, backdated claims service
	Calendar     *calendar.Service  // idem
	Claims       *claims.Service
	Payouts      *payouts.Service
}

// principal returns the demo login username as a principal.
func (s Services) principal(ctx context.Context, username string) (*accounts.Principal, error) {
	p, err := s.Accounts.PrincipalByUsername(ctx, username)
	if err != nil {
		return nil, fmt.Errorf("demo login %s: %w", username, err)
	}
	return &p, nil
}

// userExists reports whether a login named username exists.
func (s Services) userExists(ctx context.Context, username string) (bool, error) {
	_, err := s.Accounts.PrincipalByUsername(ctx, username)
	switch {
	case err == nil:
		return true, nil
	case apperr.Is(err, "user_not_found"):
		return false, nil
	}
	return false, err
}

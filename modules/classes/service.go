package classes

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/orgs"
)

// Service holds the use cases of classes.
type Service struct {
	db      *bun.DB
	catalog *catalog.Service
	member  Membership
	now     func() time.Time
	loc     *time.Location
}

// NewService returns the classes service. member tells which classes a
// worker belongs to (enrolment.Membership in production); now is the clock
// and loc the time zone whose calendar decides "today".
func NewService(db *bun.DB, cat *catalog.Service, member Membership, now func() time.Time, loc *time.Location) *Service {
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return &Service{db: db, catalog: cat, member: member, now: now, loc: loc}
}

// Now returns the service's clock.
func (s *Service) Now() func() time.Time { return s.now }

// Today is the current civil date in the service's zone, as midnight UTC
// (how date columns scan).
func (s *Service) Today() time.Time {
	y, m, d := s.now().In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// At returns a copy of the service whose clock reads t, for building past
// classes (the demo world) through the same use cases as production.
func (s *Service) At(t time.Time) *Service {
	c := *s
	c.now = func() time.Time { return t }
	return &c
}

// Create makes a class of a plan in state draft for the caller's
// organisation (a provider). Errors: Forbidden (forbidden), Invalid
// (invalid_class, with fields: unknown plan, bad dates, a start before
// today, end before start, capacity, region).
func (s *Service) Create(ctx context.Context, p *accounts.Principal, in Input) (Class, error) {
	if !p.Is(accounts.RoleProvider) {
		return Class{}, apperr.Forbidden("forbidden", "只有培训机构可以开设培训班")
	}
	c, fields := in.validate(s.Today())
	var out Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		more, err := s.checkRefs(ctx, tx, p, &c, strings.TrimSpace(in.PlanCode))
		if err != nil {
			return err
		}
		if fields = append(fields, more...); len(fields) > 0 {
			return apperr.Invalid("invalid_class", "培训班信息填写有误", fields...)
		}
		c.ProviderOrgID, c.CreatedBy = p.OrgID, p.UserID
		if err := NewStore(tx).Insert(ctx, &c); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.create", TargetType: "class",
			TargetID: strconv.FormatInt(c.ID, 10),
			Summary:  map[string]any{"plan_code": in.PlanCode, "capacity": c.Capacity, "region": c.RegionCode},
		}); err != nil {
			return err
		}
		out, err = s.View(ctx, tx, p, c.ID)
		return err
	})
	return out, err
}

// checkRefs looks up the plan and region a new class names and returns the
// field errors they give.
func (s *Service) checkRefs(ctx context.Context, tx bun.IDB, p *accounts.Principal, c *Class, planCode string) ([]apperr.FieldError, error) {
	var fields []apperr.FieldError
	if planCode != "" {
		plan, err := s.catalog.PlanByCode(ctx, tx, planCode)
		if apperr.Is(err, "plan_not_found") {
			fields = append(fields, apperr.FieldError{Field: "plan_code", Code: "unknown_plan", Message: "培训计划代码不存在"})
		} else if err != nil {
			return nil, err
		}
		c.PlanID = plan.ID
	}
	if len(c.RegionCode) == 6 {
		_, err := orgs.NewStore(tx).RegionByCode(ctx, c.RegionCode)
		switch {
		case apperr.Is(err, "unknown_region"):
			fields = append(fields, apperr.FieldError{Field: "region", Code: "invalid_region", Message: "行政区划代码不存在"})
		case err != nil:
			return nil, err
		case !strings.HasPrefix(c.RegionCode, providerArea(p.Region)):
			// A class's region decides whose waiting graduates it takes in,
			// so a provider runs classes only in its own city.
			fields = append(fields, apperr.FieldError{Field: "region", Code: "region_out_of_scope", Message: "培训班须开设在本机构所在城市"})
		}
	}
	return fields, nil
}

// Class returns class id if p may see it. Errors: NotFound (class_not_found).
func (s *Service) Class(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	return s.View(ctx, s.db, p, id)
}

// View is Class on idb (inside a caller's transaction). Errors: NotFound
// (class_not_found).
func (s *Service) View(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64) (Class, error) {
	return NewStore(idb).ForCaller(ctx, p, s.member, id)
}

// Classes lists the classes p may see, matching f, and their total (see
// Browse). Errors: none of its own (database failures only).
func (s *Service) Classes(ctx context.Context, p *accounts.Principal, f Filter) ([]Class, int, error) {
	cs, total, _, err := s.Browse(ctx, p, f)
	return cs, total, err
}

// Browse lists the classes p may see, matching f, newest first, with the
// total: exact up to pg.ExactUpTo, else the planner's estimate (estimate
// true). Errors: none of its own (database failures only).
func (s *Service) Browse(ctx context.Context, p *accounts.Principal, f Filter) ([]Class, int, bool, error) {
	f.OnlyOpen = false
	return NewStore(s.db).List(ctx, p, s.member, f)
}

// OpenClasses lists classes any worker may enrol in today, matching f
// (city, plan, dates), and their total (see Search).
// Errors: none of its own (database failures only).
func (s *Service) OpenClasses(ctx context.Context, f Filter) ([]Class, int, error) {
	cs, total, _, err := s.Search(ctx, f)
	return cs, total, err
}

// Search lists classes any worker may enrol in today, matching f (city,
// plan, dates), soonest first; remaining places are Capacity −
// EnrolledCount. The total is exact up to pg.ExactUpTo, else an estimate
// (estimate true). Errors: none of its own (database failures only).
func (s *Service) Search(ctx context.Context, f Filter) ([]Class, int, bool, error) {
	f.OnlyOpen, f.Today = true, s.Today()
	return NewStore(s.db).List(ctx, nil, nil, f)
}

// Own locks class id on idb for a change by p: the provider that runs it or
// an admin. Errors: NotFound (class_not_found, also for anyone else, as if
// it did not exist).
func (s *Service) Own(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64) (Class, error) {
	c, err := NewStore(idb).Lock(ctx, id)
	if err != nil {
		return Class{}, err
	}
	if !p.Is(accounts.RoleAdmin) && !(p.Is(accounts.RoleProvider) && c.ProviderOrgID == p.OrgID) {
		return Class{}, ErrNotFound()
	}
	return c, nil
}

// Move is one step of a class's life inside the caller's transaction idb:
// it locks class id for p, checks the change to state to (CheckMove) and
// writes it; reason is kept when cancelling. It returns the class as
// changed and the state it left. The caller records the audit event and
// the change's effects on enrolments. Errors: NotFound (class_not_found),
// Conflict (those of CheckMove).
func (s *Service) Move(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64, to State, reason string) (Class, State, error) {
	c, err := s.Own(ctx, idb, p, id)
	if err != nil {
		return Class{}, "", err
	}
	if err := CheckMove(c, to, s.Today()); err != nil {
		return Class{}, "", err
	}
	from := c.State
	c.State, c.CancelReason = to, reason
	if err := NewStore(idb).SetState(ctx, &c); err != nil {
		return Class{}, "", err
	}
	return c, from, nil
}

// Finish marks a running class as completed, on or after its last day.
// Errors: NotFound (class_not_found), Conflict (class_state,
// class_not_ended).
func (s *Service) Finish(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	var out Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, from, err := s.Move(ctx, tx, p, id, StateCompleted, "")
		if err != nil {
			return err
		}
		if err := RecordMove(ctx, tx, p, id, "classes.finish", from, StateCompleted); err != nil {
			return err
		}
		out, err = s.View(ctx, tx, p, id)
		return err
	})
	return out, err
}

// RecordMove records the audit event of a state change made by p.
// Errors: those of audit.Record.
func RecordMove(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64, action string, from, to State) error {
	return audit.Record(ctx, idb, audit.Event{
		ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: action, TargetType: "class",
		TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"from": string(from), "to": string(to)},
	})
}

// Advance is the calendar step of the classes.advance job, inside the
// caller's transaction idb: open classes whose first day has come start
// running, running classes whose last day has passed are completed, each
// change audited as done by the scheduler. It returns the classes it
// started (the caller ends their waiting lists) and those it completed.
// Errors: none of its own (database failures only).
func (s *Service) Advance(ctx context.Context, idb bun.IDB) (started []Started, completed []int64, err error) {
	st := NewStore(idb)
	today := s.Today()
	if started, err = st.StartDue(ctx, today); err != nil {
		return nil, nil, err
	}
	if completed, err = st.CompleteDue(ctx, today); err != nil {
		return nil, nil, err
	}
	startedIDs := make([]int64, 0, len(started))
	for _, c := range started {
		startedIDs = append(startedIDs, c.ID)
	}
	for _, m := range []struct {
		ids      []int64
		action   string
		from, to State
	}{{startedIDs, "classes.start", StateOpen, StateRunning}, {completed, "classes.finish", StateRunning, StateCompleted}} {
		for _, id := range m.ids {
			if err := audit.Record(ctx, idb, audit.Event{ActorLabel: "scheduler", Action: m.action, TargetType: "class",
				TargetID: strconv.FormatInt(id, 10), Summary: map[string]any{"from": string(m.from), "to": string(m.to), "by": "calendar"}}); err != nil {
				return nil, nil, err
			}
		}
	}
	return started, completed, nil
}

// Regions lists the regions of Hubei, province first, for the pages'
// selects. Errors: none of its own (database failures only).
func (s *Service) Regions(ctx context.Context) ([]orgs.Region, error) {
	all, err := orgs.NewStore(s.db).Regions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]orgs.Region, 0, len(all))
	for _, r := range all {
		if strings.HasPrefix(r.Code, "42") {
			out = append(out, r)
		}
	}
	return out, nil
}

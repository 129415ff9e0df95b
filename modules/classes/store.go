package classes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
	"tuoyu/modules/orgs"
	"tuoyu/modules/pg"
)

// Store reads and writes the classes table, on the database or inside a
// transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

// Membership selects the IDs of the classes a worker holds or held a place
// in. The enrolment module owns that fact and supplies the sub-query, so a
// worker's view of classes stays one statement without this package
// reading enrolments.
type Membership func(db bun.IDB, workerID int64) *bun.SelectQuery

// classQuery selects a class with the names pages show; plan, provider and
// region names come from their owners' sub-queries.
func (s Store) classQuery(dst any) *bun.SelectQuery {
	return s.db.NewSelect().Model(dst).
		ColumnExpr("cl.*").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name").
		ColumnExpr("o.name AS provider_name, r.name AS region_name").
		Join("JOIN (?) AS pl ON pl.id = cl.plan_id", catalog.PlanNames(s.db)).
		Join("JOIN (?) AS o ON o.id = cl.provider_org_id", orgs.OrganisationNames(s.db)).
		Join("JOIN (?) AS r ON r.code = cl.region_code", orgs.RegionNames(s.db))
}

// scope keeps the classes p may see: providers their own, HR and
// regulators those in their region, admins all, workers the open ones and
// those member lists for them. A city and a district are written so that
// they start from an index holding their classes in list order (migration
// classes_list_indexes), not from a filter over the province.
func (s Store) scope(q *bun.SelectQuery, p *accounts.Principal, member Membership) *bun.SelectQuery {
	if p != nil && p.Role == accounts.RoleWorker {
		if member == nil {
			return q.Where("cl.state = 'open'")
		}
		return q.Where("(cl.state = 'open' OR cl.id IN (?))", member(s.db, p.WorkerID))
	}
	if sc := p.Scope(); !sc.All && sc.RegionPrefix != "" {
		return inRegion(q, sc.RegionPrefix)
	}
	return p.Scope().Apply(q, accounts.ScopeColumns{Region: "cl.region_code", Org: "cl.provider_org_id"})
}

// inRegion keeps the classes whose region starts with prefix (42, 4201 or
// 420102), in the form the list indexes serve.
func inRegion(q *bun.SelectQuery, prefix string) *bun.SelectQuery {
	switch len(prefix) {
	case 4:
		return q.Where("left(cl.region_code, 4) = ?", prefix)
	case 6:
		return q.Where("cl.region_code = ?", prefix)
	}
	return q.Where("cl.region_code LIKE ?", prefix+"%")
}

// ForCaller returns class id if p may see it. Errors: NotFound
// (class_not_found).
func (s Store) ForCaller(ctx context.Context, p *accounts.Principal, member Membership, id int64) (Class, error) {
	var c Class
	err := s.scope(s.classQuery(&c), p, member).Where("cl.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Class{}, ErrNotFound()
	}
	if err != nil {
		return Class{}, fmt.Errorf("class %d: %w", id, err)
	}
	return c, nil
}

// Lock takes the row lock on class id (every enrolment change of the class
// holds it) and returns the class. Errors: NotFound (class_not_found).
func (s Store) Lock(ctx context.Context, id int64) (Class, error) {
	var c Class
	err := s.db.NewSelect().Model(&c).Where("cl.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Class{}, ErrNotFound()
	}
	if err != nil {
		return Class{}, fmt.Errorf("lock class %d: %w", id, err)
	}
	return c, nil
}

// Filter selects classes for a list.
type Filter struct {
	State      State
	PlanCode   string
	Region     string // a region code; the class's region must lie inside it
	From, To   time.Time
	OnlyOpen   bool // enrollable today: state open, window open, places or not
	Today      time.Time
	Limit      int
	Offset     int
	ProviderID int64
	// AfterStartsOn and AfterID, when AfterID is set, resume the list after
	// that class (keyset pagination on the list's order); Offset is then 0.
	AfterStartsOn time.Time
	AfterID       int64
}

// where adds f's conditions and p's scope to q (alias cl): the same for the
// page and for its total.
func (s Store) where(q *bun.SelectQuery, p *accounts.Principal, member Membership, f Filter) *bun.SelectQuery {
	if f.OnlyOpen {
		return filter(q.Where("cl.state = 'open'").
			Where("(cl.enrol_opens_on IS NULL OR cl.enrol_opens_on <= ?)", f.Today).
			Where("coalesce(cl.enrol_closes_on, cl.starts_on) >= ?", f.Today), s.db, f)
	}
	return filter(s.scope(q, p, member), s.db, f)
}

// countBase is what a list's total counts (alias cl, only the columns the
// filters read). A worker's classes are the open ones or theirs: counted as
// the two parts, each from its own index, since the planner cannot tell how
// few classes pass "open or theirs" and its guess made every worker's total
// an estimate.
func (s Store) countBase(p *accounts.Principal, member Membership, f Filter) *bun.SelectQuery {
	base := s.db.NewSelect().ColumnExpr("cl.id")
	if f.OnlyOpen || member == nil || !p.Is(accounts.RoleWorker) {
		return s.where(base.TableExpr("classes AS cl"), p, member, f)
	}
	const cols = "id, state, plan_id, region_code, starts_on, provider_org_id"
	open := s.db.NewSelect().Table("classes").ColumnExpr(cols).Where("state = 'open'")
	held := s.db.NewSelect().Table("classes").ColumnExpr(cols).Where("state <> 'open' AND id IN (?)", member(s.db, p.WorkerID))
	return filter(base.TableExpr("(? UNION ALL ?) AS cl", open, held), s.db, f)
}

// filter adds f's own conditions (not the scope) to q (alias cl).
func filter(q *bun.SelectQuery, db bun.IDB, f Filter) *bun.SelectQuery {
	if f.State != "" {
		q = q.Where("cl.state = ?", f.State)
	}
	if f.PlanCode != "" {
		q = q.Where("cl.plan_id IN (SELECT pc.id FROM (?) AS pc WHERE pc.code = ?)", catalog.PlanNames(db), f.PlanCode)
	}
	if f.Region != "" {
		q = inRegion(q, accounts.RegionPrefix(f.Region))
	}
	if !f.From.IsZero() {
		q = q.Where("cl.starts_on >= ?::date", f.From.Format(time.DateOnly))
	}
	if !f.To.IsZero() {
		q = q.Where("cl.starts_on <= ?::date", f.To.Format(time.DateOnly))
	}
	if f.ProviderID != 0 {
		q = q.Where("cl.provider_org_id = ?", f.ProviderID)
	}
	return q
}

// List returns a page of the classes p may see that match f and their
// total: exact up to pg.ExactUpTo, else the planner's estimate with
// estimate true. Staff see the newest classes first; workers looking for a
// class (f.OnlyOpen) the soonest start first. Both orders end in the id, so
// a page resumes after a cursor (f.AfterID) from an index.
// Errors: none of its own (database failures only).
func (s Store) List(ctx context.Context, p *accounts.Principal, member Membership, f Filter) (cs []Class, total int, estimate bool, err error) {
	q := s.where(s.classQuery(&cs), p, member, f)
	order, after := "cl.starts_on DESC, cl.id DESC", "(cl.starts_on, cl.id) < (?::date, ?)"
	if f.OnlyOpen {
		order, after = "cl.starts_on, cl.id", "(cl.starts_on, cl.id) > (?::date, ?)"
	}
	if f.AfterID != 0 {
		q, f.Offset = q.Where(after, f.AfterStartsOn.Format(time.DateOnly), f.AfterID), 0
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	if err := q.OrderExpr(order).Limit(int64(f.Limit)).Offset(int64(f.Offset)).Scan(ctx); err != nil {
		return nil, 0, false, fmt.Errorf("list classes: %w", err)
	}
	// The total reads only classes: the names joined for display do not
	// change how many there are.
	if total, estimate, err = pg.Total(ctx, s.db, s.countBase(p, member, f), pg.ExactUpTo); err != nil {
		return nil, 0, false, fmt.Errorf("count classes: %w", err)
	}
	return cs, total, estimate, nil
}

// Insert stores a new class and sets its ID.
// Errors: none of its own (database failures only).
func (s Store) Insert(ctx context.Context, c *Class) error {
	_, err := s.db.NewInsert().Model(c).
		ExcludeColumn("id", "enrolled_count", "waitlisted_count", "cancel_reason", "cancelled_at", "created_at", "updated_at").
		Returning("id").Exec(ctx)
	if err != nil {
		return fmt.Errorf("insert class: %w", err)
	}
	return nil
}

// SetState writes c's state (and, when cancelled, its reason and time).
// Errors: none of its own (database failures only).
func (s Store) SetState(ctx context.Context, c *Class) error {
	q := s.db.NewUpdate().Model(c).Column("state").Set("updated_at = now()").WherePK()
	if c.State == StateCancelled {
		q = q.Column("cancel_reason").Set("cancelled_at = now()")
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("set class %d state %s: %w", c.ID, c.State, err)
	}
	return nil
}

// Started is a class the calendar started: its ID and provider.
type Started struct {
	ID            int64 `bun:"id"`
	ProviderOrgID int64 `bun:"provider_org_id"`
}

// StartDue moves open classes whose first day is on or before today to
// running and returns them.
// Errors: none of its own (database failures only).
func (s Store) StartDue(ctx context.Context, today time.Time) ([]Started, error) {
	var out []Started
	err := s.db.NewRaw(`UPDATE classes SET state = 'running', updated_at = now()
		WHERE state = 'open' AND starts_on <= ? RETURNING id, provider_org_id`, today).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("start classes: %w", err)
	}
	return out, nil
}

// CompleteDue moves running classes whose last day is before today to
// completed and returns their IDs.
// Errors: none of its own (database failures only).
func (s Store) CompleteDue(ctx context.Context, today time.Time) ([]int64, error) {
	var out []int64
	err := s.db.NewRaw(`UPDATE classes SET state = 'completed', updated_at = now()
		WHERE state = 'running' AND ends_on < ? RETURNING id`, today).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("complete classes: %w", err)
	}
	return out, nil
}

// OpenWithPlaces lists, soonest first, up to limit classes of plan planID
// in the region prefix that take enrolments today and have a free place.
// The caller locks each before using it: a place may go meanwhile.
// Errors: none of its own (database failures only).
func (s Store) OpenWithPlaces(ctx context.Context, planID int64, regionPrefix string, today time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().Table("classes").Column("id").
		Where("plan_id = ? AND state = 'open' AND enrolled_count < capacity", planID).
		Where("region_code LIKE ?", regionPrefix+"%").
		Where("(enrol_opens_on IS NULL OR enrol_opens_on <= ?)", today).
		Where("coalesce(enrol_closes_on, starts_on) >= ?", today).
		OrderExpr("starts_on, id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("open classes of plan %d: %w", planID, err)
	}
	return ids, nil
}

// OfPlan selects the IDs of the classes of plan planID, a sub-query for the
// enrolment store ("is the worker already in a class of this plan?").
func OfPlan(db bun.IDB, planID int64) *bun.SelectQuery {
	return db.NewSelect().Table("classes").Column("id").Where("plan_id = ?", planID)
}

// Display selects, per class, the columns an enrolment list shows (alias
// it cl): a sub-query for the enrolment store's views, so the list stays
// one statement.
func Display(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("classes AS c").
		ColumnExpr("c.id, c.name, c.state, c.starts_on, c.ends_on, c.place, c.region_code, c.provider_org_id, c.plan_id").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name, o.name AS provider_name").
		Join("JOIN (?) AS pl ON pl.id = c.plan_id", catalog.PlanNames(db)).
		Join("JOIN (?) AS o ON o.id = c.provider_org_id", orgs.OrganisationNames(db))
}

// Ended is a class that ran and ended, with what its assessment depends on.
type Ended struct {
	ID            int64     `bun:"id"`
	ProviderOrgID int64     `bun:"provider_org_id"`
	RegionCode    string    `bun:"region_code"`
	EndsOn        time.Time `bun:"ends_on"`
	PlanCode      string    `bun:"plan_code"`
	Assessment    string    `bun:"assessment"`
	Place         string    `bun:"place"`
}

// Ended returns up to limit classes (by id, after afterID) that ran and
// ended on a day in [from, to]; cancelled classes never end.
// Errors: none of its own (database failures only).
func (s Store) Ended(ctx context.Context, from, to time.Time, afterID int64, limit int) ([]Ended, error) {
	var out []Ended
	err := s.db.NewSelect().TableExpr("classes AS cl").
		ColumnExpr("cl.id, cl.provider_org_id, cl.region_code, cl.ends_on, cl.place, pl.code AS plan_code, pl.assessment").
		Join("JOIN (?) AS pl ON pl.id = cl.plan_id", catalog.PlanAssessments(s.db)).
		Where("cl.state IN ('running', 'completed')").
		Where("cl.ends_on BETWEEN ? AND ?", from.Format(time.DateOnly), to.Format(time.DateOnly)).
		Where("cl.id > ?", afterID).
		OrderExpr("cl.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("ended classes: %w", err)
	}
	return out, nil
}

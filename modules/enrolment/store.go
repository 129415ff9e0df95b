package enrolment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
)

// Store reads and writes classes, enrolments, the plan waiting list and
// attendance, on the database or inside a transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

func errClassNotFound() *apperr.Error {
	return apperr.NotFound("class_not_found", "培训班不存在")
}
func errEnrolmentNotFound() *apperr.Error {
	return apperr.NotFound("enrolment_not_found", "报名记录不存在")
}

// classQuery selects a class with the names pages show.
func (s Store) classQuery(dst any) *bun.SelectQuery {
	return s.db.NewSelect().Model(dst).
		ColumnExpr("cl.*").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name").
		ColumnExpr("o.name AS provider_name, r.name AS region_name").
		Join("JOIN plans AS pl ON pl.id = cl.plan_id").
		Join("JOIN organisations AS o ON o.id = cl.provider_org_id").
		Join("JOIN regions AS r ON r.code = cl.region_code")
}

// scopeClasses keeps the classes p may see: providers their own, HR and
// regulators those in their region, admins all, workers the open ones and
// those they are (or were) enrolled in.
func scopeClasses(q *bun.SelectQuery, p *accounts.Principal) *bun.SelectQuery {
	if p != nil && p.Role == accounts.RoleWorker {
		return q.Where("(cl.state = 'open' OR EXISTS (SELECT 1 FROM enrolments AS we WHERE we.class_id = cl.id AND we.worker_id = ?))", p.WorkerID)
	}
	return p.Scope().Apply(q, accounts.ScopeColumns{Region: "cl.region_code", Org: "cl.provider_org_id"})
}

// ClassForCaller returns class id if p may see it; apperr.NotFound
// (class_not_found) otherwise.
func (s Store) ClassForCaller(ctx context.Context, p *accounts.Principal, id int64) (Class, error) {
	var c Class
	err := scopeClasses(s.classQuery(&c), p).Where("cl.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Class{}, errClassNotFound()
	}
	if err != nil {
		return Class{}, fmt.Errorf("class %d: %w", id, err)
	}
	return c, nil
}

// LockClass takes the row lock on class id (every enrolment change of the
// class holds it) and returns the class. apperr.NotFound when absent.
func (s Store) LockClass(ctx context.Context, id int64) (Class, error) {
	var c Class
	err := s.db.NewSelect().Model(&c).Where("cl.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Class{}, errClassNotFound()
	}
	if err != nil {
		return Class{}, fmt.Errorf("lock class %d: %w", id, err)
	}
	return c, nil
}

// ClassFilter selects classes for a list.
type ClassFilter struct {
	State      State
	PlanCode   string
	Region     string // a region code; the class's region must lie inside it
	From, To   time.Time
	OnlyOpen   bool // enrollable today: state open, window open, places or not
	Today      time.Time
	Limit      int
	Offset     int
	ProviderID int64
}

// Classes returns a page of the classes p may see that match f, with the
// total, in two queries.
func (s Store) Classes(ctx context.Context, p *accounts.Principal, f ClassFilter) ([]Class, int, error) {
	var cs []Class
	q := s.classQuery(&cs)
	if !f.OnlyOpen {
		q = scopeClasses(q, p)
	}
	if f.OnlyOpen {
		q = q.Where("cl.state = 'open'").
			Where("(cl.enrol_opens_on IS NULL OR cl.enrol_opens_on <= ?)", f.Today).
			Where("coalesce(cl.enrol_closes_on, cl.starts_on) >= ?", f.Today)
	}
	if f.State != "" {
		q = q.Where("cl.state = ?", f.State)
	}
	if f.PlanCode != "" {
		q = q.Where("pl.code = ?", f.PlanCode)
	}
	if f.Region != "" {
		q = q.Where("cl.region_code LIKE ?", accounts.RegionPrefix(f.Region)+"%")
	}
	if !f.From.IsZero() {
		q = q.Where("cl.starts_on >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("cl.starts_on <= ?", f.To)
	}
	if f.ProviderID != 0 {
		q = q.Where("cl.provider_org_id = ?", f.ProviderID)
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	// Staff see the newest classes first; workers looking for a class the
	// soonest start first.
	order := "cl.starts_on DESC, cl.id DESC"
	if f.OnlyOpen {
		order = "cl.starts_on, cl.id"
	}
	n, err := q.OrderExpr(order).Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list classes: %w", err)
	}
	return cs, int(n), nil
}

// EnrolmentOf returns the worker's enrolment row in class, if any.
func (s Store) EnrolmentOf(ctx context.Context, workerID, classID int64) (*Enrolment, error) {
	var e Enrolment
	err := s.db.NewSelect().Model(&e).Where("en.worker_id = ? AND en.class_id = ?", workerID, classID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("enrolment of worker %d in class %d: %w", workerID, classID, err)
	}
	return &e, nil
}

// LockEnrolment returns enrolment id locked for update.
func (s Store) LockEnrolment(ctx context.Context, id int64) (Enrolment, error) {
	var e Enrolment
	err := s.db.NewSelect().Model(&e).Where("en.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Enrolment{}, errEnrolmentNotFound()
	}
	if err != nil {
		return Enrolment{}, fmt.Errorf("lock enrolment %d: %w", id, err)
	}
	return e, nil
}

// Overlaps reports whether the worker holds an active enrolment in another
// class whose dates overlap [from, to].
func (s Store) Overlaps(ctx context.Context, workerID, exceptClassID int64, from, to time.Time) (bool, error) {
	return s.db.NewSelect().Table("enrolments").
		Where("worker_id = ? AND class_id <> ?", workerID, exceptClassID).
		Where("status IN ('enrolled', 'waitlisted', 'completed')").
		Where("period && daterange(?::date, ?::date, '[]')", from, to).
		Exists(ctx)
}

// WorkerBanned reads the worker's ban flag under a share lock, so a ban
// recorded concurrently either waits for this transaction or is seen.
// apperr.NotFound (worker_not_found) when there is no such worker.
func (s Store) WorkerBanned(ctx context.Context, workerID int64) (bool, error) {
	var banned bool
	err := s.db.NewSelect().Table("workers").Column("banned").Where("id = ?", workerID).For("SHARE").Scan(ctx, &banned)
	if errors.Is(err, sql.ErrNoRows) {
		return false, apperr.NotFound("worker_not_found", "学员不存在")
	}
	if err != nil {
		return false, fmt.Errorf("ban flag of worker %d: %w", workerID, err)
	}
	return banned, nil
}

// NextPosition is the next free place on the class's waiting list; the
// caller holds the class lock.
func (s Store) NextPosition(ctx context.Context, classID int64) (int, error) {
	var n int
	err := s.db.NewSelect().Table("enrolments").ColumnExpr("coalesce(max(position), 0) + 1").
		Where("class_id = ? AND status = 'waitlisted'", classID).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("next waiting position in class %d: %w", classID, err)
	}
	return n, nil
}

// period is the daterange literal of a class's dates, both days included.
func period(c Class) string {
	return "[" + c.StartsOn.Format(time.DateOnly) + "," + c.EndsOn.Format(time.DateOnly) + "]"
}

// translate turns the constraint violations that carry a domain meaning
// into apperr values; anything else passes through to become a 500.
func translate(err error) error {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Field('n') {
	case "enrolments_no_overlap":
		return errOverlap().Wrap(err)
	case "enrolments_once":
		return errAlreadyEnrolled().Wrap(err)
	case "classes_capacity_held":
		return apperr.Conflict("class_full", "培训班名额已满").Wrap(err)
	case "attendance_within_course":
		return apperr.Invalid("hours_over_limit", "学时超过课程总学时").Wrap(err)
	}
	return err
}

func errOverlap() *apperr.Error {
	return apperr.Conflict("class_overlap", "该学员已报名时间重叠的其他培训班")
}

func errAlreadyEnrolled() *apperr.Error {
	return apperr.Conflict("already_enrolled", "该学员已报名本培训班")
}

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
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/pg"
	"tuoyu/modules/workers"
)

// Store reads and writes enrolments (store_waitlist.go: the plan waiting
// list), on the database or inside a transaction.
type Store struct{ db bun.IDB }

// NewStore returns a store working on db.
func NewStore(db bun.IDB) Store { return Store{db: db} }

// Membership selects the IDs of the classes worker workerID holds or held a
// place in, whatever the status: the classes.Membership the classes module
// scopes a worker's view with.
func Membership(db bun.IDB, workerID int64) *bun.SelectQuery {
	return db.NewSelect().Table("enrolments").Column("class_id").Where("worker_id = ?", workerID)
}

// OfWorkers selects the IDs of the enrolments of the workers sub-query
// workerIDs selects: e.g. the banned, whom the certificate catch-up skips.
func OfWorkers(db bun.IDB, workerIDs *bun.SelectQuery) *bun.SelectQuery {
	return db.NewSelect().Table("enrolments").Column("id").Where("worker_id IN (?)", workerIDs)
}

// Of returns the worker's enrolment row in class classID, nil when none.
// Errors: none of its own (database failures only).
func (s Store) Of(ctx context.Context, workerID, classID int64) (*Enrolment, error) {
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

// ClassOf returns the class of enrolment id. Errors: NotFound
// (enrolment_not_found).
func (s Store) ClassOf(ctx context.Context, id int64) (int64, error) {
	var classID int64
	err := s.db.NewSelect().Table("enrolments").Column("class_id").Where("id = ?", id).Scan(ctx, &classID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNotFound()
	}
	if err != nil {
		return 0, fmt.Errorf("class of enrolment %d: %w", id, err)
	}
	return classID, nil
}

// Lock returns enrolment id locked for update. Errors: NotFound
// (enrolment_not_found).
func (s Store) Lock(ctx context.Context, id int64) (Enrolment, error) {
	var e Enrolment
	err := s.db.NewSelect().Model(&e).Where("en.id = ?", id).For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Enrolment{}, errNotFound()
	}
	if err != nil {
		return Enrolment{}, fmt.Errorf("lock enrolment %d: %w", id, err)
	}
	return e, nil
}

// Overlaps reports whether the worker holds an active enrolment in another
// class whose dates overlap [from, to].
// Errors: none of its own (database failures only).
func (s Store) Overlaps(ctx context.Context, workerID, exceptClassID int64, from, to time.Time) (bool, error) {
	// The worker's few enrolments first, then their dates: OFFSET 0 keeps
	// the planner from starting at the exclusion index's period column,
	// whose estimate is far off (at 300 000 workers it scanned 216 000
	// overlapping periods, 1.1 s while holding the class lock).
	return s.db.NewSelect().
		TableExpr("(SELECT class_id, status, period FROM enrolments WHERE worker_id = ? OFFSET 0) AS mine", workerID).
		Where("class_id <> ?", exceptClassID).
		Where("status IN ('enrolled', 'waitlisted', 'completed')").
		Where("period && daterange(?::date, ?::date, '[]')", from, to).
		Exists(ctx)
}

// NextPosition is the next free place on the class's waiting list; the
// caller holds the class lock.
// Errors: none of its own (database failures only).
func (s Store) NextPosition(ctx context.Context, classID int64) (int, error) {
	var n int
	err := s.db.NewSelect().Table("enrolments").ColumnExpr("coalesce(max(position), 0) + 1").
		Where("class_id = ? AND status = 'waitlisted'", classID).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("next waiting position in class %d: %w", classID, err)
	}
	return n, nil
}

// Insert stores a new enrolment and sets its ID. Errors: Conflict
// (class_overlap, already_enrolled, class_full) from the constraints.
func (s Store) Insert(ctx context.Context, e *Enrolment) error {
	_, err := s.db.NewInsert().Model(e).
		ExcludeColumn("id", "completed_on", "withdrawn_at", "created_at", "updated_at").Returning("id").Exec(ctx)
	if err != nil {
		return fmt.Errorf("enrol worker %d in class %d: %w", e.WorkerID, e.ClassID, translate(err))
	}
	return nil
}

// Reuse writes e over the worker's earlier row of the class (e.ID), which
// had left it: a worker has one enrolment per class. Errors: as Insert.
func (s Store) Reuse(ctx context.Context, e *Enrolment) error {
	_, err := s.db.NewUpdate().Model(e).
		Column("plan_version_id", "status", "source", "position", "roster_import_id", "created_by").
		Set("completed_on = NULL, withdrawn_at = NULL, updated_at = now()").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("enrol worker %d in class %d again: %w", e.WorkerID, e.ClassID, translate(err))
	}
	return nil
}

// SetWithdrawn marks e withdrawn now.
// Errors: none of its own (database failures only).
func (s Store) SetWithdrawn(ctx context.Context, e *Enrolment) error {
	e.Status, e.Position = StatusWithdrawn, nil
	if _, err := s.db.NewUpdate().Model(e).Column("status", "position").
		Set("withdrawn_at = now(), updated_at = now()").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("withdraw enrolment %d: %w", e.ID, err)
	}
	return nil
}

// FirstWaiting returns the first waitlisted, unbanned enrolment of class
// classID, 0 when nobody waits; the caller holds the class lock.
// Errors: none of its own (database failures only).
func (s Store) FirstWaiting(ctx context.Context, classID int64) (int64, error) {
	var id int64
	err := s.db.NewSelect().TableExpr("enrolments AS e").Column("e.id").
		Where("e.class_id = ? AND e.status = 'waitlisted'", classID).
		Where("e.worker_id IN (?)", workers.Unbanned(s.db)).
		OrderExpr("e.position").Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("first waiting in class %d: %w", classID, err)
	}
	return id, nil
}

// Promote gives waitlisted enrolment id a place. Errors: Conflict
// (class_full, class_overlap) from the constraints.
func (s Store) Promote(ctx context.Context, id int64) error {
	_, err := s.db.NewUpdate().Table("enrolments").Set("status = 'enrolled', position = NULL, updated_at = now()").
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("promote enrolment %d: %w", id, translate(err))
	}
	return nil
}

// Place names an enrolment and its class.
type Place struct {
	ID      int64 `bun:"id"`
	ClassID int64 `bun:"class_id"`
}

// ActivePlaces returns the enrolments of worker workerID that are enrolled
// or waitlisted, in class order (the order their classes are locked).
// Errors: none of its own (database failures only).
func (s Store) ActivePlaces(ctx context.Context, workerID int64) ([]Place, error) {
	var out []Place
	err := s.db.NewSelect().Table("enrolments").Column("id", "class_id").
		Where("worker_id = ? AND status IN ('enrolled', 'waitlisted')", workerID).
		OrderExpr("class_id, id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("places of worker %d: %w", workerID, err)
	}
	return out, nil
}

// Renumber numbers the waiting list of class classID 1, 2, 3 … in its
// order, after someone left it or was promoted; the caller holds the class
// lock. Errors: none of its own (database failures only).
func (s Store) Renumber(ctx context.Context, classID int64) error {
	_, err := s.db.NewRaw(`UPDATE enrolments AS e SET position = r.n, updated_at = now()
		FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n
		        FROM enrolments WHERE class_id = ? AND status = 'waitlisted') AS r
		WHERE e.id = r.id AND e.position <> r.n`, classID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renumber the waiting list of class %d: %w", classID, err)
	}
	return nil
}

// Left is a worker whose place in a class ended.
type Left struct {
	ClassID  int64 `bun:"class_id"`
	WorkerID int64 `bun:"worker_id"`
}

// CloseWaitlists cancels every waitlisted enrolment of the classes and
// returns whose they were.
// Errors: none of its own (database failures only).
func (s Store) CloseWaitlists(ctx context.Context, classIDs []int64) ([]Left, error) {
	var out []Left
	if len(classIDs) == 0 {
		return nil, nil
	}
	err := s.db.NewUpdate().Table("enrolments").Set("status = 'cancelled', position = NULL, updated_at = now()").
		Where("class_id IN (?) AND status = 'waitlisted'", bun.In(classIDs)).
		Returning("class_id, worker_id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("close waiting lists: %w", err)
	}
	return out, nil
}

// CancelAll cancels every active enrolment of class classID and returns the
// workers it concerned.
// Errors: none of its own (database failures only).
func (s Store) CancelAll(ctx context.Context, classID int64) ([]int64, error) {
	var affected []int64
	err := s.db.NewUpdate().Table("enrolments").
		Set("status = 'cancelled', position = NULL, completed_on = NULL, updated_at = now()").
		Where("class_id = ? AND status IN ('enrolled', 'waitlisted', 'completed')", classID).
		Returning("worker_id").Scan(ctx, &affected)
	if err != nil {
		return nil, fmt.Errorf("cancel enrolments of class %d: %w", classID, err)
	}
	return affected, nil
}

// ActiveInPlan returns the status of the worker's latest active enrolment in
// any class of plan planID; ok is false when there is none.
// Errors: none of its own (database failures only).
func (s Store) ActiveInPlan(ctx context.Context, workerID, planID int64) (status Status, ok bool, err error) {
	err = s.db.NewSelect().Table("enrolments").Column("status").
		Where("worker_id = ? AND status IN ('enrolled', 'waitlisted', 'completed')", workerID).
		Where("class_id IN (?)", classes.OfPlan(s.db, planID)).
		OrderExpr("id DESC").Limit(1).Scan(ctx, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("enrolment of worker %d in plan %d: %w", workerID, planID, err)
	}
	return status, true, nil
}

// Seat is an enrolment of a class as attendance needs it.
type Seat struct {
	ID            int64  `bun:"id"`
	WorkerID      int64  `bun:"worker_id"`
	PlanVersionID int64  `bun:"plan_version_id"`
	Status        Status `bun:"status"`
}

// Seats loads every enrolment of class classID by ID, in one query.
// Errors: none of its own (database failures only).
func (s Store) Seats(ctx context.Context, classID int64) (map[int64]Seat, error) {
	var es []Seat
	err := s.db.NewSelect().Table("enrolments").Column("id", "worker_id", "plan_version_id", "status").
		Where("class_id = ?", classID).Scan(ctx, &es)
	if err != nil {
		return nil, fmt.Errorf("enrolments of class %d: %w", classID, err)
	}
	out := make(map[int64]Seat, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

// SetCompleted marks enrolments ids completed on day.
// Errors: none of its own (database failures only).
func (s Store) SetCompleted(ctx context.Context, ids []int64, day time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Table("enrolments").Set("status = 'completed', completed_on = ?, updated_at = now()", day).
		Where("id IN (?)", bun.List(ids)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark enrolments completed: %w", err)
	}
	return nil
}

// Reopen takes completed enrolments ids back to enrolled.
// Errors: none of its own (database failures only).
func (s Store) Reopen(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Table("enrolments").Set("status = 'enrolled', completed_on = NULL, updated_at = now()").
		Where("id IN (?)", bun.List(ids)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reopen enrolments: %w", err)
	}
	return nil
}

// viewQuery selects enrolment views; class, plan version and worker come
// from their owners' sub-queries, so the list stays one statement.
func (s Store) viewQuery() *bun.SelectQuery { return s.viewQueryOf(workers.Display(s.db)) }

// viewQueryOf is viewQuery joining the workers' columns from display (a
// workers sub-query with at least id, name and id_mask).
func (s Store) viewQueryOf(display *bun.SelectQuery) *bun.SelectQuery {
	return s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.plan_version_id, en.status, en.source, en.position, en.completed_on, en.created_at").
		ColumnExpr("cl.name AS class_name, cl.state AS class_state, cl.starts_on, cl.ends_on, cl.place").
		ColumnExpr("cl.plan_code, cl.plan_name, cl.provider_name, pv.version").
		ColumnExpr("w.name AS worker_name, w.id_mask AS worker_id_mask").
		Join("JOIN (?) AS cl ON cl.id = en.class_id", classes.Display(s.db)).
		Join("JOIN (?) AS pv ON pv.id = en.plan_version_id", catalog.VersionNumbers(s.db)).
		Join("JOIN (?) AS w ON w.id = en.worker_id", display)
}

// ViewsOfWorker returns the worker's enrolments, newest class first (at
// most 200).
// Errors: none of its own (database failures only).
func (s Store) ViewsOfWorker(ctx context.Context, workerID int64) ([]View, error) {
	var views []View
	err := s.viewQuery().Where("en.worker_id = ?", workerID).
		OrderExpr("cl.starts_on DESC, en.id DESC").Limit(200).Scan(ctx, &views)
	if err != nil {
		return nil, fmt.Errorf("enrolments of worker %d: %w", workerID, err)
	}
	return views, nil
}

// ViewsOfClass returns the enrolments of class classID (only onlyWorker's
// when not 0): the enrolled and completed by name, then the waiting list in
// order, then those who left.
// Errors: none of its own (database failures only).
func (s Store) ViewsOfClass(ctx context.Context, classID, onlyWorker int64) ([]View, error) {
	q := s.viewQuery().Where("en.class_id = ?", classID)
	if onlyWorker != 0 {
		q = q.Where("en.worker_id = ?", onlyWorker)
	}
	var views []View
	err := q.OrderExpr(`CASE en.status WHEN 'enrolled' THEN 0 WHEN 'completed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,
		en.position, w.name, en.id`).Scan(ctx, &views)
	if err != nil {
		return nil, fmt.Errorf("roster of class %d: %w", classID, err)
	}
	return views, nil
}

// ViewForCaller returns enrolment id if p may see it: the worker themself,
// the class's provider, the college that sent the worker, HR and
// regulators of the class's region, admins.
// Errors: NotFound (enrolment_not_found).
func (s Store) ViewForCaller(ctx context.Context, p *accounts.Principal, id int64) (View, error) {
	q := s.viewQuery().Where("en.id = ?", id)
	if p.Is(accounts.RoleCollege) {
		q = q.Where("en.worker_id IN (?)", workers.Graduates(s.db, p.OrgID))
	} else {
		q = p.Scope().Apply(q, accounts.ScopeColumns{Region: "cl.region_code", Org: "cl.provider_org_id", Worker: "en.worker_id"})
	}
	var views []View
	if err := q.Scan(ctx, &views); err != nil {
		return View{}, fmt.Errorf("enrolment %d: %w", id, err)
	}
	if len(views) == 0 {
		return View{}, errNotFound()
	}
	return views[0], nil
}

// GraduatesPage selects a page of the enrolments of a college's
// graduates, ordered by the graduate's name and id, then newest enrolment
// first. After… (when AfterID is set) resume the list after that row.
type GraduatesPage struct {
	Status        Status
	Limit, Offset int
	AfterName     string
	AfterWorkerID int64
	AfterID       int64
}

// ViewsOfGraduates returns a page of the enrolments of the graduates of
// college collegeOrgID and their total: exact up to pg.ExactUpTo, else the
// planner's estimate (estimate true). The page walks the college's
// graduates in name order from their index and reads each one's
// enrolments by key, so it never sorts the college.
// Errors: none of its own (database failures only).
func (s Store) ViewsOfGraduates(ctx context.Context, collegeOrgID int64, f GraduatesPage) ([]View, int, bool, error) {
	q := s.viewQueryOf(workers.DisplayCollege(s.db)).Where("w.college_org_id = ?", collegeOrgID)
	if f.Status != "" {
		q = q.Where("en.status = ?", f.Status)
	}
	if f.AfterID != 0 {
		// (name, worker) ascending, then enrolment id descending: the first
		// condition is the index range, the second the rest of one worker.
		q = q.Where("(w.name, w.id) >= (?, ?)", f.AfterName, f.AfterWorkerID).
			Where("((w.name, w.id) > (?, ?) OR en.id < ?)", f.AfterName, f.AfterWorkerID, f.AfterID)
		f.Offset = 0
	}
	var views []View
	err := q.OrderExpr("w.name, w.id, en.id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).Scan(ctx, &views)
	if err != nil {
		return nil, 0, false, fmt.Errorf("enrolments of the graduates of college %d: %w", collegeOrgID, err)
	}
	count := s.db.NewSelect().TableExpr("enrolments AS en").ColumnExpr("en.id").
		Where("en.worker_id IN (?)", workers.Graduates(s.db, collegeOrgID))
	if f.Status != "" {
		count = count.Where("en.status = ?", f.Status)
	}
	total, estimate, err := pg.Total(ctx, s.db, count, pg.ExactUpTo)
	if err != nil {
		return nil, 0, false, fmt.Errorf("count enrolments of the graduates of college %d: %w", collegeOrgID, err)
	}
	return views, total, estimate, nil
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
	}
	return err
}

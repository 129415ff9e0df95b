package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
)

// EnrolmentView is an enrolment with its class, worker (masked) and
// progress, as lists and pages show it.
type EnrolmentView struct {
	ID            int64      `bun:"id" json:"id"`
	ClassID       int64      `bun:"class_id" json:"class_id"`
	WorkerID      int64      `bun:"worker_id" json:"worker_id"`
	PlanVersionID int64      `bun:"plan_version_id" json:"plan_version_id"`
	Status        Status     `bun:"status" json:"status"`
	Source        Source     `bun:"source" json:"source"`
	Position      *int       `bun:"position" json:"position,omitempty"`
	CompletedOn   *time.Time `bun:"completed_on" json:"-"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`

	ClassName    string    `bun:"class_name" json:"class_name"`
	ClassState   State     `bun:"class_state" json:"class_state"`
	StartsOn     time.Time `bun:"starts_on" json:"-"`
	EndsOn       time.Time `bun:"ends_on" json:"-"`
	Place        string    `bun:"place" json:"place"`
	PlanCode     string    `bun:"plan_code" json:"plan_code"`
	PlanName     string    `bun:"plan_name" json:"plan_name"`
	ProviderName string    `bun:"provider_name" json:"provider_name"`
	Version      int       `bun:"version" json:"plan_version"`
	WorkerName   string    `bun:"worker_name" json:"worker_name"`
	WorkerIDMask string    `bun:"worker_id_mask" json:"worker_id_mask"`

	Progress Progress `bun:"-" json:"progress"`
}

// CompletedOnText is the completion date as YYYY-MM-DD, "" when none.
func (v EnrolmentView) CompletedOnText() string {
	if v.CompletedOn == nil {
		return ""
	}
	return v.CompletedOn.Format(time.DateOnly)
}

func (s Store) viewQuery() *bun.SelectQuery {
	return s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.plan_version_id, en.status, en.source, en.position, en.completed_on, en.created_at").
		ColumnExpr("cl.name AS class_name, cl.state AS class_state, cl.starts_on, cl.ends_on, cl.place").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name, o.name AS provider_name, pv.version").
		ColumnExpr("w.name AS worker_name, w.id_mask AS worker_id_mask").
		Join("JOIN classes AS cl ON cl.id = en.class_id").
		Join("JOIN plans AS pl ON pl.id = cl.plan_id").
		Join("JOIN plan_versions AS pv ON pv.id = en.plan_version_id").
		Join("JOIN organisations AS o ON o.id = cl.provider_org_id").
		Join("JOIN workers AS w ON w.id = en.worker_id")
}

// withProgress fills the progress of every view: three catalogue queries
// and one attendance query, whatever the number of views.
func (s *Service) withProgress(ctx context.Context, idb bun.IDB, views []EnrolmentView) error {
	if len(views) == 0 {
		return nil
	}
	vids := map[int64]bool{}
	eids := make([]int64, 0, len(views))
	for _, v := range views {
		vids[v.PlanVersionID] = true
		eids = append(eids, v.ID)
	}
	versions, err := s.catalog.Versions(ctx, idb, keys(vids))
	if err != nil {
		return err
	}
	stored, err := hoursOf(ctx, idb, eids)
	if err != nil {
		return err
	}
	by := map[int64]map[int64]catalog.Hours{}
	for k, h := range stored {
		if by[k.enrolment] == nil {
			by[k.enrolment] = map[int64]catalog.Hours{}
		}
		by[k.enrolment][k.course] = h.Hours
	}
	for i := range views {
		views[i].Progress = Complete(versions[views[i].PlanVersionID], by[views[i].ID])
	}
	return nil
}

// MyEnrolments returns the caller's (a worker's) enrolments, newest class
// first, with progress, in a fixed number of queries.
func (s *Service) MyEnrolments(ctx context.Context, p *accounts.Principal) ([]EnrolmentView, error) {
	if !p.Is(accounts.RoleWorker) {
		return nil, nil
	}
	var views []EnrolmentView
	err := NewStore(s.db).viewQuery().Where("en.worker_id = ?", p.WorkerID).
		OrderExpr("cl.starts_on DESC, en.id DESC").Limit(200).Scan(ctx, &views)
	if err != nil {
		return nil, fmt.Errorf("enrolments of worker %d: %w", p.WorkerID, err)
	}
	return views, s.withProgress(ctx, s.db, views)
}

// ClassRoster returns the class (if p may see it) and its enrolments: the
// enrolled and completed by name, then the waiting list in order, then
// those who left; with progress, in a fixed number of queries. Errors:
// apperr.NotFound (class_not_found).
func (s *Service) ClassRoster(ctx context.Context, p *accounts.Principal, classID int64) (Class, []EnrolmentView, error) {
	st := NewStore(s.db)
	c, err := st.ClassForCaller(ctx, p, classID)
	if err != nil {
		return Class{}, nil, err
	}
	q := st.viewQuery().Where("en.class_id = ?", classID)
	if p.Is(accounts.RoleWorker) {
		q = q.Where("en.worker_id = ?", p.WorkerID) // a worker sees only themself
	}
	var views []EnrolmentView
	err = q.OrderExpr(`CASE en.status WHEN 'enrolled' THEN 0 WHEN 'completed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,
		en.position, w.name, en.id`).Scan(ctx, &views)
	if err != nil {
		return Class{}, nil, fmt.Errorf("roster of class %d: %w", classID, err)
	}
	return c, views, s.withProgress(ctx, s.db, views)
}

// Progress returns one enrolment with its progress if p may see it: the
// worker themself, the class's provider, HR and regulators of the class's
// region, admins. Errors: apperr.NotFound (enrolment_not_found).
func (s *Service) Progress(ctx context.Context, p *accounts.Principal, enrolmentID int64) (EnrolmentView, error) {
	q := NewStore(s.db).viewQuery().Where("en.id = ?", enrolmentID)
	q = p.Scope().Apply(q, accounts.ScopeColumns{Region: "cl.region_code", Org: "cl.provider_org_id", Worker: "en.worker_id"})
	var views []EnrolmentView
	if err := q.Scan(ctx, &views); err != nil {
		return EnrolmentView{}, fmt.Errorf("enrolment %d: %w", enrolmentID, err)
	}
	if len(views) == 0 {
		return EnrolmentView{}, errEnrolmentNotFound()
	}
	return views[0], s.withProgress(ctx, s.db, views)
}

// PlanWaiting is how many graduates wait for a plan in a region.
type PlanWaiting struct {
	PlanCode   string    `bun:"plan_code" json:"plan_code"`
	PlanName   string    `bun:"plan_name" json:"plan_name"`
	RegionCode string    `bun:"region_code" json:"region"`
	RegionName string    `bun:"region_name" json:"region_name"`
	Waiting    int       `bun:"waiting" json:"waiting"`
	Oldest     time.Time `bun:"oldest" json:"oldest"`
}

// PlanWaitlist sums the plan waiting lists by plan and region, without
// personal data, so providers see where a class is wanted.
func (s *Service) PlanWaitlist(ctx context.Context) ([]PlanWaiting, error) {
	var out []PlanWaiting
	err := s.db.NewSelect().TableExpr("plan_waitlist AS w").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name, w.region_code, r.name AS region_name").
		ColumnExpr("count(*) AS waiting, min(w.created_at) AS oldest").
		Join("JOIN plans AS pl ON pl.id = w.plan_id").
		Join("JOIN regions AS r ON r.code = w.region_code").
		Where("w.status = 'waiting'").
		GroupExpr("pl.code, pl.name, w.region_code, r.name").
		OrderExpr("pl.code, w.region_code").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("plan waiting lists: %w", err)
	}
	return out, nil
}

package attendance

import (
	"context"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
)

// Enrolment is an enrolment with its class, worker (masked) and progress,
// as lists and pages show it.
type Enrolment struct {
	enrolment.View
	Progress Progress `json:"progress"`
}

// withProgress adds the progress of every view: three catalogue queries
// and one attendance query, whatever the number of views.
func (s *Service) withProgress(ctx context.Context, idb bun.IDB, views []enrolment.View) ([]Enrolment, error) {
	out := make([]Enrolment, 0, len(views))
	if len(views) == 0 {
		return out, nil
	}
	vids := map[int64]bool{}
	eids := make([]int64, 0, len(views))
	for _, v := range views {
		vids[v.PlanVersionID] = true
		eids = append(eids, v.ID)
	}
	versions, err := s.catalog.Versions(ctx, idb, keys(vids))
	if err != nil {
		return nil, err
	}
	stored, err := NewStore(idb).HoursOf(ctx, eids)
	if err != nil {
		return nil, err
	}
	by := byEnrolment(stored)
	for _, v := range views {
		out = append(out, Enrolment{View: v, Progress: Complete(versions[v.PlanVersionID], by[v.ID])})
	}
	return out, nil
}

// Mine returns the caller's (a worker's) enrolments, newest class first,
// with progress, in a fixed number of queries. Errors: none of its own
// (database failures only).
func (s *Service) Mine(ctx context.Context, p *accounts.Principal) ([]Enrolment, error) {
	views, err := s.enrolment.Mine(ctx, p)
	if err != nil || views == nil {
		return nil, err
	}
	return s.withProgress(ctx, s.db, views)
}

// Roster returns the class (if p may see it) and its enrolments as
// enrolment.Service.ClassRoster orders them, with progress, in a fixed
// number of queries. Errors: NotFound (class_not_found).
func (s *Service) Roster(ctx context.Context, p *accounts.Principal, classID int64) (classes.Class, []Enrolment, error) {
	c, views, err := s.enrolment.ClassRoster(ctx, p, classID)
	if err != nil {
		return classes.Class{}, nil, err
	}
	out, err := s.withProgress(ctx, s.db, views)
	return c, out, err
}

// Progress returns one enrolment with its progress if p may see it.
// Errors: NotFound (enrolment_not_found).
func (s *Service) Progress(ctx context.Context, p *accounts.Principal, enrolmentID int64) (Enrolment, error) {
	v, err := s.enrolment.View(ctx, p, enrolmentID)
	if err != nil {
		return Enrolment{}, err
	}
	out, err := s.withProgress(ctx, s.db, []enrolment.View{v})
	if err != nil {
		return Enrolment{}, err
	}
	return out[0], nil
}

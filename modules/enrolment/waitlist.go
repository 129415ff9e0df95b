package enrolment

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/workers"
)

// PlanWaitlist sums the plan waiting lists by plan and region, without
// personal data, so providers see where a class is wanted. Errors: none of
// its own (database failures only).
func (s *Service) PlanWaitlist(ctx context.Context) ([]PlanWaiting, error) {
	return NewStore(s.db).WaitingSummary(ctx)
}

// placeFromPlanWaitlist enrols workers waiting for c's plan whose region
// covers c's region, oldest first, while places remain. Workers banned
// since, or with a date clash, stay on the list. The caller holds the class
// lock and has just opened it. It returns how many were placed.
func (s *Service) placeFromPlanWaitlist(ctx context.Context, tx bun.IDB, c classes.Class) (int, error) {
	free := c.Capacity - c.EnrolledCount
	if free <= 0 {
		return 0, nil
	}
	st := NewStore(tx)
	waiting, err := st.WaitingFor(ctx, c.PlanID, c.RegionCode, free*4)
	if err != nil {
		return 0, err
	}
	placed := 0
	// Graduates waiting for the plan are placed when the class opens, even
	// if its public enrolment window starts later: they asked first.
	open := c
	open.EnrolOpensOn = nil
	for _, w := range waiting {
		if placed == free {
			break
		}
		overlap, err := st.Overlaps(ctx, w.WorkerID, c.ID, c.StartsOn, c.EndsOn)
		if err != nil {
			return 0, err
		}
		prev, err := st.Of(ctx, w.WorkerID, c.ID)
		if err != nil {
			return 0, err
		}
		if overlap || prev != nil && prev.Status.Active() {
			continue
		}
		e, err := s.place(ctx, tx, open, w.WorkerID, SourceRoster, 0, w.RosterImportID)
		if err != nil {
			return 0, err
		}
		open.EnrolledCount++ // place decides by the count it is given
		if err := st.MarkPlaced(ctx, w.ID, e.ID); err != nil {
			return 0, err
		}
		placed++
	}
	return placed, nil
}

// RosterRequest asks to enrol a graduate from a committed roster row that
// named a plan.
type RosterRequest struct {
	WorkerID       int64
	PlanCode       string
	CollegeRegion  string // the region of the college that sent the roster
	RosterImportID int64
}

// Results of EnrolFromRoster.
const (
	RosterEnrolled   = "enrolled"   // placed in a class
	RosterWaitlisted = "waitlisted" // on the plan's waiting list
)

// EnrolFromRoster places a roster graduate, inside the roster's commit
// transaction idb: in the open class of the plan that starts first in the
// college's region (a city covers its districts) and still has a place and
// no date clash for the worker, else on the plan's waiting list for that
// region, to be placed when such a class opens. Repeating it changes
// nothing: a worker already in a class of the plan, or already waiting,
// keeps that status. Errors: Invalid (unknown_plan), Forbidden (banned),
// NotFound (worker_not_found).
func (s *Service) EnrolFromRoster(ctx context.Context, idb bun.IDB, r RosterRequest) (string, error) {
	plan, err := s.catalog.PlanByCode(ctx, idb, r.PlanCode)
	if apperr.Is(err, "plan_not_found") {
		return "", apperr.Invalid("unknown_plan", "培训计划代码不存在",
			apperr.FieldError{Field: "plan_code", Code: "unknown_plan", Message: "培训计划代码 " + r.PlanCode + " 不存在"})
	}
	if err != nil {
		return "", err
	}
	var status string
	err = idb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		banned, err := workers.NewStore(tx).LockForEnrolment(ctx, r.WorkerID)
		if err != nil {
			return err
		}
		if banned {
			return errBanned()
		}
		if status, err = s.rosterStanding(ctx, tx, r.WorkerID, plan.ID); err != nil || status != "" {
			return err
		}
		placed, err := s.placeInPlanClass(ctx, tx, r, plan)
		if err != nil {
			return err
		}
		if placed {
			status = RosterEnrolled
			return nil
		}
		status = RosterWaitlisted
		return addToPlanWaitlist(ctx, tx, r, plan)
	})
	return status, err
}

// rosterStanding is what EnrolFromRoster already did for the worker and
// plan: RosterEnrolled when in a class of it, RosterWaitlisted when waiting
// (in a class or for the plan), "" when neither.
func (s *Service) rosterStanding(ctx context.Context, tx bun.IDB, workerID, planID int64) (string, error) {
	st := NewStore(tx)
	existing, ok, err := st.ActiveInPlan(ctx, workerID, planID)
	switch {
	case err != nil:
		return "", err
	case ok && existing == StatusWaitlisted:
		return RosterWaitlisted, nil
	case ok:
		return RosterEnrolled, nil
	}
	waiting, err := st.IsWaiting(ctx, workerID, planID)
	if err != nil || !waiting {
		return "", err
	}
	return RosterWaitlisted, nil
}

// placeInPlanClass enrols the graduate in the first open class of the plan
// in the college's region that has a place and no date clash; false when
// there is none.
func (s *Service) placeInPlanClass(ctx context.Context, tx bun.IDB, r RosterRequest, plan catalog.Plan) (bool, error) {
	candidates, err := classes.NewStore(tx).OpenWithPlaces(ctx, plan.ID, accounts.RegionPrefix(r.CollegeRegion), s.today(), 20)
	if err != nil {
		return false, err
	}
	st := NewStore(tx)
	for _, id := range candidates {
		c, err := classes.NewStore(tx).Lock(ctx, id)
		if err != nil {
			return false, err
		}
		// Re-checked under the lock: a concurrent enrolment may have taken
		// the last place since the candidate list was read.
		if c.State != classes.StateOpen || c.EnrolledCount >= c.Capacity {
			continue
		}
		overlap, err := st.Overlaps(ctx, r.WorkerID, c.ID, c.StartsOn, c.EndsOn)
		if err != nil {
			return false, err
		}
		if overlap {
			continue
		}
		e, err := s.place(ctx, tx, c, r.WorkerID, SourceRoster, 0, r.RosterImportID)
		if err != nil {
			return false, err
		}
		return true, audit.Record(ctx, tx, audit.Event{
			Action: "enrolments.create", TargetType: "enrolment", TargetID: strconv.FormatInt(e.ID, 10),
			Summary: map[string]any{"class_id": c.ID, "worker_id": r.WorkerID, "status": string(e.Status),
				"source": string(SourceRoster), "roster_import_id": r.RosterImportID},
		})
	}
	return false, nil
}

// addToPlanWaitlist puts the graduate on the plan's waiting list for the
// college's region.
func addToPlanWaitlist(ctx context.Context, tx bun.IDB, r RosterRequest, plan catalog.Plan) error {
	id, err := NewStore(tx).AddWaiting(ctx, plan.ID, r.WorkerID, r.CollegeRegion, r.RosterImportID)
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Event{
		Action: "plan_waitlist.add", TargetType: "plan_waitlist", TargetID: strconv.FormatInt(id, 10),
		Summary: map[string]any{"plan_code": plan.Code, "worker_id": r.WorkerID, "region": r.CollegeRegion,
			"roster_import_id": r.RosterImportID},
	})
}

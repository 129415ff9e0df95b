package enrolment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
)

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
// keeps that status. Errors: apperr.Invalid (unknown_plan), apperr.Forbidden
// (banned), apperr.NotFound (worker_not_found).
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
		st := NewStore(tx)
		banned, err := st.WorkerBanned(ctx, r.WorkerID)
		if err != nil {
			return err
		}
		if banned {
			return apperr.Forbidden("banned", "该人员已被列入托育从业禁止名单，不能报名")
		}
		// Already in a class of this plan, or already waiting for one?
		var existing string
		err = tx.NewSelect().TableExpr("enrolments AS e").ColumnExpr("e.status").
			Join("JOIN classes AS c ON c.id = e.class_id").
			Where("e.worker_id = ? AND c.plan_id = ? AND e.status IN ('enrolled', 'waitlisted', 'completed')", r.WorkerID, plan.ID).
			OrderExpr("e.id DESC").Limit(1).Scan(ctx, &existing)
		switch {
		case err == nil:
			status = RosterEnrolled
			if existing == string(StatusWaitlisted) {
				status = RosterWaitlisted
			}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("existing enrolment of worker %d in plan %s: %w", r.WorkerID, plan.Code, err)
		}
		waiting, err := tx.NewSelect().Table("plan_waitlist").
			Where("worker_id = ? AND plan_id = ? AND status = 'waiting'", r.WorkerID, plan.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("plan waiting list of worker %d: %w", r.WorkerID, err)
		}
		if waiting {
			status = RosterWaitlisted
			return nil
		}

		var candidates []int64
		today := s.today()
		err = tx.NewSelect().Table("classes").Column("id").
			Where("plan_id = ? AND state = 'open' AND enrolled_count < capacity", plan.ID).
			Where("region_code LIKE ?", accounts.RegionPrefix(r.CollegeRegion)+"%").
			Where("(enrol_opens_on IS NULL OR enrol_opens_on <= ?)", today).
			Where("coalesce(enrol_closes_on, starts_on) >= ?", today).
			OrderExpr("starts_on, id").Limit(20).Scan(ctx, &candidates)
		if err != nil {
			return fmt.Errorf("open classes of plan %s: %w", plan.Code, err)
		}
		for _, id := range candidates {
			c, err := st.LockClass(ctx, id)
			if err != nil {
				return err
			}
			// Re-checked under the lock: a concurrent enrolment may have
			// taken the last place since the candidate list was read.
			if c.State != StateOpen || c.EnrolledCount >= c.Capacity {
				continue
			}
			overlap, err := st.Overlaps(ctx, r.WorkerID, c.ID, c.StartsOn, c.EndsOn)
			if err != nil {
				return err
			}
			if overlap {
				continue
			}
			e, err := s.enrol(ctx, tx, c, r.WorkerID, SourceRoster, 0, r.RosterImportID)
			if err != nil {
				return err
			}
			status = RosterEnrolled
			return audit.Record(ctx, tx, audit.Event{
				Action: "enrolments.create", TargetType: "enrolment", TargetID: strconv.FormatInt(e.ID, 10),
				Summary: map[string]any{"class_id": c.ID, "worker_id": r.WorkerID, "status": string(e.Status),
					"source": string(SourceRoster), "roster_import_id": r.RosterImportID},
			})
		}
		var w struct {
			bun.BaseModel `bun:"table:plan_waitlist"`
			ID            int64 `bun:"id,pk,autoincrement"`
		}
		_, err = tx.NewInsert().Model(&w).
			Value("plan_id", "?", plan.ID).Value("worker_id", "?", r.WorkerID).
			Value("region_code", "?", r.CollegeRegion).Value("roster_import_id", "?", nullID(r.RosterImportID)).
			Returning("id").Exec(ctx)
		if err != nil {
			return fmt.Errorf("put worker %d on the waiting list of plan %s: %w", r.WorkerID, plan.Code, err)
		}
		status = RosterWaitlisted
		return audit.Record(ctx, tx, audit.Event{
			Action: "plan_waitlist.add", TargetType: "plan_waitlist", TargetID: strconv.FormatInt(w.ID, 10),
			Summary: map[string]any{"plan_code": plan.Code, "worker_id": r.WorkerID, "region": r.CollegeRegion,
				"roster_import_id": r.RosterImportID},
		})
	})
	return status, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// regionPrefixSQL is accounts.RegionPrefix written in SQL for a column.
const regionPrefixSQL = `CASE WHEN w.region_code LIKE '__0000' THEN left(w.region_code, 2)
	WHEN w.region_code LIKE '____00' THEN left(w.region_code, 4) ELSE w.region_code END`

// placeFromPlanWaitlist enrols workers waiting for c's plan whose region
// covers c's region, oldest first, while places remain. Workers banned
// since, or with a date clash, stay on the list. The caller holds the class
// lock and has just opened it. It returns how many were placed.
func (s *Service) placeFromPlanWaitlist(ctx context.Context, tx bun.Tx, c Class) (int, error) {
	free := c.Capacity - c.EnrolledCount
	if free <= 0 {
		return 0, nil
	}
	var waiting []struct {
		ID             int64 `bun:"id"`
		WorkerID       int64 `bun:"worker_id"`
		RosterImportID int64 `bun:"roster_import_id"`
	}
	err := tx.NewSelect().TableExpr("plan_waitlist AS w").
		ColumnExpr("w.id, w.worker_id, coalesce(w.roster_import_id, 0) AS roster_import_id").
		Join("JOIN workers AS wk ON wk.id = w.worker_id").
		Where("w.plan_id = ? AND w.status = 'waiting' AND NOT wk.banned", c.PlanID).
		Where("? LIKE ("+regionPrefixSQL+") || '%'", c.RegionCode).
		OrderExpr("w.id").Limit(int64(free*4)).Scan(ctx, &waiting)
	if err != nil {
		return 0, fmt.Errorf("plan waiting list for class %d: %w", c.ID, err)
	}
	placed := 0
	st := NewStore(tx)
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
		prev, err := st.EnrolmentOf(ctx, w.WorkerID, c.ID)
		if err != nil {
			return 0, err
		}
		if overlap || prev != nil && prev.Status.Active() {
			continue
		}
		e, err := s.enrol(ctx, tx, open, w.WorkerID, SourceRoster, 0, w.RosterImportID)
		if err != nil {
			return 0, err
		}
		open.EnrolledCount++ // enrol decides by the count it is given
		_, err = tx.NewUpdate().Table("plan_waitlist").
			Set("status = 'placed', enrolment_id = ?, placed_at = now()", e.ID).Where("id = ?", w.ID).Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("mark waiting entry %d placed: %w", w.ID, err)
		}
		placed++
	}
	return placed, nil
}

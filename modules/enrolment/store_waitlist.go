package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
	"tuoyu/modules/orgs"
	"tuoyu/modules/workers"
)

// The plan waiting list (table plan_waitlist): roster graduates who found
// no open class of their plan in their college's region, placed in order
// when such a class opens. Entries point at the enrolment they became, so
// the table belongs here, not to classes.

// IsWaiting reports whether the worker waits on plan planID's list.
// Errors: none of its own (database failures only).
func (s Store) IsWaiting(ctx context.Context, workerID, planID int64) (bool, error) {
	ok, err := s.db.NewSelect().Table("plan_waitlist").
		Where("worker_id = ? AND plan_id = ? AND status = 'waiting'", workerID, planID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("plan waiting list of worker %d: %w", workerID, err)
	}
	return ok, nil
}

// AddWaiting puts the worker on plan planID's list for region and returns
// the entry's ID; rosterImportID 0 means none.
// Errors: none of its own (database failures only).
func (s Store) AddWaiting(ctx context.Context, planID, workerID int64, region string, rosterImportID int64) (int64, error) {
	var w struct {
		bun.BaseModel `bun:"table:plan_waitlist"`
		ID            int64 `bun:"id,pk,autoincrement"`
	}
	var importID any
	if rosterImportID != 0 {
		importID = rosterImportID
	}
	_, err := s.db.NewInsert().Model(&w).
		Value("plan_id", "?", planID).Value("worker_id", "?", workerID).
		Value("region_code", "?", region).Value("roster_import_id", "?", importID).
		Returning("id").Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("put worker %d on the waiting list of plan %d: %w", workerID, planID, err)
	}
	return w.ID, nil
}

// Waiting is one entry of a plan waiting list.
type Waiting struct {
	ID             int64 `bun:"id"`
	WorkerID       int64 `bun:"worker_id"`
	RosterImportID int64 `bun:"roster_import_id"`
}

// regionPrefixSQL is accounts.RegionPrefix written in SQL for a column.
const regionPrefixSQL = `CASE WHEN w.region_code LIKE '__0000' THEN left(w.region_code, 2)
	WHEN w.region_code LIKE '____00' THEN left(w.region_code, 4) ELSE w.region_code END`

// WaitingFor lists, oldest first and at most limit, the unbanned workers
// waiting for plan planID whose region covers region.
// Errors: none of its own (database failures only).
func (s Store) WaitingFor(ctx context.Context, planID int64, region string, limit int) ([]Waiting, error) {
	var out []Waiting
	err := s.db.NewSelect().TableExpr("plan_waitlist AS w").
		ColumnExpr("w.id, w.worker_id, coalesce(w.roster_import_id, 0) AS roster_import_id").
		Where("w.plan_id = ? AND w.status = 'waiting'", planID).
		Where("w.worker_id IN (?)", workers.Unbanned(s.db)).
		Where("? LIKE ("+regionPrefixSQL+") || '%'", region).
		OrderExpr("w.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("waiting list of plan %d: %w", planID, err)
	}
	return out, nil
}

// MarkPlaced records that waiting entry id became enrolment enrolmentID.
// Errors: none of its own (database failures only).
func (s Store) MarkPlaced(ctx context.Context, id, enrolmentID int64) error {
	_, err := s.db.NewUpdate().Table("plan_waitlist").
		Set("status = 'placed', enrolment_id = ?, placed_at = now()", enrolmentID).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark waiting entry %d placed: %w", id, err)
	}
	return nil
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

// WaitingSummary sums the plan waiting lists by plan and region.
// Errors: none of its own (database failures only).
func (s Store) WaitingSummary(ctx context.Context) ([]PlanWaiting, error) {
	var out []PlanWaiting
	err := s.db.NewSelect().TableExpr("plan_waitlist AS w").
		ColumnExpr("pl.code AS plan_code, pl.name AS plan_name, w.region_code, r.name AS region_name").
		ColumnExpr("count(*) AS waiting, min(w.created_at) AS oldest").
		Join("JOIN (?) AS pl ON pl.id = w.plan_id", catalog.PlanNames(s.db)).
		Join("JOIN (?) AS r ON r.code = w.region_code", orgs.RegionNames(s.db)).
		Where("w.status = 'waiting'").
		GroupExpr("pl.code, pl.name, w.region_code, r.name").
		OrderExpr("pl.code, w.region_code").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("plan waiting lists: %w", err)
	}
	return out, nil
}

package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/workers"
)

// Reads of completed enrolments for the assessments module, which sits
// above this one. Class, plan, version and worker facts come from their
// owners' sub-queries; each read is one query and takes the store's
// bun.IDB, so it runs inside the caller's transaction.

// Assessed is an enrolment with the plan-version settings its assessment
// is judged by.
type Assessed struct {
	ID            int64      `bun:"id"`
	ClassID       int64      `bun:"class_id"`
	WorkerID      int64      `bun:"worker_id"`
	Status        Status     `bun:"status"`
	CompletedOn   *time.Time `bun:"completed_on"`
	PassMark      int        `bun:"pass_mark"`
	MaxAttempts   int        `bun:"max_attempts"`
	PlanCode      string     `bun:"plan_code"`
	Assessment    string     `bun:"assessment"`
	ProviderOrgID int64      `bun:"provider_org_id"`
	RegionCode    string     `bun:"region_code"`
	ClassName     string     `bun:"class_name"`
	WorkerName    string     `bun:"worker_name"`
	WorkerIDMask  string     `bun:"worker_id_mask"`
	CollegeOrgID  int64      `bun:"college_org_id"` // the college that sent the worker, 0 when none
}

func (s Store) assessedQuery() *bun.SelectQuery {
	return s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.status, en.completed_on").
		ColumnExpr("pv.pass_mark, pv.max_attempts, cl.plan_code, pl.assessment").
		ColumnExpr("cl.provider_org_id, cl.region_code, cl.name AS class_name").
		ColumnExpr("w.name AS worker_name, w.id_mask AS worker_id_mask, COALESCE(w.college_org_id, 0) AS college_org_id").
		Join("JOIN (?) AS cl ON cl.id = en.class_id", classes.Display(s.db)).
		Join("JOIN (?) AS pl ON pl.id = cl.plan_id", catalog.PlanAssessments(s.db)).
		Join("JOIN (?) AS pv ON pv.id = en.plan_version_id", catalog.VersionRules(s.db)).
		Join("JOIN (?) AS w ON w.id = en.worker_id", workers.DisplayCollege(s.db))
}

// CompletedIn returns the completed enrolments of the classes, in one
// query whatever their number.
// Errors: none of its own (database failures only).
func (s Store) CompletedIn(ctx context.Context, classIDs []int64) ([]Assessed, error) {
	if len(classIDs) == 0 {
		return nil, nil
	}
	var out []Assessed
	err := s.assessedQuery().Where("en.class_id IN (?)", bun.List(classIDs)).
		Where("en.status = ?", StatusCompleted).OrderExpr("en.class_id, en.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments of %d classes: %w", len(classIDs), err)
	}
	return out, nil
}

// CompletedIDsIn returns the completed enrolments of the classes with only
// what scheduling needs (id, class, worker, pass mark, max attempts): the
// nightly job reads thousands of classes at once and needs no names.
// Errors: none of its own (database failures only).
func (s Store) CompletedIDsIn(ctx context.Context, classIDs []int64) ([]Assessed, error) {
	if len(classIDs) == 0 {
		return nil, nil
	}
	var out []Assessed
	err := s.db.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.status, pv.pass_mark, pv.max_attempts").
		Join("JOIN (?) AS pv ON pv.id = en.plan_version_id", catalog.VersionRules(s.db)).
		Where("en.class_id IN (?)", bun.List(classIDs)).Where("en.status = ?", StatusCompleted).
		OrderExpr("en.class_id, en.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments of %d classes: %w", len(classIDs), err)
	}
	return out, nil
}

// AssessedByID returns the enrolments with the given IDs (any status).
// Errors: none of its own (database failures only).
func (s Store) AssessedByID(ctx context.Context, ids []int64) ([]Assessed, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Assessed
	if err := s.assessedQuery().Where("en.id IN (?)", bun.List(ids)).OrderExpr("en.id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("enrolments %v: %w", ids, err)
	}
	return out, nil
}

// IDsInClass maps the workers to their enrolment in class classID; workers
// without one are left out.
// Errors: none of its own (database failures only).
func (s Store) IDsInClass(ctx context.Context, classID int64, workerIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(workerIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		WorkerID int64 `bun:"worker_id"`
		ID       int64 `bun:"id"`
	}
	err := s.db.NewSelect().Table("enrolments").Column("worker_id", "id").
		Where("class_id = ?", classID).Where("worker_id IN (?)", bun.List(workerIDs)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("enrolments of %d workers in class %d: %w", len(workerIDs), classID, err)
	}
	for _, r := range rows {
		out[r.WorkerID] = r.ID
	}
	return out, nil
}

package enrolment

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Reads the assessments module needs. They live here so that the SQL naming
// classes, enrolments and plans stays in this module; each takes bun.IDB so
// it runs inside the caller's transaction, and each is one query.

// EndedClass is a class that ended, with what its assessment depends on.
type EndedClass struct {
	ID            int64     `bun:"id"`
	ProviderOrgID int64     `bun:"provider_org_id"`
	RegionCode    string    `bun:"region_code"`
	EndsOn        time.Time `bun:"ends_on"`
	PlanCode      string    `bun:"plan_code"`
	Assessment    string    `bun:"assessment"`
	Place         string    `bun:"place"`
}

// EndedClasses returns up to limit classes (by id, after afterID) that ran
// and ended on a day in [from, to]; cancelled classes never end.
func EndedClasses(ctx context.Context, idb bun.IDB, from, to time.Time, afterID int64, limit int) ([]EndedClass, error) {
	var out []EndedClass
	err := idb.NewSelect().TableExpr("classes AS cl").
		ColumnExpr("cl.id, cl.provider_org_id, cl.region_code, cl.ends_on, cl.place, pl.code AS plan_code, pl.assessment").
		Join("JOIN plans AS pl ON pl.id = cl.plan_id").
		Where("cl.state IN ('running', 'completed')").
		Where("cl.ends_on BETWEEN ? AND ?", from.Format(time.DateOnly), to.Format(time.DateOnly)).
		Where("cl.id > ?", afterID).
		OrderExpr("cl.id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("ended classes: %w", err)
	}
	return out, nil
}

// AssessedEnrolment is an enrolment with the plan-version settings its
// assessment is judged by.
type AssessedEnrolment struct {
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

func assessedQuery(idb bun.IDB) *bun.SelectQuery {
	return idb.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.status, en.completed_on").
		ColumnExpr("pv.pass_mark, pv.max_attempts, pl.code AS plan_code, pl.assessment").
		ColumnExpr("cl.provider_org_id, cl.region_code, cl.name AS class_name").
		ColumnExpr("w.name AS worker_name, w.id_mask AS worker_id_mask, COALESCE(w.college_org_id, 0) AS college_org_id").
		Join("JOIN classes AS cl ON cl.id = en.class_id").
		Join("JOIN plans AS pl ON pl.id = cl.plan_id").
		Join("JOIN plan_versions AS pv ON pv.id = en.plan_version_id").
		Join("JOIN workers AS w ON w.id = en.worker_id")
}

// CompletedEnrolments returns the completed enrolments of the classes, in
// one query whatever their number.
func CompletedEnrolments(ctx context.Context, idb bun.IDB, classIDs []int64) ([]AssessedEnrolment, error) {
	if len(classIDs) == 0 {
		return nil, nil
	}
	var out []AssessedEnrolment
	err := assessedQuery(idb).Where("en.class_id IN (?)", bun.List(classIDs)).
		Where("en.status = ?", StatusCompleted).OrderExpr("en.class_id, en.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments of %d classes: %w", len(classIDs), err)
	}
	return out, nil
}

// CompletedIDs returns the completed enrolments of the classes with only
// what scheduling needs (id, class, worker, max attempts): the nightly job
// reads thousands of classes at once and needs no names.
func CompletedIDs(ctx context.Context, idb bun.IDB, classIDs []int64) ([]AssessedEnrolment, error) {
	if len(classIDs) == 0 {
		return nil, nil
	}
	var out []AssessedEnrolment
	err := idb.NewSelect().TableExpr("enrolments AS en").
		ColumnExpr("en.id, en.class_id, en.worker_id, en.status, pv.pass_mark, pv.max_attempts").
		Join("JOIN plan_versions AS pv ON pv.id = en.plan_version_id").
		Where("en.class_id IN (?)", bun.List(classIDs)).Where("en.status = ?", StatusCompleted).
		OrderExpr("en.class_id, en.id").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("completed enrolments of %d classes: %w", len(classIDs), err)
	}
	return out, nil
}

// AssessedEnrolments returns the enrolments with the given IDs (any status).
func AssessedEnrolments(ctx context.Context, idb bun.IDB, ids []int64) ([]AssessedEnrolment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []AssessedEnrolment
	if err := assessedQuery(idb).Where("en.id IN (?)", bun.List(ids)).OrderExpr("en.id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("enrolments %v: %w", ids, err)
	}
	return out, nil
}

// WorkerEnrolments returns a worker's enrolments that hold a place
// (enrolled or completed), with their class's dates, newest class first.
func WorkerEnrolments(ctx context.Context, idb bun.IDB, workerID int64) ([]EnrolmentView, error) {
	var out []EnrolmentView
	err := NewStore(idb).viewQuery().Where("en.worker_id = ?", workerID).
		Where("en.status IN ('enrolled', 'completed')").
		OrderExpr("cl.starts_on DESC, en.id DESC").Limit(500).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("enrolments of worker %d: %w", workerID, err)
	}
	return out, nil
}

// EnrolmentsByIDIndex maps the blind indexes of ID numbers to the
// enrolment IDs of those workers in class classID.
func EnrolmentsByIDIndex(ctx context.Context, idb bun.IDB, classID int64, idx [][]byte) (map[string]int64, error) {
	out := map[string]int64{}
	if len(idx) == 0 {
		return out, nil
	}
	var rows []struct {
		Idx []byte `bun:"id_number_idx"`
		ID  int64  `bun:"id"`
	}
	err := idb.NewSelect().TableExpr("enrolments AS en").ColumnExpr("w.id_number_idx, en.id").
		Join("JOIN workers AS w ON w.id = en.worker_id").
		Where("en.class_id = ?", classID).Where("w.id_number_idx IN (?)", bun.List(idx)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("enrolments by ID number in class %d: %w", classID, err)
	}
	for _, r := range rows {
		out[string(r.Idx)] = r.ID
	}
	return out, nil
}

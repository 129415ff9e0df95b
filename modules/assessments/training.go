package assessments

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
	"tuoyu/modules/enrolment"
)

// Every read of class, enrolment and plan data goes through this file, so
// that when training delivery is split into classes, enrolment and
// attendance only these calls change.

type (
	endedClass        = enrolment.EndedClass
	assessedEnrolment = enrolment.AssessedEnrolment
	enrolmentView     = enrolment.EnrolmentView
)

// classFor returns the class if p may see it (apperr.NotFound otherwise).
func classFor(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64) (enrolment.Class, error) {
	return enrolment.NewStore(idb).ClassForCaller(ctx, p, id)
}

// classByID returns the class whoever asks (the jobs and internal checks).
func classByID(ctx context.Context, idb bun.IDB, id int64) (enrolment.Class, error) {
	return enrolment.NewStore(idb).ClassForCaller(ctx, &accounts.Principal{Role: accounts.RoleAdmin}, id)
}

func endedClasses(ctx context.Context, idb bun.IDB, from, to time.Time, afterID int64, limit int) ([]endedClass, error) {
	return enrolment.EndedClasses(ctx, idb, from, to, afterID, limit)
}

func completedEnrolments(ctx context.Context, idb bun.IDB, classIDs []int64) ([]assessedEnrolment, error) {
	return enrolment.CompletedEnrolments(ctx, idb, classIDs)
}

// completedIDs is completedEnrolments without names, for the jobs.
func completedIDs(ctx context.Context, idb bun.IDB, classIDs []int64) ([]assessedEnrolment, error) {
	return enrolment.CompletedIDs(ctx, idb, classIDs)
}

func assessedEnrolments(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]assessedEnrolment, error) {
	es, err := enrolment.AssessedEnrolments(ctx, idb, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]assessedEnrolment, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

func workerEnrolments(ctx context.Context, idb bun.IDB, workerID int64) ([]enrolmentView, error) {
	return enrolment.WorkerEnrolments(ctx, idb, workerID)
}

func enrolmentsByIDIndex(ctx context.Context, idb bun.IDB, classID int64, idx [][]byte) (map[string]int64, error) {
	return enrolment.EnrolmentsByIDIndex(ctx, idb, classID, idx)
}

// planMode is the assessment mode of plan code.
func planMode(ctx context.Context, idb bun.IDB, code string) (string, error) {
	p, err := catalog.NewStore(idb).PlanByCode(ctx, code)
	if err != nil {
		return "", err
	}
	return p.Assessment, nil
}

package assessments

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

// Every read of class, enrolment and plan data goes through this file and
// its owners' stores: class facts from classes, completions from
// enrolment, plan modes from catalog, ID numbers from workers.

type (
	endedClass        = classes.Ended
	assessedEnrolment = enrolment.Assessed
	enrolmentView     = enrolment.View
)

// classFor returns the class if p may see it (apperr.NotFound otherwise); a
// worker sees the classes they hold or held a place in.
func classFor(ctx context.Context, idb bun.IDB, p *accounts.Principal, id int64) (classes.Class, error) {
	return classes.NewStore(idb).ForCaller(ctx, p, enrolment.Membership, id)
}

// classByID returns the class whoever asks (the jobs and internal checks).
func classByID(ctx context.Context, idb bun.IDB, id int64) (classes.Class, error) {
	return classes.NewStore(idb).ForCaller(ctx, &accounts.Principal{Role: accounts.RoleAdmin}, nil, id)
}

func endedClasses(ctx context.Context, idb bun.IDB, from, to time.Time, afterID int64, limit int) ([]endedClass, error) {
	return classes.NewStore(idb).Ended(ctx, from, to, afterID, limit)
}

func completedEnrolments(ctx context.Context, idb bun.IDB, classIDs []int64) ([]assessedEnrolment, error) {
	return enrolment.NewStore(idb).CompletedIn(ctx, classIDs)
}

// completedIDs is completedEnrolments without names, for the jobs.
func completedIDs(ctx context.Context, idb bun.IDB, classIDs []int64) ([]assessedEnrolment, error) {
	return enrolment.NewStore(idb).CompletedIDsIn(ctx, classIDs)
}

func assessedEnrolments(ctx context.Context, idb bun.IDB, ids []int64) (map[int64]assessedEnrolment, error) {
	es, err := enrolment.NewStore(idb).AssessedByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]assessedEnrolment, len(es))
	for _, e := range es {
		out[e.ID] = e
	}
	return out, nil
}

// workerEnrolments returns the worker's enrolments that hold a place
// (enrolled or completed), newest class first.
func workerEnrolments(ctx context.Context, idb bun.IDB, workerID int64) ([]enrolmentView, error) {
	all, err := enrolment.NewStore(idb).ViewsOfWorker(ctx, workerID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, v := range all {
		if v.Status.Attending() {
			out = append(out, v)
		}
	}
	return out, nil
}

// enrolmentsByIDIndex maps the blind indexes of ID numbers to the
// enrolment IDs of those workers in class classID.
func enrolmentsByIDIndex(ctx context.Context, idb bun.IDB, classID int64, idx [][]byte) (map[string]int64, error) {
	out := map[string]int64{}
	found, err := workers.LookupByIDNumberIdx(ctx, idb, idx)
	if err != nil || len(found) == 0 {
		return out, err
	}
	ids := make([]int64, 0, len(found))
	for _, w := range found {
		ids = append(ids, w.ID)
	}
	enrolled, err := enrolment.NewStore(idb).IDsInClass(ctx, classID, ids)
	if err != nil {
		return nil, err
	}
	for key, w := range found {
		if id, ok := enrolled[w.ID]; ok {
			out[key] = id
		}
	}
	return out, nil
}

// planMode is the assessment mode of plan code.
func planMode(ctx context.Context, idb bun.IDB, code string) (string, error) {
	p, err := catalog.NewStore(idb).PlanByCode(ctx, code)
	if err != nil {
		return "", err
	}
	return p.Assessment, nil
}

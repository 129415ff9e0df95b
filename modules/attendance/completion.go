package attendance

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/classes"
)

// Completion is an enrolment that has just become complete by its hours.
type Completion struct {
	EnrolmentID   int64
	WorkerID      int64
	ClassID       int64
	ProviderOrgID int64
	PlanID        int64
	PlanCode      string
	CompletedOn   time.Time
}

// CompletionFunc is told, inside the transaction that records the hours,
// of each enrolment that became complete; an error rolls the lessons back.
type CompletionFunc func(ctx context.Context, tx bun.IDB, c Completion) error

// SetOnComplete lets a higher module (certificates, for plans that end with
// completion) act on completions without attendance importing it; the
// composition root calls it once while wiring, before serving.
func (s *Service) SetOnComplete(fn CompletionFunc) { s.onComplete = fn }

// fireCompleted calls the completion hook for the enrolments of class cls
// that became complete.
func (s *Service) fireCompleted(ctx context.Context, tx bun.IDB, cls classes.Class, completed []int64, workerOf func(int64) int64) error {
	if s.onComplete == nil {
		return nil
	}
	today := s.classes.Today()
	for _, id := range completed {
		c := Completion{EnrolmentID: id, WorkerID: workerOf(id), ClassID: cls.ID, ProviderOrgID: cls.ProviderOrgID,
			PlanID: cls.PlanID, PlanCode: cls.PlanCode, CompletedOn: today}
		if err := s.onComplete(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

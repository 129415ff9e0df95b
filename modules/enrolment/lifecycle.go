package enrolment

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/classes"
	"tuoyu/modules/notify"
	"tuoyu/modules/workers"
)

// The steps of a class's life that change places. Each opens one
// transaction, moves the class through classes.Service.Move and applies
// the change to enrolments in the same transaction.

// Open opens a draft class for enrolment and places workers from the
// plan's waiting list whose college lies in or above the class's region,
// oldest first, as far as places go. Errors: NotFound (class_not_found),
// Conflict (class_state; class_started when its first day has passed).
func (s *Service) Open(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	var out classes.Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, _, err := s.classes.Move(ctx, tx, p, id, classes.StateOpen, "")
		if err != nil {
			return err
		}
		placed, err := s.placeFromPlanWaitlist(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.open", TargetType: "class",
			TargetID: strconv.FormatInt(c.ID, 10), Summary: map[string]any{"placed_from_plan_waitlist": placed},
		}); err != nil {
			return err
		}
		out, err = s.classes.View(ctx, tx, p, id)
		return err
	})
	return out, err
}

// Start marks an open class as running (its training has begun), on or
// after its first day: no more enrolments or withdrawals, and its waiting
// list ends. Errors: NotFound (class_not_found), Conflict (class_state,
// class_not_started).
func (s *Service) Start(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	var out classes.Class
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, from, err := s.classes.Move(ctx, tx, p, id, classes.StateRunning, "")
		if err != nil {
			return err
		}
		// Nobody is promoted once training runs: the waiting list ends.
		if err := closeWaitlists(ctx, tx, []classes.Started{{ID: c.ID, ProviderOrgID: c.ProviderOrgID}}); err != nil {
			return err
		}
		if err := classes.RecordMove(ctx, tx, p, id, "classes.start", from, classes.StateRunning); err != nil {
			return err
		}
		out, err = s.classes.View(ctx, tx, p, id)
		return err
	})
	return out, err
}

// Finish marks a running class as completed. Errors: those of
// classes.Service.Finish.
func (s *Service) Finish(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error) {
	return s.classes.Finish(ctx, p, id)
}

// closeWaitlists ends the waiting lists of the started classes and the
// provider links those places gave.
func closeWaitlists(ctx context.Context, tx bun.IDB, started []classes.Started) error {
	ids := make([]int64, 0, len(started))
	orgOf := map[int64]int64{}
	for _, c := range started {
		ids = append(ids, c.ID)
		orgOf[c.ID] = c.ProviderOrgID
	}
	left, err := NewStore(tx).CloseWaitlists(ctx, ids)
	if err != nil {
		return err
	}
	byOrg := map[int64][]int64{}
	for _, l := range left {
		byOrg[orgOf[l.ClassID]] = append(byOrg[orgOf[l.ClassID]], l.WorkerID)
	}
	for org, ws := range byOrg {
		if err := workers.NewStore(tx).RemoveProviderPlaces(ctx, org, ws); err != nil {
			return err
		}
	}
	return nil
}

// Cancellation is the result of cancelling a class: the workers whose
// enrolment it ended, who are notified.
type Cancellation struct {
	Class    classes.Class `json:"class"`
	Notified []int64       `json:"affected_worker_ids"`
}

// Cancel cancels a class that has not completed: every enrolled and
// waitlisted worker's enrolment becomes cancelled, each is notified, and
// the audit event lists them. Errors: Invalid (reason_required), NotFound
// (class_not_found), Conflict (class_state).
func (s *Service) Cancel(ctx context.Context, p *accounts.Principal, id int64, reason string) (Cancellation, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Cancellation{}, apperr.Invalid("reason_required", "请填写取消原因",
			apperr.FieldError{Field: "reason", Code: "required", Message: "请填写取消原因"})
	}
	var out Cancellation
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		c, err := s.classes.Own(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if !classes.Allowed(c.State, classes.StateCancelled) {
			return classes.ErrState(c, "取消")
		}
		affected, err := NewStore(tx).CancelAll(ctx, id)
		if err != nil {
			return err
		}
		if err := workers.NewStore(tx).RemoveProviderPlaces(ctx, c.ProviderOrgID, affected); err != nil {
			return err
		}
		if c, _, err = s.classes.Move(ctx, tx, p, id, classes.StateCancelled, reason); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Event{
			ActorUserID: p.UserID, ActorOrgID: p.OrgID, Action: "classes.cancel", TargetType: "class",
			TargetID: strconv.FormatInt(id, 10),
			Summary:  map[string]any{"reason": reason, "affected_worker_ids": affected},
		}); err != nil {
			return err
		}
		if err := notifyCancelled(ctx, tx, c, reason, affected); err != nil {
			return err
		}
		out.Notified = affected
		out.Class, err = s.classes.View(ctx, tx, p, id)
		return err
	})
	return out, err
}

func notifyCancelled(ctx context.Context, tx bun.IDB, c classes.Class, reason string, workerIDs []int64) error {
	msgs := make([]notify.Message, 0, len(workerIDs))
	for _, w := range workerIDs {
		msgs = append(msgs, notify.Message{WorkerID: w, Kind: "classes.cancelled",
			Title: "培训班已取消：" + c.Name, Body: "取消原因：" + reason + "。如需培训，请另选培训班报名。",
			Link: "/classes/search", DedupeKey: fmt.Sprintf("classes.cancelled:%d:%d", c.ID, w)})
	}
	return notify.Send(ctx, tx, msgs...)
}

// Advance is the classes.advance job: the calendar step of package classes
// (open classes whose first day has come start running, running classes
// whose last day has passed are completed) and, in the same transaction,
// the end of the started classes' waiting lists, as when a provider starts
// them by hand. It returns the classes it started and completed. Errors:
// none of its own (database failures only).
func (s *Service) Advance(ctx context.Context) (started, completed []int64, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		st, done, err := s.classes.Advance(ctx, tx)
		if err != nil {
			return err
		}
		if err := closeWaitlists(ctx, tx, st); err != nil {
			return err
		}
		started, completed = nil, done
		for _, c := range st {
			started = append(started, c.ID)
		}
		return nil
	})
	return started, completed, err
}

package certificates

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/workers"
)

// Hold is a certificate held back: the pass or completion stands, but the
// certificate was refused for a reason its data must fix, such as a name
// the certificate font cannot print (glyph_missing) or a provider without
// a site code (invalid_issue). The certificates.issue job tries it again;
// issuing it removes the hold.
type Hold struct {
	bun.BaseModel `bun:"table:certificate_holds,alias:ch"`

	EnrolmentID   int64     `bun:"enrolment_id,pk"`
	WorkerID      int64     `bun:"worker_id"`
	ClassID       int64     `bun:"class_id"`
	ProviderOrgID int64     `bun:"provider_org_id"`
	HolderName    string    `bun:"holder_name"` // as refused
	Code          string    `bun:"code"`
	Message       string    `bun:"message"`
	HeldAt        time.Time `bun:"held_at,nullzero"`
	TriedAt       time.Time `bun:"tried_at,nullzero"`
	Tries         int       `bun:"tries,nullzero"`
}

// HoldRetry is how long the certificates.issue job leaves a held
// enrolment before trying it again: often enough that a corrected name
// soon gets its certificate, rarely enough that held enrolments never
// crowd the job's batch out (it runs every 5 minutes).
const HoldRetry = 15 * time.Minute

// IssueOrHold issues in's certificate inside tx, as Issue does; when the
// issue is refused for a reason of its data (an Invalid error), it records
// a hold on the enrolment instead and returns it, so that the results or
// lessons being recorded in tx still are: one person's unprintable name
// must not stop a provider recording a whole class. The attempt runs under
// a savepoint, so nothing of it stays. Errors: Conflict worker_banned (a
// banned person gets neither certificate nor hold) and those of Issue that
// are not refusals.
func (s *Service) IssueOrHold(ctx context.Context, tx bun.IDB, in IssueInput) (Certificate, *Hold, error) {
	var c Certificate
	err := tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error {
		var err error
		c, err = s.Issue(ctx, sp, in)
		return err
	})
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid || in.WorkerID == 0 || in.EnrolmentID == 0 || in.ClassID == 0 || in.ProviderOrgID == 0 {
		return c, nil, err // not a refusal, or an incomplete input: the caller's mistake, nothing to hold
	}
	w, err := workers.NewStore(tx).Get(ctx, in.WorkerID)
	if err != nil {
		return Certificate{}, nil, err
	}
	h := &Hold{EnrolmentID: in.EnrolmentID, WorkerID: in.WorkerID, ClassID: in.ClassID, ProviderOrgID: in.ProviderOrgID,
		HolderName: w.Name, Code: e.Code, Message: e.Message}
	err = NewStore(tx).hold(ctx, h)
	if err != nil {
		return Certificate{}, nil, err
	}
	s.cfg.Logger.Warn("certificate held", "enrolment_id", in.EnrolmentID, "code", e.Code, "reason", e.Message, "tries", h.Tries)
	return Certificate{}, h, nil
}

// Holds lists the holds p may see, for one class (classID) or one worker
// (workerID), oldest first: the provider of the class and admins see a
// class's, a worker their own. Errors: none of its own (database failures
// only).
func (s *Service) Holds(ctx context.Context, p *accounts.Principal, classID, workerID int64) ([]Hold, error) {
	if classID == 0 && workerID == 0 {
		return nil, nil
	}
	return NewStore(s.db).Holds(ctx, p, classID, workerID)
}

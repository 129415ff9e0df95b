package certificates

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
)

// hold records h, or refreshes the hold of its enrolment (reason, name,
// last try and count), and reads the stored row back into h.
func (s Store) hold(ctx context.Context, h *Hold) error {
	_, err := s.db.NewInsert().Model(h).
		On("CONFLICT (enrolment_id) DO UPDATE").
		Set("holder_name = EXCLUDED.holder_name, code = EXCLUDED.code, message = EXCLUDED.message").
		Set("tried_at = now(), tries = ch.tries + 1").
		Returning("*").Exec(ctx)
	if err != nil {
		return fmt.Errorf("hold certificate of enrolment %d: %w", h.EnrolmentID, err)
	}
	return nil
}

// clearHold removes the hold of an enrolment whose certificate was issued.
func (s Store) clearHold(ctx context.Context, enrolmentID int64) error {
	_, err := s.db.NewDelete().Model((*Hold)(nil)).Where("enrolment_id = ?", enrolmentID).Exec(ctx)
	return err
}

// clearWorkerHolds removes every hold of a worker (banned: no certificate
// will come).
func (s Store) clearWorkerHolds(ctx context.Context, workerID int64) error {
	_, err := s.db.NewDelete().Model((*Hold)(nil)).Where("worker_id = ?", workerID).Exec(ctx)
	return err
}

// HeldRecently selects the enrolment_id of holds tried within HoldRetry:
// a sub-query the catch-up selection excludes, so that refusals that stand
// are retried now and then and never fill the job's batch.
func HeldRecently(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().Table("certificate_holds").Column("enrolment_id").
		Where("tried_at > now() - ?::interval", fmt.Sprintf("%d seconds", int(HoldRetry.Seconds())))
}

// Holds lists the holds of class classID, or else of worker workerID, that
// p may see (the class's provider, the holder, admins), oldest first.
func (s Store) Holds(ctx context.Context, p *accounts.Principal, classID, workerID int64) ([]Hold, error) {
	var out []Hold
	q := s.db.NewSelect().Model(&out)
	if classID != 0 {
		q = q.Where("ch.class_id = ?", classID)
	} else {
		q = q.Where("ch.worker_id = ?", workerID)
	}
	q = p.Scope().Apply(q, accounts.ScopeColumns{Org: "ch.provider_org_id", Worker: "ch.worker_id"})
	if err := q.OrderExpr("ch.held_at, ch.enrolment_id").Limit(500).Scan(ctx); err != nil {
		return nil, fmt.Errorf("certificate holds: %w", err)
	}
	return out, nil
}

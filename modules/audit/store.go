package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"tuoyu/modules/pg"
)

// store reads and writes the audit trail and its checkpoints. It is
// unexported: other modules record events with Record, inside their own
// transaction, and read them with List and Verify.
type store struct{ db bun.IDB }

// lockChain takes the transaction-scoped lock that serialises appends, so
// two events never claim the same previous hash.
func (s store) lockChain(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(chainLock))
	return err
}

// headHash returns the hash of the newest event, nil for an empty trail.
func (s store) headHash(ctx context.Context) ([]byte, error) {
	var prev []byte
	err := s.db.NewSelect().Table("audit_events").Column("hash").OrderExpr("id DESC").Limit(1).Scan(ctx, &prev)
	if err != nil && !isNoRows(err) {
		return nil, err
	}
	return prev, nil
}

func (s store) insert(ctx context.Context, e *Event) error {
	_, err := s.db.NewInsert().Model(e).ExcludeColumn("id").Exec(ctx)
	return err
}

// lastCheckpoint returns the newest checkpoint, zero when there is none.
func (s store) lastCheckpoint(ctx context.Context) (Checkpoint, error) {
	var cp Checkpoint
	err := s.db.NewSelect().Model(&cp).OrderExpr("id DESC").Limit(1).Scan(ctx)
	if err != nil && !isNoRows(err) {
		return cp, err
	}
	return cp, nil
}

// eventsAfter returns up to limit events after id, in id order.
func (s store) eventsAfter(ctx context.Context, id int64, limit int) ([]Event, error) {
	var rows []Event
	err := s.db.NewSelect().Model(&rows).Where("id > ?", id).OrderExpr("id").Limit(int64(limit)).Scan(ctx)
	return rows, err
}

// hashOfEvent returns the stored hash of event id (sql.ErrNoRows when gone).
func (s store) hashOfEvent(ctx context.Context, id int64) ([]byte, error) {
	var hash []byte
	err := s.db.NewSelect().Table("audit_events").Column("hash").Where("id = ?", id).Scan(ctx, &hash)
	return hash, err
}

func (s store) insertCheckpoint(ctx context.Context, cp *Checkpoint) error {
	_, err := s.db.NewInsert().Model(cp).ExcludeColumn("id", "verified_at").Exec(ctx)
	return err
}

// list returns events matching f (already defaulted), newest first, read
// with extra rows more than a page, and the total (exact up to
// pg.ExactUpTo, else an estimate).
func (s store) list(ctx context.Context, f Filter, extra int) ([]Event, int, bool, error) {
	var rows []Event
	q := s.filter(s.db.NewSelect().Model(&rows), f).OrderExpr("id DESC")
	if f.AfterID != 0 {
		q = q.Where("id < ?", f.AfterID)
	} else {
		q = q.Offset(int64((f.Page - 1) * f.PerPage))
	}
	if err := q.Limit(int64(f.PerPage + extra)).Scan(ctx); err != nil {
		return nil, 0, false, fmt.Errorf("list audit events: %w", err)
	}
	for i := range rows {
		_ = json.Unmarshal([]byte(rows[i].SummaryJSON), &rows[i].Summary)
	}
	total, estimate, err := pg.Total(ctx, s.db, s.filter(s.db.NewSelect().Table("audit_events").Column("id"), f), pg.ExactUpTo)
	if err != nil {
		return nil, 0, false, fmt.Errorf("count audit events: %w", err)
	}
	return rows, total, estimate, nil
}

// filter adds f's conditions to q (on audit_events, unaliased).
func (s store) filter(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	if f.Action != "" {
		q = q.Where("action LIKE ?", escapeLike(f.Action)+"%")
	}
	if f.ActorLabel != "" {
		q = q.Where("actor_label = ?", f.ActorLabel)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To)
	}
	return q
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

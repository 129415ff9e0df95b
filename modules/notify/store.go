package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/pg"
)

// Store reads and writes the notifications table.
type Store struct{ db bun.IDB }

// NewStore returns a Store on db (the database or a transaction).
func NewStore(db bun.IDB) Store { return Store{db: db} }

// Insert stores msgs, skipping any whose dedupe key was used before.
// Errors: only internal ones (database).
func (s Store) Insert(ctx context.Context, msgs []Message) error {
	_, err := s.db.NewInsert().Model(&msgs).ExcludeColumn("id", "created_at", "read_at").
		On("CONFLICT (dedupe_key) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("send %d notifications: %w", len(msgs), err)
	}
	return nil
}

// mine limits q to p's own messages: a worker's and the user's.
func mine(q *bun.SelectQuery, p *accounts.Principal) *bun.SelectQuery {
	if p.WorkerID != 0 {
		return q.Where("n.worker_id = ? OR n.user_id = ?", p.WorkerID, p.UserID)
	}
	return q.Where("n.user_id = ?", p.UserID)
}

// Inbox lists p's messages, newest first: limit of them, after offset or,
// when afterID is set, older than message afterID (a cursor, read from the
// id index). The totals (all and unread) are exact up to pg.ExactUpTo, else
// the planner's estimate (estimate true): an inbox collecting a busy
// provider's messages for years is never counted whole.
// Errors: only internal ones (database).
func (s Store) Inbox(ctx context.Context, p *accounts.Principal, limit, offset int, afterID int64) (ms []Message, total, unread int, estimate bool, err error) {
	q := mine(s.db.NewSelect().Model(&ms), p).OrderExpr("n.id DESC").Limit(int64(limit))
	if afterID != 0 {
		q = q.Where("n.id < ?", afterID)
	} else {
		q = q.Offset(int64(offset))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, 0, 0, false, fmt.Errorf("list notifications: %w", err)
	}
	all := mine(s.db.NewSelect().TableExpr("notifications AS n").ColumnExpr("n.id"), p)
	if total, estimate, err = pg.Total(ctx, s.db, all, pg.ExactUpTo); err != nil {
		return nil, 0, 0, false, fmt.Errorf("count notifications: %w", err)
	}
	unreadQ := mine(s.db.NewSelect().TableExpr("notifications AS n").ColumnExpr("n.id"), p).Where("n.read_at IS NULL")
	unread, _, err = pg.Total(ctx, s.db, unreadQ, pg.ExactUpTo)
	if err != nil {
		return nil, 0, 0, false, fmt.Errorf("count unread notifications: %w", err)
	}
	return ms, total, unread, estimate, nil
}

// Mine returns message id if it is p's. Errors: NotFound
// notification_not_found (also for somebody else's message).
func (s Store) Mine(ctx context.Context, p *accounts.Principal, id int64) (Message, error) {
	var m Message
	err := mine(s.db.NewSelect().Model(&m), p).Where("n.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.NotFound("notification_not_found", "消息不存在")
	}
	return m, err
}

// MarkRead sets message id's read time. Errors: only internal ones (database).
func (s Store) MarkRead(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.NewUpdate().Model((*Message)(nil)).Set("read_at = ?", at).Where("id = ?", id).Exec(ctx)
	return err
}

// Package notify keeps the in-app inbox: messages to workers and users that
// other modules send inside the transaction of the change they report, so a
// message exists exactly when its reason does. (An SMTP sender is optional and
// not built; DESIGN §8.)
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
)

// Message is one notification.
type Message struct {
	bun.BaseModel `bun:"table:notifications,alias:n"`

	ID        int64      `bun:"id,pk,autoincrement" json:"id"`
	WorkerID  int64      `bun:"worker_id,nullzero" json:"-"`
	UserID    int64      `bun:"user_id,nullzero" json:"-"`
	Kind      string     `bun:"kind" json:"kind"`
	Title     string     `bun:"title" json:"title"`
	Body      string     `bun:"body" json:"body"`
	Link      string     `bun:"link" json:"link,omitempty"`
	DedupeKey string     `bun:"dedupe_key,nullzero" json:"-"`
	CreatedAt time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	ReadAt    *time.Time `bun:"read_at" json:"read_at"`
}

// Send stores messages inside idb (the caller's transaction). A message whose
// DedupeKey was sent before is skipped, so reminders can be sent "once".
func Send(ctx context.Context, idb bun.IDB, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	_, err := idb.NewInsert().Model(&msgs).ExcludeColumn("id", "created_at", "read_at").
		On("CONFLICT (dedupe_key) DO NOTHING").Exec(ctx)
	if err != nil {
		return fmt.Errorf("send %d notifications: %w", len(msgs), err)
	}
	return nil
}

// Service is the inbox of the logged-in caller.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// NewService returns the inbox service.
func NewService(db *bun.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// mine limits q to p's own messages: a worker's and the user's.
func mine(q *bun.SelectQuery, p *accounts.Principal) *bun.SelectQuery {
	if p.WorkerID != 0 {
		return q.Where("n.worker_id = ? OR n.user_id = ?", p.WorkerID, p.UserID)
	}
	return q.Where("n.user_id = ?", p.UserID)
}

// Inbox lists p's messages, newest first, with the total and unread counts.
func (s *Service) Inbox(ctx context.Context, p *accounts.Principal, limit, offset int) ([]Message, int, int, error) {
	var ms []Message
	total, err := mine(s.db.NewSelect().Model(&ms), p).OrderExpr("n.id DESC").
		Limit(int64(limit)).Offset(int64(offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("list notifications: %w", err)
	}
	unread, err := mine(s.db.NewSelect().Model((*Message)(nil)), p).Where("n.read_at IS NULL").Count(ctx)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return ms, int(total), int(unread), nil
}

// MarkRead marks one of p's messages read. Errors: NotFound (also for
// somebody else's message).
func (s *Service) MarkRead(ctx context.Context, p *accounts.Principal, id int64) error {
	var m Message
	err := mine(s.db.NewSelect().Model(&m), p).Where("n.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("notification_not_found", "消息不存在")
	}
	if err != nil {
		return err
	}
	if m.ReadAt != nil {
		return nil
	}
	_, err = s.db.NewUpdate().Model((*Message)(nil)).Set("read_at = ?", s.now()).Where("id = ?", id).Exec(ctx)
	return err
}

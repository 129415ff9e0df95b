// Package notify keeps the in-app inbox: messages to workers and users that
// other modules send inside the transaction of the change they report, so a
// message exists exactly when its reason does. (An SMTP sender is optional and
// not built; DESIGN §8.)
package notify

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/accounts"
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
// Errors: only internal ones (database).
func Send(ctx context.Context, idb bun.IDB, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	return NewStore(idb).Insert(ctx, msgs)
}

// Service is the inbox of the logged-in caller.
type Service struct {
	db  *bun.DB
	now func() time.Time
}

// NewService returns the inbox service.
func NewService(db *bun.DB, now func() time.Time) *Service { return &Service{db: db, now: now} }

// Inbox lists p's messages, newest first (see Store.Inbox): limit of
// them, after offset or older than message afterID, with the totals of all
// and of unread messages. Errors: only internal ones (database).
func (s *Service) Inbox(ctx context.Context, p *accounts.Principal, limit, offset int, afterID int64) ([]Message, int, int, bool, error) {
	return NewStore(s.db).Inbox(ctx, p, limit, offset, afterID)
}

// MarkRead marks one of p's messages read. Errors: NotFound
// notification_not_found (also for somebody else's message).
func (s *Service) MarkRead(ctx context.Context, p *accounts.Principal, id int64) error {
	st := NewStore(s.db)
	m, err := st.Mine(ctx, p, id)
	if err != nil || m.ReadAt != nil {
		return err
	}
	return st.MarkRead(ctx, id, s.now())
}

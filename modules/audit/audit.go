// Package audit keeps the append-only, hash-chained record of who did what.
//
// Every module records its changes with Record inside the transaction that
// makes them, so an event exists exactly when the change does. Each row's hash
// covers the previous row's hash and the row's own content; Verify walks the
// chain and names the first row that no longer matches. The nightly job
// records a checkpoint after each successful verification, so that deleting
// the newest rows, which leaves the chain intact at its new end, is noticed
// too.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Event is one audited action. Summary must hold no plaintext personal data
// (no ID numbers, phones or bank accounts): say which fields changed, not
// their values.
type Event struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID          int64          `bun:"id,pk,autoincrement" json:"id"`
	OccurredAt  time.Time      `bun:"occurred_at" json:"occurred_at"`
	ActorUserID int64          `bun:"actor_user_id,nullzero" json:"actor_user_id,omitempty"`
	ActorOrgID  int64          `bun:"actor_org_id,nullzero" json:"actor_org_id,omitempty"`
	ActorLabel  string         `bun:"actor_label" json:"actor_label"`
	Action      string         `bun:"action" json:"action"`
	TargetType  string         `bun:"target_type" json:"target_type"`
	TargetID    string         `bun:"target_id" json:"target_id"`
	Summary     map[string]any `bun:"-" json:"summary,omitempty"`
	SummaryJSON string         `bun:"summary" json:"-"`
	IP          string         `bun:"ip" json:"ip"`
	RequestID   string         `bun:"request_id" json:"request_id"`
	PrevHash    []byte         `bun:"prev_hash" json:"-"`
	Hash        []byte         `bun:"hash" json:"-"`
}

// Request is who is acting and from where; middleware puts it in the context
// so services need not pass it down by hand.
type Request struct {
	UserID    int64
	OrgID     int64
	Label     string // username, or "token:<name>" for API tokens
	IP        string
	RequestID string
}

type ctxKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// RequestFrom returns the Request in ctx (zero when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(ctxKey{}).(Request)
	return r
}

// chainLock serialises appends so each row links to the true previous row.
const chainLock = 0x617564697400 // "audit"

// Record appends e to the trail inside idb (normally the caller's
// transaction; on the database itself it opens one). Actor and request fields left empty are taken from ctx.
// Errors: a plain error for an event without action; otherwise only internal ones (database).
func Record(ctx context.Context, idb bun.IDB, e Event) error {
	if db, ok := idb.(*bun.DB); ok {
		// Outside a transaction the chain lock (a transaction lock) would
		// end with its own statement, and two events recorded at once would
		// both link to the same head: record in a transaction of our own.
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return Record(ctx, tx, e) })
	}
	r := RequestFrom(ctx)
	if e.ActorUserID == 0 {
		e.ActorUserID = r.UserID
	}
	if e.ActorOrgID == 0 {
		e.ActorOrgID = r.OrgID
	}
	if e.ActorLabel == "" {
		e.ActorLabel = r.Label
	}
	if e.IP == "" {
		e.IP = r.IP
	}
	if e.RequestID == "" {
		e.RequestID = r.RequestID
	}
	if e.Action == "" {
		return fmt.Errorf("record audit event: empty action")
	}
	summary := e.Summary
	if summary == nil {
		summary = map[string]any{}
	}
	b, err := json.Marshal(summary) // map keys are sorted: stable text
	if err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	e.SummaryJSON = string(b)
	// PostgreSQL keeps microseconds; hash what will be read back.
	e.OccurredAt = time.Now().UTC().Truncate(time.Microsecond)

	st := store{idb}
	if err := st.lockChain(ctx); err != nil {
		return fmt.Errorf("record audit event %s: lock chain: %w", e.Action, err)
	}
	prev, err := st.headHash(ctx)
	if err != nil {
		return fmt.Errorf("record audit event %s: read chain head: %w", e.Action, err)
	}
	if prev == nil {
		prev = genesis[:]
	}
	e.PrevHash = prev
	e.Hash = hashOf(&e)
	if err := st.insert(ctx, &e); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

var genesis = sha256.Sum256([]byte("tuoyu audit genesis"))

// hashOf is SHA-256 over the previous hash and every content field,
// length-prefixed so fields cannot bleed into each other.
func hashOf(e *Event) []byte {
	h := sha256.New()
	h.Write(e.PrevHash)
	for _, f := range []string{
		e.OccurredAt.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(e.ActorUserID, 10),
		strconv.FormatInt(e.ActorOrgID, 10),
		e.ActorLabel, e.Action, e.TargetType, e.TargetID,
		e.SummaryJSON, e.IP, e.RequestID,
	} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return h.Sum(nil)
}

// VerifyResult says whether the chain holds and, if not, where it breaks.
type VerifyResult struct {
	Checked  int64
	OK       bool
	BrokenID int64  // first row whose content or link does not match, or the missing checkpoint row
	Reason   string // why, in Chinese
	LastID   int64  // the newest row verified (0 for an empty trail)
	LastHash []byte // its hash
}

// Checkpoint remembers a successful verification: the newest row verified,
// its hash and how many rows the trail had. Deleting the newest rows leaves a
// chain intact at its new end; the checkpoint lets the next Verify notice.
type Checkpoint struct {
	bun.BaseModel `bun:"table:audit_checkpoints"`

	ID            int64     `bun:"id,pk,autoincrement"`
	EventID       int64     `bun:"event_id"`
	EventHash     []byte    `bun:"event_hash"`
	EventsChecked int64     `bun:"events_checked"`
	VerifiedAt    time.Time `bun:"verified_at"`
}

// Verify walks the whole chain in id order and reports the first broken row.
// It also holds the trail against the latest checkpoint: that checkpoint's
// row must still exist with the same hash, and at least as many rows as it
// counted. Errors: only internal ones (database); a broken chain is a result, not an error.
func Verify(ctx context.Context, db bun.IDB) (VerifyResult, error) {
	var res VerifyResult
	// Read the checkpoint before the walk: rows are only appended, so
	// everything it counted is then visible to the walk, even when a
	// checkpoint is recorded meanwhile.
	st := store{db}
	cp, err := st.lastCheckpoint(ctx)
	if err != nil {
		return res, fmt.Errorf("verify audit chain: read checkpoint: %w", err)
	}

	prev := genesis[:]
	var lastID int64
	const batch = 5000
	for {
		rows, err := st.eventsAfter(ctx, lastID, batch)
		if err != nil {
			return res, fmt.Errorf("verify audit chain: %w", err)
		}
		for i := range rows {
			e := &rows[i]
			res.Checked++
			if !bytes.Equal(e.PrevHash, prev) {
				res.BrokenID, res.Reason = e.ID, "与上一条记录的链接不符（记录被删除或插入）"
				return res, nil
			}
			if !bytes.Equal(hashOf(e), e.Hash) {
				res.BrokenID, res.Reason = e.ID, "记录内容与其哈希不符（记录被修改）"
				return res, nil
			}
			prev = e.Hash
			lastID = e.ID
			res.LastID, res.LastHash = e.ID, e.Hash
		}
		if len(rows) < batch {
			break
		}
	}

	if cp.ID != 0 {
		hash, err := st.hashOfEvent(ctx, cp.EventID)
		switch {
		case isNoRows(err):
			res.BrokenID = cp.EventID
			res.Reason = fmt.Sprintf("最近一次校验点之后的记录缺失（编号 %d 已不存在）", cp.EventID)
			return res, nil
		case err != nil:
			return res, fmt.Errorf("verify audit chain: read checkpoint event %d: %w", cp.EventID, err)
		case !bytes.Equal(hash, cp.EventHash):
			res.BrokenID = cp.EventID
			res.Reason = fmt.Sprintf("编号 %d 的哈希与最近一次校验点记下的不符（记录链被重写）", cp.EventID)
			return res, nil
		case res.Checked < cp.EventsChecked:
			res.BrokenID = cp.EventID
			res.Reason = fmt.Sprintf("记录少于最近一次校验点时的 %d 条（现有 %d 条，记录被删除）", cp.EventsChecked, res.Checked)
			return res, nil
		}
	}
	res.OK = true
	return res, nil
}

// RecordCheckpoint stores res, a successful verification, as the checkpoint
// the next Verify holds the trail against. An empty trail has nothing to
// remember and records nothing. It returns an error for a failed result.
// Errors: a plain error for a failed result; otherwise only internal ones (database).
func RecordCheckpoint(ctx context.Context, db bun.IDB, res VerifyResult) error {
	if !res.OK {
		return fmt.Errorf("record audit checkpoint: the verification failed at event %d", res.BrokenID)
	}
	if res.LastID == 0 {
		return nil
	}
	cp := Checkpoint{EventID: res.LastID, EventHash: res.LastHash, EventsChecked: res.Checked}
	if err := (store{db}).insertCheckpoint(ctx, &cp); err != nil {
		return fmt.Errorf("record audit checkpoint at event %d: %w", res.LastID, err)
	}
	return nil
}

// Filter selects events for the admin page.
type Filter struct {
	Action     string // prefix, e.g. "workers."
	ActorLabel string
	TargetType string
	TargetID   string
	From, To   time.Time
	Page       int
	PerPage    int
	AfterID    int64 // when set, the events older than this one (a cursor); Page is ignored
}

func (f Filter) defaults() Filter {
	if f.PerPage <= 0 {
		f.PerPage = 50
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	return f
}

// List returns events matching f, newest first, and the total (exact up to
// pg.ExactUpTo, else an estimate). Errors: only internal ones (database).
func List(ctx context.Context, db bun.IDB, f Filter) ([]Event, int, error) {
	rows, total, _, err := store{db}.list(ctx, f.defaults(), 0)
	return rows, total, err
}

// Browse is List for a page that pages by cursor: it reads one event more
// than f.PerPage (the caller's sign of a next page) and says whether the
// total is an estimate. Errors: only internal ones (database).
func Browse(ctx context.Context, db bun.IDB, f Filter) (rows []Event, total int, estimate bool, err error) {
	return store{db}.list(ctx, f.defaults(), 1)
}

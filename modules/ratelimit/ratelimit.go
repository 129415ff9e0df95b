// Package ratelimit limits requests per key (an IP, a user) and fixed window
// across every app instance. The counts live in PostgreSQL
// (rate_limit_counters), but a request far from its limit writes nothing:
// an instance takes requests from the shared counter in blocks and spends
// them in memory, asking for one at a time only when the window's count
// nears the limit. The shared counter therefore never lets the instances
// together pass more than the limit; requests an instance took but did not
// spend are lost to the window, which only errs on the strict side.
package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
)

// Limiter allows Max requests per key and Window, shared by every instance
// on the same database. A nil Limiter allows everything.
type Limiter struct {
	db     bun.IDB
	name   string
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is what this instance holds for one key in the current window.
type bucket struct {
	mu        sync.Mutex
	start     time.Time
	tokens    int  // taken from the shared counter, not yet spent
	exhausted bool // the shared counter reached max: deny until the window ends
}

// New returns a limiter named name (its rows in the shared table) allowing
// max requests per window; max 0 returns nil, which switches it off.
func New(db bun.IDB, name string, max int, window time.Duration, now func() time.Time) *Limiter {
	if max <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{db: db, name: name, max: max, window: window, now: now, buckets: map[string]*bucket{}}
}

// PerMinute is New with a one-minute window: the public limits of the API
// (calculator, ban check, certificate verification) are all per minute.
func PerMinute(db bun.IDB, name string, max int, now func() time.Time) *Limiter {
	return New(db, name, max, time.Minute, now)
}

// Rate reads the setting TUOYU_<NAME>_RATE (requests per minute): empty is
// def, 0 switches the limit off. Each public limit has one, e.g.
// Rate(getenv, "VERIFY", 60) for TUOYU_VERIFY_RATE.
func Rate(getenv func(string) string, name string, def int) (int, error) {
	key := "TUOYU_" + name + "_RATE"
	s := strings.TrimSpace(getenv(key))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number of requests per minute ≥ 0 (0: no limit)", key, s)
	}
	return n, nil
}

// block is how many requests an instance takes from the shared counter at a
// time: a tenth of the limit, but never more than a quarter of what is left,
// so the last requests of a window are shared out one by one.
func (l *Limiter) block(left int) int {
	b := l.max / 10
	if q := left / 4; q < b {
		b = q
	}
	if b < 1 {
		b = 1
	}
	return b
}

// Allow spends one request of key's current window. When the window is used
// up it answers false and how long until the next window starts.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	if l == nil {
		return true, 0, nil
	}
	now := l.now()
	start := now.Truncate(l.window)
	retry := start.Add(l.window).Sub(now)

	b := l.bucket(key, start)
	// The bucket's own lock: one key waiting for the database does not hold
	// up the others.
	b.mu.Lock()
	defer b.mu.Unlock()
	if start.After(b.start) {
		b.start, b.tokens, b.exhausted = start, 0, false
	}
	// A request that read the clock just before another moved the bucket
	// on counts in the newer window.
	start = b.start
	if b.tokens > 0 {
		b.tokens--
		return true, 0, nil
	}
	if b.exhausted {
		return false, retry, nil
	}
	got, err := l.take(ctx, key, start)
	if err != nil {
		return false, 0, err
	}
	if got == 0 {
		b.exhausted = true
		return false, retry, nil
	}
	b.tokens = got - 1
	return true, 0, nil
}

// bucket returns key's bucket, creating it on first use.
func (l *Limiter) bucket(key string, start time.Time) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 10000 {
			l.forget(start)
		}
		b = &bucket{start: start}
		l.buckets[key] = b
	}
	return b
}

// take asks the shared counter for a block and answers how many requests
// were granted. The counter grows by the whole block even past max; what
// was there before decides the grant, so concurrent instances never get
// more than max together.
func (l *Limiter) take(ctx context.Context, key string, start time.Time) (int, error) {
	var used int
	if err := l.db.NewSelect().Table("rate_limit_counters").Column("count").
		Where("limiter = ? AND key = ? AND window_start = ?", l.name, key, start).
		Scan(ctx, &used); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read rate limit %s: %w", l.name, err)
	}
	if used >= l.max {
		return 0, nil
	}
	want := l.block(l.max - used)
	var after int
	err := l.db.NewRaw(`INSERT INTO rate_limit_counters AS c (limiter, key, window_start, count)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (limiter, key, window_start) DO UPDATE SET count = c.count + EXCLUDED.count
		RETURNING count`, l.name, key, start, want).Scan(ctx, &after)
	if err != nil {
		return 0, fmt.Errorf("take from rate limit %s: %w", l.name, err)
	}
	before := after - want
	granted := l.max - before
	if granted > want {
		granted = want
	}
	if granted < 0 {
		granted = 0
	}
	return granted, nil
}

// forget drops buckets of past windows, so keys seen once do not pile up.
// A request holding a dropped bucket still finishes on it correctly.
func (l *Limiter) forget(current time.Time) {
	for k, b := range l.buckets {
		if b.mu.TryLock() {
			if b.start.Before(current) {
				delete(l.buckets, k)
			}
			b.mu.Unlock()
		}
	}
}

// KeyFunc names the bucket a request counts against.
type KeyFunc func(c *fiber.Ctx) string

// ByIP counts per client IP.
func ByIP(c *fiber.Ctx) string { return c.IP() }

// Handler returns middleware counting each request against key(c) (ByIP
// when nil); beyond the limit it answers 429 rate_limited with Retry-After.
// On a nil Limiter it only passes requests on.
func (l *Limiter) Handler(key KeyFunc) fiber.Handler {
	if l == nil {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	if key == nil {
		key = ByIP
	}
	return func(c *fiber.Ctx) error {
		ok, retry, err := l.Allow(c.UserContext(), key(c))
		if err != nil {
			return err
		}
		if !ok {
			secs := int(math.Ceil(retry.Seconds()))
			if secs < 1 {
				secs = 1
			}
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
			return apperr.RateLimited("rate_limited", "请求过于频繁，请稍后再试")
		}
		return c.Next()
	}
}

// Purge deletes the shared counters of windows that ended before before.
func Purge(ctx context.Context, db bun.IDB, before time.Time) (int64, error) {
	res, err := db.NewDelete().Table("rate_limit_counters").Where("window_start < ?", before).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge rate limit counters: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// counted reads how many requests the instances took from the shared
// counter of limiter, key and the window starting at start (0 when none).
func counted(ctx context.Context, db bun.IDB, limiter, key string, start time.Time) (int, error) {
	var used int
	if err := db.NewSelect().Table("rate_limit_counters").Column("count").
		Where("limiter = ? AND key = ? AND window_start = ?", limiter, key, start).
		Scan(ctx, &used); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read rate limit %s: %w", limiter, err)
	}
	return used, nil
}

// add grows the shared counter by n in one upsert and returns its new value.
func add(ctx context.Context, db bun.IDB, limiter, key string, start time.Time, n int) (int, error) {
	var after int
	err := db.NewRaw(`INSERT INTO rate_limit_counters AS c (limiter, key, window_start, count)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (limiter, key, window_start) DO UPDATE SET count = c.count + EXCLUDED.count
		RETURNING count`, limiter, key, start, n).Scan(ctx, &after)
	if err != nil {
		return 0, fmt.Errorf("take from rate limit %s: %w", limiter, err)
	}
	return after, nil
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

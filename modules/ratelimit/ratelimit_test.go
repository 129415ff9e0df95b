package ratelimit_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/ratelimit"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func count(t *testing.T, name, key string) int {
	t.Helper()
	var n int
	if err := dbtest.DB(t).NewSelect().Table("rate_limit_counters").ColumnExpr("coalesce(sum(count), 0)").
		Where("limiter = ? AND key = ?", name, key).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Two instances (two limiters on one database), hammered concurrently,
// together allow exactly the limit.
func TestInstancesShareTheLimit(t *testing.T) {
	db := dbtest.DB(t)
	clock := time.Date(2026, 12, 3, 10, 0, 20, 0, time.UTC)
	now := func() time.Time { return clock }
	a := ratelimit.PerMinute(db, "test.shared", 50, now)
	b := ratelimit.PerMinute(db, "test.shared", 50, now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		l := a
		if g%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				ok, retry, err := l.Allow(context.Background(), "10.0.0.1")
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
				} else if retry != 40*time.Second {
					t.Errorf("retry after %v, want 40s (the rest of the minute)", retry)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("two instances allowed %d requests, want exactly 50", got)
	}
	// A new window starts afresh.
	clock = clock.Add(time.Minute)
	if ok, _, err := a.Allow(context.Background(), "10.0.0.1"); err != nil || !ok {
		t.Fatalf("next window: %v %v", ok, err)
	}
}

// Far from the limit a request writes nothing: the instance takes a block
// of a tenth of the limit and spends it in memory.
func TestFarFromTheLimitNothingIsWritten(t *testing.T) {
	db := dbtest.DB(t)
	now := func() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC) }
	l := ratelimit.PerMinute(db, "test.blocks", 200, now)
	for i := 1; i <= 20; i++ {
		if ok, _, err := l.Allow(context.Background(), "k"); err != nil || !ok {
			t.Fatalf("request %d: %v %v", i, ok, err)
		}
		if got := count(t, "test.blocks", "k"); got != 20 {
			t.Fatalf("after request %d the shared count is %d, want the block of 20", i, got)
		}
	}
	if ok, _, _ := l.Allow(context.Background(), "k"); !ok || count(t, "test.blocks", "k") != 40 {
		t.Fatalf("request 21 did not take the next block: count %d", count(t, "test.blocks", "k"))
	}
	// Another key has its own count.
	if ok, _, _ := l.Allow(context.Background(), "other"); !ok || count(t, "test.blocks", "other") != 20 {
		t.Fatal("keys share a count")
	}
	// Old windows are purged.
	if n, err := ratelimit.Purge(context.Background(), db, now().Add(time.Minute)); err != nil || n < 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
}

func TestZeroSwitchesTheLimitOff(t *testing.T) {
	if l := ratelimit.PerMinute(dbtest.DB(t), "test.off", 0, nil); l != nil {
		t.Fatal("a limit of 0 built a limiter")
	}
	var off *ratelimit.Limiter
	if ok, _, err := off.Allow(context.Background(), "k"); !ok || err != nil {
		t.Fatal("a nil limiter refused")
	}
	env := map[string]string{"TUOYU_VERIFY_RATE": "0", "TUOYU_CALC_RATE": "15", "TUOYU_BAD_RATE": "-1"}
	getenv := func(k string) string { return env[k] }
	for name, want := range map[string]int{"VERIFY": 0, "CALC": 15, "BANCHECK": 30} {
		if got, err := ratelimit.Rate(getenv, name, 30); err != nil || got != want {
			t.Errorf("Rate(%s) = %d, %v, want %d", name, got, err, want)
		}
	}
	if _, err := ratelimit.Rate(getenv, "BAD", 30); err == nil {
		t.Error("TUOYU_BAD_RATE=-1 accepted")
	}
}

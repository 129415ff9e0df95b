package app

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

// TestRateLimitHoldsAcrossInstances runs two wired apps on one database, as
// two servers behind a load balancer: the calculator's limit is enforced on
// their combined count, with the same 429 and Retry-After.
func TestRateLimitHoldsAcrossInstances(t *testing.T) {
	testApp(t) // the package database is migrated and seeded
	db := dbtest.AppDB(t)
	// A clock of its own puts the counts in a window no other test uses.
	at := time.Date(2031, 3, 3, 9, 0, 15, 0, time.UTC)
	cfg := testConfig()
	cfg.Getenv = func(k string) string {
		if k == "TUOYU_CALC_RATE" {
			return "40"
		}
		return ""
	}
	var instances [2]*client
	for i := range instances {
		a, err := Wire(cfg, db, slog.New(slog.NewTextHandler(logBuf, nil)), func() time.Time { return at })
		if err != nil {
			t.Fatal(err)
		}
		instances[i] = &client{t: t, a: a}
	}
	ok, limited := 0, 0
	for i := 0; i < 100; i++ {
		res, body := instances[i%2].do("POST", "/api/v1/subsidies/calculate", strings.NewReader(subsidySituation), "Content-Type", "application/json")
		switch res.StatusCode {
		case 200:
			ok++
		case 429:
			limited++
			if problemCode(t, body) != "rate_limited" || res.Header.Get("Retry-After") != "45" {
				t.Fatalf("429 without rate_limited and Retry-After 45: %q %s", res.Header.Get("Retry-After"), body)
			}
		default:
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
	}
	if ok != 40 || limited != 60 {
		t.Fatalf("two instances allowed %d of 100 calculations (limited %d), want 40 together", ok, limited)
	}
}

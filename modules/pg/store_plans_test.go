package pg

import (
	"context"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

// TestPlansKeepAnEstimateForTheirTTL: within the TTL the cached estimate
// is answered even after the statistics moved; after it, the new one.
func TestPlansKeepAnEstimateForTheirTTL(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE planned AS SELECT g AS id FROM generate_series(1, 1000) AS g; ANALYZE planned`); err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	plans := NewPlans(time.Minute, func() time.Time { return clock })
	q := func() float64 {
		n, err := plans.Rows(ctx, db, db.NewSelect().TableExpr("planned").ColumnExpr("id"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := q()
	if before < 800 || before > 1200 {
		t.Fatalf("estimate %v, want near 1000", before)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO planned SELECT g FROM generate_series(1001, 50000) AS g; ANALYZE planned`); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(59 * time.Second)
	if got := q(); got != before {
		t.Errorf("within the TTL: %v, want the cached %v", got, before)
	}
	clock = clock.Add(2 * time.Second)
	if got := q(); got < 40000 {
		t.Errorf("after the TTL: %v, want the new estimate near 50000", got)
	}
}

// TestSettle is Total's rule on a capped count.
func TestSettle(t *testing.T) {
	for _, c := range []struct {
		counted  int
		planned  float64
		want     int
		estimate bool
	}{{0, 5, 0, false}, {10000, 30, 10000, false}, {10001, 15000, 15000, true}, {10001, 300, 10001, true}} {
		if n, est := Settle(c.counted, c.planned, ExactUpTo); n != c.want || est != c.estimate {
			t.Errorf("Settle(%d, %v) = %d, %v; want %d, %v", c.counted, c.planned, n, est, c.want, c.estimate)
		}
	}
}

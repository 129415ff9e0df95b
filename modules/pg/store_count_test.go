package pg

import (
	"context"
	"testing"

	"tuoyu/app/dbtest"
)

// TestTotalExactThenEstimate: a small set is counted exactly, a large one
// is the planner's estimate, flagged, and near the truth after ANALYZE.
func TestTotalExactThenEstimate(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE counted AS SELECT g AS id, g % 100 AS bucket FROM generate_series(1, 50000) AS g;
		CREATE INDEX ON counted (bucket); ANALYZE counted`); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		where    string
		exact    int // the true count
		estimate bool
	}{
		{"bucket = 7", 500, false},
		{"bucket < 19", 9500, false},
		{"bucket < 21", 10500, true}, // above the cap: capped count, then flagged
		{"TRUE", 50000, true},        // planned far above: not counted at all
		{"bucket = -1", 0, false},
	}
	for _, c := range cases {
		q := db.NewSelect().TableExpr("counted").ColumnExpr("id").Where(c.where)
		n, est, err := Total(ctx, db, q, ExactUpTo)
		if err != nil {
			t.Fatalf("%s: %v", c.where, err)
		}
		if est != c.estimate {
			t.Errorf("%s: estimate = %v, want %v", c.where, est, c.estimate)
		}
		if !est && n != c.exact {
			t.Errorf("%s: total = %d, want exactly %d", c.where, n, c.exact)
		}
		if est && (n < c.exact*8/10 || n > c.exact*12/10) {
			t.Errorf("%s: estimate = %d, want near %d", c.where, n, c.exact)
		}
	}
}

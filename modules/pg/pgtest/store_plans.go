// Package pgtest holds the query-plan guard of the lists at province size
// (issue 14): a query hook that keeps the SELECTs a use case ran and a
// check that none of them reads a big table sequentially. Tests only; the
// file is a store file because it runs EXPLAIN (the module rules keep
// queries in store files).
package pgtest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
)

// QueryLog is a bun query hook keeping the SELECTs run while it is on.
type QueryLog struct {
	mu   sync.Mutex
	on   bool
	sqls []string
}

// BeforeQuery implements bun.QueryHook.
func (l *QueryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery implements bun.QueryHook.
func (l *QueryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on && strings.HasPrefix(e.Query, "SELECT") {
		l.sqls = append(l.sqls, e.Query)
	}
}

// Take returns the SELECTs kept so far, forgets them and turns the log on
// or off.
func (l *QueryLog) Take(on bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sqls
	l.sqls, l.on = nil, on
	return s
}

// SeqScans returns the tables among big that the plan of query reads with a
// sequential scan.
func SeqScans(t testing.TB, db bun.IDB, query string, big ...string) []string {
	t.Helper()
	var raw string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) "+query).Scan(context.Background(), &raw); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var plans []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) == 0 {
		t.Fatalf("read plan %s: %v", raw, err)
	}
	var found []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		rel, _ := n["Relation Name"].(string)
		for _, b := range big {
			if n["Node Type"] == "Seq Scan" && rel == b {
				found = append(found, rel)
			}
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(plans[0].Plan)
	return found
}

// Guard runs do with the log on and fails t for each SELECT it ran whose
// plan reads one of big sequentially; it returns how many SELECTs it saw.
func Guard(t testing.TB, db bun.IDB, log *QueryLog, name string, do func() error, big ...string) int {
	t.Helper()
	log.Take(true)
	err := do()
	sqls := log.Take(false)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, q := range sqls {
		if seq := SeqScans(t, db, q, big...); len(seq) > 0 {
			t.Errorf("%s: sequential scan of %v:\n%s", name, seq, q)
		}
	}
	return len(sqls)
}

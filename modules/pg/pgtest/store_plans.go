// Package pgtest holds the query-plan guard of the lists at province size
// (issue 14): a query hook that keeps the SELECTs a use case ran and a
// check that none of them reads a big table sequentially. Tests only; the
// file is a store file because it runs EXPLAIN (the module rules keep
// queries in store files).
package pgtest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/modules/pg"
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

// planNodes runs EXPLAIN (options) of query and returns every node of its
// plan, sub-plans included.
func planNodes(t testing.TB, db bun.IDB, options, query string) []map[string]any {
	t.Helper()
	var raw string
	if err := db.NewRaw("EXPLAIN ("+options+", FORMAT JSON) "+query).Scan(context.Background(), &raw); err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	var plans []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) == 0 {
		t.Fatalf("read plan %s: %v", raw, err)
	}
	var nodes []map[string]any
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		nodes = append(nodes, n)
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(plans[0].Plan)
	return nodes
}

// SeqScans returns the tables among big that the plan of query reads with a
// sequential scan.
func SeqScans(t testing.TB, db bun.IDB, query string, big ...string) []string {
	t.Helper()
	var found []string
	for _, n := range planNodes(t, db, "COSTS", query) {
		rel, _ := n["Relation Name"].(string)
		if n["Node Type"] == "Seq Scan" && slices.Contains(big, rel) {
			found = append(found, rel)
		}
	}
	return found
}

// RowsFiltered runs query under EXPLAIN ANALYZE and returns how many rows
// its scans of table read and then dropped by a filter: a scan that an
// index condition should have bounded.
func RowsFiltered(t testing.TB, db bun.IDB, query, table string) float64 {
	t.Helper()
	removed := 0.0
	for _, n := range planNodes(t, db, "ANALYZE", query) {
		if n["Relation Name"] == table {
			r, _ := n["Rows Removed by Filter"].(float64) // per loop, as EXPLAIN gives rows
			loops, _ := n["Actual Loops"].(float64)
			removed += r * max(loops, 1)
		}
	}
	return removed
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

// Generic prepares text (a statement of pg.Prepared, placeholders $1, $2,
// …) on a connection of its own that plans every execution generically, as
// PostgreSQL may after five executions, and calls check with the
// connection and the EXECUTE of it with args, for SeqScans and
// RowsFiltered. The connection goes back to the pool as it came.
func Generic(t testing.TB, db *bun.DB, text string, args []any, check func(conn bun.IDB, execute string)) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Through database/sql, so that bun does not format the text again.
	exec := func(stmt string) {
		t.Helper()
		if _, err := conn.Conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec("SET plan_cache_mode = force_generic_plan")
	defer exec("RESET plan_cache_mode")
	exec("PREPARE generic AS " + text)
	defer exec("DEALLOCATE generic")
	execute := "EXECUTE generic"
	if len(args) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
		execute = db.QueryGen().FormatQuery("EXECUTE generic("+marks+")", args...)
	}
	check(conn, execute)
}

// Statement is a statement as pg.Prepared ran it.
type Statement struct {
	Text string
	Args []any
}

// PreparedLog keeps the statements a pg.Prepared runs: bun's query hooks,
// and so QueryLog, do not see them.
type PreparedLog struct {
	mu    sync.Mutex
	stmts []Statement
}

// ObservePrepared returns a log of the statements p runs until t ends.
func ObservePrepared(t testing.TB, p *pg.Prepared) *PreparedLog {
	l := &PreparedLog{}
	p.Observe(func(text string, args []any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.stmts = append(l.stmts, Statement{Text: text, Args: args})
	})
	t.Cleanup(func() { p.Observe(nil) })
	return l
}

// Take returns the statements kept so far and forgets them.
func (l *PreparedLog) Take() []Statement {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stmts
	l.stmts = nil
	return s
}

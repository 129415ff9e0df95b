package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Prepared runs a few hot read queries as server-side prepared statements,
// one per SQL text, so that PostgreSQL parses and plans each once per
// connection instead of on every request. bun writes its arguments into the
// text, which makes every request a new statement: for the workers list,
// planning was two thirds of the query's time (pgbench: 0.47 ms a page with
// literal arguments, 0.12 ms prepared).
//
// After five executions PostgreSQL may keep one generic plan for every
// argument. So only statements whose best plan is the same whatever the
// arguments belong here: callers decide which (an equality on the leading
// column of an index that also holds the order), and a plan guard checks
// the generic plans at 100 000 rows (workers' TestListsAtScale).
// Safe for concurrent use.
type Prepared struct {
	db    *bun.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	seen  func(text string, args []any)
}

// maxPrepared bounds the statements kept. The texts are shapes (scope kind,
// page size, cursor or not), not values, so a few dozen cover the lists;
// past the bound a text runs unprepared.
const maxPrepared = 64

// NewPrepared returns an empty set of statements on db.
func NewPrepared(db *bun.DB) *Prepared {
	return &Prepared{db: db, stmts: map[string]*sql.Stmt{}}
}

// Observe makes p call fn with the text and arguments of each statement it
// runs (the plan guard reads them; bun's query hooks do not see them).
func (p *Prepared) Observe(fn func(text string, args []any)) {
	p.mu.Lock()
	p.seen = fn
	p.mu.Unlock()
}

// Select runs text (placeholders $1, $2, … as written by Params) with args
// and scans the rows into dst as bun's Scan does. Errors: only internal
// ones (database).
func (p *Prepared) Select(ctx context.Context, dst any, text string, args ...any) error {
	rows, err := p.rows(ctx, text, args)
	if err != nil {
		return err
	}
	return p.db.ScanRows(ctx, rows, dst)
}

// Get is Select for one row: it scans the first row into the struct dst
// and returns sql.ErrNoRows when there is none, as bun's Scan does.
// Errors: sql.ErrNoRows, else only internal ones (database).
func (p *Prepared) Get(ctx context.Context, dst any, text string, args ...any) error {
	rows, err := p.rows(ctx, text, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := p.db.ScanRow(ctx, rows, dst); err != nil {
		return err
	}
	return rows.Close()
}

// rows runs text with args, observed, prepared afresh once when its plan
// went stale.
func (p *Prepared) rows(ctx context.Context, text string, args []any) (*sql.Rows, error) {
	p.mu.Lock()
	seen := p.seen
	p.mu.Unlock()
	if seen != nil {
		seen(text, args)
	}
	rows, err := p.query(ctx, text, args)
	if isStalePlan(err) {
		// Another instance changed a table under the statement (a migration
		// while this one runs): prepare it afresh, once.
		p.forget(text)
		rows, err = p.query(ctx, text, args)
	}
	return rows, err
}

func (p *Prepared) query(ctx context.Context, text string, args []any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, text)
	if err != nil {
		return nil, err
	}
	if st == nil {
		// Full: the driver writes the arguments into the text.
		return p.db.DB.QueryContext(ctx, text, args...)
	}
	return st.QueryContext(ctx, args...)
}

// stmt returns the statement of text, preparing it on first use; nil when
// the set is full.
func (p *Prepared) stmt(ctx context.Context, text string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[text]; ok {
		return st, nil
	}
	if len(p.stmts) >= maxPrepared {
		return nil, nil
	}
	st, err := p.db.DB.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", text, err)
	}
	p.stmts[text] = st
	return st, nil
}

func (p *Prepared) forget(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[text]; ok {
		st.Close()
		delete(p.stmts, text)
	}
}

// isStalePlan reports PostgreSQL's refusal to run a prepared statement whose
// result columns changed type since it was prepared.
func isStalePlan(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == FeatureNotSupported
}

// Params collects the arguments of a statement to prepare while a query is
// built: Bind returns the placeholder to write where the value would go.
type Params struct{ args []any }

// Bind adds v and returns its placeholder ($1, $2, …) for bun to write as is.
func (ps *Params) Bind(v any) any {
	ps.args = append(ps.args, v)
	return bun.Safe("$" + strconv.Itoa(len(ps.args)))
}

// Args are the values bound so far, in placeholder order.
func (ps *Params) Args() []any { return ps.args }

// Literal is Bind for queries that bun runs as usual: the value itself.
func Literal(v any) any { return v }

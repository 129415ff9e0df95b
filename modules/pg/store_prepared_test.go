package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/app/dbtest"
)

type preparedRow struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// createRows creates table with rows 1…n of preparedRow, named "row <id>".
func createRows(t *testing.T, db *bun.DB, table string, n int) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), `CREATE TABLE ? AS
		SELECT g::bigint AS id, 'row ' || g AS name FROM generate_series(1, ?) AS g`, bun.Ident(table), n); err != nil {
		t.Fatal(err)
	}
}

// TestPreparedSelect: a statement built with Params runs prepared with its
// arguments, again after a migration changed its result's type (PostgreSQL
// refuses the old statement; Select prepares it afresh), and unprepared
// once the set is full, with the same answers.
func TestPreparedSelect(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	createRows(t, db, "prepared_rows", 100)
	var ps Params
	q := db.NewSelect().TableExpr("prepared_rows").Column("id", "name").
		Where("id > ?", ps.Bind(int64(90))).Where("name LIKE ?", ps.Bind("row 9%")).OrderExpr("id")
	text := q.String()
	if want := `WHERE (id > $1) AND (name LIKE $2)`; !strings.Contains(text, want) {
		t.Fatalf("text %q does not hold %q", text, want)
	}
	if args := ps.Args(); len(args) != 2 || args[0] != int64(90) || args[1] != "row 9%" {
		t.Fatalf("args %v", args)
	}

	p := NewPrepared(db)
	var seen []string
	p.Observe(func(text string, _ []any) { seen = append(seen, text) })
	sel := func(args ...any) []preparedRow {
		t.Helper()
		var rows []preparedRow
		if err := p.Select(ctx, &rows, text, args...); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	check := func(when string, rows []preparedRow, from int64, n int) {
		t.Helper()
		if len(rows) != n || (n > 0 && (rows[0].ID != from || rows[0].Name != fmt.Sprintf("row %d", from))) {
			t.Errorf("%s: %+v, want %d rows from %d", when, rows, n, from)
		}
	}
	for i := 0; i < 7; i++ { // past the five custom plans
		check("prepared", sel(int64(90), "row 9%"), 91, 9)
	}
	check("other arguments", sel(int64(95), "row 9%"), 96, 4)
	if len(p.stmts) != 1 || len(seen) != 8 {
		t.Fatalf("%d statements kept, %d runs seen; want 1 and 8", len(p.stmts), len(seen))
	}

	if _, err := db.ExecContext(ctx, `ALTER TABLE prepared_rows ALTER COLUMN id TYPE integer`); err != nil {
		t.Fatal(err)
	}
	check("after the column changed type", sel(int64(90), "row 9%"), 91, 9)

	for i := len(p.stmts); i < maxPrepared; i++ {
		p.stmts[fmt.Sprintf("-- filler %d", i)] = nil
	}
	other := db.NewSelect().TableExpr("prepared_rows").Column("id", "name").Where("id = $1").String()
	var rows []preparedRow
	if err := p.Select(ctx, &rows, other, int64(42)); err != nil {
		t.Fatal(err)
	}
	check("unprepared when full", rows, 42, 1)
	if _, ok := p.stmts[other]; ok {
		t.Error("a statement was kept past the bound")
	}
}

// TestPreparedGet: Get scans one row into a struct, answers sql.ErrNoRows
// when there is none (the session look-up turns that into
// session_expired), and survives a change of its result like Select.
func TestPreparedGet(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	createRows(t, db, "prepared_one", 10)
	var ps Params
	text := db.NewSelect().TableExpr("prepared_one AS r").ColumnExpr("r.*").Where("id = ?", ps.Bind(int64(0))).String()
	p := NewPrepared(db)
	get := func(id int64) (preparedRow, error) {
		var r preparedRow
		err := p.Get(ctx, &r, text, id)
		return r, err
	}
	for i := int64(1); i <= 7; i++ {
		r, err := get(i)
		if err != nil || r.ID != i || r.Name != fmt.Sprintf("row %d", i) {
			t.Fatalf("get %d: %+v, %v", i, r, err)
		}
	}
	if r, err := get(11); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("get of a missing row: %+v, %v; want sql.ErrNoRows", r, err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE prepared_one ADD COLUMN note text`); err != nil {
		t.Fatal(err)
	}
	var wide struct {
		preparedRow
		Note *string `bun:"note"`
	}
	if err := p.Get(ctx, &wide, text, int64(3)); err != nil || wide.ID != 3 || wide.Note != nil {
		t.Fatalf("after a column was added: %+v, %v", wide, err)
	}
}

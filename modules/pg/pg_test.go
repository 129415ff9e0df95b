package pg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func TestCopyWriterEscapesAndNulls(t *testing.T) {
	var buf bytes.Buffer
	w := &CopyWriter{w: bufio.NewWriter(&buf)}
	d := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	w.Int(7)
	w.Text("a\tb\\c\nd\re")
	w.NullText("x", true)
	w.Bytea([]byte{0xde, 0xad})
	w.Bytea(nil)
	w.NullInt(0)
	w.Date(&d)
	w.Date(nil)
	if err := w.End(); err != nil {
		t.Fatal(err)
	}
	if err := w.w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "7\ta\\tb\\\\c\\nd\\re\t\\N\t\\\\xdead\t\\N\t\\N\t2026-05-20\t\\N\n"
	if buf.String() != want {
		t.Errorf("row = %q, want %q", buf.String(), want)
	}
}

// TestCopyFromAndUniqueViolation copies awkward text into a table and reads
// it back unchanged, then breaks the table's unique constraint.
func TestCopyFromAndUniqueViolation(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE pg_copy_probe (n int PRIMARY KEY, s text, b bytea)`); err != nil {
		t.Fatal(err)
	}
	texts := []string{"plain", "tab\there", "back\\slash", "new\nline", "中文"}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = CopyFrom(ctx, conn, `COPY pg_copy_probe (n, s, b) FROM STDIN`, func(w *CopyWriter) error {
		for i, s := range texts {
			w.Int(int64(i))
			w.Text(s)
			w.Bytea([]byte(s))
			if err := w.End(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	for i, s := range texts {
		var got string
		var b []byte
		if err := db.NewSelect().Table("pg_copy_probe").Column("s", "b").Where("n = ?", i).Scan(ctx, &got, &b); err != nil {
			t.Fatal(err)
		}
		if got != s || string(b) != s {
			t.Errorf("row %d: %q / %q, want %q", i, got, b, s)
		}
	}
	_, err = db.NewRaw(`INSERT INTO pg_copy_probe (n) VALUES (0)`).Exec(ctx)
	if !IsUnique(err, "") || !IsUnique(err, "pg_copy_probe_pkey") || IsUnique(err, "other_key") {
		t.Errorf("IsUnique(%v) does not recognise the primary key violation", err)
	}
	if code, name := Violation(err); code != UniqueViolation || name != "pg_copy_probe_pkey" {
		t.Errorf("Violation = %q, %q", code, name)
	}
	if code, _ := Violation(fmt.Errorf("not a database error")); code != "" || IsUnique(nil, "") {
		t.Error("a plain error is no violation")
	}
}

// Package pg holds the few PostgreSQL mechanics every store shares: reading
// an integrity violation off a driver error, and writing rows in COPY text
// format. It sits below the domain modules and knows none of their tables.
package pg

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// SQLSTATE codes the stores translate into domain errors.
const (
	UniqueViolation     = "23505"
	ForeignKeyViolation = "23503"
	CheckViolation      = "23514"
	// FeatureNotSupported is also what a prepared statement answers once
	// its result columns changed type (Prepared prepares it afresh).
	FeatureNotSupported = "0A000"
)

// Violation returns the SQLSTATE and constraint name of an integrity error,
// or two empty strings when err is not one.
func Violation(err error) (code, constraint string) {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || !strings.HasPrefix(pgErr.Field('C'), "23") {
		return "", ""
	}
	return pgErr.Field('C'), pgErr.Field('n')
}

// IsUnique reports whether err is a unique violation, of the named
// constraint when constraint is not empty: the one place the stores check
// SQLSTATE 23505 before answering a domain conflict.
func IsUnique(err error, constraint string) bool {
	code, name := Violation(err)
	return code == UniqueViolation && (constraint == "" || name == constraint)
}

// CopyFrom runs stmt (a COPY … FROM STDIN) on conn, the connection the
// caller's transaction runs on, feeding it what write produces. COPY is
// several times faster than a multi-row INSERT for large files (DESIGN §11).
// Errors: those of write, and internal ones (database).
func CopyFrom(ctx context.Context, conn bun.Conn, stmt string, write func(*CopyWriter) error) error {
	pr, pw := io.Pipe()
	go func() {
		cw := &CopyWriter{w: bufio.NewWriterSize(pw, 256<<10)}
		err := write(cw)
		if err == nil {
			err = cw.w.Flush()
		}
		pw.CloseWithError(err)
	}()
	_, err := pgdriver.CopyFrom(ctx, conn, pr, stmt)
	pr.Close()
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	return nil
}

// CopyWriter writes rows in COPY text format: tab-separated columns, \N for
// NULL, backslash escapes, bytea as \\x hex. Call the column methods in the
// statement's column order, then End for each row.
type CopyWriter struct {
	w    *bufio.Writer
	line []byte
}

func (c *CopyWriter) sep() {
	if len(c.line) > 0 {
		c.line = append(c.line, '\t')
	}
}

var copyEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// Text adds a text column.
func (c *CopyWriter) Text(s string) {
	c.sep()
	if !strings.ContainsAny(s, "\\\t\n\r") {
		c.line = append(c.line, s...)
		return
	}
	c.line = append(c.line, copyEscaper.Replace(s)...)
}

// NullText adds a text column that is NULL when null is true.
func (c *CopyWriter) NullText(s string, null bool) {
	if null {
		c.Null()
		return
	}
	c.Text(s)
}

// Null adds a NULL column.
func (c *CopyWriter) Null() {
	c.sep()
	c.line = append(c.line, `\N`...)
}

// Bytea adds a bytea column; nil is NULL.
func (c *CopyWriter) Bytea(v []byte) {
	if v == nil {
		c.Null()
		return
	}
	c.sep()
	c.line = hex.AppendEncode(append(c.line, `\\x`...), v)
}

// Int adds an integer column.
func (c *CopyWriter) Int(n int64) {
	c.sep()
	c.line = strconv.AppendInt(c.line, n, 10)
}

// NullInt adds an integer column where 0 means NULL (ids, unknown years).
func (c *CopyWriter) NullInt(n int64) {
	if n == 0 {
		c.Null()
		return
	}
	c.Int(n)
}

// Date adds a date column; nil is NULL.
func (c *CopyWriter) Date(d *time.Time) {
	if d == nil {
		c.Null()
		return
	}
	c.sep()
	c.line = append(c.line, d.Format(time.DateOnly)...)
}

// End finishes the row. Errors: those of the pipe to the database (the COPY ended).
func (c *CopyWriter) End() error {
	c.line = append(c.line, '\n')
	_, err := c.w.Write(c.line)
	c.line = c.line[:0]
	return err
}

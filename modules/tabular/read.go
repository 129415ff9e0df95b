package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"tuoyu/modules/apperr"
)

// Table is an opened upload: its header and an iterator over its data rows.
// Rows are decoded as they are read, so a large file is never held twice in
// memory. Close it when done.
type Table struct {
	// Format is FormatCSV or FormatXLSX.
	Format string
	// Encoding is the CSV encoding used (EncodingUTF8, EncodingGBK,
	// EncodingGB18030) or EncodingXLSX.
	Encoding string
	// HeaderRow is the row number of the header (1 unless titles sit above).
	HeaderRow int
	// Header holds the header cells as written, trimmed.
	Header []string

	cols     map[string]int // canonical name → cell index
	estimate int            // rows in the file as far as cheaply known; 0 unknown
	src      rowSource
	pending  []Row // rows already read while looking for the header or data
	rows     int   // data rows returned so far
	maxRows  int
	err      error // sticky
	closeErr error
}

// Row is one data row.
type Row struct {
	// Num is the 1-based row number Excel shows for this row.
	Num int
	// Cells are the row's cells, trimmed, as displayed by the spreadsheet.
	Cells []string

	cols map[string]int
}

// Get returns the cell of the canonical column name, or "" when the file has
// no such column or the row is short.
func (r Row) Get(name string) string {
	i, ok := r.cols[name]
	if !ok || i >= len(r.Cells) {
		return ""
	}
	return r.Cells[i]
}

// rowSource yields raw rows: their number as Excel shows it and their cells.
// It returns io.EOF after the last row.
type rowSource interface {
	next() (num int, cells []string, err error)
	close() error
}

// Open reads the upload data named name (the extension chooses the format)
// and finds its header row. Errors are *apperr.Error values: file_too_large,
// empty_file, unsupported_file_type, bad_encoding, corrupt_xlsx,
// xlsx_too_large, no_header, missing_columns.
func Open(data []byte, name string, opt Options) (t *Table, err error) {
	if int64(len(data)) > opt.maxBytes() {
		return nil, errFileTooLarge(opt.maxBytes())
	}
	var src rowSource
	t = &Table{maxRows: opt.maxRows()}
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, errEmpty()
		}
		t.Format = FormatCSV
		var enc string
		src, enc, err = openCSV(data, opt.Encoding)
		t.Encoding = enc
		t.estimate = bytes.Count(data, []byte{'\n'})
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.estimate++
		}
	case ".xlsx":
		if len(data) == 0 {
			return nil, errEmpty()
		}
		t.Format, t.Encoding = FormatXLSX, EncodingXLSX
		var xs *xlsxSource
		xs, err = openXLSX(data)
		if err == nil {
			src, t.estimate = xs, xs.estimate
		}
	case ".xls":
		return nil, errUnsupported("旧版 Excel 97-2003（.xls）文件，请另存为 .xlsx")
	case "":
		return nil, errUnsupported("文件没有扩展名")
	default:
		return nil, errUnsupported("扩展名 " + ext)
	}
	if err != nil {
		return nil, err
	}
	t.src = src
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	if err := t.findHeader(opt); err != nil {
		return nil, err
	}
	return t, nil
}

// findHeader reads up to headerSearchRows non-empty rows and takes the first
// that names enough known columns as the header.
func (t *Table) findHeader(opt Options) error {
	aliases := map[string]string{}
	// Canonical names first, then aliases in map order, so a canonical name
	// always wins over an alias of another column that happens to equal it.
	for canon := range opt.Columns {
		aliases[NormaliseHeader(canon)] = canon
	}
	for canon, list := range opt.Columns {
		for _, a := range list {
			if n := NormaliseHeader(a); n != "" {
				if _, taken := aliases[n]; !taken {
					aliases[n] = canon
				}
			}
		}
	}
	need := opt.minHeaderMatches()
	seen := 0
	for seen < headerSearchRows {
		num, cells, err := t.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if blank(cells) {
			continue
		}
		seen++
		cols := map[string]int{}
		for i, c := range cells {
			if canon, ok := aliases[NormaliseHeader(c)]; ok {
				if _, dup := cols[canon]; !dup {
					cols[canon] = i
				}
			}
		}
		if len(cols) < need || len(cols) == 0 {
			continue
		}
		t.HeaderRow, t.Header, t.cols = num, cells, cols
		var missing []apperr.FieldError
		var names []string
		for _, r := range opt.Required {
			if _, ok := cols[r]; !ok {
				label := displayName(r, opt.Columns[r])
				names = append(names, label)
				missing = append(missing, apperr.FieldError{Field: label, Row: num, Code: "missing_column", Message: "缺少列：" + label})
			}
		}
		if len(missing) > 0 {
			return apperr.Invalid(CodeMissingColumns, "表头缺少必需的列："+strings.Join(names, "、"), missing...)
		}
		// Peek one data row: a header alone is an empty roster.
		row, err := t.read()
		if err == io.EOF {
			return apperr.Invalid(CodeEmptyFile, "文件只有表头，没有数据行")
		}
		if err != nil {
			return err
		}
		t.pending = append(t.pending, row)
		return nil
	}
	if seen == 0 {
		return errEmpty()
	}
	return errNoHeader()
}

// displayName is how a column is named to people: its first alias (callers
// list the Chinese name first), else the canonical name.
func displayName(canon string, aliases []string) string {
	if len(aliases) > 0 {
		return aliases[0]
	}
	return canon
}

// Has reports whether the file has the canonical column name.
func (t *Table) Has(name string) bool {
	_, ok := t.cols[name]
	return ok
}

// Index returns the cell index of the canonical column name, -1 when the
// file has no such column.
func (t *Table) Index(name string) int {
	if i, ok := t.cols[name]; ok {
		return i
	}
	return -1
}

// EstimatedRows is a cheap estimate of the number of data rows, counted
// before reading them (lines of a CSV, the used range of a worksheet), so a
// caller can decide to work in the background and report progress. 0 means
// unknown.
func (t *Table) EstimatedRows() int {
	return max(0, t.estimate-t.HeaderRow)
}

// Column returns the header text of the canonical column name as the file
// spells it, for error reports; "" when absent.
func (t *Table) Column(name string) string {
	if i, ok := t.cols[name]; ok && i < len(t.Header) {
		return t.Header[i]
	}
	return ""
}

// Next returns the next non-blank data row, or io.EOF after the last one.
// Errors are *apperr.Error values (too_many_rows, corrupt_xlsx, malformed_csv)
// and repeat on later calls.
func (t *Table) Next() (Row, error) {
	if len(t.pending) > 0 {
		r := t.pending[0]
		t.pending = t.pending[1:]
		return r, nil
	}
	if t.err != nil {
		return Row{}, t.err
	}
	r, err := t.read()
	if err != nil {
		t.err = err
	}
	return r, err
}

func (t *Table) read() (Row, error) {
	for {
		num, cells, err := t.src.next()
		if err != nil {
			return Row{}, err
		}
		if blank(cells) {
			continue
		}
		t.rows++
		if t.rows > t.maxRows {
			return Row{}, errTooManyRows(t.maxRows)
		}
		return Row{Num: num, Cells: cells, cols: t.cols}, nil
	}
}

// Close releases the file (XLSX readers may hold temporary files).
func (t *Table) Close() error {
	if t.src == nil {
		return t.closeErr
	}
	t.closeErr = t.src.close()
	t.src = nil
	return t.closeErr
}

// ReadAll returns every remaining data row. Meant for small files and
// tests; importers should iterate with Next.
func (t *Table) ReadAll() ([]Row, error) {
	var rows []Row
	for {
		r, err := t.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
}

func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// unneutralise undoes Neutralise, so a file this package exported (an
// error report, corrected and uploaded again) reads back as it was.
func unneutralise(c string) string {
	if len(c) > 1 && c[0] == '\'' {
		switch c[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return c[1:]
		}
	}
	return c
}

// trimCells trims every cell in place and drops cells past maxColumns.
func trimCells(cells []string) []string {
	if len(cells) > maxColumns {
		cells = cells[:maxColumns]
	}
	for i, c := range cells {
		cells[i] = unneutralise(TrimCell(c))
	}
	// Drop trailing empty cells so short and padded rows look the same.
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	return cells[:n]
}

// recovered turns a panic inside a third-party parser into an error, so a
// hostile file can never take the server down.
func recovered(v any) error {
	if e, ok := v.(error); ok {
		return fmt.Errorf("parser panic: %w", e)
	}
	return errors.New("parser panic: " + fmt.Sprint(v))
}

package tabular

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Neutralise defuses a cell that a spreadsheet would read as a formula
// (CSV/formula injection): a value starting with = + - @ or a tab or carriage
// return gets a leading apostrophe, which spreadsheets show as text.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

// CSVWriter writes a CSV that Excel opens correctly in China: UTF-8 with a
// byte-order mark (without it Excel assumes GBK), CRLF line ends, every cell
// neutralised.
type CSVWriter struct {
	w     *csv.Writer
	buf   []string
	wrote bool
	out   io.Writer
}

// NewCSVWriter returns a writer on w; the BOM goes out with the first row.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw, out: w}
}

// Write writes one row, neutralising each cell.
func (w *CSVWriter) Write(cells []string) error {
	if !w.wrote {
		w.wrote = true
		if _, err := w.out.Write(utf8BOM); err != nil {
			return fmt.Errorf("write csv bom: %w", err)
		}
	}
	w.buf = w.buf[:0]
	for _, c := range cells {
		w.buf = append(w.buf, Neutralise(c))
	}
	return w.w.Write(w.buf)
}

// Flush writes buffered rows out (and the BOM, for a file with no rows) and
// reports any write error.
func (w *CSVWriter) Flush() error {
	if !w.wrote {
		w.wrote = true
		if _, err := w.out.Write(utf8BOM); err != nil {
			return fmt.Errorf("write csv bom: %w", err)
		}
	}
	w.w.Flush()
	return w.w.Error()
}

// XLSXWriter streams one worksheet of text cells into an XLSX workbook.
// Every cell is written as a string (never converted to a number, so ID
// numbers survive) and neutralised.
type XLSXWriter struct {
	f     *excelize.File
	sw    *excelize.StreamWriter
	row   int
	text  int          // style id of the text number format "@"
	isTxt map[int]bool // 0-based columns formatted as text
	vals  []any
}

// XLSXColumn describes one column of an XLSX export.
type XLSXColumn struct {
	// Width in Excel character units; 0 keeps the default.
	Width float64
	// Text formats the whole column as text ("@"), so values typed into it
	// later (an ID number, a phone number) stay as typed.
	Text bool
}

// NewXLSXWriter starts a workbook with one sheet of the given name and
// column settings. Close it if Finish is not reached.
func NewXLSXWriter(sheet string, cols []XLSXColumn) (*XLSXWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		f.Close()
		return nil, fmt.Errorf("name sheet: %w", err)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("text style: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stream writer: %w", err)
	}
	w := &XLSXWriter{f: f, sw: sw, text: text, isTxt: map[int]bool{}}
	for i, c := range cols {
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				f.Close()
				return nil, fmt.Errorf("column width: %w", err)
			}
		}
		if c.Text {
			w.isTxt[i] = true
			if err := sw.SetColStyle(i+1, i+1, text); err != nil {
				f.Close()
				return nil, fmt.Errorf("column style: %w", err)
			}
		}
	}
	return w, nil
}

// Write appends one row.
func (w *XLSXWriter) Write(cells []string) error {
	w.row++
	w.vals = w.vals[:0]
	for i, c := range cells {
		cell := excelize.Cell{Value: Neutralise(c)}
		if w.isTxt[i] {
			cell.StyleID = w.text
		}
		w.vals = append(w.vals, cell)
	}
	ref, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return fmt.Errorf("xlsx row %d: %w", w.row, err)
	}
	if err := w.sw.SetRow(ref, w.vals); err != nil {
		return fmt.Errorf("xlsx row %d: %w", w.row, err)
	}
	return nil
}

// Finish writes the workbook to out and releases it.
func (w *XLSXWriter) Finish(out io.Writer) error {
	defer w.f.Close()
	if err := w.sw.Flush(); err != nil {
		return fmt.Errorf("flush xlsx: %w", err)
	}
	if _, err := w.f.WriteTo(out); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// Close releases the workbook without writing it.
func (w *XLSXWriter) Close() error { return w.f.Close() }

package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxXMLInMemory is the size above which excelize spills a worksheet or
// the shared strings to a temporary file instead of memory.
const xlsxXMLInMemory = 16 << 20

// openXLSX checks the archive's declared sizes before excelize unpacks
// anything (a zip bomb declares its size honestly or archive/zip refuses to
// inflate past it), then opens the first worksheet as a row stream.
func openXLSX(data []byte) (src *xlsxSource, err error) {
	if !bytes.HasPrefix(data, []byte("PK")) {
		if bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
			return nil, errUnsupported("加密的或旧版 Excel（.xls）文件，请另存为不加密的 .xlsx")
		}
		return nil, errUnsupported("文件内容不是 XLSX")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, errCorrupt(err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, errXLSXTooLarge()
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > MaxUnzippedBytes {
			return nil, errXLSXTooLarge()
		}
	}

	// excelize is not written for hostile input; a panic in it must become
	// corrupt_xlsx, not a crashed request.
	defer func() {
		if v := recover(); v != nil {
			src, err = nil, errCorrupt(recovered(v))
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    MaxUnzippedBytes,
		UnzipXMLSizeLimit: xlsxXMLInMemory,
	})
	if err != nil {
		if f != nil {
			f.Close()
		}
		if errors.Is(err, excelize.ErrOptionsUnzipSizeLimit) {
			return nil, errXLSXTooLarge()
		}
		return nil, errCorrupt(err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, errCorrupt(errors.New("workbook has no sheets"))
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, errCorrupt(err)
	}
	return &xlsxSource{f: f, rows: rows, estimate: estimateRows(zr)}, nil
}

// estimateRows reads the used range a worksheet declares
// (<dimension ref="A1:H1001"/>, near the start of its XML) without parsing
// the sheet. The first sheet is not always sheet1.xml, so it takes the
// largest declared range, and falls back to the XML size when no sheet
// declares one. It is an estimate for progress reports, nothing more.
func estimateRows(zr *zip.Reader) int {
	best, biggest := 0, uint64(0)
	buf := make([]byte, 4<<10)
	for _, f := range zr.File {
		name := strings.ToLower(f.Name)
		if !strings.HasPrefix(name, "xl/worksheets/") || !strings.HasSuffix(name, ".xml") {
			continue
		}
		biggest = max(biggest, f.UncompressedSize64)
		rc, err := f.Open()
		if err != nil {
			continue
		}
		n, _ := io.ReadFull(rc, buf)
		rc.Close()
		head := string(buf[:n])
		i := strings.Index(head, "<dimension ref=\"")
		if i < 0 {
			continue
		}
		ref := head[i+len("<dimension ref=\""):]
		ref, _, _ = strings.Cut(ref, "\"")
		_, last, ok := strings.Cut(ref, ":")
		if !ok {
			continue
		}
		if _, row, err := excelize.CellNameToCoordinates(last); err == nil {
			best = max(best, row)
		}
	}
	if best == 0 {
		// About 100 bytes of sheet XML per row of a roster.
		best = int(min(biggest/100, 1<<30))
	}
	return best
}

// xlsxSource streams the first worksheet. Cells come as displayed (number
// formats applied), which is what the person saw and typed.
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	estimate int
	num      int // excelize yields every row number in turn, gaps included
}

func (s *xlsxSource) next() (num int, cells []string, err error) {
	defer func() {
		if v := recover(); v != nil {
			num, cells, err = 0, nil, errCorrupt(recovered(v))
		}
	}()
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			if errors.Is(err, excelize.ErrMaxRows) {
				return 0, nil, errTooManyRows(MaxRows)
			}
			return 0, nil, errCorrupt(err)
		}
		return 0, nil, io.EOF
	}
	s.num++
	cols, err := s.rows.Columns()
	if err != nil {
		return 0, nil, errCorrupt(err)
	}
	return s.num, trimCells(cols), nil
}

func (s *xlsxSource) close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

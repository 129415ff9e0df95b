// Package tabular reads uploaded spreadsheets (CSV in UTF-8 or GBK/GB18030,
// and XLSX) as rows of display text, and writes CSV and XLSX exports that are
// safe to open in a spreadsheet program.
//
// Reading is for files people make with Excel, WPS or LibreOffice: the
// encoding is detected the way Chinese Excel saves CSV, a title row above the
// header is tolerated, headers are matched by Chinese or English aliases, and
// rows carry the 1-based number Excel shows, so error reports point at the
// right line. XLSX cells are read as displayed, so an ID number that Excel
// turned into 4.20106E+17 arrives damaged instead of silently repaired.
//
// Every failure is an *apperr.Error with a stable code (see the Code*
// constants) and a Chinese message.
package tabular

import (
	"strconv"
	"strings"
	"unicode"

	"tuoyu/modules/apperr"
)

// Limits of an upload (issue 3, item 5).
const (
	// MaxBytes is the largest upload accepted.
	MaxBytes = 20 << 20
	// MaxRows is the largest number of data rows accepted.
	MaxRows = 200_000
	// MaxUnzippedBytes bounds what an XLSX may expand to. A 200 000-row
	// roster with a dozen columns unpacks to well under 200 MB.
	MaxUnzippedBytes = 256 << 20
	// maxZipEntries bounds the number of parts in an XLSX; real workbooks
	// have a few dozen.
	maxZipEntries = 10_000
	// maxColumns bounds the cells read per row; anything beyond is dropped.
	maxColumns = 256
	// headerSearchRows is how many leading rows may hold a title before the
	// header row.
	headerSearchRows = 10
)

// Error codes returned by Open and Table.Next.
const (
	CodeFileTooLarge   = "file_too_large"
	CodeTooManyRows    = "too_many_rows"
	CodeXLSXTooLarge   = "xlsx_too_large"
	CodeEmptyFile      = "empty_file"
	CodeUnsupported    = "unsupported_file_type"
	CodeNoHeader       = "no_header"
	CodeMissingColumns = "missing_columns"
	CodeBadEncoding    = "bad_encoding"
	CodeCorruptXLSX    = "corrupt_xlsx"
)

// Formats and encodings reported on a Table.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"

	EncodingUTF8    = "utf-8"
	EncodingGBK     = "gbk"
	EncodingGB18030 = "gb18030"
	// EncodingXLSX is reported for XLSX files, whose text is always Unicode.
	EncodingXLSX = "xlsx"
)

// Options tell Open how to read one kind of upload.
type Options struct {
	// Encoding overrides CSV encoding detection: "utf-8", "gbk" or
	// "gb18030". Empty means detect. Ignored for XLSX.
	Encoding string
	// Columns maps each canonical column name to the header texts accepted
	// for it, in any language. The canonical name itself is always accepted.
	// Header texts are compared after NormaliseHeader.
	Columns map[string][]string
	// Required lists canonical names whose column must be present.
	Required []string
	// MinHeaderMatches is how many cells of a row must name known columns
	// for it to be taken as the header row. Zero means
	// min(2, len(Columns)).
	MinHeaderMatches int
	// MaxBytes and MaxRows override the package limits when positive
	// (smaller limits for smaller uploads; tests).
	MaxBytes int64
	MaxRows  int
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return MaxBytes
}

func (o Options) maxRows() int {
	if o.MaxRows > 0 {
		return o.MaxRows
	}
	return MaxRows
}

func (o Options) minHeaderMatches() int {
	if o.MinHeaderMatches > 0 {
		return o.MinHeaderMatches
	}
	return min(2, len(o.Columns))
}

// NormaliseHeader is the form header texts are compared in: without any
// white space (full-width U+3000 included), without the "*" that templates
// put on required columns, without a bracketed note (身份证号（必填）,
// 毕业年份(如2026)), lower case.
func NormaliseHeader(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '（', '[', '【':
			depth++
			continue
		case ')', '）', ']', '】':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth > 0 || unicode.IsSpace(r) || r == '\u3000' || r == '\ufeff' || r == '\u200b' || r == '*' || r == '＊' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// TrimCell removes white space around a cell value, including the
// full-width spaces and byte-order marks spreadsheets leave there.
func TrimCell(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u3000' || r == '\ufeff' || r == '\u200b'
	})
}

// Error constructors, one per code, so every path says the same thing.

func errFileTooLarge(limit int64) *apperr.Error {
	return apperr.TooLarge(CodeFileTooLarge, "文件过大，不能超过 "+humanBytes(limit)).With("limit_bytes", limit)
}

func errTooManyRows(limit int) *apperr.Error {
	return apperr.TooLarge(CodeTooManyRows, "数据行过多，每个文件不能超过 "+strconv.Itoa(limit)+" 行").With("limit_rows", limit)
}

func errXLSXTooLarge() *apperr.Error {
	return apperr.TooLarge(CodeXLSXTooLarge, "XLSX 文件解压后过大，请删除多余的工作表或内容后重试").With("limit_bytes", int64(MaxUnzippedBytes))
}

func errEmpty() *apperr.Error {
	return apperr.Invalid(CodeEmptyFile, "文件为空，没有任何数据")
}

func errUnsupported(detail string) *apperr.Error {
	return apperr.Unsupported(CodeUnsupported, "不支持的文件类型："+detail+"。请上传 CSV（逗号分隔）或 XLSX 文件")
}

func errNoHeader() *apperr.Error {
	return apperr.Invalid(CodeNoHeader, "未找到表头行：前 "+strconv.Itoa(headerSearchRows)+" 行中没有一行包含足够的已知列名（如 姓名、身份证号）")
}

func errBadEncoding(enc string) *apperr.Error {
	if enc == "" {
		return apperr.Invalid(CodeBadEncoding, "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
	}
	return apperr.Invalid(CodeBadEncoding, "文件内容不是有效的 "+strings.ToUpper(enc)+" 编码，请检查所选编码")
}

func errCorrupt(err error) *apperr.Error {
	return apperr.Invalid(CodeCorruptXLSX, "XLSX 文件已损坏或不完整，无法读取，请重新保存后上传").Wrap(err)
}

func humanBytes(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(int(n>>20)) + " MB"
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.Itoa(int(n>>10)) + " KB"
	}
	return strconv.Itoa(int(n)) + " 字节"
}

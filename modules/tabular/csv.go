package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"tuoyu/modules/apperr"
)

// CodeMalformedCSV is returned when the CSV cannot be split into cells.
const CodeMalformedCSV = "malformed_csv"

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// openCSV picks the encoding (override, else BOM, strict UTF-8, GB18030),
// sniffs the separator and returns a streaming row source.
func openCSV(data []byte, override string) (rowSource, string, error) {
	if err := sniffBinary(data); err != nil {
		return nil, "", err
	}
	var enc encoding.Encoding
	name := ""
	switch strings.ToLower(strings.TrimSpace(override)) {
	case "":
		switch {
		case bytes.HasPrefix(data, utf8BOM):
			data, name = data[len(utf8BOM):], EncodingUTF8
			if !utf8.Valid(data) {
				return nil, "", errBadEncoding(name)
			}
		case utf8.Valid(data):
			name = EncodingUTF8
		default:
			// Chinese Excel saves CSV in the ANSI code page, GBK (CP936);
			// GB18030 is its superset and also decodes 4-byte sequences. Say
			// GBK when that is enough, because that is what people chose.
			if decodesCleanly(data, simplifiedchinese.GBK) {
				enc, name = simplifiedchinese.GBK, EncodingGBK
			} else if decodesCleanly(data, simplifiedchinese.GB18030) {
				enc, name = simplifiedchinese.GB18030, EncodingGB18030
			} else {
				return nil, "", errBadEncoding("")
			}
		}
	case "utf-8", "utf8":
		name = EncodingUTF8
		data = bytes.TrimPrefix(data, utf8BOM)
		if !utf8.Valid(data) {
			return nil, "", errBadEncoding(name)
		}
	case "gbk", "cp936":
		enc, name = simplifiedchinese.GBK, EncodingGBK
	case "gb18030":
		enc, name = simplifiedchinese.GB18030, EncodingGB18030
	default:
		return nil, "", apperr.Invalid(CodeBadEncoding, "不支持的编码 "+override+"，可选 utf-8、gbk、gb18030")
	}
	if enc != nil && !decodesCleanly(data, enc) {
		return nil, "", errBadEncoding(name)
	}

	var r io.Reader = bytes.NewReader(data)
	if enc != nil {
		r = transform.NewReader(r, enc.NewDecoder())
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(32 << 10) // enough lines to sniff; short files give less
	cr := csv.NewReader(br)
	cr.Comma = sniffSeparator(head)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	return &csvSource{r: cr}, name, nil
}

// sniffBinary refuses content that is no text: NUL bytes appear in binary
// files and UTF-16 text, neither of which is a CSV we can read.
func sniffBinary(data []byte) error {
	head := data[:min(len(data), 8<<10)]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return errUnsupported("文件内容是 XLSX/ZIP，但扩展名是 .csv")
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return apperr.Invalid(CodeBadEncoding, "不支持 UTF-16（Unicode 文本）编码，请另存为 UTF-8 或 GBK 编码的 CSV")
	case bytes.IndexByte(data, 0) >= 0:
		return errUnsupported("文件内容不是文本（含二进制数据）")
	}
	return nil
}

// decodesCleanly reports whether data decodes in enc without invalid byte
// sequences, which the x/text decoders turn into U+FFFD. It streams, so a
// 20 MB file costs one pass and no copy.
func decodesCleanly(data []byte, enc encoding.Encoding) bool {
	r := transform.NewReader(bytes.NewReader(data), enc.NewDecoder())
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := r.Read(buf)
		chunk := append(carry, buf[:n]...)
		if bytes.Contains(chunk, []byte("\uFFFD")) {
			return false
		}
		// Keep the last two bytes: U+FFFD is three bytes and may straddle.
		carry = append(carry[:0], chunk[max(0, len(chunk)-2):]...)
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// sniffSeparator picks comma, semicolon or tab: whichever occurs most often
// (outside quotes) in the first lines. Comma wins ties, since it is what
// Excel writes in China.
func sniffSeparator(head []byte) rune {
	counts := map[rune]int{}
	inQuote := false
	lines := 0
	for _, r := range string(head) {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '\n':
			lines++
		case r == ',' || r == ';' || r == '\t':
			counts[r]++
		}
		if lines >= 10 {
			break
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// csvSource numbers records the way Excel numbers rows: every line is a row,
// including blank lines the csv package skips, and a quoted cell spanning
// lines stays in one row.
type csvSource struct {
	r       *csv.Reader
	row     int // row number of the last record
	endLine int // line the last record ended on
}

func (s *csvSource) next() (int, []string, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	if err != nil {
		return 0, nil, apperr.Invalid(CodeMalformedCSV, "CSV 文件格式错误，无法读取："+csvErrDetail(err)).Wrap(err)
	}
	start, _ := s.r.FieldPos(0)
	last := len(rec) - 1
	end, _ := s.r.FieldPos(last)
	end += strings.Count(rec[last], "\n")
	s.row += start - s.endLine
	s.endLine = end
	return s.row, trimCells(rec), nil
}

func (s *csvSource) close() error { return nil }

func csvErrDetail(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "第 " + strconv.Itoa(pe.Line) + " 行"
	}
	return "格式无法识别"
}

package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"tuoyu/modules/apperr"
)

// rosterColumns is a typical alias map, Chinese name first.
var rosterColumns = map[string][]string{
	"name":      {"姓名", "name", "学生姓名"},
	"id_number": {"身份证号", "身份证号码", "id_number", "证件号码"},
	"phone":     {"手机号", "手机", "phone", "联系电话"},
	"sex":       {"性别", "sex"},
	"major":     {"专业", "major"},
}

var rosterOpts = Options{Columns: rosterColumns, Required: []string{"name", "id_number"}}

func mustEncode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

// got is a compact view of a table for comparisons: row number and the
// name/id_number/phone cells.
type got struct {
	Num             int
	Name, ID, Phone string
}

func readAll(t *testing.T, data []byte, name string, opt Options) (*Table, []got) {
	t.Helper()
	tb, err := Open(data, name, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer tb.Close()
	rows, err := tb.ReadAll()
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	var out []got
	for _, r := range rows {
		out = append(out, got{r.Num, r.Get("name"), r.Get("id_number"), r.Get("phone")})
	}
	return tb, out
}

const sampleCSV = "姓名,身份证号,手机号\r\n张三,420106199001011234,13800000000\r\n李四,110101199003077777,13900000000\r\n"

var sampleWant = []got{
	{2, "张三", "420106199001011234", "13800000000"},
	{3, "李四", "110101199003077777", "13900000000"},
}

func TestCSVEncodings(t *testing.T) {
	gbk := mustEncode(t, simplifiedchinese.GBK, sampleCSV)
	// 𠮷 (U+20BB7) exists in GB18030 only, as a four-byte sequence.
	rare := strings.Replace(sampleCSV, "李四", "李𠮷", 1)
	gb18030 := mustEncode(t, simplifiedchinese.GB18030, rare)
	rareWant := append([]got{}, sampleWant...)
	rareWant[1].Name = "李𠮷"

	tests := []struct {
		name     string
		data     []byte
		override string
		wantEnc  string
		want     []got
	}{
		{"utf-8", []byte(sampleCSV), "", EncodingUTF8, sampleWant},
		{"utf-8 with BOM", append([]byte("\xEF\xBB\xBF"), sampleCSV...), "", EncodingUTF8, sampleWant},
		{"gbk as Excel saves it", gbk, "", EncodingGBK, sampleWant},
		{"gb18030 four-byte", gb18030, "", EncodingGB18030, rareWant},
		{"override gbk", gbk, "gbk", EncodingGBK, sampleWant},
		{"override gb18030 reads gbk", gbk, "GB18030", EncodingGB18030, sampleWant},
		{"override utf-8 strips BOM", append([]byte("\xEF\xBB\xBF"), sampleCSV...), "utf-8", EncodingUTF8, sampleWant},
		{"LF line ends", []byte(strings.ReplaceAll(sampleCSV, "\r\n", "\n")), "", EncodingUTF8, sampleWant},
		{"semicolon", []byte(strings.ReplaceAll(sampleCSV, ",", ";")), "", EncodingUTF8, sampleWant},
		{"tab", []byte(strings.ReplaceAll(sampleCSV, ",", "\t")), "", EncodingUTF8, sampleWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, rows := readAll(t, tt.data, "roster.csv", Options{Columns: rosterColumns, Encoding: tt.override})
			if tb.Encoding != tt.wantEnc || tb.Format != FormatCSV {
				t.Errorf("format/encoding = %s/%s, want csv/%s", tb.Format, tb.Encoding, tt.wantEnc)
			}
			if !reflect.DeepEqual(rows, tt.want) {
				t.Errorf("rows = %+v\nwant %+v", rows, tt.want)
			}
		})
	}
}

func TestCSVBadEncoding(t *testing.T) {
	gbk := mustEncode(t, simplifiedchinese.GBK, sampleCSV)
	tests := []struct {
		name     string
		data     []byte
		override string
	}{
		{"gbk declared utf-8", gbk, "utf-8"},
		{"utf-8 BOM then invalid bytes", append([]byte("\xEF\xBB\xBF姓名,身份证号\n"), 0xC3, 0x28, '\n'), ""},
		{"neither utf-8 nor gb18030", []byte("姓名,身份证号\n\x81\x20,1\n"), ""},
		{"unknown override", []byte(sampleCSV), "big5"},
		{"utf-16", append([]byte{0xFF, 0xFE}, "a\x00,\x00b\x00"...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.data, "r.csv", Options{Columns: rosterColumns, Encoding: tt.override})
			if !apperr.Is(err, CodeBadEncoding) {
				t.Fatalf("err = %v, want %s", err, CodeBadEncoding)
			}
		})
	}
}

func TestHeaderAliasesAndTitleRows(t *testing.T) {
	csv := "武汉职业技术学院2026届毕业生花名册,,\n" +
		"\n" +
		"*学生姓名,身份证　号码 ,PHONE,备注\n" + // alias, full-width space, upper case, unknown column
		"张三,420106199001011234,13800000000,x\n" +
		"\n" + // blank line: Excel still counts it
		",,,\n" + // empty cells only: skipped
		"\"王\n五\",110101199003077777, 13900000000 ,\n" // quoted cell across two lines
	tb, rows := readAll(t, []byte(csv), "r.csv", rosterOpts)
	if tb.HeaderRow != 3 {
		t.Errorf("HeaderRow = %d, want 3", tb.HeaderRow)
	}
	if got := tb.Column("id_number"); got != "身份证　号码" {
		t.Errorf("Column(id_number) = %q", got)
	}
	if !tb.Has("phone") || tb.Has("sex") {
		t.Errorf("Has(phone)=%v Has(sex)=%v", tb.Has("phone"), tb.Has("sex"))
	}
	want := []got{
		{4, "张三", "420106199001011234", "13800000000"},
		{7, "王\n五", "110101199003077777", "13900000000"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v\nwant %+v", rows, want)
	}
}

func TestRowNumbersAfterMultilineCell(t *testing.T) {
	csv := "姓名,身份证号\n\"a\nb\nc\",1\nd,2\n\ne,3\n"
	_, rows := readAll(t, []byte(csv), "r.csv", rosterOpts)
	var nums []int
	for _, r := range rows {
		nums = append(nums, r.Num)
	}
	if want := []int{2, 3, 5}; !reflect.DeepEqual(nums, want) {
		t.Errorf("row numbers = %v, want %v", nums, want)
	}
}

func TestOpenErrors(t *testing.T) {
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, _ := zw.Create("x.txt")
	w.Write([]byte("hello"))
	zw.Close()
	good := xlsxBytes(t, [][]any{{"姓名", "身份证号"}, {"张三", "420106199001011234"}})

	tests := []struct {
		name, file string
		data       []byte
		opt        Options
		code       string
		kind       apperr.Kind
	}{
		{"empty csv", "r.csv", nil, rosterOpts, CodeEmptyFile, apperr.KindInvalid},
		{"blank csv", "r.csv", []byte(" \r\n\r\n"), rosterOpts, CodeEmptyFile, apperr.KindInvalid},
		{"only commas", "r.csv", []byte(",,,\n,,\n"), rosterOpts, CodeEmptyFile, apperr.KindInvalid},
		{"header only", "r.csv", []byte("姓名,身份证号\n"), rosterOpts, CodeEmptyFile, apperr.KindInvalid},
		{"no header", "r.csv", []byte("张三,420106199001011234\n李四,110101199003077777\n"), rosterOpts, CodeNoHeader, apperr.KindInvalid},
		{"header too low", "r.csv", []byte(strings.Repeat("x\n", 10) + "姓名,身份证号\n张三,1\n"), rosterOpts, CodeNoHeader, apperr.KindInvalid},
		{"missing column", "r.csv", []byte("姓名,手机号\n张三,13800000000\n"), rosterOpts, CodeMissingColumns, apperr.KindInvalid},
		{"wrong extension", "r.pdf", []byte(sampleCSV), rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"no extension", "roster", []byte(sampleCSV), rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"old xls", "r.xls", []byte{0xD0, 0xCF, 0x11, 0xE0}, rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"binary garbage csv", "r.csv", []byte("\x7fELF\x02\x01\x01\x00\x00\x00garbage"), rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"xlsx named csv", "r.csv", good, rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"0-byte xlsx", "r.xlsx", nil, rosterOpts, CodeEmptyFile, apperr.KindInvalid},
		{"garbage xlsx", "r.xlsx", []byte("not a workbook at all"), rosterOpts, CodeUnsupported, apperr.KindUnsupported},
		{"truncated xlsx", "r.xlsx", good[:len(good)/2], rosterOpts, CodeCorruptXLSX, apperr.KindInvalid},
		{"zip that is no workbook", "r.xlsx", zipBuf.Bytes(), rosterOpts, CodeCorruptXLSX, apperr.KindInvalid},
		{"too large", "r.csv", []byte(sampleCSV), Options{Columns: rosterColumns, MaxBytes: 10}, CodeFileTooLarge, apperr.KindTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := Open(tt.data, tt.file, tt.opt)
			if err == nil {
				tb.Close()
				t.Fatalf("Open succeeded, want %s", tt.code)
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != tt.code || e.Kind != tt.kind {
				t.Fatalf("err = %v, want code %s kind %d", err, tt.code, tt.kind)
			}
			if !hasHan(e.Message) {
				t.Errorf("message %q is not Chinese", e.Message)
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func TestTooManyRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("姓名,身份证号\n")
	for i := range 6 {
		fmt.Fprintf(&b, "p%d,%d\n", i, i)
	}
	for _, file := range []struct {
		name string
		data []byte
	}{
		{"r.csv", []byte(b.String())},
		{"r.xlsx", xlsxBytes(t, func() [][]any {
			rows := [][]any{{"姓名", "身份证号"}}
			for i := range 6 {
				rows = append(rows, []any{fmt.Sprint("p", i), fmt.Sprint(i)})
			}
			return rows
		}())},
	} {
		t.Run(file.name, func(t *testing.T) {
			tb, err := Open(file.data, file.name, Options{Columns: rosterColumns, MaxRows: 5})
			if err != nil {
				t.Fatal(err)
			}
			defer tb.Close()
			n := 0
			for {
				_, err = tb.Next()
				if err != nil {
					break
				}
				n++
			}
			if !apperr.Is(err, CodeTooManyRows) || apperr.KindOf(err) != apperr.KindTooLarge {
				t.Fatalf("err = %v after %d rows, want too_many_rows", err, n)
			}
			if n != 5 {
				t.Errorf("read %d rows before the limit, want 5", n)
			}
			if _, again := tb.Next(); !apperr.Is(again, CodeTooManyRows) {
				t.Errorf("error not sticky: %v", again)
			}
		})
	}
}

func TestZipBombRefusedBeforeUnpacking(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range MaxUnzippedBytes>>20 + 1 {
		w.Write(zeros)
	}
	zw.Close()
	if buf.Len() > MaxBytes {
		t.Fatalf("bomb is %d bytes, should fit the upload limit", buf.Len())
	}
	_, err = Open(buf.Bytes(), "bomb.xlsx", rosterOpts)
	if !apperr.Is(err, CodeXLSXTooLarge) {
		t.Fatalf("err = %v, want %s", err, CodeXLSXTooLarge)
	}
}

// xlsxBytes writes rows to the first sheet of a new workbook with excelize.
func xlsxBytes(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestXLSXHeaderDetectionAndDamage(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	sh := "Sheet1"
	f.SetCellValue(sh, "A1", "2026届毕业生花名册")
	f.MergeCell(sh, "A1", "C1")
	f.SetSheetRow(sh, "A3", &[]any{"姓名", "身份证号码", "联系电话"})
	f.SetSheetRow(sh, "A4", &[]any{"张三", "420106199001011234", "13800000000"})
	// An ID typed into a General cell: Excel stores a float and shows it
	// in scientific notation; the reader must pass the damage on.
	f.SetSheetRow(sh, "A5", &[]any{"李四", nil, 13900000000})
	f.SetCellDefault(sh, "B5", "4.20106199001011E+17") // as Excel stores it
	f.SetSheetRow(sh, "A8", &[]any{" 王五　", "110101199003077777", ""})
	// A second sheet is ignored.
	f.NewSheet("其他")
	f.SetSheetRow("其他", "A1", &[]any{"姓名", "身份证号"})
	f.SetSheetRow("其他", "A2", &[]any{"赵六", "1"})
	var b bytes.Buffer
	f.WriteTo(&b)

	tb, rows := readAll(t, b.Bytes(), "名册.XLSX", rosterOpts)
	if tb.Format != FormatXLSX || tb.Encoding != EncodingXLSX || tb.HeaderRow != 3 {
		t.Errorf("format %s encoding %s header row %d", tb.Format, tb.Encoding, tb.HeaderRow)
	}
	want := []got{
		{4, "张三", "420106199001011234", "13800000000"},
		{5, "李四", "4.20106199001011E+17", "13900000000"},
		{8, "王五", "110101199003077777", ""},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v\nwant %+v", rows, want)
	}
}

func TestXLSXEmptySheet(t *testing.T) {
	_, err := Open(xlsxBytes(t, nil), "r.xlsx", rosterOpts)
	if !apperr.Is(err, CodeEmptyFile) {
		t.Fatalf("err = %v, want empty_file", err)
	}
}

func TestNeutralise(t *testing.T) {
	tests := map[string]string{
		"":                   "",
		"张三":                 "张三",
		"=1+2":               "'=1+2",
		"+8613800000000":     "'+8613800000000",
		"-5":                 "'-5",
		"@SUM(A1)":           "'@SUM(A1)",
		"\t=cmd":             "'\t=cmd",
		"\r=cmd":             "'\r=cmd",
		"a=b":                "a=b",
		"420106199001011234": "420106199001011234",
	}
	for in, want := range tests {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	w.Write([]string{"姓名", "错误"})
	w.Write([]string{"=HYPERLINK(\"x\")", "a,b"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\xEF\xBB\xBF姓名,错误\r\n\"'=HYPERLINK(\"\"x\"\")\",\"a,b\"\r\n"
	if b.String() != want {
		t.Errorf("csv = %q\nwant %q", b.String(), want)
	}

	var empty bytes.Buffer
	if err := NewCSVWriter(&empty).Flush(); err != nil || empty.String() != "\xEF\xBB\xBF" {
		t.Errorf("empty csv = %q, %v", empty.String(), err)
	}
}

func TestXLSXWriter(t *testing.T) {
	w, err := NewXLSXWriter("花名册", []XLSXColumn{{Width: 12}, {Width: 22, Text: true}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]string{"姓名", "身份证号"})
	w.Write([]string{"=1+1", "420106199001011234"})
	var b bytes.Buffer
	if err := w.Finish(&b); err != nil {
		t.Fatal(err)
	}

	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"花名册"}) {
		t.Errorf("sheets = %v", got)
	}
	rows, _ := f.GetRows("花名册")
	if want := [][]string{{"姓名", "身份证号"}, {"'=1+1", "420106199001011234"}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %q", rows)
	}
	// The ID column is text, also below the written rows, so an ID typed
	// later is kept as typed.
	for _, cell := range []string{"B2", "B100"} {
		style, err := f.GetCellStyle("花名册", cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(style)
		if err != nil || st.NumFmt != 49 {
			t.Errorf("%s style numfmt = %v (%v), want 49 (text)", cell, st, err)
		}
	}
	if typ, _ := f.GetCellType("花名册", "B2"); typ == excelize.CellTypeNumber {
		t.Error("ID written as a number")
	}
}

// readEverything opens data and reads all rows, returning the first error.
func readEverything(data []byte, name string) error {
	tb, err := Open(data, name, rosterOpts)
	if err != nil {
		return err
	}
	defer tb.Close()
	for {
		r, err := tb.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Num <= tb.HeaderRow {
			return fmt.Errorf("row %d not after header row %d", r.Num, tb.HeaderRow)
		}
	}
}

func checkFuzzErr(t *testing.T, err error) {
	if err == nil {
		return
	}
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("error is not an *apperr.Error: %v", err)
	}
	if e.Kind == apperr.KindInternal || e.Code == "" || e.Message == "" {
		t.Fatalf("bad error value: %+v", e)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add(append([]byte("\xEF\xBB\xBF"), sampleCSV...))
	f.Add([]byte("x\n\n姓名;身份证号\n\"a\nb\";1\n"))
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sampleCSV))
	f.Add(gbk)
	f.Add([]byte("\"unterminated,姓名,身份证号\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzErr(t, readEverything(data, "f.csv"))
	})
}

func FuzzReadXLSX(f *testing.F) {
	good := xlsxBytes(f, [][]any{{"标题"}, {"姓名", "身份证号"}, {"张三", "420106199001011234"}, {"李四", 4.2e17}})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzzErr(t, readEverything(data, "f.xlsx"))
	})
}

func TestEstimateAndIndex(t *testing.T) {
	var b strings.Builder
	b.WriteString("标题\n姓名,手机号,身份证号\n")
	for i := range 30 {
		fmt.Fprintf(&b, "p%d,1,%d\n", i, i)
	}
	tb, err := Open([]byte(b.String()), "r.csv", rosterOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	if got := tb.EstimatedRows(); got != 30 {
		t.Errorf("csv EstimatedRows = %d, want 30", got)
	}
	if tb.Index("id_number") != 2 || tb.Index("name") != 0 || tb.Index("sex") != -1 {
		t.Errorf("Index: id %d name %d sex %d", tb.Index("id_number"), tb.Index("name"), tb.Index("sex"))
	}

	rows := [][]any{{"姓名", "身份证号"}}
	for i := range 40 {
		rows = append(rows, []any{fmt.Sprint("p", i), fmt.Sprint(i)})
	}
	tx, err := Open(xlsxBytes(t, rows), "r.xlsx", rosterOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	// excelize's plain writer declares no used range (<dimension ref="A1">),
	// so the estimate falls back to the size of the sheet's XML.
	if got := tx.EstimatedRows(); got < 20 || got > 80 {
		t.Errorf("xlsx EstimatedRows = %d, want about 40", got)
	}
}

func TestNormaliseHeader(t *testing.T) {
	tests := map[string]string{
		" 身份证　号码 ":     "身份证号码",
		"*姓名":          "姓名",
		"手机号（选填）":      "手机号",
		"毕业年份(如 2026)": "毕业年份",
		"【必填】身份证号":     "身份证号",
		"ID_Number":    "id_number",
		"\ufeff姓名":     "姓名",
		"专业（（嵌套）说明）名称": "专业名称",
	}
	for in, want := range tests {
		if got := NormaliseHeader(in); got != want {
			t.Errorf("NormaliseHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportRoundTrip: what CSVWriter exports reads back unchanged, so an
// error report can be corrected and uploaded again.
func TestExportRoundTrip(t *testing.T) {
	rows := [][]string{{"姓名", "手机号", "身份证号"}, {"=张三", "+8613800000000", "420106199001011234"}, {"@李四", "-", "'x"}}
	var b bytes.Buffer
	w := NewCSVWriter(&b)
	for _, r := range rows {
		w.Write(r)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "'=张三") {
		t.Fatalf("export not neutralised: %q", b.String())
	}
	tb, err := Open(b.Bytes(), "r.csv", rosterOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	got, err := tb.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if !reflect.DeepEqual(r.Cells, rows[i+1]) {
			t.Errorf("row %d reads back %q, want %q", i+1, r.Cells, rows[i+1])
		}
	}
}

package payouts

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"tuoyu/modules/apperr"
)

func TestBankFileRowsTotalsAndNeutralisation(t *testing.T) {
	bf, err := NewBankFile()
	if err != nil {
		t.Fatal(err)
	}
	rows := []BankRow{
		{Name: "张三", IDNumber: "420106199001011234", Account: "6222020200112233445", BankName: "=HYPERLINK(\"x\")", AmountYuan: 1500, Subsidy: "技能提升补贴", BatchNo: "B1"},
		{Name: "@李四", IDNumber: "42010619900101123X", Account: "6222020200112233446", BankName: "+工商银行", AmountYuan: 200, Subsidy: "-技能评价补贴", BatchNo: "B1"},
		{Name: "\t王五", IDNumber: "420106199001011250", Account: "6222020200112233447", BankName: "\r建设银行", AmountYuan: 2000, Subsidy: "职业培训补贴", BatchNo: "B1"},
	}
	for _, r := range rows {
		if err := bf.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	n, total, err := bf.Finish(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || total != 3700 {
		t.Fatalf("finish = %d, %d; want 3, 3700", n, total)
	}
	f, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.GetRows(bankSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("rows = %d, want header + 3 + totals", len(got))
	}
	if strings.Join(got[0], "|") != strings.Join(BankHeader, "|") {
		t.Errorf("header = %v", got[0])
	}
	if got[1][1] != "420106199001011234" || got[2][1] != "42010619900101123X" {
		t.Errorf("ID numbers not kept as text: %q %q", got[1][1], got[2][1])
	}
	for _, r := range got[1:4] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q would run as a formula", c)
			}
		}
	}
	if got[1][3] != "'=HYPERLINK(\"x\")" || got[2][0] != "'@李四" {
		t.Errorf("neutralised cells = %q %q", got[1][3], got[2][0])
	}
	var sum int64
	for _, r := range got[1:4] {
		v, _ := parseYuanOK(r[4])
		sum += v
	}
	if got[4][0] != "合计" || got[4][4] != "3700" || sum != 3700 {
		t.Errorf("totals row = %v, sum of rows %d", got[4], sum)
	}
	// Formulas: none in the whole sheet.
	for r := 1; r <= 5; r++ {
		for c := 1; c <= 7; c++ {
			ref, _ := excelize.CoordinatesToCellName(c, r)
			if fm, _ := f.GetCellFormula(bankSheet, ref); fm != "" {
				t.Errorf("cell %s has a formula %q", ref, fm)
			}
		}
	}
}

func parseYuanOK(s string) (int64, bool) {
	v, code, _ := parseYuan(s)
	return v, code == ""
}

func TestBankFileRefusesNonPositiveAmount(t *testing.T) {
	bf, err := NewBankFile()
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	if err := bf.Add(BankRow{Name: "张三", AmountYuan: 0}); err == nil {
		t.Fatal("a zero amount was written")
	}
}

func TestParseYuan(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		code string
	}{
		{"1500", 1500, ""}, {"1,500", 1500, ""}, {"1500.00", 1500, ""}, {"¥200", 200, ""}, {" 700 ", 700, ""},
		{"-1500", 0, CodeAmountNegative}, {"−3", 0, CodeAmountNegative}, {"-1500.5", 0, CodeAmountNegative},
		{"1500.5", 0, CodeAmountFraction}, {"", 0, CodeAmountRequired}, {"0", 0, CodeAmountInvalid},
		{"abc", 0, CodeAmountInvalid}, {"1e3", 0, CodeAmountInvalid}, {"99999999999", 0, CodeAmountInvalid},
	} {
		got, code, _ := parseYuan(c.in)
		if got != c.want || code != c.code {
			t.Errorf("parseYuan(%q) = %d %q, want %d %q", c.in, got, code, c.want, c.code)
		}
	}
}

func TestParseReturnsCSV(t *testing.T) {
	csv := "身份证号,姓名,金额(元),失败原因\n420106199001011234,张三,1500,账户已销户\n,李四,200,户名不符\n合计,,1700,\n"
	_, err := ParseReturns([]byte(csv), "r.csv")
	e, ok := apperr.As(err)
	if !ok || e.Code != "return_file_invalid" || len(e.Fields) != 1 || e.Fields[0].Row != 3 || e.Fields[0].Code != CodeNoPerson {
		t.Fatalf("err = %#v", err)
	}
	csv = "账号,金额,失败原因\n6222 0202 0011 2233 445,1500,账户已销户\n6222020200112233446,-5,x\n6222020200112233447,1.5,\n"
	_, err = ParseReturns([]byte(csv), "r.csv")
	e, _ = apperr.As(err)
	var codes []string
	for _, f := range e.Fields {
		codes = append(codes, f.Code)
	}
	if strings.Join(codes, ",") != CodeAmountNegative+","+CodeAmountFraction+","+CodeReasonRequired {
		t.Fatalf("codes = %v", codes)
	}
	lines, err := ParseReturns([]byte("账号,金额,失败原因\n6222 0202 0011 2233 445,1500,账户已销户\n"), "r.csv")
	if err != nil || len(lines) != 1 || lines[0].Account != "6222020200112233445" || lines[0].AmountYuan != 1500 || lines[0].Row != 2 {
		t.Fatalf("lines = %+v, %v", lines, err)
	}
	if _, err := ParseReturns([]byte("姓名,金额,失败原因\n张三,1,x\n"), "r.csv"); !apperr.Is(err, "missing_columns") {
		t.Fatalf("no person column: %v", err)
	}
}

func TestParseReturnsReadsTheBankFile(t *testing.T) {
	// The bank may send our own file back with a reason column added.
	f := excelize.NewFile()
	rows := [][]any{append(append([]any{}, toAny(BankHeader)...), "失败原因"),
		{"张三", "420106199001011234", "6222020200112233445", "工行", 1500, "技能提升补贴", "B1", "账户冻结"},
		{"合计", "共 1 笔", nil, nil, 1500}}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", ref, &r)
	}
	var buf bytes.Buffer
	f.Write(&buf)
	lines, err := ParseReturns(buf.Bytes(), "back.xlsx")
	if err != nil || len(lines) != 1 || lines[0].IDNumber != "420106199001011234" || lines[0].Reason != "账户冻结" {
		t.Fatalf("lines = %+v, %v", lines, err)
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func TestBarChartIsCSPSafeSVG(t *testing.T) {
	svg := string(BarChart("培训<人数>", []string{"1月", "2月", "<b>"}, []Series{
		{Name: "培训", Colour: "#2b6cb0", Values: []int64{3, 17, 0}},
		{Name: "取证", Colour: "#2f855a", Values: []int64{1, 9}},
	}))
	if strings.Contains(svg, "style=") || strings.Contains(svg, "<script") || strings.Contains(svg, "<b>") {
		t.Fatalf("unsafe svg: %s", svg)
	}
	if err := xml.Unmarshal([]byte(svg), new(any)); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
	if strings.Count(svg, "<rect") != 6+2 {
		t.Errorf("want 6 bars and 2 legend boxes: %s", svg)
	}
	if !strings.Contains(svg, "2月 培训：17") {
		t.Error("bar titles missing")
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ in, top, step int64 }{{0, 1, 1}, {3, 3, 1}, {17, 20, 5}, {1234, 1500, 500}, {100, 100, 20}} {
		top, step := niceScale(c.in)
		if top != c.top || step != c.step {
			t.Errorf("niceScale(%d) = %d %d, want %d %d", c.in, top, step, c.top, c.step)
		}
	}
}

func TestBarChartSlantsManyLabels(t *testing.T) {
	labels := make([]string, 17)
	vals := make([]int64, 17)
	for i := range labels {
		labels[i] = "恩施土家族苗族自治州"
		vals[i] = int64(i)
	}
	svg := string(BarChart("各市州", labels, []Series{{Name: "申请", Colour: "#2b6cb0", Values: vals}}))
	if strings.Count(svg, `transform="rotate(-40`) != 17 || !strings.Contains(svg, `viewBox="0 0 640 322"`) {
		t.Fatalf("labels not slanted in a taller chart: %.300s", svg)
	}
	if err := xml.Unmarshal([]byte(svg), new(any)); err != nil {
		t.Fatal(err)
	}
}

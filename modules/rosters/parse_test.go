package rosters

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"tuoyu/modules/tabular"
	"tuoyu/modules/workers"
)

func TestParseYear(t *testing.T) {
	tests := map[string]int{
		"2026": 2026, "2026年": 2026, "2026届": 2026, "2026-06": 2026, "2026/6/30": 2026,
		"2026年6月": 2026, "2026.06": 2026, " 2025 ": 2025,
	}
	for in, want := range tests {
		if got, ok := parseYear(in); !ok || got != want {
			t.Errorf("parseYear(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"26届", "二〇二六", "2026-13-45x", "20261", "", "2026年届"} {
		if got, ok := parseYear(in); ok {
			t.Errorf("parseYear(%q) = %d, want refused", in, got)
		}
	}
}

func TestCompactName(t *testing.T) {
	tests := map[string]string{
		"张　三":            "张三",
		" 欧阳 娜娜 ":        "欧阳娜娜",
		"Anna  Maria Li": "Anna Maria Li",
		"阿依古丽·买买提":       "阿依古丽·买买提",
	}
	for in, want := range tests {
		if got := compactName(in); got != want {
			t.Errorf("compactName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCheck runs the database-free checks over a small CSV: every problem of
// a row is reported, with the column as the file names it.
func TestCheck(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	id := "420106199803107665" // female
	csv := "学生姓名,身份证号码,性别,手机,学历,毕业年份,培训计划编号\n" +
		"王芳,'" + id + ",女,'138 1234 0001,大专,2026届,bys-gq\n" +
		"李强," + id + ",男,12345,博士后,1900,XYZ\n" +
		",4.20106E+17,,,,,\n"
	tb, err := tabular.Open([]byte(csv), "r.csv", tabular.Options{Columns: Columns, Required: required})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	c := newChecker(tb, now, map[string]bool{"BYS-GQ": true})
	var got []parsed
	for {
		r, err := tb.Next()
		if err != nil {
			break
		}
		got = append(got, c.check(r))
	}
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	ok := got[0]
	if len(ok.Errors) != 0 || ok.Name != "王芳" || !ok.IDOK || ok.ID.Sex != workers.SexFemale || ok.Phone != "13812340001" ||
		ok.Edu != workers.EduJuniorCollege || ok.GradYear != 2026 || ok.PlanCode != "BYS-GQ" {
		t.Errorf("good row: %+v", ok)
	}
	codes := func(p parsed) []string {
		var out []string
		for _, e := range p.Errors {
			out = append(out, e.Code+"@"+e.Column)
		}
		return out
	}
	want := []string{"duplicate_in_file@身份证号码", "phone_format@手机", "invalid_education@学历",
		"invalid_graduation_year@毕业年份", "unknown_plan@培训计划编号"}
	if got := codes(got[1]); !reflect.DeepEqual(got, want) {
		t.Errorf("bad row codes\n got %v\nwant %v", got, want)
	}
	// The duplicate is not checked against its sex: the first row stands.
	if want := []string{"required@学生姓名", "id_excel_scientific@身份证号码"}; fmt.Sprint(codes(got[2])) != fmt.Sprint(want) {
		t.Errorf("third row codes %v, want %v", codes(got[2]), want)
	}
}

package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// rosterJourney: college1 takes the template, uploads a small UTF-8 CSV
// with one bad ID number, reads the preview, commits and finds the import
// in the history (DESIGN §4.1).
func rosterJourney(t *testing.T, srv *Server) {
	r := newRand()
	b := srv.Browser(t)
	b.Login("college1")
	if status := b.Visit("/rosters"); status != http.StatusOK {
		t.Fatalf("/rosters answered %d", status)
	}
	name, data := b.Download(`main a[href="/rosters/template.xlsx"]`)
	if !strings.HasSuffix(name, ".xlsx") {
		t.Errorf("the template downloads as %q, want an .xlsx file", name)
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		t.Errorf("the template (%d bytes) is not an XLSX (zip) file", len(data))
	}

	good1, good2 := newIDNumber(r), newIDNumber(r)
	bad := badCheckChar(newIDNumber(r))
	names := []string{uniqueName(r), uniqueName(r), uniqueName(r)}
	csv := fmt.Sprintf("姓名,身份证号,专业,毕业年份\n%s,%s,早期教育,2026\n%s,%s,早期教育,2026\n%s,%s,婴幼儿托育服务与管理,2026\n",
		names[0], good1, names[1], good2, names[2], bad)
	file := fmt.Sprintf("毕业生花名册-%d.csv", time.Now().UnixNano())

	if status := b.Submit(`main a[href="/rosters/new"]`); status != http.StatusOK {
		t.Fatalf("/rosters/new answered %d", status)
	}
	b.Upload(`form[action="/rosters"] input[type="file"][name="file"]`, file, []byte(csv))
	if status := b.Submit(`form[action="/rosters"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("uploading answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	importPath := b.Path()
	if !regexp.MustCompile(`^/rosters/[0-9]+$`).MatchString(importPath) {
		t.Fatalf("after uploading, the page is %s, want /rosters/ID", importPath)
	}
	waitValidated(t, b, importPath)
	if h := b.Text("h1"); !strings.Contains(h, file) {
		t.Errorf("h1 = %q, want the file name %s", h, file)
	}
	if facts := b.Text("dl.facts"); !strings.Contains(facts, "utf-8") {
		t.Errorf("the import facts %q do not say the file was read as UTF-8", facts)
	}

	// 总行数 有效 新增 更新 无变化 有错误
	counts := b.Texts(`main section.card table tbody tr:first-child td`)
	if want := []string{"3", "2", "2", "0", "0", "1"}; len(counts) < len(want) || strings.Join(counts[:len(want)], " ") != strings.Join(want, " ") {
		t.Errorf("preview counts %q, want %q (total, valid, new, changed, unchanged, invalid)", counts, want)
	}
	// The bad row is the file's fourth line (the header is line 1).
	invalid := b.Texts(`section.card:has(h2) table:has(th) tbody tr`)
	badRow := ""
	for _, row := range invalid {
		if strings.Contains(row, names[2]) {
			badRow = row
		}
	}
	if badRow == "" {
		t.Fatalf("the preview lists no invalid row for %s: %q", names[2], invalid)
	}
	if miss := missing(badRow, "4", "身份证号", "校验位"); len(miss) > 0 || !strings.HasPrefix(badRow, "4") {
		t.Errorf("the invalid row reads %q: want line 4 first and the Chinese check-character reason (missing %q)", badRow, miss)
	}
	if strings.Contains(b.HTML(), good1) || strings.Contains(b.HTML(), good2) {
		t.Error("the preview carries a full ID number")
	}

	// The error report: the bad row as it came, plus the reason, in a CSV
	// Excel opens as UTF-8 (BOM).
	reportName, report := b.Download(`a[href="` + importPath + `/errors.csv"]`)
	if !strings.HasSuffix(reportName, ".csv") {
		t.Errorf("the error report downloads as %q, want a .csv file", reportName)
	}
	if !bytes.HasPrefix(report, []byte("\xef\xbb\xbf")) {
		t.Errorf("the error report does not start with a UTF-8 BOM: %q", report[:min(len(report), 16)])
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(string(report), "\ufeff")), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "错误") || len(missing(lines[1], names[2], bad, "校验位")) > 0 {
		t.Errorf("the error report reads %q, want the header with 错误 and the bad row with its ID and reason", lines)
	}
	for _, n := range names[:2] {
		if !strings.Contains(b.Text("main"), n) {
			t.Errorf("the preview does not list the new worker %s", n)
		}
	}

	if got := b.Text(`form[action="` + importPath + `/commit"]`); !strings.Contains(got, "2 名有效学员") {
		t.Errorf("the commit form says %q, want it to name the 2 valid workers", got)
	}
	if status := b.Submit(`form[action="` + importPath + `/commit"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("committing answered %d: %q", status, b.Texts(".alert"))
	}
	if path := b.Path(); path != importPath {
		t.Errorf("after committing the page is %s, want %s", path, importPath)
	}
	if facts := b.Text("dl.facts"); !strings.Contains(facts, "已提交") {
		t.Errorf("after committing the import's status is %q, want 已提交", facts)
	}
	if b.Exists(`form[action="` + importPath + `/commit"]`) {
		t.Error("the commit button is still offered after committing")
	}

	b.Visit("/rosters")
	row := `tbody tr:has(a[href="` + importPath + `"])`
	got := b.Texts(row)
	if len(got) != 1 {
		t.Fatalf("the history lists the import %d times: %q", len(got), b.Texts("tbody tr"))
	}
	if miss := missing(got[0], file, "已提交", "college1"); len(miss) > 0 {
		t.Errorf("the history row %q lacks %q", got[0], miss)
	}
	cells := b.Texts(row + " td")
	// 编号 文件 SHA-256 上传人 上传时间 方式 状态 总行数 新增 更新 无变化 有错误 提交时间
	if len(cells) != 13 || cells[7] != "3" || cells[8] != "2" || cells[11] != "1" || cells[12] == "" {
		t.Errorf("the history row's cells are %q, want 3 rows, 2 new, 1 invalid and a commit time", cells)
	}
	assertSameOrigin(t, srv.URL, b.Requests())
}

// waitValidated reloads an import's page until its validation finished
// (the page refreshes itself while it runs; a test reloads instead).
func waitValidated(t *testing.T, b *Browser, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Contains(b.Text("dl.facts"), "校验中") || b.Exists("main progress") {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still validating after 30s", path)
		}
		time.Sleep(300 * time.Millisecond)
		b.Visit(path)
	}
	if b.Exists(".alert") {
		t.Fatalf("validation failed: %q", b.Texts(".alert"))
	}
}

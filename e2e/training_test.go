package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// workerEnrolmentJourney: provider1 opens a new class; worker1 finds it,
// enrols, follows it under 我的培训 and on the progress page, and a second
// enrolment is refused in Chinese (DESIGN §4.2).
func workerEnrolmentJourney(t *testing.T, srv *Server) {
	r := newRand()
	// A class of its own, far enough ahead not to overlap the demo class
	// worker1 is already enrolled in (overlaps are refused).
	name := fmt.Sprintf("保育师在岗培训 端到端测试班 %06d", r.IntN(1000000))
	starts, ends := today().AddDate(0, 0, 200), today().AddDate(0, 0, 210)

	p := srv.Browser(t)
	p.Login("provider1")
	if status := p.Visit("/classes/new"); status != http.StatusOK {
		t.Fatalf("/classes/new answered %d", status)
	}
	p.Fill(`select[name="plan_code"]`, "BYS-ZG")
	p.Fill(`input[name="name"]`, name)
	p.Fill(`input[name="starts_on"]`, day(starts))
	p.Fill(`input[name="ends_on"]`, day(ends))
	p.Fill(`input[name="capacity"]`, "5")
	p.Fill(`select[name="region"]`, "420106")
	p.Fill(`input[name="place"]`, "武汉市武昌区中北路托育实训基地 301 教室")
	if status := p.Submit(`form[action="/classes"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("creating the class answered %d: %q %q", status, p.Texts(".alert"), p.Texts(".errors li"))
	}
	classPath := p.Path()
	if !regexp.MustCompile(`^/classes/[0-9]+$`).MatchString(classPath) {
		t.Fatalf("after creating the class the page is %s, want /classes/ID", classPath)
	}
	if status := p.Submit(`form[action="` + classPath + `/state"]:has(input[value="open"]) button`); status != http.StatusOK {
		t.Fatalf("opening the class answered %d: %q", status, p.Texts(".alert"))
	}
	if facts := p.Text("dl.facts"); !strings.Contains(facts, "报名中") {
		t.Errorf("after opening, the class facts say %q, want 报名中", facts)
	}
	assertSameOrigin(t, srv.URL, p.Requests())

	w := srv.Browser(t)
	w.Login("worker1")
	if status := w.Visit("/classes/search"); status != http.StatusOK {
		t.Fatalf("/classes/search answered %d", status)
	}
	w.Fill(`form.search select[name="plan"]`, "BYS-ZG")
	w.Fill(`form.search input[name="from"]`, day(starts))
	if status := w.Submit(`form.search button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("searching answered %d", status)
	}
	if rows := w.Texts("tbody tr"); len(rows) != 1 || !strings.Contains(rows[0], name) {
		t.Fatalf("the search for BYS-ZG from %s lists %q, want only %s", day(starts), rows, name)
	}
	enrol := `form[action="` + classPath + `/enrolments"] button[type="submit"]`
	if got := w.Text(enrol); got != "报名" {
		t.Errorf("the class's button says %q, want 报名", got)
	}
	if status := w.Submit(enrol); status != http.StatusOK {
		t.Fatalf("enrolling answered %d: %q", status, w.Texts(".alert"))
	}
	if path := w.Path(); path != "/me/classes" {
		t.Fatalf("after enrolling the page is %s, want /me/classes", path)
	}
	if h := w.Text("h1"); h != "我的培训" {
		t.Errorf("h1 = %q, want 我的培训", h)
	}
	row := `tbody tr:has(a[href="` + classPath + `"])`
	if got := w.Texts(row); len(got) != 1 || !strings.Contains(got[0], "已报名") || !strings.Contains(got[0], day(starts)) {
		t.Fatalf("我的培训 shows the class as %q, want one row, 已报名, starting %s", got, day(starts))
	}
	progressLinks := w.Attrs(row+` a[href^="/enrolments/"]`, "href")
	if len(progressLinks) != 1 {
		t.Fatalf("the class row has progress links %q, want one", progressLinks)
	}
	if status := w.Submit(row + ` a[href^="/enrolments/"]`); status != http.StatusOK {
		t.Fatalf("the progress page answered %d", status)
	}
	if path := w.Path(); path != progressLinks[0] {
		t.Errorf("the 详情 link led to %s, want %s", path, progressLinks[0])
	}
	if h := w.Text("h1"); h != "学习进度" {
		t.Errorf("h1 = %q, want 学习进度", h)
	}
	if intro := w.Text("main > p"); !strings.Contains(intro, name) || !strings.Contains(intro, "已报名") {
		t.Errorf("the progress page introduces %q, want the class name and 已报名", intro)
	}
	// One bar for the total, one per category and one per course; with no
	// hours yet all are empty but those of electives (nothing required,
	// so already met).
	if n := len(w.Attrs("progress", "value")); n < 6 {
		t.Errorf("the progress page has %d progress bars, want the total, the 4 categories and the courses", n)
	}
	for i, v := range w.Attrs("main > section.card > p > progress", "value") {
		if v != "0" {
			t.Errorf("total or category bar %d is at %q before any hours", i, v)
		}
	}
	// Required courses have a bar each, all empty; electives say they do not
	// count instead of showing a bar that looks done.
	courses, bars := w.Texts("tbody tr"), w.Attrs("tbody tr progress", "value")
	required := 0
	for _, c := range courses {
		if strings.Contains(c, "选修") {
			if !strings.Contains(c, "不计入必修要求") {
				t.Errorf("elective row %q does not say it does not count", c)
			}
			continue
		}
		required++
	}
	if len(courses) == 0 || required == 0 || required != len(bars) {
		t.Fatalf("the progress page lists %d courses (%d required) with %d bars", len(courses), required, len(bars))
	}
	for i, v := range bars {
		if v != "0" {
			t.Errorf("required course bar %d is at %q%% before any hours", i, v)
		}
	}
	if total := w.Text("main section.card"); !regexp.MustCompile(`\b0 / [1-9][0-9]* 学时`).MatchString(total) {
		t.Errorf("the total says %q, want 0 / N 学时", total)
	}

	// Back on the search page the class says 已报名 instead of offering the
	// button again (a second enrolment by API is refused: app tests).
	w.Visit("/classes/search?plan=BYS-ZG&from=" + day(starts))
	if w.Exists(enrol) {
		t.Error("the search page still offers 报名 for a class the worker is in")
	}
	if got := w.Texts(`tbody tr:has(a[href="` + classPath + `"]) .badge`); len(got) != 1 || got[0] != "已报名" {
		t.Errorf("the class row's badge is %q, want 已报名", got)
	}
	w.Visit("/me/classes")
	if got := w.Texts(row); len(got) != 1 {
		t.Errorf("after the refused second enrolment 我的培训 lists the class %d times, want once", len(got))
	}
	assertSameOrigin(t, srv.URL, w.Requests())

	// The provider sees the one self-enrolled worker on the class roster.
	p.Visit(classPath)
	if got := p.Texts("main section.card h2"); !contains(got, "学员名册（1 人）") {
		t.Errorf("the class page's sections are %q, want 学员名册（1 人）", got)
	}
	if facts := p.Text("dl.facts"); !strings.Contains(facts, "已报名 1 人") {
		t.Errorf("the class facts say %q, want 已报名 1 人", facts)
	}
}

// attendanceJourney: provider1 corrects a worker's hours in a course of its
// running demo class and sees the progress move; more hours than the course
// has are refused in Chinese and change nothing (DESIGN §4.2).
func attendanceJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	b.Login("provider1")
	if status := b.Visit("/classes?state=running"); status != http.StatusOK {
		t.Fatalf("/classes?state=running answered %d", status)
	}
	links := b.Attrs(`tbody a[href^="/classes/"]`, "href")
	if len(links) == 0 {
		t.Fatalf("provider1 has no running class: %q", b.Texts("tbody tr"))
	}
	classPath := links[0]
	if status := b.Submit(`tbody a[href="` + classPath + `"]`); status != http.StatusOK {
		t.Fatalf("%s answered %d", classPath, status)
	}
	if status := b.Submit(`a[href="` + classPath + `/attendance"]`); status != http.StatusOK {
		t.Fatalf("the attendance page answered %d", status)
	}
	attendancePath := b.Path()

	// The first course (preselected) and the first worker on the form.
	course := b.Text(`select[name="course"] option:checked`)
	max := hoursIn(t, b.Text(`form[method="post"][action$="/attendance"] thead th:nth-child(5)`))
	inputs := b.Attrs(`form[method="post"][action$="/attendance"] tbody input[name^="hours_"]`, "name")
	if len(inputs) == 0 {
		t.Fatal("the attendance form lists nobody")
	}
	enrolmentID := strings.TrimPrefix(inputs[0], "hours_")
	line := `tbody tr:has(input[name="hours_` + enrolmentID + `"])`
	done := hoursIn(t, b.Text(line+" td:nth-child(4)"))
	if done >= max {
		t.Fatalf("the demo worker already has %v of %v hours in %s; the journey needs room", done, max, course)
	}
	progressPath := "/enrolments/" + enrolmentID
	totalBefore := progressTotal(t, b, progressPath)

	// The worker attended the rest of the course: a correction, so a reason.
	b.Visit(attendancePath)
	full := strconv.FormatFloat(max, 'f', -1, 64)
	b.Fill(`input[name="hours_`+enrolmentID+`"]`, full)
	b.Fill(`input[name="reason_`+enrolmentID+`"]`, "补录线下课程签到表")
	if status := b.Submit(`form[method="post"][action$="/attendance"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("saving hours answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	if notice := b.Text(".notice"); !strings.Contains(notice, "已保存：1 条变更") {
		t.Errorf("notice = %q, want 已保存：1 条变更", notice)
	}
	if got := hoursIn(t, b.Text(line+" td:nth-child(4)")); got != max {
		t.Errorf("after saving, the form shows %v hours registered, want %v", got, max)
	}
	totalAfter := progressTotal(t, b, progressPath)
	if want := totalBefore + max - done; totalAfter != want {
		t.Errorf("total hours went from %v to %v, want %v", totalBefore, totalAfter, want)
	}

	// One hour more than the course has: refused, nothing saved.
	b.Visit(attendancePath)
	over := strconv.FormatFloat(max+1, 'f', -1, 64)
	b.Fill(`input[name="hours_`+enrolmentID+`"]`, over)
	b.Fill(`input[name="reason_`+enrolmentID+`"]`, "误填")
	if status := b.Submit(`form[method="post"][action$="/attendance"] button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("too many hours answered %d, want 422", status)
	}
	if alert := b.Text(".alert"); !strings.Contains(alert, "未保存") {
		t.Errorf("alert = %q, want it to say nothing was saved (未保存)", alert)
	}
	errs := strings.Join(b.Texts(".errors li"), "\n")
	if miss := missing(errs, "学时 "+over, "超过课程《", "总学时 "+full); len(miss) > 0 {
		t.Errorf("row errors %q lack %q", errs, miss)
	}
	b.Visit(attendancePath)
	if got := hoursIn(t, b.Text(line+" td:nth-child(4)")); got != max {
		t.Errorf("after the refused entry, %v hours are registered, want still %v", got, max)
	}
	if got := progressTotal(t, b, progressPath); got != totalAfter {
		t.Errorf("after the refused entry the total is %v, want still %v", got, totalAfter)
	}
	assertSameOrigin(t, srv.URL, b.Requests())
}

var hoursPattern = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// hoursIn reads the first number in s, e.g. 8 from 学时（最多 8）.
func hoursIn(t *testing.T, s string) float64 {
	t.Helper()
	m := hoursPattern.FindString(s)
	if m == "" {
		t.Fatalf("no hours in %q", s)
	}
	v, err := strconv.ParseFloat(m, 64)
	if err != nil {
		t.Fatalf("hours in %q: %v", s, err)
	}
	return v
}

// progressTotal opens an enrolment's progress page and reads the hours done
// from its total bar's caption, "36 / 72 学时".
func progressTotal(t *testing.T, b *Browser, path string) float64 {
	t.Helper()
	if status := b.Visit(path); status != http.StatusOK {
		t.Fatalf("%s answered %d", path, status)
	}
	return hoursIn(t, b.Text("main section.card p"))
}

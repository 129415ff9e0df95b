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

// openLessons opens the lessons grid of provider1's running demo class
// the way a person does: class list, class page, 考勤.
func openLessons(t *testing.T, b *Browser) string {
	t.Helper()
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
	if status := b.Submit(`a[href="` + classPath + `/lessons"]`); status != http.StatusOK {
		t.Fatalf("the lessons page answered %d", status)
	}
	return b.Path()
}

// hubeiDay is today plus n days in Hubei, as the server dates lessons.
func hubeiDay(n int) string { return day(today().AddDate(0, 0, n)) }

// hasLesson reports whether the grid has a column for the lesson of course
// code on date. The grid and sheet journeys run side by side on the same
// class, so they look for their own lesson rather than count columns.
func hasLesson(b *Browser, date, code string) bool {
	for _, th := range b.Texts("table.attendance-grid thead th") {
		if strings.Contains(th, date) && strings.Contains(th, code) {
			return true
		}
	}
	return false
}

// lessonGridJourney: provider1 records today's lesson from the grid by
// ticking one worker, and sees the hours on the worker's progress; a
// lesson of more than 8 hours is refused in Chinese and changes nothing
// (issue 9, item 1).
func lessonGridJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	lessonsPath := openLessons(t, b)
	boxes := b.Attrs(`input[type="checkbox"][name="present"]`, "value")
	if len(boxes) == 0 {
		t.Fatal("the grid has no tick boxes")
	}
	enrolmentID := boxes[0]
	progressPath := "/enrolments/" + enrolmentID
	totalBefore := progressTotal(t, b, progressPath)
	b.Visit(lessonsPath)
	codes := b.Attrs(`select[name="course_code"] option`, "value")
	code := codes[len(codes)-1]

	// More than 8 hours in one lesson: refused, nothing stored.
	b.Fill(`select[name="course_code"]`, code)
	b.Fill(`input[name="hours"]`, "9")
	b.Click(`input[name="present"][value="` + enrolmentID + `"]`)
	if status := b.Submit(`form[action="` + lessonsPath + `"] button[type="submit"]`); status != http.StatusUnprocessableEntity {
		t.Errorf("a 9-hour lesson answered %d, want 422", status)
	}
	if alert := b.Text(".alert"); !strings.Contains(alert, "未保存") {
		t.Errorf("alert = %q, want it to say nothing was saved (未保存)", alert)
	}
	if errs := strings.Join(b.Texts(".errors li"), "\n"); !strings.Contains(errs, "最多 8 学时") {
		t.Errorf("row errors %q do not name the 8-hour limit", errs)
	}
	if hasLesson(b, hubeiDay(0), code) {
		t.Errorf("after the refusal the grid shows a lesson of %s today", code)
	}

	// One hour today, the box ticked (the form kept the tick).
	b.Fill(`input[name="date"]`, hubeiDay(0))
	b.Fill(`input[name="hours"]`, "1")
	if !b.Exists(`input[name="present"][value="` + enrolmentID + `"]:checked`) {
		b.Click(`input[name="present"][value="` + enrolmentID + `"]`)
	}
	if status := b.Submit(`form[action="` + lessonsPath + `"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("saving the lesson answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
	}
	if notice := b.Text(".notice"); !strings.Contains(notice, "出勤 1 人") || !strings.Contains(notice, code) {
		t.Errorf("notice = %q, want the lesson of %s with 1 present", notice, code)
	}
	if !hasLesson(b, hubeiDay(0), code) {
		t.Errorf("the grid shows no lesson of %s today: %q", code, b.Texts("table.attendance-grid thead th"))
	}
	if got := progressTotal(t, b, progressPath); got != totalBefore+1 {
		t.Errorf("total hours went from %v to %v, want one more", totalBefore, got)
	}
	if lessons := strings.Join(b.Texts("main section.card td"), " "); !strings.Contains(lessons, hubeiDay(0)) {
		t.Errorf("the progress page does not list today's lesson: %q", lessons)
	}
	assertSameOrigin(t, srv.URL, b.Requests())
}

// signInSheetJourney: provider1 uploads yesterday's sign-in sheet, sees a
// preview that stores nothing, confirms it, and finds the lesson in the
// grid (issue 9, item 1).
func signInSheetJourney(t *testing.T, srv *Server) {
	b := srv.Browser(t)
	lessonsPath := openLessons(t, b)
	boxes := b.Attrs(`input[type="checkbox"][name="present"]`, "value")
	if len(boxes) < 2 {
		t.Fatal("the grid lists fewer than two workers")
	}
	codes := b.Attrs(`select[name="course_code"] option`, "value")
	code := codes[len(codes)-2]
	// The last two workers: the grid journey ticks the first.
	sheet := "日期,课程代码,学时,报名编号\n" +
		hubeiDay(-1) + "," + code + ",1.5," + boxes[len(boxes)-1] + "\n" +
		hubeiDay(-1) + "," + code + ",1.5," + boxes[len(boxes)-2] + "\n"
	upload := func() {
		b.Upload(`form[action$="/lessons/sheet"] input[type="file"]`, "签到表.csv", []byte(sheet))
		if status := b.Submit(`form[action$="/lessons/sheet"] button[type="submit"]`); status != http.StatusOK {
			t.Fatalf("uploading the sheet answered %d: %q %q", status, b.Texts(".alert"), b.Texts(".errors li"))
		}
	}
	upload()
	if h := b.Text("h1"); !strings.Contains(h, "签到表预览") {
		t.Fatalf("h1 = %q, want the preview", h)
	}
	row := strings.Join(b.Texts("tbody tr"), " ")
	if miss := missing(row, hubeiDay(-1), code, "1.5"); len(miss) > 0 {
		t.Errorf("the preview %q lacks %q", row, miss)
	}
	// The preview stored nothing.
	b.Visit(lessonsPath)
	if hasLesson(b, hubeiDay(-1), code) {
		t.Errorf("after the preview the grid shows the sheet's lesson")
	}
	upload()
	if status := b.Submit(`form[action$="/lessons/sheet/confirm"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("confirming answered %d: %q", status, b.Texts(".alert"))
	}
	if notice := b.Text(".notice"); !strings.Contains(notice, "签到表已保存：1 个课次") {
		t.Errorf("notice = %q, want 签到表已保存：1 个课次", notice)
	}
	if !hasLesson(b, hubeiDay(-1), code) {
		t.Errorf("the grid shows no lesson of %s yesterday: %q", code, b.Texts("table.attendance-grid thead th"))
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

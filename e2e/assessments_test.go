package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// assessmentJourney: provider1 schedules a theory sitting for the demo class
// that ended yesterday, is told the examiners fall short, adds two proctors,
// enters every candidate's score, and worker1 (a candidate) sees the score
// and outcome under 我的考核 (issue 10).
func assessmentJourney(t *testing.T, srv *Server) {
	const className = "武汉 保育师五级培训（昨日结业）"
	p := srv.Browser(t)
	p.Login("provider1")
	if status := p.Visit("/classes"); status != http.StatusOK {
		t.Fatalf("/classes answered %d", status)
	}
	names := p.Texts(`tbody tr a[href^="/classes/"]`)
	hrefs := p.Attrs(`tbody tr a[href^="/classes/"]`, "href")
	classPath := ""
	for i, n := range names {
		if strings.Contains(n, className) {
			classPath = hrefs[i]
		}
	}
	if classPath == "" {
		t.Fatalf("provider1's classes %q lack %s", names, className)
	}
	if status := p.Visit(classPath + "/assessments"); status != http.StatusOK {
		t.Fatalf("%s/assessments answered %d", classPath, status)
	}
	if h := p.Text("h1"); !strings.Contains(h, "考核安排") {
		t.Errorf("h1 = %q", h)
	}
	// The sitting began at midnight today (entered after the fact).
	p.Fill(`select[name="kind"]`, "theory")
	p.Fill(`input[name="starts_at"]`, day(today())+"T00:00")
	p.Fill(`input[name="ends_at"]`, day(today())+"T00:30")
	p.Fill(`input[name="place"]`, "武汉市武昌区中北路托育实训基地 三楼考场")
	p.Click(`input[name="confirm_non_working_day"]`)
	if status := p.Submit(`form[action="` + classPath + `/assessments"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("scheduling answered %d: %q %q", status, p.Texts(".alert"), p.Texts(".errors li"))
	}
	sittingPath := p.Path()
	if !regexp.MustCompile(`^/assessments/[0-9]+$`).MatchString(sittingPath) {
		t.Fatalf("after scheduling the page is %s, want /assessments/ID (%q)", sittingPath, p.Texts(".alert"))
	}
	if facts := p.Text("dl.facts"); !strings.Contains(facts, "理论监考人员不足") {
		t.Errorf("the sitting is not flagged for its missing proctors: %q", facts)
	}
	p.Fill(`input[name="name_0"]`, "王秀兰")
	p.Fill(`input[name="name_1"]`, "外聘 刘建国")
	if status := p.Submit(`form[action="` + sittingPath + `/examiners"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("saving examiners answered %d", status)
	}
	if facts := p.Text("dl.facts"); !strings.Contains(facts, "已配齐") {
		t.Fatalf("after two proctors the sitting says %q", facts)
	}
	inputs := p.Attrs(`input[name^="score_"]`, "name")
	if len(inputs) < 5 {
		t.Fatalf("%d score fields, want every candidate (≥ 5)", len(inputs))
	}
	for _, name := range inputs {
		p.Fill(`input[name="`+name+`"]`, "87.5")
	}
	if status := p.Submit(`form[action="` + sittingPath + `/results"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("saving results answered %d: %q %q", status, p.Texts(".alert"), p.Texts(".errors li"))
	}
	if n := p.Text(".notice"); !strings.Contains(n, "已录入") || !strings.Contains(n, "合格") {
		t.Errorf("after saving results the page says %q", n)
	}
	assertSameOrigin(t, srv.URL, p.Requests())
	checkMyAssessments(t, srv, className)
}

// checkMyAssessments: worker1 sees the theory score and the class awaiting
// its practical under 我的考核.
func checkMyAssessments(t *testing.T, srv *Server, className string) {
	t.Helper()
	w := srv.Browser(t)
	w.Login("worker1")
	if status := w.Visit("/me/assessments"); status != http.StatusOK {
		t.Fatalf("/me/assessments answered %d", status)
	}
	rows := w.Texts(`tbody tr`)
	var sitting, outcome bool
	for _, r := range rows {
		if strings.Contains(r, className) && strings.Contains(r, "87.5 分（合格）") {
			sitting = true
		}
		// Theory passed, practical still to come.
		if strings.Contains(r, className) && strings.Contains(r, "待考核") {
			outcome = true
		}
	}
	if !sitting || !outcome {
		t.Errorf("我的考核 rows %q: want the theory score 87.5 合格 and the class awaiting its practical", rows)
	}
}

package app

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// demoClassID finds a demo class of provider1 by name.
func demoClassID(t *testing.T, name string) int64 {
	t.Helper()
	a := testApp(t)
	var id int64
	if err := a.DB.NewRaw("SELECT id FROM classes WHERE name = ?", name).Scan(context.Background(), &id); err != nil {
		t.Fatalf("demo class %s: %v", name, err)
	}
	return id
}

type sittingJSON struct {
	ID         int64     `json:"id"`
	ClassID    int64     `json:"class_id"`
	Kind       string    `json:"kind"`
	Attempt    int       `json:"attempt"`
	StartsAt   time.Time `json:"starts_at"`
	State      string    `json:"state"`
	Candidates int       `json:"candidates"`
	Ratio      struct {
		OK bool `json:"ok"`
	} `json:"examiner_ratio"`
}

func TestAssessmentsDemoAndScopeHTTP(t *testing.T) {
	p1, p2 := login(t, "provider1"), login(t, "provider2")
	classID := demoClassID(t, "武汉 保育师四级培训（考核中）")
	path := fmt.Sprintf("/api/v1/classes/%d/assessments", classID)

	res, body := p1.do("GET", path, nil)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	list := decode[struct {
		Items []sittingJSON `json:"items"`
		Total int           `json:"total"`
	}](t, body)
	states := map[string]int{}
	var closedTheory sittingJSON
	for _, s := range list.Items {
		states[s.State]++
		if s.State == "closed" && s.Kind == "theory" {
			closedTheory = s
		}
		if _, off := s.StartsAt.Zone(); off != 8*3600 {
			t.Errorf("starts_at %v not in +08:00", s.StartsAt)
		}
	}
	if states["closed"] != 2 || states["scheduled"] != 1 || states["cancelled"] != 1 {
		t.Fatalf("demo sitting states %v", states)
	}
	// Outside scope: 404, for the class and the sitting.
	if res, body := p2.do("GET", path, nil); res.StatusCode != 404 {
		t.Errorf("provider2 list: %d %s", res.StatusCode, body)
	}
	cands := fmt.Sprintf("/api/v1/assessments/%d/candidates", closedTheory.ID)
	if res, _ := p2.do("GET", cands, nil); res.StatusCode != 404 {
		t.Errorf("provider2 candidates: %d", res.StatusCode)
	}
	if res, _ := login(t, "worker1").do("GET", cands, nil); res.StatusCode != 403 {
		t.Errorf("worker candidates: %d", res.StatusCode)
	}
	// HR of 武汉 reads candidates (names masked).
	res, body = login(t, "hr_reviewer1").do("GET", cands, nil)
	if res.StatusCode != 200 {
		t.Fatalf("hr candidates: %d %s", res.StatusCode, body)
	}
	cl := decode[struct {
		Items []struct {
			EnrolmentID int64    `json:"enrolment_id"`
			WorkerID    int64    `json:"worker_id"`
			Name        string   `json:"name"`
			Score       *float64 `json:"score"`
			Absent      bool     `json:"absent"`
			Passed      *bool    `json:"passed"`
		} `json:"items"`
	}](t, body)
	var passed, failed, absent int
	for _, c := range cl.Items {
		if !strings.Contains(c.Name, "*") {
			t.Errorf("name not masked: %q", c.Name)
		}
		switch {
		case c.Absent:
			absent++
		case c.Passed != nil && *c.Passed:
			passed++
		case c.Passed != nil:
			failed++
		}
	}
	if passed == 0 || failed == 0 || absent == 0 {
		t.Errorf("demo results passed %d failed %d absent %d", passed, failed, absent)
	}

	w1 := checkWorker1Outcome(t, classID, cl.Items[len(cl.Items)-1].WorkerID)
	checkAssessmentPages(t, p1, p2, w1, classID, closedTheory.ID)
}

// checkWorker1Outcome: worker1 passed both parts of the demo class: the
// enrolment shows it; own results are readable, otherWorker's are not.
func checkWorker1Outcome(t *testing.T, classID, otherWorker int64) *client {
	t.Helper()
	w1 := login(t, "worker1")
	_, body := w1.do("GET", "/api/v1/session", nil)
	me := decode[struct {
		User struct {
			WorkerID int64 `json:"worker_id"`
		} `json:"user"`
	}](t, body)
	res, body := w1.do("GET", fmt.Sprintf("/api/v1/workers/%d/results", me.User.WorkerID), nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"outcome":"passed"`) {
		t.Errorf("worker1 results: %d %s", res.StatusCode, body)
	}
	if res, _ := w1.do("GET", fmt.Sprintf("/api/v1/workers/%d/results", otherWorker), nil); res.StatusCode != 404 {
		t.Errorf("another worker's results: %d", res.StatusCode)
	}
	var enID int64
	if err := testApp(t).DB.NewRaw("SELECT id FROM enrolments WHERE class_id = ? AND worker_id = ?", classID, me.User.WorkerID).
		Scan(context.Background(), &enID); err != nil {
		t.Fatal(err)
	}
	res, body = w1.do("GET", fmt.Sprintf("/api/v1/enrolments/%d", enID), nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"outcome":"passed"`) || !strings.Contains(string(body), `"attempts_left":0`) {
		t.Errorf("enrolment outcome: %d %s", res.StatusCode, body)
	}
	return w1
}

// checkAssessmentPages: the class's and the sitting's pages render for the
// provider, worker1 and HR, and not for another provider.
func checkAssessmentPages(t *testing.T, p1, p2, w1 *client, classID, sittingID int64) {
	t.Helper()
	for _, pg := range []struct {
		c    *client
		path string
		want string
	}{
		{p1, fmt.Sprintf("/classes/%d/assessments", classID), "考核安排"},
		{p1, fmt.Sprintf("/assessments/%d", sittingID), "更正成绩"},
		{w1, "/me/assessments", "考核合格"},
		{login(t, "hr_reviewer1"), fmt.Sprintf("/assessments/%d", sittingID), "考评人员"},
	} {
		res, body := pg.c.do("GET", pg.path, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), pg.want) {
			t.Errorf("page %s: %d, want %q", pg.path, res.StatusCode, pg.want)
		}
	}
	if res, _ := p2.do("GET", fmt.Sprintf("/assessments/%d", sittingID), nil); res.StatusCode != 404 {
		t.Errorf("provider2 sitting page: %d", res.StatusCode)
	}
}

func TestScheduleAndResultsHTTP(t *testing.T) {
	p1 := login(t, "provider1")
	classID := demoClassID(t, "武汉 保育师五级培训（昨日结业）")
	path := fmt.Sprintf("/api/v1/classes/%d/assessments", classID)
	day := func(days, hour int) string {
		d := time.Now().In(testConfig().Location).AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, testConfig().Location).Format(time.RFC3339)
	}
	checkScheduleRefused(t, p1, path, day)
	// A provider schedules a sitting that has started (hand-entered, on
	// today, confirmed whatever the weekday).
	res, body := p1.do("POST", path, map[string]any{"kind": "theory", "starts_at": day(0, 0), "ends_at": day(0, 2),
		"place": "第二考场", "confirm_non_working_day": true})
	if res.StatusCode != 201 {
		t.Fatalf("schedule: %d %s", res.StatusCode, body)
	}
	sit := decode[sittingJSON](t, body)
	if sit.Candidates < 5 || sit.Ratio.OK || sit.Attempt != 1 {
		t.Fatalf("sitting %+v", sit)
	}
	// A second theory sitting at an overlapping time is refused: the
	// candidates already sit.
	res, body = login(t, "provider2").do("POST", path, map[string]any{"kind": "theory", "starts_at": day(0, 1), "ends_at": day(0, 3)})
	if res.StatusCode != 404 {
		t.Errorf("provider2 schedules provider1's class: %d %s", res.StatusCode, body)
	}
	rpath := fmt.Sprintf("/api/v1/assessments/%d/results", sit.ID)
	res, body = p1.do("GET", fmt.Sprintf("/api/v1/assessments/%d/candidates", sit.ID), nil)
	cands := decode[struct {
		Items []struct {
			EnrolmentID int64 `json:"enrolment_id"`
		} `json:"items"`
	}](t, body).Items
	rows := func(scores ...any) map[string]any {
		var out []map[string]any
		for i, s := range scores {
			if s == "absent" {
				out = append(out, map[string]any{"enrolment_id": cands[i].EnrolmentID, "absent": true})
			} else {
				out = append(out, map[string]any{"enrolment_id": cands[i].EnrolmentID, "score": s})
			}
		}
		return map[string]any{"results": out}
	}
	// Examiners missing: 409.
	res, body = p1.do("POST", rpath, rows(80))
	if res.StatusCode != 409 || problemCode(t, body) != "examiners_insufficient" {
		t.Fatalf("without examiners: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("PUT", fmt.Sprintf("/api/v1/assessments/%d/examiners", sit.ID),
		map[string]any{"examiners": []map[string]string{{"name": "王老师", "role": "proctor"}, {"name": "外聘 刘老师", "role": "proctor"}}})
	if res.StatusCode != 200 || !decode[sittingJSON](t, body).Ratio.OK {
		t.Fatalf("examiners: %d %s", res.StatusCode, body)
	}
	// Bad rows: 422 with one error per row, nothing stored.
	bad := rows(101, 70)
	bad["results"] = append(bad["results"].([]map[string]any), map[string]any{"enrolment_id": 1, "score": 50},
		map[string]any{"enrolment_id": cands[1].EnrolmentID, "score": 60})
	checkBadRows(t, p1, rpath, bad)
	checkResultUploads(t, p1, sit.ID, [3]int64{cands[0].EnrolmentID, cands[1].EnrolmentID, cands[2].EnrolmentID})
	rest := []any{}
	for range cands[3:] {
		rest = append(rest, 58.5)
	}
	all := rows(append([]any{0, 0, 0}, rest...)...)
	all["results"] = all["results"].([]map[string]any)[3:]
	res, body = p1.do("POST", rpath, all)
	if res.StatusCode != 200 || !strings.Contains(string(body), fmt.Sprintf(`"failed":%d`, len(cands)-3)) {
		t.Fatalf("form results: %d %s", res.StatusCode, body)
	}
	checkCorrectionHTTP(t, p1, sit.ID, cands[3].EnrolmentID)
}

// checkScheduleRefused: a sitting before the class ended, of an unknown
// kind, with a bad time or an unknown field is refused with its code.
func checkScheduleRefused(t *testing.T, p1 *client, path string, day func(days, hour int) string) {
	t.Helper()
	for _, c := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"kind": "theory", "starts_at": day(-3, 9), "ends_at": day(-3, 11)}, "invalid_sitting"}, // before the class ended
		{map[string]any{"kind": "oral", "starts_at": day(3, 9), "ends_at": day(3, 11), "confirm_non_working_day": true}, "invalid_sitting"},
		{map[string]any{"kind": "theory", "starts_at": "tomorrow", "ends_at": day(3, 11)}, "invalid_sitting"},
		{map[string]any{"kind": "theory", "starts_at": day(3, 9), "ends_at": day(3, 11), "colour": "red"}, "unknown_field"},
	} {
		res, body := p1.do("POST", path, c.body)
		if res.StatusCode != 422 || problemCode(t, body) != c.code {
			t.Errorf("%v: %d %s, want 422 %s", c.body, res.StatusCode, body, c.code)
		}
	}
}

// checkBadRows: results with bad rows answer 422 with one error per row.
func checkBadRows(t *testing.T, p1 *client, rpath string, bad map[string]any) {
	t.Helper()
	res, body := p1.do("POST", rpath, bad)
	prob := decode[struct {
		Code   string `json:"code"`
		Errors []struct {
			Row   int    `json:"row"`
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	}](t, body)
	if res.StatusCode != 422 || prob.Code != "invalid_results" || len(prob.Errors) != 3 || prob.Errors[0].Row != 1 || prob.Errors[1].Code != "not_candidate" || prob.Errors[2].Code != "duplicate" {
		t.Fatalf("bad rows: %d %s", res.StatusCode, body)
	}
}

// checkResultUploads: a CSV with a bad row stores nothing; a good one
// previews without storing, then commits; the sitting page previews an
// upload and stores it on confirmation. ens are the first candidates'
// enrolments.
func checkResultUploads(t *testing.T, p1 *client, sitID int64, ens [3]int64) {
	t.Helper()
	// A CSV with a bad row: nothing stored either.
	csv := "报名编号,成绩,缺考\n" + fmt.Sprintf("%d,75,\n%d,abc,\n", ens[0], ens[1])
	res, body := uploadCSV(t, p1, fmt.Sprintf("/api/v1/assessments/%d/results/import", sitID), csv, true)
	if res.StatusCode != 422 || !strings.Contains(string(body), `"row":3`) {
		t.Fatalf("bad csv: %d %s", res.StatusCode, body)
	}
	// A good CSV: preview stores nothing, commit stores all.
	good := "报名编号,成绩,缺考\n" + fmt.Sprintf("%d,75,\n%d,,是\n", ens[0], ens[1])
	res, body = uploadCSV(t, p1, fmt.Sprintf("/api/v1/assessments/%d/results/import", sitID), good, false)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"committed":false`) {
		t.Fatalf("preview: %d %s", res.StatusCode, body)
	}
	res, body = uploadCSV(t, p1, fmt.Sprintf("/api/v1/assessments/%d/results/import", sitID), good, true)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"recorded":2`) {
		t.Fatalf("commit: %d %s", res.StatusCode, body)
	}
	// The sitting page: upload, preview (nothing stored), confirm.
	spath := fmt.Sprintf("/assessments/%d", sitID)
	page := "报名编号,成绩\n" + fmt.Sprintf("%d,66\n", ens[2])
	res, body = uploadCSVPage(t, p1, spath+"/results/import", page)
	if res.StatusCode != 200 || !strings.Contains(string(body), "确认录入") {
		t.Fatalf("page preview: %d", res.StatusCode)
	}
	var stored int
	_ = testApp(t).DB.NewRaw("SELECT count(*) FROM assessment_results WHERE sitting_id = ?", sitID).Scan(context.Background(), &stored)
	if stored != 2 {
		t.Fatalf("after the preview %d results stored, want the 2 of the API upload", stored)
	}
	res, body = p1.do("POST", spath+"/results/import", fmt.Sprintf("confirm=true&rows=1&e_0=%d&s_0=66&a_0=false&r_0=2", ens[2]))
	if res.StatusCode != 200 || !strings.Contains(string(body), "已全部录入") {
		t.Fatalf("page confirm: %d", res.StatusCode)
	}
}

// checkCorrectionHTTP: a correction needs a reason and only the sitting's
// provider makes it.
func checkCorrectionHTTP(t *testing.T, p1 *client, sitID, enrolmentID int64) {
	t.Helper()
	var resultID int64
	if err := testApp(t).DB.NewRaw("SELECT id FROM assessment_results WHERE sitting_id = ? AND enrolment_id = ?", sitID, enrolmentID).
		Scan(context.Background(), &resultID); err != nil {
		t.Fatal(err)
	}
	res, body := p1.do("PATCH", fmt.Sprintf("/api/v1/assessment-results/%d", resultID), map[string]any{"score": 60})
	if res.StatusCode != 422 {
		t.Errorf("correction without reason: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("PATCH", fmt.Sprintf("/api/v1/assessment-results/%d", resultID), map[string]any{"score": 60, "reason": "复核加分"})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"passed":true`) {
		t.Errorf("correction: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "provider2").do("PATCH", fmt.Sprintf("/api/v1/assessment-results/%d", resultID), map[string]any{"score": 10, "reason": "x"}); res.StatusCode != 404 {
		t.Errorf("provider2 corrects: %d", res.StatusCode)
	}
}

func uploadCSV(t *testing.T, c *client, path, content string, commit bool) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "results.csv")
	fw.Write([]byte(content))
	if commit {
		mw.WriteField("commit", "true")
	}
	mw.Close()
	return c.do("POST", path, &buf, "Content-Type", mw.FormDataContentType())
}

func uploadCSVPage(t *testing.T, c *client, path, content string) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_csrf", c.csrf)
	fw, _ := mw.CreateFormFile("file", "results.csv")
	fw.Write([]byte(content))
	mw.Close()
	return c.do("POST", path, &buf, "Content-Type", mw.FormDataContentType())
}

func TestCalendarFeedHTTP(t *testing.T) {
	w1 := login(t, "worker1")
	res, body := w1.do("POST", "/api/v1/me/calendar-token", map[string]any{})
	if res.StatusCode != 200 {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	tok := decode[struct {
		Token string `json:"token"`
		URL   string `json:"url"`
	}](t, body)
	res, body = anon(t).do("GET", "/me/calendar.ics?token="+tok.Token, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") ||
		!bytes.Contains(body, []byte("BEGIN:VEVENT\r\n")) || !bytes.Contains(body, []byte("UID:sitting-")) {
		t.Fatalf("feed: %d %s", res.StatusCode, body)
	}
	if res, _ := anon(t).do("GET", "/me/calendar.ics?token=nope", nil); res.StatusCode != 404 {
		t.Errorf("bad token: %d", res.StatusCode)
	}
	if res, _ := login(t, "provider1").do("POST", "/api/v1/me/calendar-token", map[string]any{}); res.StatusCode != 403 {
		t.Errorf("provider token: %d", res.StatusCode)
	}
}

func TestPlanAssessmentHTTP(t *testing.T) {
	w1 := login(t, "worker1")
	for code, want := range map[string]string{"BYS-ZG": "none", "FZR-GW": "theory", "BYS-4": "theory_practical"} {
		res, body := w1.do("GET", "/api/v1/plans/"+code, nil)
		if res.StatusCode != 200 || decode[struct {
			Assessment string `json:"assessment"`
		}](t, body).Assessment != want {
			t.Errorf("plan %s: %d %s, want assessment %s", code, res.StatusCode, body, want)
		}
	}
	res, body := login(t, "admin").do("GET", "/catalog/plans/FZR-GW", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `<option value="theory" selected>`) {
		t.Errorf("plan page: %d, the mode select does not show theory", res.StatusCode)
	}
}

package app

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"
	"time"
)

type classBody struct {
	ID         int64  `json:"id"`
	State      string `json:"state"`
	Capacity   int    `json:"capacity"`
	Enrolled   int    `json:"enrolled"`
	Waitlisted int    `json:"waitlisted"`
	Remaining  int    `json:"remaining"`
	Name       string `json:"name"`
}

// freeWorkers returns n unbanned demo workers other than worker1.
func freeWorkers(t *testing.T, n int) []int64 {
	t.Helper()
	var ids []int64
	err := testApp(t).DB.NewRaw(`SELECT id FROM workers WHERE NOT banned
		AND id NOT IN (SELECT worker_id FROM users WHERE worker_id IS NOT NULL) ORDER BY id DESC LIMIT ?`, n).Scan(context.Background(), &ids)
	if err != nil || len(ids) < n {
		t.Fatalf("free demo workers: %v (%d)", err, len(ids))
	}
	return ids
}

func TestClassesAndEnrolmentHTTP(t *testing.T) {
	p1, p2 := login(t, "provider1"), login(t, "provider2")
	w1 := login(t, "worker1")
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }

	// End before start: a clear problem, nothing stored.
	res, body := p1.do("POST", "/api/v1/classes", map[string]any{"plan_code": "BYS-ZG", "name": "倒置班",
		"starts_on": day(400), "ends_on": day(390), "capacity": 2, "region": "420106"})
	if res.StatusCode != 422 || problemCode(t, body) != "invalid_class" || !strings.Contains(string(body), `"field":"ends_on"`) {
		t.Fatalf("end before start: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", "/api/v1/classes", map[string]any{"plan_code": "BYS-ZG", "name": "HTTP 测试班",
		"starts_on": day(400), "ends_on": day(405), "capacity": 2, "region": "420106"})
	if res.StatusCode != 201 {
		t.Fatalf("create class: %d %s", res.StatusCode, body)
	}
	c := decode[classBody](t, body)
	if c.State != "draft" || c.Capacity != 2 {
		t.Fatalf("created %+v", c)
	}
	path := fmt.Sprintf("/api/v1/classes/%d", c.ID)
	// Provider 2 cannot see or touch provider 1's class.
	for _, r := range []struct{ method, path string }{
		{"GET", path}, {"POST", path + "/open"}, {"POST", path + "/enrolments"}, {"GET", path + "/enrolments"},
		{"GET", strings.TrimPrefix(path, "/api/v1")},
	} {
		var b any
		if r.method == "POST" {
			b = map[string]any{"worker_id": 1}
		}
		if res, body := p2.do(r.method, r.path, b); res.StatusCode != 404 {
			t.Errorf("provider2 %s %s: %d %s", r.method, r.path, res.StatusCode, body)
		}
	}
	// A worker cannot enrol in a draft class (it is not visible yet).
	if res, _ := w1.do("POST", path+"/enrolments", map[string]any{}); res.StatusCode != 404 {
		t.Errorf("worker in a draft: %d", res.StatusCode)
	}
	if res, body := p1.do("POST", path+"/open", nil); res.StatusCode != 200 || decode[classBody](t, body).State != "open" {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	res, body = w1.do("POST", path+"/enrolments", map[string]any{})
	if res.StatusCode != 201 || !strings.Contains(string(body), `"status":"enrolled"`) {
		t.Fatalf("worker1 enrols: %d %s", res.StatusCode, body)
	}
	if res, body := w1.do("POST", path+"/enrolments", map[string]any{}); res.StatusCode != 409 || problemCode(t, body) != "already_enrolled" {
		t.Errorf("enrol twice: %d %s", res.StatusCode, body)
	}
	ws := freeWorkers(t, 2)
	res, body = p1.do("POST", path+"/enrolments", map[string]any{"worker_id": ws[0]})
	if res.StatusCode != 201 || !strings.Contains(string(body), `"status":"enrolled"`) {
		t.Fatalf("provider enrols: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", path+"/enrolments", map[string]any{"worker_id": ws[1]})
	if res.StatusCode != 201 || !strings.Contains(string(body), `"status":"waitlisted"`) {
		t.Fatalf("full class: %d %s", res.StatusCode, body)
	}
	var banned int64
	if err := testApp(t).DB.NewRaw("SELECT id FROM workers WHERE banned ORDER BY id LIMIT 1").Scan(context.Background(), &banned); err == nil {
		if res, body := p1.do("POST", path+"/enrolments", map[string]any{"worker_id": banned}); res.StatusCode != 403 || problemCode(t, body) != "banned" {
			t.Errorf("banned worker: %d %s", res.StatusCode, body)
		}
	} else {
		t.Errorf("the demo has no banned worker: %v", err)
	}
	if res, body := p1.do("POST", path+"/enrolments", map[string]any{"worker_id": "x"}); res.StatusCode != 422 {
		t.Errorf("worker_id of the wrong type: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("GET", path, nil)
	got := decode[classBody](t, body)
	if got.Enrolled != 2 || got.Waitlisted != 1 || got.Remaining != 0 || got.State != "open" {
		t.Errorf("class after enrolments: %+v", got)
	}
	if res, _ := login(t, "hr_reviewer1").do("GET", path, nil); res.StatusCode != 200 {
		t.Errorf("武汉 HR reads a 武汉 class: %d", res.StatusCode)
	}
	res, body = p1.do("GET", path+"/enrolments", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"total":3`) {
		t.Errorf("roster: %d %s", res.StatusCode, body)
	}

	// worker1 withdraws; the waiting worker moves up.
	mine := decode[struct {
		Items []struct {
			ID      int64 `json:"id"`
			ClassID int64 `json:"class_id"`
		} `json:"items"`
	}](t, func() []byte { _, b := w1.do("GET", "/api/v1/enrolments", nil); return b }())
	var myEnrolment int64
	for _, e := range mine.Items {
		if e.ClassID == c.ID {
			myEnrolment = e.ID
		}
	}
	if res, body := w1.do("POST", fmt.Sprintf("/api/v1/enrolments/%d/withdraw", myEnrolment), nil); res.StatusCode != 200 {
		t.Fatalf("withdraw: %d %s", res.StatusCode, body)
	}
	_, body = p1.do("GET", path, nil)
	if got := decode[classBody](t, body); got.Enrolled != 2 || got.Waitlisted != 0 {
		t.Errorf("after withdrawal: %+v", got)
	}

	// Cancel: the enrolled are named; the class takes nobody after.
	res, body = p1.do("POST", path+"/cancel", map[string]any{"reason": "场地检修"})
	if res.StatusCode != 200 || !strings.Contains(string(body), fmt.Sprint(ws[0])) {
		t.Fatalf("cancel: %d %s", res.StatusCode, body)
	}
	if res, body := w1.do("POST", path+"/enrolments", map[string]any{}); res.StatusCode != 409 || problemCode(t, body) != "class_not_open" {
		t.Errorf("enrol in a cancelled class: %d %s", res.StatusCode, body)
	}
}

func TestEnrolmentPagesRender(t *testing.T) {
	p1, w1, admin, hr := login(t, "provider1"), login(t, "worker1"), login(t, "admin"), login(t, "hr_reviewer1")
	_, body := p1.do("GET", "/api/v1/classes?state=running", nil)
	running := decode[struct {
		Items []classBody `json:"items"`
	}](t, body).Items
	if len(running) == 0 {
		t.Fatal("the demo has no running class for provider1")
	}
	_, body = w1.do("GET", "/api/v1/enrolments", nil)
	mine := decode[struct {
		Items []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}](t, body).Items
	if len(mine) == 0 {
		t.Fatal("worker1 has no demo enrolments")
	}
	for _, p := range []struct {
		who  *client
		path string
		want string
	}{
		{w1, "/classes/search", "武汉 保育师岗前培训（报名中）"},
		{w1, "/classes/search?city=420500", "宜昌 保育师岗前培训（报名中）"},
		{w1, "/me/classes", "已完成学时"},
		{w1, fmt.Sprintf("/enrolments/%d", mine[0].ID), "<progress"},
		{p1, "/classes?state=running", "武汉 保育师在岗培训（培训中）"},
		{p1, fmt.Sprintf("/classes/%d", running[0].ID), "学员名册"},
		{p1, fmt.Sprintf("/classes/%d/attendance", running[0].ID), "按课程填写"},
		{p1, "/classes/waitlist", "托育机构负责人岗位培训"},
		{p1, "/classes/new", "开设培训班"},
		{hr, "/classes?state=completed&plan=BYS-GQ", "武汉 保育师岗前培训（已结业班）"},
		{admin, "/catalog/courses", "婴幼儿伤害预防与急救"},
		{admin, "/catalog/plans", "BYS-GQ"},
		{admin, "/catalog/plans/BYS-GQ", "托育机构保育指导大纲解读"},
		{admin, "/catalog/courses/1", "编辑课程"},
	} {
		res, body := p.who.do("GET", p.path, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), p.want) {
			t.Errorf("GET %s: %d, want 200 containing %q", p.path, res.StatusCode, p.want)
		}
	}
	if res, body := hr.do("GET", "/classes?city=420500", nil); strings.Contains(string(body), "宜昌 保育师") || res.StatusCode != 200 {
		t.Errorf("武汉 HR sees 宜昌 classes: %d", res.StatusCode)
	}
	if res, _ := login(t, "provider2").do("GET", fmt.Sprintf("/classes/%d", running[0].ID), nil); res.StatusCode != 404 {
		t.Errorf("provider2 opens provider1's class page: %d", res.StatusCode)
	}
}

func TestAttendanceHTTP(t *testing.T) {
	a := testApp(t)
	p1 := login(t, "provider1")
	_, body := p1.do("GET", "/api/v1/classes?state=running", nil)
	running := decode[struct {
		Items []classBody `json:"items"`
	}](t, body).Items[0]
	path := fmt.Sprintf("/api/v1/classes/%d", running.ID)
	_, body = p1.do("GET", path+"/enrolments", nil)
	roster := decode[struct {
		Items []struct {
			ID       int64 `json:"id"`
			WorkerID int64 `json:"worker_id"`
			Progress struct {
				Courses []struct {
					Code string  `json:"code"`
					Done float64 `json:"done_hours"`
					Max  float64 `json:"max_hours"`
				} `json:"courses"`
			} `json:"progress"`
		} `json:"items"`
	}](t, body).Items
	if len(roster) == 0 {
		t.Fatal("running demo class has no roster")
	}
	first := roster[0]
	course := first.Progress.Courses[0]

	// Over the limit and a correction without reason: 422, row errors.
	res, body := p1.do("POST", path+"/attendance", map[string]any{"entries": []map[string]any{
		{"enrolment_id": first.ID, "course_code": course.Code, "hours": course.Max + 1},
		{"enrolment_id": first.ID, "course_code": "NOPE-01", "hours": 1},
	}})
	if res.StatusCode != 422 || problemCode(t, body) != "attendance_invalid" || !strings.Contains(string(body), `"row":2`) {
		t.Errorf("bad attendance: %d %s", res.StatusCode, body)
	}
	// A correction with its reason is stored.
	res, body = p1.do("POST", path+"/attendance", map[string]any{"entries": []map[string]any{
		{"enrolment_id": first.ID, "course_code": course.Code, "hours": course.Max - 0.5, "reason": "迟到半小时"},
	}})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"changed":1`) {
		t.Errorf("correction: %d %s", res.StatusCode, body)
	}

	// CSV upload by ID number: a bad row rejects the file.
	var enc []byte
	if err := a.DB.NewRaw("SELECT id_number_enc FROM workers WHERE id = ?", first.WorkerID).Scan(context.Background(), &enc); err != nil {
		t.Fatal(err)
	}
	idNumber, err := a.Cipher.Decrypt(enc)
	if err != nil {
		t.Fatal(err)
	}
	upload := func(csv string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "学时.csv")
		fw.Write([]byte(csv))
		mw.Close()
		res, body := p1.do("POST", path+"/attendance/import", &buf, "Content-Type", mw.FormDataContentType())
		return res.StatusCode, string(body)
	}
	code, out := upload("身份证号,课程代码,学时,更正原因\n" + idNumber + "," + course.Code + ",1,补录\n110101199001011237," + course.Code + ",1,\n")
	if code != 422 || !strings.Contains(out, `"row":3`) || !strings.Contains(out, "unknown_worker") {
		t.Errorf("bad CSV: %d %s", code, out)
	}
	code, out = upload("身份证号,课程代码,学时,更正原因\n" + idNumber + "," + course.Code + ",1,补录\n")
	if code != 200 || !strings.Contains(out, `"changed":1`) {
		t.Errorf("good CSV: %d %s", code, out)
	}

	// The page form: one course, hours per enrolled worker.
	form := fmt.Sprintf("course_id=%d&hours_%d=2&reason_%d=%s", courseID(t, course.Code), first.ID, first.ID, "按签到表更正")
	res, body = p1.do("POST", fmt.Sprintf("/classes/%d/attendance", running.ID), form)
	if res.StatusCode != 200 || !strings.Contains(string(body), "已保存") {
		t.Errorf("attendance form: %d", res.StatusCode)
	}
}

func courseID(t *testing.T, code string) int64 {
	t.Helper()
	var id int64
	if err := testApp(t).DB.NewRaw("SELECT id FROM courses WHERE code = ?", code).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCatalogAdminHTTP(t *testing.T) {
	admin := login(t, "admin")
	if res, _ := login(t, "provider1").do("PUT", "/api/v1/plans/BYS-GQ", map[string]any{}); res.StatusCode != 403 {
		t.Errorf("provider edits a plan: %d", res.StatusCode)
	}
	_, body := admin.do("GET", "/api/v1/plans/BYS-GQ", nil)
	plan := decode[struct {
		Current struct {
			Version int `json:"version"`
			Courses []struct {
				Code string  `json:"code"`
				Req  float64 `json:"required_hours"`
			} `json:"courses"`
			Minimums []struct {
				Category string  `json:"category"`
				Min      float64 `json:"min_hours"`
			} `json:"minimums"`
		} `json:"current"`
	}](t, body)
	// The demo enrolled workers under BYS-GQ: an edit makes a new version.
	in := map[string]any{"min_total_hours": 120, "pass_mark": 60, "max_attempts": 2}
	mins := map[string]any{}
	for _, m := range plan.Current.Minimums {
		mins[m.Category] = m.Min
	}
	in["minimums"] = mins
	var courses []map[string]any
	for _, c := range plan.Current.Courses {
		courses = append(courses, map[string]any{"code": c.Code, "hours": c.Req})
	}
	in["courses"] = courses
	res, body := admin.do("PUT", "/api/v1/plans/BYS-GQ", in)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"new_version":true`) {
		t.Fatalf("edit BYS-GQ: %d %s", res.StatusCode, body)
	}
	in["min_total_hours"] = 5000
	if res, body := admin.do("PUT", "/api/v1/plans/BYS-GQ", in); res.StatusCode != 422 || problemCode(t, body) != "invalid_plan_version" {
		t.Errorf("unreachable total: %d %s", res.StatusCode, body)
	}
	// The page form saves and redirects with the version.
	res, _ = admin.do("POST", "/catalog/plans/FZR-GW", "min_total_hours=60&pass_mark=60&max_attempts=2&min_law=18&min_ethics=6&min_safety=16&min_skills=20"+
		"&in_LAW-01=on&hours_LAW-01=8&in_LAW-02=on&hours_LAW-02=4&in_LAW-04=on&hours_LAW-04=6&in_ETH-03=on&hours_ETH-03=6"+
		"&in_SAF-05=on&hours_SAF-05=8&in_SAF-02=on&hours_SAF-02=4&in_SAF-04=on&hours_SAF-04=4"+
		"&in_SKL-12=on&hours_SKL-12=8&in_SKL-13=on&hours_SKL-13=6&in_SKL-04=on&hours_SKL-04=6")
	if res.StatusCode != 303 || !strings.Contains(res.Header.Get("Location"), "/catalog/plans/FZR-GW?saved=") {
		t.Errorf("plan form: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = admin.do("POST", "/catalog/plans/FZR-GW", "min_total_hours=abc&pass_mark=60&max_attempts=2")
	if res.StatusCode != 422 || !strings.Contains(string(body), "总学时应为数字") {
		t.Errorf("bad plan form: %d", res.StatusCode)
	}
}

func TestSearchShowsWhereTheWorkerAlreadyIs(t *testing.T) {
	w := login(t, "worker1")
	_, body := w.do("GET", "/api/v1/me/worker", nil)
	if !strings.Contains(string(body), `"id"`) {
		t.Fatalf("worker1 has no worker record: %s", body)
	}
	res, page := w.do("GET", "/classes/search", nil)
	if res.StatusCode != 200 {
		t.Fatalf("search = %d", res.StatusCode)
	}
	if !strings.Contains(string(page), `<span class="badge ok">已报名</span>`) {
		t.Fatalf("worker1's open enrolment is not marked on the search page")
	}
}

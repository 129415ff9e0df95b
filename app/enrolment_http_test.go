package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tuoyu/app/seed"
	"tuoyu/modules/workers"
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

// personSeq makes the ID numbers of registered test people differ.
var personSeq atomic.Uint64

// register records a new person as the login username's organisation would
// (provider1: in its scope; college1: not in any provider's) and returns
// their worker ID and full ID number.
func register(t *testing.T, username string) (int64, string) {
	t.Helper()
	a, ctx := testApp(t), context.Background()
	p, err := a.Accounts.PrincipalByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	n := personSeq.Add(1)
	r := rand.New(rand.NewPCG(n, uint64(time.Now().UnixNano())))
	number := workers.GenerateID(r, "420106", time.Date(1980+int(n%20), time.Month(1+n%12), 1+int(n%28), 0, 0, 0, 0, time.UTC), workers.SexFemale)
	w, err := a.Workers.Register(ctx, &p, workers.RegisterInput{Name: "测试学员", IDNumber: number})
	if err != nil {
		t.Fatalf("register %s: %v", number, err)
	}
	return w.ID, number
}

// freeWorkers returns n new workers registered by provider1, so that it may
// enrol them by worker ID (a provider names by ID only workers in its scope).
func freeWorkers(t *testing.T, n int) []int64 {
	t.Helper()
	ids := make([]int64, 0, n)
	for range n {
		id, _ := register(t, "provider1")
		ids = append(ids, id)
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
	// The problem keeps its numeric status; the enrolment's is beside it.
	if res, body := w1.do("POST", path+"/enrolments", map[string]any{}); res.StatusCode != 409 || problemCode(t, body) != "already_enrolled" ||
		!strings.Contains(string(body), `"status":409`) || !strings.Contains(string(body), `"enrolment_status":"enrolled"`) {
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
	if _, bannedID, err := seed.BannedWorker(context.Background(), testApp(t).seedServices()); err == nil {
		if res, body := p1.do("POST", path+"/enrolments", map[string]any{"id_number": bannedID}); res.StatusCode != 422 || problemCode(t, body) != "not_registrable" || strings.Contains(string(body), "禁") {
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

// A provider enrols by worker ID only workers in its scope; a person it
// has in front of it, by the full ID number. Withdrawal ends the scope.
func TestProviderEnrolmentScopeHTTP(t *testing.T) {
	a, ctx := testApp(t), context.Background()
	p1 := login(t, "provider1")
	day := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.DateOnly) }
	res, body := p1.do("POST", "/api/v1/classes", map[string]any{"plan_code": "BYS-5", "name": "代报测试班",
		"starts_on": day(430), "ends_on": day(433), "capacity": 5, "region": "420106"})
	if res.StatusCode != 201 {
		t.Fatalf("create class: %d %s", res.StatusCode, body)
	}
	c := decode[classBody](t, body)
	path := fmt.Sprintf("/api/v1/classes/%d", c.ID)
	if res, body := p1.do("POST", path+"/open", nil); res.StatusCode != 200 {
		t.Fatalf("open: %d %s", res.StatusCode, body)
	}
	stranger, number := register(t, "college1")
	workerPath := fmt.Sprintf("/api/v1/workers/%d", stranger)
	stored := func() int {
		var n int
		if err := a.DB.NewRaw("SELECT count(*) FROM enrolments WHERE worker_id = ?", stranger).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	res, body = p1.do("POST", path+"/enrolments", map[string]any{"worker_id": stranger})
	if res.StatusCode != 404 || problemCode(t, body) != "worker_not_found" || stored() != 0 {
		t.Fatalf("enrol a stranger by worker_id: %d %s, %d stored", res.StatusCode, body, stored())
	}
	if res, _ := p1.do("GET", workerPath, nil); res.StatusCode != 404 {
		t.Errorf("provider1 reads a stranger's record: %d", res.StatusCode)
	}
	for name, b := range map[string]map[string]any{
		"a short number":  {"id_number": number[:17]},
		"id and number":   {"worker_id": stranger, "id_number": number},
		"nothing at all":  {},
		"a number as int": {"id_number": 4201},
	} {
		res, body := p1.do("POST", path+"/enrolments", b)
		if res.StatusCode != 422 || !strings.Contains(string(body), `"field":"id_number"`) {
			t.Errorf("%s: %d %s, want 422 on id_number", name, res.StatusCode, body)
		}
	}
	unknown := workers.GenerateID(rand.New(rand.NewPCG(7, 7)), "420106", time.Date(1970, 7, 7, 0, 0, 0, 0, time.UTC), workers.SexMale)
	if res, body := p1.do("POST", path+"/enrolments", map[string]any{"id_number": unknown}); res.StatusCode != 404 || problemCode(t, body) != "worker_not_found" {
		t.Errorf("a number nobody has: %d %s", res.StatusCode, body)
	}
	if stored() != 0 {
		t.Fatalf("%d enrolments stored by refusals", stored())
	}

	res, body = p1.do("POST", path+"/enrolments", map[string]any{"id_number": number})
	got := decode[struct {
		ID       int64  `json:"id"`
		WorkerID int64  `json:"worker_id"`
		Status   string `json:"status"`
	}](t, body)
	if res.StatusCode != 201 || got.WorkerID != stranger || got.Status != "enrolled" {
		t.Fatalf("enrol by id_number: %d %s", res.StatusCode, body)
	}
	if res, body := p1.do("GET", workerPath, nil); res.StatusCode != 200 {
		t.Errorf("provider1 reads its new trainee: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "provider2").do("GET", workerPath, nil); res.StatusCode != 404 {
		t.Errorf("provider2 reads provider1's trainee: %d", res.StatusCode)
	}
	if res, body := p1.do("POST", fmt.Sprintf("/api/v1/enrolments/%d/withdraw", got.ID), nil); res.StatusCode != 200 {
		t.Fatalf("withdraw: %d %s", res.StatusCode, body)
	}
	if res, _ := p1.do("GET", workerPath, nil); res.StatusCode != 404 {
		t.Errorf("after withdrawal provider1 still reads the record: %d", res.StatusCode)
	}

	// The page's form takes the ID number, and the roster names the source.
	page := fmt.Sprintf("/classes/%d", c.ID)
	if _, body := p1.do("GET", page, nil); !strings.Contains(string(body), `name="id_number"`) || strings.Contains(string(body), `name="worker_id"`) {
		t.Errorf("the class page's enrol form does not take the ID number")
	}
	res, body = p1.do("POST", page+"/enrolments", "id_number="+number)
	if res.StatusCode != 200 || !strings.Contains(string(body), "报名：已报名") {
		t.Fatalf("enrol form: %d", res.StatusCode)
	}
	roster := string(body)[strings.Index(string(body), "学员名册"):]
	if !strings.Contains(roster, "<td>机构代报</td>") || strings.Contains(roster, "<td>provider</td>") {
		t.Errorf("the roster does not show the source in Chinese")
	}
	if !strings.Contains(string(body), "候补期间不能再报名日期与本班重叠") {
		t.Errorf("the class page does not say a waiting place blocks overlapping classes")
	}
	// The class has not started: no lessons yet.
	res, body = p1.do("POST", path+"/lessons", map[string]any{"date": day(0), "course_code": "LAW-01", "hours": 1, "present": []int64{got.ID}})
	if res.StatusCode != 409 || problemCode(t, body) != "class_not_running" {
		t.Errorf("hours in an open class: %d %s", res.StatusCode, body)
	}
	// Nor can a class be set up to have started already.
	res, body = p1.do("POST", "/api/v1/classes", map[string]any{"plan_code": "BYS-5", "name": "补开班",
		"starts_on": day(-1), "ends_on": day(3), "capacity": 5, "region": "420106"})
	if res.StatusCode != 422 || !strings.Contains(string(body), `"field":"starts_on"`) {
		t.Errorf("a class starting yesterday: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", page+"/enrolments", "id_number=12345")
	if res.StatusCode != 422 || !strings.Contains(string(body), `class="alert"`) {
		t.Errorf("enrol form with a bad number: %d", res.StatusCode)
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
		{p1, fmt.Sprintf("/classes/%d/lessons", running[0].ID), "记录新课次"},
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
			MinTotal    json.RawMessage `json:"min_total_hours"`
			PassMark    json.RawMessage `json:"pass_mark"`
			MaxAttempts json.RawMessage `json:"max_attempts"`
			Minimums    json.RawMessage `json:"minimums"`
		} `json:"current"`
	}](t, body)
	// What GET says is what PUT takes: the minimums as the same list.
	if !strings.HasPrefix(string(plan.Current.Minimums), `[{"category":"law","min_hours":`) {
		t.Fatalf("GET minimums: %s", plan.Current.Minimums)
	}
	// The demo enrolled workers under BYS-GQ: an edit makes a new version.
	in := map[string]any{"min_total_hours": plan.Current.MinTotal, "pass_mark": plan.Current.PassMark,
		"max_attempts": plan.Current.MaxAttempts, "minimums": plan.Current.Minimums}
	var courses []map[string]any
	for _, c := range plan.Current.Courses {
		courses = append(courses, map[string]any{"code": c.Code, "hours": c.Req})
	}
	in["courses"] = courses
	// A real edit of a version in use makes a new version; putting the old
	// values back then leaves the requirements as they were for the other
	// tests. (Putting back unchanged values makes no version at all: see
	// TestPlansRoundTrip.)
	var pass int
	if err := json.Unmarshal(plan.Current.PassMark, &pass); err != nil {
		t.Fatal(err)
	}
	edited := map[string]any{}
	for k, v := range in {
		edited[k] = v
	}
	edited["pass_mark"] = pass - 1
	res, body := admin.do("PUT", "/api/v1/plans/BYS-GQ", edited)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"new_version":true`) {
		t.Fatalf("edit BYS-GQ: %d %s", res.StatusCode, body)
	}
	if res, body := admin.do("PUT", "/api/v1/plans/BYS-GQ", in); res.StatusCode != 200 {
		t.Fatalf("edit BYS-GQ back: %d %s", res.StatusCode, body)
	}
	_, after := admin.do("GET", "/api/v1/plans/BYS-GQ", nil)
	if got := decode[struct {
		Current struct {
			Minimums json.RawMessage `json:"minimums"`
		} `json:"current"`
	}](t, after).Current.Minimums; string(got) != string(plan.Current.Minimums) {
		t.Errorf("minimums after the round trip: %s, want %s", got, plan.Current.Minimums)
	}
	// The old map shape is refused with a field error, not half understood.
	old := map[string]any{}
	for k, v := range in {
		old[k] = v
	}
	old["minimums"] = map[string]any{"law": 14}
	if res, body := admin.do("PUT", "/api/v1/plans/BYS-GQ", old); res.StatusCode != 422 || !strings.Contains(string(body), `"field":"minimums"`) {
		t.Errorf("minimums as a map: %d %s", res.StatusCode, body)
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

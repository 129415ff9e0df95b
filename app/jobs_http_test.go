package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/audit"
)

type jobJSON struct {
	Name    string    `json:"name"`
	Spec    string    `json:"spec"`
	NextRun time.Time `json:"next_run"`
	LastRun *struct {
		ID     int64  `json:"id"`
		Manual bool   `json:"manual"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"last_run"`
}

func jobByName(t *testing.T, c *client, name string) jobJSON {
	t.Helper()
	res, body := c.do("GET", "/api/v1/jobs", nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET /api/v1/jobs: %d %s", res.StatusCode, body)
	}
	list := decode[struct {
		Items []jobJSON `json:"items"`
		Total int       `json:"total"`
	}](t, body)
	if list.Total != len(list.Items) {
		t.Errorf("total %d, items %d", list.Total, len(list.Items))
	}
	for _, j := range list.Items {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("job %s not listed in %s", name, body)
	return jobJSON{}
}

func TestJobsRunNowThroughAPI(t *testing.T) {
	admin := login(t, "admin")
	before := jobByName(t, admin, "audit.verify")
	if before.Spec != "0 3 * * *" || !before.NextRun.After(time.Now()) {
		t.Fatalf("audit.verify = %+v", before)
	}

	res, body := admin.do("POST", "/api/v1/jobs/audit.verify/run", nil)
	if res.StatusCode != 202 {
		t.Fatalf("run now: %d %s", res.StatusCode, body)
	}
	started := decode[struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}](t, body)
	if started.Status != "running" {
		t.Errorf("started run status = %q", started.Status)
	}

	var last jobJSON
	for deadline := time.Now().Add(20 * time.Second); ; {
		last = jobByName(t, admin, "audit.verify")
		if last.LastRun != nil && last.LastRun.ID == started.ID && last.LastRun.Status != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d did not finish: %+v", started.ID, last.LastRun)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The job reports what the audit chain verification finds.
	want, err := audit.Verify(context.Background(), admin.a.DB)
	if err != nil {
		t.Fatal(err)
	}
	if want.OK && last.LastRun.Status != "ok" || !want.OK && !strings.Contains(last.LastRun.Error, "broken") {
		t.Errorf("audit.verify run = %+v, verification says %+v", last.LastRun, want)
	}
	if !last.LastRun.Manual {
		t.Error("run now not marked manual")
	}
	var audited int
	err = admin.a.DB.NewSelect().Table("audit_events").ColumnExpr("count(*)").
		Where("action = 'jobs.run' AND target_id = 'audit.verify' AND actor_label = 'admin'").Scan(context.Background(), &audited)
	if err != nil || audited == 0 {
		t.Errorf("jobs.run audit events by admin = %d, %v", audited, err)
	}
}

func TestJobsAccessAndBadInput(t *testing.T) {
	admin := login(t, "admin")
	for _, tc := range []struct {
		c      *client
		method string
		path   string
		status int
		code   string
	}{
		{anon(t), "GET", "/api/v1/jobs", 401, ""},
		{login(t, "provider1"), "GET", "/api/v1/jobs", 403, "forbidden_role"},
		{login(t, "hr_approver1"), "POST", "/api/v1/jobs/audit.verify/run", 403, "forbidden_role"},
		{admin, "POST", "/api/v1/jobs/no.such_job/run", 404, "job_not_found"},
		{admin, "GET", "/api/v1/jobs?per_page=500", 422, "invalid_pagination"},
	} {
		res, body := tc.c.do(tc.method, tc.path, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, res.StatusCode, body, tc.status)
			continue
		}
		if tc.code != "" && problemCode(t, body) != tc.code {
			t.Errorf("%s %s: code %q, want %q", tc.method, tc.path, problemCode(t, body), tc.code)
		}
	}
}

func TestJobsPage(t *testing.T) {
	admin := login(t, "admin")
	res, body := admin.do("GET", "/admin/jobs", nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET /admin/jobs: %d", res.StatusCode)
	}
	for _, want := range []string{"定时任务", "audit.verify", "0 3 * * *", "立即运行", `action="/admin/jobs/audit.verify/run"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %q", want)
		}
	}

	res, body = admin.do("POST", "/admin/jobs/accounts.expire_sessions/run", "_csrf="+admin.csrf)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/admin/jobs?started=accounts.expire_sessions" {
		t.Fatalf("run now form: %d %s %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	res, body = admin.do("GET", "/admin/jobs?started=accounts.expire_sessions", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "已开始运行 accounts.expire_sessions") {
		t.Errorf("page after run now: %d", res.StatusCode)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		j := jobByName(t, admin, "accounts.expire_sessions")
		if j.LastRun != nil && j.LastRun.Status == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("accounts.expire_sessions did not finish ok: %+v", j.LastRun)
		}
		time.Sleep(50 * time.Millisecond)
	}

	res, _ = login(t, "provider1").do("GET", "/admin/jobs", nil)
	if res.StatusCode != 403 {
		t.Errorf("provider1 GET /admin/jobs: %d, want 403", res.StatusCode)
	}
}

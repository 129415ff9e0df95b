package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

type claimItem struct {
	ID            int64   `json:"id"`
	WorkerID      int64   `json:"worker_id"`
	CertificateID int64   `json:"certificate_id"`
	Subsidy       string  `json:"subsidy"`
	Status        string  `json:"status"`
	Region        string  `json:"region"`
	NoticeEndsOn  *string `json:"notice_ends_on"`
	ReviewerID    int64   `json:"reviewer_id"`
}

type claimList struct {
	Items []claimItem `json:"items"`
	Total int         `json:"total"`
}

// claimIn returns a demo claim in status visible to c.
func claimIn(t *testing.T, c *client, status string) claimItem {
	t.Helper()
	res, body := c.do("GET", "/api/v1/claims?status="+status, nil)
	if res.StatusCode != 200 {
		t.Fatalf("list %s: %d %s", status, res.StatusCode, body)
	}
	l := decode[claimList](t, body)
	if len(l.Items) == 0 {
		t.Fatalf("no demo claim in status %s", status)
	}
	return l.Items[0]
}

func TestClaimsDemoHasEveryPreBatchStatusInWuhan(t *testing.T) {
	rev := login(t, "hr_reviewer1")
	for _, st := range []string{"submitted", "reviewed", "notice", "payable", "rejected"} {
		if it := claimIn(t, rev, st); !strings.HasPrefix(it.Region, "4201") {
			t.Errorf("%s claim in region %s, want 武汉", st, it.Region)
		}
	}
	// 宜昌's claims are outside 武汉's scope: 404, not 403.
	yc := login(t, "hr_reviewer2")
	other := claimIn(t, yc, "submitted")
	if res, body := rev.do("GET", fmt.Sprintf("/api/v1/claims/%d", other.ID), nil); res.StatusCode != 404 || problemCode(t, body) != "claim_not_found" {
		t.Fatalf("out of scope: %d %s", res.StatusCode, body)
	}
	// worker1 sees their own claim and nothing else.
	w1 := login(t, "worker1")
	res, body := w1.do("GET", "/api/v1/claims", nil)
	if l := decode[claimList](t, body); res.StatusCode != 200 || l.Total < 1 {
		t.Fatalf("worker1 claims: %d %s", res.StatusCode, body)
	}
	if res, _ := w1.do("GET", fmt.Sprintf("/api/v1/claims/%d", other.ID), nil); res.StatusCode != 404 {
		t.Fatalf("worker reading another's claim: %d", res.StatusCode)
	}
	// The public notice page masks names.
	res, body = anon(t).do("GET", "/api/v1/notices?region=420100", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"name_masked"`) || strings.Contains(string(body), `"worker_name"`) {
		t.Fatalf("notices: %d %s", res.StatusCode, body)
	}
	if res, body := anon(t).do("GET", "/api/v1/notices?region=110000", nil); res.StatusCode != 422 || problemCode(t, body) != "invalid_region" {
		t.Fatalf("notices outside Hubei: %d %s", res.StatusCode, body)
	}
	for _, path := range []string{"/notices", "/claims", "/me/subsidies"} {
		c := w1
		if path == "/notices" {
			c = anon(t)
		}
		if res, body := c.do("GET", path, nil); res.StatusCode != 200 {
			t.Errorf("page %s: %d %s", path, res.StatusCode, body)
		}
	}
	if res, body := rev.do("GET", fmt.Sprintf("/claims/%d", claimIn(t, rev, "reviewed").ID), nil); res.StatusCode != 200 || !strings.Contains(string(body), "提交时的核定结果") {
		t.Errorf("claim page: %d", res.StatusCode)
	}
}

func TestClaimsBadInputNeverFails5xx(t *testing.T) {
	rev, appr, w1 := login(t, "hr_reviewer1"), login(t, "hr_approver1"), login(t, "worker1")
	cases := []struct {
		c      *client
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{w1, "POST", "/api/v1/claims", map[string]any{"certificate_id": 1, "subsidy": "housing"}, 422, "invalid_subsidy"},
		{w1, "POST", "/api/v1/claims", map[string]any{"certificate_id": 99999999, "subsidy": "training"}, 404, "certificate_not_found"},
		{w1, "POST", "/api/v1/claims", map[string]any{"subsidy": "training"}, 422, "validation_failed"},
		{w1, "POST", "/api/v1/claims", `{"certificate_id": "x"`, 400, "malformed_json"},
		{w1, "GET", "/api/v1/claims?status=done", nil, 422, "invalid_filter"},
		{w1, "POST", "/api/v1/claims/1/review", map[string]any{"decision": "pass"}, 403, "forbidden_role"},
		{rev, "POST", "/api/v1/claims/1/approve", map[string]any{"decision": "approve"}, 403, "forbidden_role"},
		{anon(t), "GET", "/api/v1/claims", nil, 401, ""},
	}
	for i, tc := range cases {
		r, body := tc.c.do(tc.method, tc.path, tc.body)
		if r.StatusCode != tc.status || (tc.code != "" && problemCode(t, body) != tc.code) {
			t.Errorf("case %d %s %s: %d %s, want %d %s", i, tc.method, tc.path, r.StatusCode, body, tc.status, tc.code)
		}
	}
	// Another worker's certificate is not found for worker1.
	_, body := w1.do("GET", "/api/v1/claims", nil)
	mine := decode[claimList](t, body).Items[0].WorkerID
	var other claimItem
	_, body = rev.do("GET", "/api/v1/claims?per_page=200", nil)
	for _, it := range decode[claimList](t, body).Items {
		if it.WorkerID != mine {
			other = it
		}
	}
	if r, body := w1.do("POST", "/api/v1/claims", map[string]any{"certificate_id": other.CertificateID, "subsidy": "appraisal"}); r.StatusCode != 404 || problemCode(t, body) != "certificate_not_found" {
		t.Errorf("another's certificate: %d %s", r.StatusCode, body)
	}
	// Approving a rejected claim; a rejection without a reason.
	rejected := claimIn(t, rev, "rejected")
	if r, body := appr.do("POST", fmt.Sprintf("/api/v1/claims/%d/approve", rejected.ID), map[string]any{"decision": "approve"}); r.StatusCode != 409 || problemCode(t, body) != "invalid_status" {
		t.Errorf("approve rejected: %d %s", r.StatusCode, body)
	}
	submitted := claimIn(t, rev, "submitted")
	if r, body := rev.do("POST", fmt.Sprintf("/api/v1/claims/%d/review", submitted.ID), map[string]any{"decision": "reject", "reason": ""}); r.StatusCode != 422 || !strings.Contains(string(body), `"reason"`) {
		t.Errorf("reject without reason: %d %s", r.StatusCode, body)
	}
	if r, body := rev.do("POST", fmt.Sprintf("/api/v1/claims/%d/review", submitted.ID), map[string]any{"decision": "maybe"}); r.StatusCode != 422 || problemCode(t, body) != "validation_failed" {
		t.Errorf("bad decision: %d %s", r.StatusCode, body)
	}
}

// The reviewer of a claim, when also an approver, cannot approve it.
func TestClaimsFourEyesOverHTTP(t *testing.T) {
	rev, a1, a2 := login(t, "hr_reviewer1"), login(t, "hr_approver1"), login(t, "hr_approver2")
	var target claimItem
	res, body := rev.do("GET", "/api/v1/claims?status=submitted&per_page=200", nil)
	for _, it := range decode[claimList](t, body).Items {
		if it.Region != "" && strings.HasPrefix(it.Region, "4201") {
			target = it
		}
	}
	if res.StatusCode != 200 || target.ID == 0 {
		t.Fatalf("no submitted 武汉 claim: %d %s", res.StatusCode, body)
	}
	path := fmt.Sprintf("/api/v1/claims/%d", target.ID)
	if r, body := a1.do("POST", path+"/review", map[string]any{"decision": "pass"}); r.StatusCode != 200 {
		t.Fatalf("approver's first review: %d %s", r.StatusCode, body)
	} else {
		matchesSchema(t, "POST", "/api/v1/claims/{id}/review", r.StatusCode, body)
	}
	if r, body := a1.do("POST", path+"/approve", map[string]any{"decision": "approve"}); r.StatusCode != 403 || problemCode(t, body) != "four_eyes" {
		t.Fatalf("same person approving: %d %s", r.StatusCode, body)
	}
	r, body := a2.do("POST", path+"/approve", map[string]any{"decision": "approve"})
	if r.StatusCode != 200 {
		t.Fatalf("second approver: %d %s", r.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/claims/{id}/approve", r.StatusCode, body)
	got := decode[claimItem](t, body)
	if got.Status != "notice" || got.NoticeEndsOn == nil || !strings.Contains(string(body), `"changes"`) {
		t.Fatalf("after approval: %s", body)
	}
	// The worker's eligibility page answers from stored facts.
	if r, body := rev.do("GET", fmt.Sprintf("/api/v1/workers/%d/eligibility", target.WorkerID), nil); r.StatusCode != 200 || !strings.Contains(string(body), `"fact_sources"`) {
		t.Fatalf("eligibility: %d %s", r.StatusCode, body)
	}
	// An objection during 公示 sends it back to review.
	r, body = rev.do("POST", path+"/objection", map[string]any{"reason": "群众反映信息有误"})
	if r.StatusCode != 200 || decode[claimItem](t, body).Status != "submitted" {
		t.Fatalf("objection: %d %s", r.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/claims/{id}/objection", r.StatusCode, body)
}

func TestClaimsProposalsOverHTTP(t *testing.T) {
	rev := login(t, "hr_reviewer1")
	res, body := rev.do("GET", "/api/v1/claims/proposals", nil)
	type prop struct {
		ID           int64  `json:"id"`
		WindowEndsOn string `json:"window_ends_on"`
	}
	l := decode[struct {
		Items []prop `json:"items"`
		Total int    `json:"total"`
	}](t, body)
	if res.StatusCode != 200 || l.Total == 0 || l.Items[0].WindowEndsOn == "" {
		t.Fatalf("demo proposals: %d %s", res.StatusCode, body)
	}
	if res, body := rev.do("GET", "/claims/proposals", nil); res.StatusCode != 200 || !strings.Contains(string(body), "受理所选") {
		t.Fatalf("proposals page: %d", res.StatusCode)
	}
	res, body = rev.do("POST", "/api/v1/claims/proposals/accept", map[string]any{"proposal_ids": []int64{l.Items[0].ID}})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("accept: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/claims/proposals/accept", res.StatusCode, body)
	if res, body := rev.do("POST", "/api/v1/claims/proposals/accept", map[string]any{"proposal_ids": []int64{}}); res.StatusCode != 422 {
		t.Fatalf("accept nothing: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "hr_approver1").do("GET", "/api/v1/claims/proposals", nil); res.StatusCode != 403 {
		t.Fatalf("approver on proposals: %d", res.StatusCode)
	}
}

func TestInsuranceImportPreviewAndCommit(t *testing.T) {
	rev := login(t, "hr_reviewer1")
	a := testApp(t)
	p, err := a.Accounts.PrincipalByUsername(context.Background(), "hr_reviewer1")
	if err != nil {
		t.Fatal(err)
	}
	inScope := workerstest.IDNumber("420106")
	wk, err := a.Workers.Register(context.Background(), &p, workers.RegisterInput{Name: "社保测试", IDNumber: inScope})
	if err != nil {
		t.Fatal(err)
	}
	unknown := workerstest.IDNumber("420102")
	csv := "身份证号,累计缴费月数,截至日期\n" +
		inScope + ",26,2026-11-30\n" + // row 2: good
		"420106199001011234,12,2026-11-30\n" + // row 3: bad check digit (most likely)
		unknown + ",12,2026-11-30\n" + // row 4: nobody on file
		inScope + ",27,2026-11-30\n" + // row 5: duplicate
		inScope[:17] + "X,abc,2026-13-01\n" // row 6: months and date
	res, body := rev.upload("/api/v1/insurance/import", "社保.csv", []byte(csv))
	if res.StatusCode != 201 {
		t.Fatalf("preview: %d %s", res.StatusCode, body)
	}
	matchesSchema(t, "POST", "/api/v1/insurance/import", res.StatusCode, body)
	imp := decode[struct {
		ID          int64 `json:"id"`
		RowsValid   int   `json:"rows_valid"`
		RowsInvalid int   `json:"rows_invalid"`
		Errors      []struct {
			Row   int    `json:"row"`
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"errors"`
	}](t, body)
	rows := map[int][]string{}
	for _, e := range imp.Errors {
		rows[e.Row] = append(rows[e.Row], e.Code)
	}
	if imp.RowsValid != 1 || len(rows[2]) != 0 || len(rows[4]) == 0 || rows[4][0] != "worker_not_found" ||
		len(rows[5]) == 0 || rows[5][0] != "duplicate" || len(rows[6]) < 2 {
		t.Fatalf("preview rows: %s", body)
	}
	// Nothing written before commit.
	if w, _ := a.Workers.ByID(context.Background(), &p, wk.ID); w.InsuredMonths != nil {
		t.Fatalf("months written by the preview")
	}
	path := fmt.Sprintf("/api/v1/insurance/import/%d/commit", imp.ID)
	for i := 0; i < 2; i++ { // a repeated commit changes nothing
		if res, body := rev.do("POST", path, nil); res.StatusCode != 200 || !strings.Contains(string(body), `"rows_updated":1`) {
			t.Fatalf("commit %d: %d %s", i, res.StatusCode, body)
		} else {
			matchesSchema(t, "POST", "/api/v1/insurance/import/{id}/commit", res.StatusCode, body)
		}
	}
	w, _ := a.Workers.ByID(context.Background(), &p, wk.ID)
	if w.InsuredMonths == nil || *w.InsuredMonths != 26 || w.InsuredMonthsSetBy != workers.FactByHRImport {
		t.Fatalf("after commit: %v by %q", w.InsuredMonths, w.InsuredMonthsSetBy)
	}
	// Bad uploads: no file, not a table; other roles refused.
	if res, body := rev.do("POST", "/api/v1/insurance/import", nil); res.StatusCode != 422 || problemCode(t, body) != "file_required" {
		t.Fatalf("no file: %d %s", res.StatusCode, body)
	}
	if res, body := rev.upload("/api/v1/insurance/import", "x.csv", []byte("姓名,电话\n张三,1\n")); res.StatusCode >= 500 || res.StatusCode < 400 {
		t.Fatalf("wrong columns: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "hr_approver1").upload("/api/v1/insurance/import", "社保.csv", []byte(csv)); res.StatusCode != 403 {
		t.Fatalf("approver import: %d", res.StatusCode)
	}
}

// The claims list pages by cursor like the workers list: next_cursor on a
// page that has a next, ?after= resumes below the last claim, the page
// links carry it, and a cursor the server did not hand out is a 422.
func TestClaimsListCursorOverHTTP(t *testing.T) {
	rev := login(t, "hr_reviewer1")
	type page struct {
		Items           []claimItem `json:"items"`
		Total           int         `json:"total"`
		TotalIsEstimate bool        `json:"total_is_estimate"`
		NextCursor      string      `json:"next_cursor"`
	}
	res, body := rev.do("GET", "/api/v1/claims?per_page=1", nil)
	first := decode[page](t, body)
	if res.StatusCode != 200 || len(first.Items) != 1 || first.Total < 2 || first.TotalIsEstimate || first.NextCursor == "" {
		t.Fatalf("first page: %d %s", res.StatusCode, body)
	}
	res, body = rev.do("GET", "/api/v1/claims?per_page=1&after="+first.NextCursor, nil)
	second := decode[page](t, body)
	if res.StatusCode != 200 || len(second.Items) != 1 || second.Items[0].ID >= first.Items[0].ID {
		t.Fatalf("page after %d: %d %s", first.Items[0].ID, res.StatusCode, body)
	}
	if res, body := rev.do("GET", "/claims?per_page=1", nil); res.StatusCode != 200 || !strings.Contains(string(body), "after="+first.NextCursor) {
		t.Fatalf("list page has no next link with the cursor: %d", res.StatusCode)
	}
	if res, body := rev.do("GET", "/api/v1/claims?after=bogus", nil); res.StatusCode != 422 || !strings.Contains(string(body), "invalid_cursor") {
		t.Fatalf("bad cursor: %d %s", res.StatusCode, body)
	}
	if res, body := rev.do("GET", "/api/v1/claims/proposals?after=bogus", nil); res.StatusCode != 422 || !strings.Contains(string(body), "invalid_cursor") {
		t.Fatalf("bad proposals cursor: %d %s", res.StatusCode, body)
	}
}

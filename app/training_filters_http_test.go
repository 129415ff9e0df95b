package app

import (
	"fmt"
	"strings"
	"testing"
)

// TestTrainingListFiltersNameTheParameter: the class, enrolment, waiting
// list and lesson lists answer an unknown filter value with 422
// invalid_filter naming the parameter, on the API and the pages, instead of
// an empty or unfiltered list; known values still answer 200 (issue 9,
// item 3).
func TestTrainingListFiltersNameTheParameter(t *testing.T) {
	p1, w1, hr := login(t, "provider1"), login(t, "worker1"), login(t, "hr_reviewer1")
	_, body := p1.do("GET", "/api/v1/classes?state=running", nil)
	running := decode[struct {
		Items []classBody `json:"items"`
	}](t, body).Items[0]
	cls := fmt.Sprintf("/api/v1/classes/%d", running.ID)
	for _, tc := range []struct {
		who        *client
		path, good string
		fields     []string
	}{
		{p1, "/api/v1/classes?state=bogus&plan=NOPE", "/api/v1/classes?state=running&plan=BYS-ZG", []string{"state", "plan"}},
		{p1, "/api/v1/classes?from=2026-02-30&region=wuhan", "/api/v1/classes?from=2026-02-28&region=420106", []string{"from", "region"}},
		{w1, "/api/v1/classes/search?city=NOPE&plan=XYZ", "/api/v1/classes/search?city=420100&plan=bys-gq", []string{"city", "plan"}},
		{p1, "/classes?state=bogus", "/classes?state=open", []string{"state"}},
		{w1, "/classes/search?plan=NOPE", "/classes/search?plan=BYS-GQ", []string{"plan"}},
		{hr, "/api/v1/plan-waitlist?plan=NOPE&region=x", "/api/v1/plan-waitlist?plan=FZR-GW&region=420500", []string{"plan", "region"}},
		{hr, "/classes/waitlist?plan=NOPE", "/classes/waitlist?plan=FZR-GW", []string{"plan"}},
		{w1, "/api/v1/enrolments?status=bogus", "/api/v1/enrolments?status=completed", []string{"status"}},
		{p1, cls + "/enrolments?status=gone", cls + "/enrolments?status=enrolled", []string{"status"}},
		{p1, cls + "/lessons?course=NOPE-01&from=yesterday", cls + "/lessons?course=LAW-01&from=2026-01-01", []string{"course", "from"}},
	} {
		res, body := tc.who.do("GET", tc.path, nil)
		if res.StatusCode != 422 || problemOrPageCode(body) != "invalid_filter" {
			t.Errorf("%s: %d %.300s", tc.path, res.StatusCode, body)
			continue
		}
		if strings.HasPrefix(tc.path, "/api/") {
			for _, f := range tc.fields {
				if !strings.Contains(string(body), `"field":"`+f+`","code":"invalid_filter"`) {
					t.Errorf("%s: the problem does not name %s: %s", tc.path, f, body)
				}
			}
		}
		if res, body := tc.who.do("GET", tc.good, nil); res.StatusCode != 200 {
			t.Errorf("%s: %d %.300s", tc.good, res.StatusCode, body)
		}
	}
	// The filters filter: the waiting list of 宜昌 holds only 4205xx.
	_, body = hr.do("GET", "/api/v1/plan-waitlist?region=420500", nil)
	if strings.Contains(string(body), `"region":"4201`) {
		t.Errorf("region=420500 lists other regions: %s", body)
	}
	_, body = w1.do("GET", "/api/v1/enrolments?status=completed", nil)
	if strings.Contains(string(body), `"status":"enrolled"`) || !strings.Contains(string(body), `"status":"completed"`) {
		t.Errorf("status=completed: %s", body)
	}
}

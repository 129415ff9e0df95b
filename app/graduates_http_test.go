package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"tuoyu/modules/attendance"
)

// TestCollegeSeesGraduatesProgress: a college sees, read-only, the class
// progress of its own graduates (enrolment, hours per category, completion,
// and the assessment outcome once a module reports it), on the page and in
// the API; another college does not (issue 9, item 5).
func TestCollegeSeesGraduatesProgress(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	p1, c1, c2 := login(t, "provider1"), login(t, "college1"), login(t, "college2")
	_, body := p1.do("GET", "/api/v1/classes?state=running", nil)
	running := decode[struct {
		Items []classBody `json:"items"`
	}](t, body).Items[0]
	_, body = p1.do("GET", fmt.Sprintf("/api/v1/classes/%d/enrolments?status=enrolled", running.ID), nil)
	e := decode[struct {
		Items []struct {
			ID         int64  `json:"id"`
			WorkerID   int64  `json:"worker_id"`
			WorkerName string `json:"worker_name"`
		} `json:"items"`
	}](t, body).Items[0]
	// The worker came from college1's roster.
	if _, err := a.DB.NewRaw("UPDATE workers SET college_org_id = (SELECT id FROM organisations WHERE code = 'college1') WHERE id = ?", e.WorkerID).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	type graduate struct {
		ID       int64  `json:"id"`
		WorkerID int64  `json:"worker_id"`
		Status   string `json:"status"`
		Progress struct {
			Categories []struct {
				Category string  `json:"category"`
				Done     float64 `json:"done_hours"`
			} `json:"categories"`
			Total float64 `json:"total_hours"`
		} `json:"progress"`
		Outcome *struct {
			Label string `json:"label"`
		} `json:"outcome"`
	}
	find := func(c *client, query string) (*graduate, int) {
		res, body := c.do("GET", "/api/v1/graduates/progress?per_page=200"+query, nil)
		if res.StatusCode != 200 {
			t.Fatalf("graduates: %d %s", res.StatusCode, body)
		}
		list := decode[struct {
			Items []graduate `json:"items"`
			Total int        `json:"total"`
		}](t, body)
		for i := range list.Items {
			if list.Items[i].ID == e.ID {
				return &list.Items[i], list.Total
			}
		}
		return nil, list.Total
	}
	g, _ := find(c1, "")
	if g == nil || len(g.Progress.Categories) == 0 || g.Progress.Total <= 0 || g.Outcome != nil {
		t.Fatalf("college1 does not see its graduate's progress: %+v", g)
	}
	if g, _ := find(c1, "&status=completed"); g != nil {
		t.Errorf("status=completed lists an enrolled graduate")
	}
	if g, _ := find(c2, ""); g != nil {
		t.Errorf("college2 sees college1's graduate")
	}
	if res, _ := c1.do("GET", fmt.Sprintf("/api/v1/enrolments/%d", e.ID), nil); res.StatusCode != 200 {
		t.Errorf("college1 opens its graduate's enrolment: %d", res.StatusCode)
	}
	if res, _ := c2.do("GET", fmt.Sprintf("/api/v1/enrolments/%d", e.ID), nil); res.StatusCode != 404 {
		t.Errorf("college2 opens college1's graduate's enrolment: %d", res.StatusCode)
	}
	if res, _ := p1.do("GET", "/api/v1/graduates/progress", nil); res.StatusCode != 403 {
		t.Errorf("a provider reads the graduates' progress: %d", res.StatusCode)
	}
	if res, body := c1.do("GET", "/api/v1/graduates/progress?status=bogus", nil); res.StatusCode != 422 || problemCode(t, body) != "invalid_filter" {
		t.Errorf("status=bogus: %d %s", res.StatusCode, body)
	}
	// Read-only: the college cannot record or correct anything.
	if res, _ := c1.do("POST", fmt.Sprintf("/api/v1/classes/%d/lessons", running.ID), map[string]any{}); res.StatusCode != 403 {
		t.Errorf("college1 records a lesson: %d", res.StatusCode)
	}

	// The page lists the graduate; the progress page opens without forms.
	res, page := c1.do("GET", "/graduates", nil)
	if res.StatusCode != 200 || !strings.Contains(string(page), e.WorkerName) || !strings.Contains(string(page), fmt.Sprintf(`href="/enrolments/%d"`, e.ID)) {
		t.Errorf("graduates page: %d", res.StatusCode)
	}
	if res, body := c1.do("GET", fmt.Sprintf("/enrolments/%d", e.ID), nil); res.StatusCode != 200 || strings.Contains(string(body), `method="post"`) && strings.Contains(string(body), "/withdraw") {
		t.Errorf("progress page for the college: %d", res.StatusCode)
	}
	// It names the class without linking to it: the class page is the
	// provider's, and would answer the college 404.
	classLink := fmt.Sprintf(`href="/classes/%d"`, running.ID)
	if _, body := c1.do("GET", fmt.Sprintf("/enrolments/%d", e.ID), nil); !strings.Contains(string(body), running.Name) || strings.Contains(string(body), classLink) {
		t.Errorf("college1's progress page should name class %q without %s", running.Name, classLink)
	}
	if _, body := p1.do("GET", fmt.Sprintf("/enrolments/%d", e.ID), nil); !strings.Contains(string(body), classLink) {
		t.Errorf("the provider's progress page should link its class (%s)", classLink)
	}

	// The extension point: once a module reports outcomes, they show.
	a.Attendance.SetOutcomes(func(_ context.Context, _ bun.IDB, ids []int64) (map[int64]attendance.Outcome, error) {
		out := map[int64]attendance.Outcome{}
		for _, id := range ids {
			out[id] = attendance.Outcome{Label: "理论 82 分，通过"}
		}
		return out, nil
	})
	t.Cleanup(a.wireChain) // back to the assessments' outcomes
	if g, _ := find(c1, ""); g == nil || g.Outcome == nil || g.Outcome.Label != "理论 82 分，通过" {
		t.Errorf("outcome not shown: %+v", g)
	}
	if _, page := c1.do("GET", "/graduates", nil); !strings.Contains(string(page), "理论 82 分，通过") {
		t.Errorf("the graduates page does not show the outcome")
	}
}

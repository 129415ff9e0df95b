package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"tuoyu/docs"
)

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml and the registered API
// routes in step: every /api/v1 route is documented and every documented
// operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := testApp(t)
	var doc struct {
		OpenAPI string                            `yaml:"openapi"`
		Paths   map[string]map[string]interface{} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)\??`)
	registered := map[string]bool{}
	for _, r := range a.Fiber.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" || r.Method == "USE" {
			continue
		}
		registered[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, stale []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if strings.Contains(k, " /api/v1/") && !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("documented operations with no route:\n  %s", strings.Join(stale, "\n  "))
	}
	if len(registered) < 10 {
		t.Fatalf("only %d API routes found: the walk is broken", len(registered))
	}
}

func TestOpenAPIServed(t *testing.T) {
	res, body := anon(t).do("GET", "/api/openapi.yaml", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "openapi: 3") {
		t.Fatalf("GET /api/openapi.yaml = %d", res.StatusCode)
	}
}

// validateOpenAPI checks a description against the OpenAPI 3 specification
// (structure, references, schemas, examples), in Go so the test needs no
// Python validator.
func validateOpenAPI(data []byte) error {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return err
	}
	return doc.Validate(context.Background())
}

// TestOpenAPIIsValid keeps docs/openapi.yaml usable by client generators.
func TestOpenAPIIsValid(t *testing.T) {
	if err := validateOpenAPI(docs.OpenAPI); err != nil {
		t.Fatalf("docs/openapi.yaml is not valid OpenAPI 3: %v", err)
	}
	// The check catches the mistake that once slipped in: an unquoted flow
	// mapping whose commas turn words into keys of a schema.
	quoted := []byte(`description: "overrides detection (BOM, strict UTF-8, GB18030)"`)
	if !bytes.Contains(docs.OpenAPI, quoted) {
		t.Fatal("the roster upload's encoding description moved: update this test")
	}
	broken := bytes.Replace(docs.OpenAPI, quoted, []byte(`description: overrides detection (BOM, strict UTF-8, GB18030)`), 1)
	if err := validateOpenAPI(broken); err == nil {
		t.Fatal("an unquoted flow mapping with commas passed the validation")
	}
}

// TestOpenAPIResponsesMatchSchemas checks real answers of the demo world
// against the schemas the file documents, so a field renamed in a handler
// and not in the file (or the reverse) fails here.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	// A demo certificate of worker1 names the paths with an id and a code.
	_, body := login(t, "worker1").do("GET", "/api/v1/me/certificates", nil)
	mine := decode[struct {
		Items []struct {
			ID         int64  `json:"id"`
			VerifyCode string `json:"verify_code"`
		} `json:"items"`
	}](t, body).Items
	if len(mine) == 0 {
		t.Fatal("worker1 holds no demo certificate")
	}
	// Claims in several states (a re-evaluated one has changes, a rejected
	// one a reason), a worker with claims and a batch with claims. The
	// oldest of a status is the demo's, made through the service: other
	// tests of the package add claims with an empty snapshot
	// (claimstest.Kit), which the application never writes.
	claimOf := func(status string) (id, worker int64) {
		_, body := login(t, "hr_reviewer1").do("GET", "/api/v1/claims?per_page=200&status="+status, nil)
		items := decode[struct {
			Items []struct {
				ID       int64 `json:"id"`
				WorkerID int64 `json:"worker_id"`
			} `json:"items"`
		}](t, body).Items
		if len(items) == 0 {
			t.Fatalf("the demo has no %s claim in 武汉", status)
		}
		oldest := items[0]
		for _, it := range items[1:] {
			if it.ID < oldest.ID {
				oldest = it
			}
		}
		return oldest.ID, oldest.WorkerID
	}
	reviewed, worker := claimOf("reviewed")
	rejected, _ := claimOf("rejected")
	inNotice, _ := claimOf("notice")
	_, body = login(t, "hr_approver1").do("GET", "/api/v1/payout-batches", nil)
	batches := decode[struct {
		Items []struct {
			ID     int64 `json:"id"`
			Claims int   `json:"claims"`
		} `json:"items"`
	}](t, body).Items
	if len(batches) == 0 || batches[0].Claims == 0 {
		t.Fatalf("the demo has no payout batch with claims: %+v", batches)
	}
	claimPath := func(id int64) string { return fmt.Sprintf("/api/v1/claims/%d", id) }
	for _, r := range []struct{ user, path, template string }{
		{"hr_reviewer1", "/api/v1/claims", "/api/v1/claims"},
		{"worker1", "/api/v1/claims", "/api/v1/claims"},
		{"hr_reviewer1", claimPath(reviewed), "/api/v1/claims/{id}"},
		{"hr_reviewer1", claimPath(rejected), "/api/v1/claims/{id}"},
		{"hr_reviewer1", claimPath(inNotice), "/api/v1/claims/{id}"},
		{"hr_reviewer1", "/api/v1/claims/proposals", "/api/v1/claims/proposals"},
		{"hr_reviewer1", fmt.Sprintf("/api/v1/workers/%d/eligibility", worker), "/api/v1/workers/{id}/eligibility"},
		{"", "/api/v1/notices?region=420100", "/api/v1/notices"},
		{"hr_reviewer1", "/api/v1/stats", "/api/v1/stats"},
		{"admin", "/api/v1/stats?region=420000", "/api/v1/stats"},
		{"admin", "/api/v1/payout-budgets", "/api/v1/payout-budgets"},
		{"hr_approver1", "/api/v1/payout-batches", "/api/v1/payout-batches"},
		{"hr_approver1", fmt.Sprintf("/api/v1/payout-batches/%d", batches[0].ID), "/api/v1/payout-batches/{id}"},
		{"admin", "/api/v1/session", "/api/v1/session"},
		{"hr_reviewer1", "/api/v1/workers?per_page=5", "/api/v1/workers"},
		{"worker1", "/api/v1/me/worker", "/api/v1/me/worker"},
		{"provider1", "/api/v1/classes", "/api/v1/classes"},
		{"worker1", "/api/v1/classes/search", "/api/v1/classes/search"},
		{"provider1", "/api/v1/classes/1", "/api/v1/classes/{id}"},
		{"provider1", "/api/v1/classes/1/enrolments", "/api/v1/classes/{id}/enrolments"},
		{"worker1", "/api/v1/enrolments", "/api/v1/enrolments"},
		{"provider1", "/api/v1/classes/2/lessons", "/api/v1/classes/{id}/lessons"},
		{"college1", "/api/v1/graduates/progress", "/api/v1/graduates/progress"},
		{"worker1", "/api/v1/enrolments/1/history", "/api/v1/enrolments/{id}/history"},
		{"provider1", "/api/v1/plan-waitlist", "/api/v1/plan-waitlist"},
		{"college1", "/api/v1/rosters", "/api/v1/rosters"},
		{"college1", "/api/v1/rosters/1", "/api/v1/rosters/{id}"},
		{"college1", "/api/v1/rosters/1/rows", "/api/v1/rosters/{id}/rows"},
		{"regulator1", "/api/v1/bans", "/api/v1/bans"},
		{"regulator1", "/api/v1/institutions", "/api/v1/institutions"},
		{"admin", "/api/v1/courses", "/api/v1/courses"},
		{"admin", "/api/v1/plans", "/api/v1/plans"},
		{"admin", "/api/v1/plans/BYS-5", "/api/v1/plans/{code}"},
		{"admin", "/api/v1/users", "/api/v1/users"},
		{"admin", "/api/v1/organisations", "/api/v1/organisations"},
		{"admin", "/api/v1/regions", "/api/v1/regions"},
		{"admin", "/api/v1/jobs", "/api/v1/jobs"},
		{"admin", "/api/v1/audit-events?per_page=5", "/api/v1/audit-events"},
		{"admin", "/api/v1/tokens", "/api/v1/tokens"},
		{"worker1", "/api/v1/notifications", "/api/v1/notifications"},
		{"admin", "/api/v1/calendar/2026", "/api/v1/calendar/{year}"},
		{"admin", "/api/v1/calendar/working-days?from=2026-09-29&add=5", "/api/v1/calendar/working-days"},
		{"worker1", "/api/v1/me/certificates", "/api/v1/me/certificates"},
		{"provider1", "/api/v1/certificates?per_page=5", "/api/v1/certificates"},
		{"worker1", fmt.Sprintf("/api/v1/certificates/%d", mine[0].ID), "/api/v1/certificates/{id}"},
		{"admin", "/api/v1/verify/" + mine[0].VerifyCode, "/api/v1/verify/{code}"},
		{"admin", "/api/v1/verify/key", "/api/v1/verify/key"},
		{"admin", "/api/v1/certificate-templates", "/api/v1/certificate-templates"},
	} {
		c := anon(t)
		if r.user != "" {
			c = login(t, r.user)
		}
		res, body := c.do("GET", r.path, nil)
		if res.StatusCode != 200 {
			t.Errorf("GET %s as %s: %d %s", r.path, r.user, res.StatusCode, body)
			continue
		}
		matchesSchema(t, "GET", r.template, res.StatusCode, body)
	}
}

var openAPIDoc = sync.OnceValues(func() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(docs.OpenAPI)
})

// matchesSchema fails the test unless body, the answer with status of the
// operation method template (e.g. "POST", "/api/v1/claims/{id}/approve"),
// is valid against the JSON schema docs/openapi.yaml gives for it. Schemas
// with additionalProperties: false also fail on a field the file does not
// name.
func matchesSchema(t testing.TB, method, template string, status int, body []byte) {
	t.Helper()
	doc, err := openAPIDoc()
	if err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	item := doc.Paths.Find(template)
	if item == nil || item.GetOperation(method) == nil {
		t.Errorf("%s %s: not documented", method, template)
		return
	}
	resp := item.GetOperation(method).Responses.Status(status)
	if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
		t.Errorf("%s %s: %d has no JSON schema", method, template, status)
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: %v", method, template, err)
		return
	}
	if err := resp.Value.Content.Get("application/json").Schema.Value.VisitJSON(v); err != nil {
		t.Errorf("%s %s (%d) does not match its schema: %v", method, template, status, err)
	}
}

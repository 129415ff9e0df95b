package app

import (
	"bytes"
	"context"
	"regexp"
	"sort"
	"strings"
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

package app

import (
	"strings"
	"testing"
)

// TestListFiltersNameTheParameter: a list filter with a value the list does
// not know answers 422 invalid_filter naming the parameter, on the API and
// on the page, instead of an empty or unfiltered list; known values still
// answer 200. (The lists of classes, enrolments and waiting lists are
// checked where they live.)
func TestListFiltersNameTheParameter(t *testing.T) {
	admin, reg := login(t, "admin"), login(t, "regulator1")
	for _, tc := range []struct {
		who        *client
		path, good string
		fields     []string
	}{
		{reg, "/api/v1/bans?status=bogus", "/api/v1/bans?status=lift_requested", []string{"status"}},
		{reg, "/bans?status=bogus", "/bans?status=active", []string{"status"}},
		{admin, "/api/v1/institutions?region=429999", "/api/v1/institutions?region=420106", []string{"region"}},
		{admin, "/api/v1/institutions?region=wuhan", "/api/v1/institutions?region=420100", []string{"region"}},
		{admin, "/institutions?region=NOPE", "/institutions?region=420100", []string{"region"}},
		{admin, "/api/v1/organisations?kind=bogus", "/api/v1/organisations?kind=college", []string{"kind"}},
		{admin, "/admin/orgs?kind=bogus", "/admin/orgs?kind=provider", []string{"kind"}},
		{admin, "/api/v1/audit-events?from=2026-13-01&to=yesterday", "/api/v1/audit-events?from=2026-01-01&to=2026-12-31", []string{"from", "to"}},
		{admin, "/admin/audit?from=2026-02-30", "/admin/audit?from=2026-02-28", []string{"from"}},
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
}

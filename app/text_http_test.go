package app

import (
	"strings"
	"testing"
)

// TestTextThatNoFieldMayHold: NUL bytes, invalid UTF-8 and invisible format
// characters are refused in one place for every route, with a 422 naming
// where they were, and nothing is stored.
func TestTextThatNoFieldMayHold(t *testing.T) {
	admin := login(t, "admin")
	before := strings.Count(logBuf.String(), `"level":"ERROR"`)
	for _, tc := range []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"NUL in a search", "GET", "/api/v1/workers?q=%00", nil, "q"},
		{"NUL in the audit filter", "GET", "/api/v1/audit-events?action=a%00", nil, "action"},
		{"invalid UTF-8 in a query", "GET", "/api/v1/organisations?kind=%ff", nil, "kind"},
		{"escaped NUL in JSON", "POST", "/api/v1/organisations", strings.NewReader(`{"code":"nul-org","name":"a\u0000b","kind":"college","region_code":"420100"}`), "body"},
		{"bidi override in JSON", "POST", "/api/v1/organisations", strings.NewReader(`{"code":"rlo-org","name":"\u202e\u200b","kind":"college","region_code":"420100"}`), "body"},
		{"raw zero-width space in JSON", "POST", "/api/v1/organisations", strings.NewReader("{\"code\":\"zw-org\",\"name\":\"甲\u200b乙\",\"kind\":\"college\",\"region_code\":\"420100\"}"), "body"},
		{"bidi override in a form", "POST", "/admin/orgs", "code=form-org&name=%E2%80%AE&kind=college&region_code=420100", "name"},
	} {
		ctype := "application/json"
		if s, ok := tc.body.(string); ok && s != "" {
			ctype = "application/x-www-form-urlencoded"
		}
		res, body := admin.do(tc.method, tc.path, tc.body, "Content-Type", ctype)
		if res.StatusCode != 422 || problemOrPageCode(body) != "invalid_text" {
			t.Errorf("%s: %d %.200s", tc.name, res.StatusCode, body)
			continue
		}
		if strings.HasPrefix(tc.path, "/api/") && !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: the problem does not name %s: %s", tc.name, tc.field, body)
		}
	}
	// An escaped backslash before "u0000" is text, not a NUL.
	res, body := admin.do("POST", "/api/v1/organisations", strings.NewReader(`{"code":"bs-org","name":"路径 C:\\u0000 样例","kind":"college","region_code":"420100"}`), "Content-Type", "application/json")
	if res.StatusCode != 201 {
		t.Errorf("an escaped backslash was taken for a NUL: %d %s", res.StatusCode, body)
	}
	n, _ := testApp(t).DB.NewSelect().Table("organisations").Where("code IN ('nul-org','rlo-org','zw-org','form-org')").Count(t.Context())
	if n != 0 {
		t.Fatal("refused text was stored")
	}
	if after := strings.Count(logBuf.String(), `"level":"ERROR"`); after != before {
		t.Fatalf("bad text logged %d server errors", after-before)
	}
}

// problemOrPageCode reads the problem code of a JSON body, or the code
// printed on an HTML error page.
func problemOrPageCode(body []byte) string {
	s := string(body)
	if i := strings.Index(s, `"code":"`); i >= 0 {
		rest := s[i+8:]
		return rest[:strings.IndexByte(rest, '"')]
	}
	if i := strings.Index(s, "错误代码 "); i >= 0 {
		rest := s[i+len("错误代码 "):]
		if j := strings.IndexAny(rest, " <"); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}

func TestOddInputNeverCrashes(t *testing.T) {
	before := strings.Count(logBuf.String(), `"level":"ERROR"`)
	reg := login(t, "regulator1")
	// Year 0 passes Go's date parser but not PostgreSQL's.
	res, body := reg.do("POST", "/api/v1/institutions", map[string]any{"uscc": "9144030071526726XG", "name": "零年托育园", "kind": "for_profit",
		"region_code": "420106", "places": 10, "filing_status": "filed", "filed_on": "0000-01-01"})
	if res.StatusCode != 422 {
		t.Errorf("year 0 filing date = %d %s", res.StatusCode, body)
	}
	// A page number that would overflow the offset.
	res, body = login(t, "admin").do("GET", "/api/v1/users?page=9223372036854775807", nil)
	if res.StatusCode != 422 || problemCode(t, body) != "invalid_pagination" {
		t.Errorf("huge page = %d %s", res.StatusCode, body)
	}
	// A login redirect that a browser would take off the site.
	for _, next := range []string{"/%09/evil.example", "/%5Cevil.example", "//evil.example"} {
		res, _ = anon(t).do("POST", "/login", "username=admin&password="+DemoPassword+"&next="+next)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%s redirected to %q", next, loc)
		}
	}
	if after := strings.Count(logBuf.String(), `"level":"ERROR"`); after != before {
		t.Fatalf("odd input logged %d server errors", after-before)
	}
}

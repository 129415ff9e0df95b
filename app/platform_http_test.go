package app

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestHealthAndReady(t *testing.T) {
	c := anon(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		if res, body := c.do("GET", p, nil); res.StatusCode != 200 {
			t.Errorf("GET %s = %d %s", p, res.StatusCode, body)
		}
	}
}

func TestLoginAPI(t *testing.T) {
	c := anon(t)
	res, body := c.do("POST", "/api/v1/session", map[string]string{"username": "admin", "password": "wrong"})
	if res.StatusCode != 401 || problemCode(t, body) != "invalid_credentials" {
		t.Fatalf("wrong password = %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("problem content type = %q", ct)
	}
	res, body = c.do("POST", "/api/v1/session", strings.NewReader(`{"username":`), "Content-Type", "application/json")
	if res.StatusCode != 400 || problemCode(t, body) != "malformed_json" {
		t.Fatalf("malformed JSON = %d %s", res.StatusCode, body)
	}
	a := login(t, "hr_reviewer1")
	res, body = a.do("GET", "/api/v1/session", nil)
	got := decode[struct {
		User struct {
			Username string `json:"username"`
			Role     string `json:"role"`
			Region   string `json:"region"`
		} `json:"user"`
	}](t, body)
	if res.StatusCode != 200 || got.User.Username != "hr_reviewer1" || got.User.Role != "hr_reviewer" || got.User.Region != "420100" {
		t.Fatalf("GET /api/v1/session = %d %s", res.StatusCode, body)
	}
	if res, _ := a.do("DELETE", "/api/v1/session", nil); res.StatusCode != 204 {
		t.Fatalf("logout = %d", res.StatusCode)
	}
	if res, body := a.do("GET", "/api/v1/session", nil); res.StatusCode != 401 {
		t.Fatalf("after logout = %d %s", res.StatusCode, body)
	}
}

func TestLockoutOverHTTP(t *testing.T) {
	admin := login(t, "admin")
	res, body := admin.do("POST", "/api/v1/users", map[string]any{"username": "lockme", "display_name": "锁定测试",
		"role": "college", "organisation": "college1", "password": "Lock-Me-2026"})
	if res.StatusCode != 201 {
		t.Fatalf("create user = %d %s", res.StatusCode, body)
	}
	c := anon(t)
	for i := 1; i <= 5; i++ {
		res, body := c.do("POST", "/api/v1/session", map[string]string{"username": "lockme", "password": "bad"})
		want, code := 401, "invalid_credentials"
		if i == 5 {
			want, code = 429, "account_locked"
		}
		if res.StatusCode != want || problemCode(t, body) != code {
			t.Fatalf("attempt %d = %d %s", i, res.StatusCode, body)
		}
	}
	res, body = c.do("POST", "/api/v1/session", map[string]string{"username": "lockme", "password": "Lock-Me-2026"})
	if res.StatusCode != 429 || problemCode(t, body) != "account_locked" {
		t.Fatalf("right password while locked = %d %s", res.StatusCode, body)
	}
}

func TestCSRFRequiredForCookieSessions(t *testing.T) {
	admin := login(t, "admin")
	good := admin.csrf
	for _, token := range []string{"", "wrong-token"} {
		admin.csrf = token
		res, body := admin.do("POST", "/api/v1/organisations", map[string]any{"code": "csrf-org", "name": "x", "kind": "college", "region_code": "420100"})
		if res.StatusCode != 403 || problemCode(t, body) != "csrf_invalid" {
			t.Fatalf("csrf %q = %d %s", token, res.StatusCode, body)
		}
	}
	admin.csrf = good
	n, _ := testApp(t).DB.NewSelect().Table("organisations").Where("code = 'csrf-org'").Count(t.Context())
	if n != 0 {
		t.Fatal("a request refused for CSRF changed data")
	}
	// The form field works for pages without JavaScript.
	res, _ := admin.do("POST", "/logout", "_csrf="+good)
	if res.StatusCode != 303 {
		t.Fatalf("logout form with _csrf = %d", res.StatusCode)
	}
}

func TestBearerTokenNeedsNoCSRF(t *testing.T) {
	admin := login(t, "admin")
	res, body := admin.do("POST", "/api/v1/tokens", map[string]string{"organisation": "college2", "name": "教务系统"})
	if res.StatusCode != 201 {
		t.Fatalf("create token = %d %s", res.StatusCode, body)
	}
	tok := decode[struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}](t, body)
	machine := &client{t: t, a: testApp(t), bearer: tok.Token}
	res, body = machine.do("GET", "/api/v1/session", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"role":"college"`) || !strings.Contains(string(body), `"region":"420500"`) {
		t.Fatalf("token caller = %d %s", res.StatusCode, body)
	}
	// Token listings never show the token again.
	_, body = admin.do("GET", "/api/v1/tokens", nil)
	if strings.Contains(string(body), tok.Token) {
		t.Fatal("token list shows the raw token")
	}
	if res, _ := admin.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil); res.StatusCode != 204 {
		t.Fatalf("revoke = %d", res.StatusCode)
	}
	res, body = machine.do("GET", "/api/v1/session", nil)
	if res.StatusCode != 401 || problemCode(t, body) != "invalid_token" {
		t.Fatalf("revoked token = %d %s", res.StatusCode, body)
	}
}

func TestRolesAreEnforced(t *testing.T) {
	for _, tc := range []struct {
		who    string
		method string
		path   string
		status int
		code   string
	}{
		{"", "GET", "/api/v1/users", 401, "unauthenticated"},
		{"college1", "GET", "/api/v1/users", 403, "forbidden_role"},
		{"hr_approver1", "POST", "/api/v1/organisations", 403, "forbidden_role"},
		{"provider1", "GET", "/api/v1/audit-events", 403, "forbidden_role"},
		{"regulator1", "GET", "/api/v1/tokens", 403, "forbidden_role"},
		{"admin", "GET", "/api/v1/organisations/999999", 404, "organisation_not_found"},
		{"admin", "GET", "/api/v1/organisations/abc", 404, "not_found"},
	} {
		c := anon(t)
		if tc.who != "" {
			c = login(t, tc.who)
		}
		res, body := c.do(tc.method, tc.path, nil)
		if res.StatusCode != tc.status || problemCode(t, body) != tc.code {
			t.Errorf("%s %s %s = %d %s, want %d %s", tc.who, tc.method, tc.path, res.StatusCode, body, tc.status, tc.code)
		}
	}
}

func TestBadInputAnswersItsCode(t *testing.T) {
	admin := login(t, "admin")
	before := strings.Count(logBuf.String(), `"level":"ERROR"`)
	big := bytes.Repeat([]byte("x"), 2<<20)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"unknown route", "GET", "/api/v1/no-such-thing", nil, 404, "route_not_found"},
		{"unknown region", "POST", "/api/v1/organisations", map[string]any{"code": "bad-region", "name": "x", "kind": "college", "region_code": "110101"}, 422, "unknown_region"},
		{"bad credit code", "POST", "/api/v1/organisations", map[string]any{"code": "bad-uscc", "name": "x", "kind": "college", "region_code": "420100", "uscc": "914403007152672600"}, 422, "invalid_organisation"},
		{"unknown organisation", "POST", "/api/v1/users", map[string]any{"username": "nobody2", "role": "college", "organisation": "no-such-org", "password": "Good-Pass-2026"}, 422, "invalid_user"},
		{"weak password", "POST", "/api/v1/users", map[string]any{"username": "weakling", "role": "college", "organisation": "college1", "password": "short"}, 422, "invalid_user"},
		{"wrong type", "POST", "/api/v1/organisations", map[string]any{"code": 12}, 422, "invalid_field"},
		{"unknown field", "POST", "/api/v1/organisations", map[string]any{"colour": "red"}, 422, "unknown_field"},
		{"malformed", "POST", "/api/v1/organisations", strings.NewReader("{"), 400, "malformed_json"},
		{"too large", "POST", "/api/v1/organisations", bytes.NewReader(big), 413, "body_too_large"},
		{"bad page", "GET", "/api/v1/organisations?per_page=500", nil, 422, "invalid_pagination"},
		{"bad audit date", "GET", "/api/v1/audit-events?from=garbage", nil, 422, "invalid_filter"},
		{"bad audit page", "GET", "/api/v1/audit-events?page=-1", nil, 422, "invalid_filter"},
	} {
		var res, body = admin.do(tc.method, tc.path, tc.body, "Content-Type", "application/json")
		if res.StatusCode != tc.status || problemCode(t, body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, res.StatusCode, body, tc.status, tc.code)
		}
	}
	n, _ := testApp(t).DB.NewSelect().Table("organisations").Where("code IN ('bad-region','bad-uscc')").Count(t.Context())
	u, _ := testApp(t).DB.NewSelect().Table("users").Where("username IN ('nobody2','weakling')").Count(t.Context())
	if n+u != 0 {
		t.Fatal("refused input was stored")
	}
	if after := strings.Count(logBuf.String(), `"level":"ERROR"`); after != before {
		t.Fatalf("bad input logged %d server errors", after-before)
	}
}

func TestSecurityHeadersAndChinesePages(t *testing.T) {
	res, body := anon(t).do("GET", "/login", nil)
	if res.StatusCode != 200 {
		t.Fatalf("login page = %d", res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	page := string(body)
	if !strings.Contains(page, `lang="zh-CN"`) || !strings.Contains(page, "登录") {
		t.Error("login page is not the Chinese page")
	}
	// No external resources: every src/href is local.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[1], "//") {
			t.Errorf("external resource %s", m[1])
		}
	}
	res, body = anon(t).do("GET", "/no-such-page", nil, "Accept", "text/html")
	if res.StatusCode != 404 || !strings.Contains(string(body), "<title>页面不存在") {
		t.Errorf("HTML 404 = %d", res.StatusCode)
	}
}

func TestLoginPageFlow(t *testing.T) {
	c := anon(t)
	res, body := c.do("POST", "/login", "username=admin&password=wrong&next=/admin/users")
	if res.StatusCode != 401 || !strings.Contains(string(body), "用户名或密码错误") {
		t.Fatalf("wrong password form = %d", res.StatusCode)
	}
	res, _ = c.do("POST", "/login", "username=admin&password="+DemoPassword+"&next=//evil.example/")
	if res.StatusCode != 303 || res.Header.Get("Location") != "/" {
		t.Fatalf("open redirect: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = anon(t).do("GET", "/admin/users", nil)
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous page = %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestEveryPageRenders visits every page route without parameters as each
// demo role: none may answer 5xx, and pages a role may open render the layout.
func TestEveryPageRenders(t *testing.T) {
	a := testApp(t)
	var paths []string
	seen := map[string]bool{}
	for _, r := range a.Fiber.GetRoutes(true) {
		if r.Method != "GET" || strings.HasPrefix(r.Path, "/api") || strings.Contains(r.Path, ":") || strings.Contains(r.Path, "*") ||
			strings.HasPrefix(r.Path, "/assets") || strings.HasPrefix(r.Path, "/__test") || seen[r.Path] || strings.HasSuffix(r.Path, ".csv") || strings.HasSuffix(r.Path, ".xlsx") || strings.HasSuffix(r.Path, ".zip") || strings.HasSuffix(r.Path, ".pdf") {
			continue
		}
		seen[r.Path] = true
		paths = append(paths, r.Path)
	}
	rendered := 0
	for _, who := range []string{"admin", "college1", "provider1", "hr_reviewer1", "hr_approver1", "regulator1", "worker1"} {
		if _, err := a.Accounts.PrincipalByUsername(t.Context(), who); err != nil {
			continue // the worker login arrives with the workers module's seed
		}
		c := login(t, who)
		for _, p := range paths {
			res, body := c.do("GET", p, nil)
			if res.StatusCode >= 500 {
				t.Errorf("%s GET %s = %d: %.300s", who, p, res.StatusCode, body)
			}
			if res.StatusCode == 200 && strings.Contains(res.Header.Get("Content-Type"), "text/html") {
				rendered++
				if !strings.Contains(string(body), "</html>") {
					t.Errorf("%s GET %s: no full page", who, p)
				}
			}
		}
	}
	if rendered < len(paths) {
		t.Fatalf("only %d pages rendered for %d paths", rendered, len(paths))
	}
}

func TestPanicBecomesLoggedProblem(t *testing.T) {
	a := testApp(t)
	a.Fiber.Get("/__test/panic", func(c *fiber.Ctx) error { panic("boom") })
	res, body := anon(t).do("GET", "/__test/panic", nil, "Accept", "application/json")
	if res.StatusCode != 500 || problemCode(t, body) != "internal" || strings.Contains(string(body), "boom") {
		t.Fatalf("panic = %d %s", res.StatusCode, body)
	}
	if !strings.Contains(logBuf.String(), "panic: boom") {
		t.Fatal("the panic was not logged")
	}
	// The server goes on serving.
	if res, _ := anon(t).do("GET", "/healthz", nil); res.StatusCode != 200 {
		t.Fatalf("after a panic /healthz = %d", res.StatusCode)
	}
}

// TestDemoSeedIsIdempotent runs the demo seed a second time (the harness ran
// it once) and checks that nothing was added.
func TestDemoSeedIsIdempotent(t *testing.T) {
	a := testApp(t)
	tables := []string{"organisations", "users", "workers", "institutions", "bans", "classes", "enrolments", "lessons", "lesson_attendees", "roster_imports", "courses", "plans"}
	count := func() map[string]int {
		m := map[string]int{}
		for _, tb := range tables {
			var n int
			if err := a.DB.NewRaw("SELECT count(*) FROM "+tb).Scan(t.Context(), &n); err != nil {
				t.Fatalf("count %s: %v", tb, err)
			}
			m[tb] = n
		}
		return m
	}
	before := count()
	if err := a.SeedDemo(t.Context()); err != nil {
		t.Fatalf("second seed: %v", err)
	}
	after := count()
	for _, tb := range tables {
		if before[tb] != after[tb] {
			t.Errorf("%s: %d rows before the second seed, %d after", tb, before[tb], after[tb])
		}
	}
	if before["workers"] < 200 || before["users"] < 11 {
		t.Fatalf("demo world too small: %v", before)
	}
}

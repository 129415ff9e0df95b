package e2e

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestPlatformJourneys shares one server between the first journeys: each
// starts its own browser, so cookies never leak between them.
func TestPlatformJourneys(t *testing.T) {
	srv := Start(t)

	t.Run("login page is Chinese and self-contained", func(t *testing.T) {
		b := srv.Browser(t)
		if status := b.Visit("/login"); status != http.StatusOK {
			t.Fatalf("/login answered %d", status)
		}
		if lang := b.Attrs("html", "lang"); len(lang) != 1 || lang[0] != "zh-CN" {
			t.Errorf("html lang = %q, want zh-CN", lang)
		}
		if got := b.Text("h1"); got != "登录" {
			t.Errorf("h1 = %q, want 登录", got)
		}
		if got := b.Text(`form[action="/login"] button[type="submit"]`); got != "登录" {
			t.Errorf("submit button = %q, want 登录", got)
		}
		assertSameOrigin(t, srv.URL, b.Requests())
		// The stylesheet is among them, so the check above saw sub-resources.
		if !containsPrefix(b.Requests(), srv.URL+"/assets/") {
			t.Errorf("no request for /assets/ recorded: %q", b.Requests())
		}
	})

	t.Run("admin logs in and sees the home tiles", func(t *testing.T) {
		b := srv.Browser(t)
		b.Login("admin")
		if p := b.Path(); p != "/" {
			t.Errorf("after login the path is %q, want /", p)
		}
		tiles := b.Texts(".tiles .tile strong")
		for _, want := range []string{"用户", "机构", "API 令牌", "审计日志"} {
			if !contains(tiles, want) {
				t.Errorf("home tiles %q lack %q", tiles, want)
			}
		}
		if who := b.Text(".who"); !strings.Contains(who, "系统管理员") {
			t.Errorf("header shows %q, want the admin's role", who)
		}
		assertSameOrigin(t, srv.URL, b.Requests())
	})

	t.Run("wrong password shows the Chinese error", func(t *testing.T) {
		b := srv.Browser(t)
		// A user nobody else in this package logs in as, so the failure
		// counts toward no lockout that another journey would meet.
		status := b.LoginWith("regulator1", "Wrong-password-1")
		if status != http.StatusUnauthorized && status != http.StatusOK {
			t.Errorf("failed login answered %d", status)
		}
		if p := b.Path(); p != "/login" {
			t.Errorf("after a wrong password the path is %q, want /login", p)
		}
		if got := b.Text(".alert"); got != "用户名或密码错误" {
			t.Errorf("error = %q, want 用户名或密码错误", got)
		}
		if b.Exists(".who form[action=\"/logout\"]") {
			t.Error("a logout button is shown after a failed login")
		}
	})

	t.Run("logout ends the session", func(t *testing.T) {
		b := srv.Browser(t)
		b.Login("hr_reviewer1")
		b.Logout()
		if p := b.Path(); p != "/login" {
			t.Errorf("after logout the path is %q, want /login", p)
		}
		// The old session is gone on the server: a protected page sends
		// the browser back to the login form.
		b.Visit("/admin/users")
		if p := b.Path(); p != "/login" {
			t.Errorf("after logout /admin/users shows %q, want /login", p)
		}
		if b.Exists(".who form[action=\"/logout\"]") {
			t.Error("a logout button is still shown after logout")
		}
	})

	t.Run("every admin nav link renders", func(t *testing.T) {
		b := srv.Browser(t)
		b.Login("admin")
		links := b.Attrs("nav.main-nav a", "href")
		if len(links) < 5 {
			t.Fatalf("admin nav has %d links: %q", len(links), links)
		}
		for _, href := range links {
			status := b.Visit(href)
			if status >= 500 {
				t.Errorf("%s answered %d", href, status)
				continue
			}
			if status != http.StatusOK {
				t.Logf("%s answered %d (not built yet?)", href, status)
				continue
			}
			if p := b.Path(); p == "/login" {
				t.Errorf("%s sent the admin to /login", href)
			}
		}
		assertSameOrigin(t, srv.URL, b.Requests())
	})
}

// assertSameOrigin fails the test for every request that left the server
// under test (pages must carry no external resources, DESIGN §5.3).
func assertSameOrigin(t *testing.T, base string, requests []string) {
	t.Helper()
	if len(requests) == 0 {
		t.Fatal("no requests recorded")
	}
	origin, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range requests {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("unparsable request URL %q", raw)
			continue
		}
		if u.Scheme == "data" || raw == "about:blank" {
			continue
		}
		if u.Scheme != origin.Scheme || u.Host != origin.Host {
			t.Errorf("request to another origin: %s", raw)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}

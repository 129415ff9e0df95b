package app

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"tuoyu/modules/accounts"
)

// TestForcedPasswordChange: after an admin's reset the user can log in with
// the temporary password, but every page leads to the change form and every
// API call but the change answers 403 password_change_required; once
// changed, the new password works and the old sessions are gone.
func TestForcedPasswordChange(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	id, err := a.Accounts.CreateUser(ctx, accounts.NewUser{Username: "reset-me", Role: accounts.RoleCollege, OrgCode: "college1", Password: "First-Choice-2031"})
	if err != nil {
		t.Fatal(err)
	}
	admin := sessionClient(t, a, "admin")
	res, body := admin.do("POST", "/admin/users/"+strconv.FormatInt(id, 10)+"/password", "password=Temp-Reset-7731")
	if res.StatusCode != 303 {
		t.Fatalf("admin reset: %d %.300s", res.StatusCode, body)
	}
	res, body = admin.do("POST", "/admin/users/"+strconv.FormatInt(id, 10)+"/password", "password="+DemoPassword)
	if res.StatusCode != 422 || !strings.Contains(string(body), "常见") {
		t.Fatalf("admin reset to the demo password: %d, want 422 naming it common", res.StatusCode)
	}

	u := anon(t)
	res, body = u.do("POST", "/api/v1/session", map[string]string{"username": "reset-me", "password": "Temp-Reset-7731"})
	if res.StatusCode != 200 || !strings.Contains(string(body), `"must_change_password":true`) {
		t.Fatalf("login with the temporary password: %d %s", res.StatusCode, body)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == accounts.SessionCookie {
			u.cookie = ck.Value
		}
	}
	u.csrf = decode[struct {
		CSRF string `json:"csrf_token"`
	}](t, body).CSRF
	if res, body := u.do("GET", "/api/v1/rosters", nil); res.StatusCode != 403 || problemCode(t, body) != "password_change_required" {
		t.Fatalf("API before the change: %d %s", res.StatusCode, body)
	}
	if res, _ := u.do("GET", "/rosters", nil); res.StatusCode != 303 || res.Header.Get("Location") != "/account/password" {
		t.Fatalf("page before the change: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := u.do("GET", "/account/password", nil); res.StatusCode != 200 || !strings.Contains(string(body), "管理员已重置您的密码") {
		t.Fatalf("change page: %d", res.StatusCode)
	}
	if res, body := u.do("PUT", "/api/v1/session/password", map[string]string{"current_password": "Temp-Reset-7731", "new_password": "reset-me-2031!"}); res.StatusCode != 422 || problemCode(t, body) != "weak_password" {
		t.Fatalf("new password holding the username: %d %s", res.StatusCode, body)
	}
	if res, body := u.do("PUT", "/api/v1/session/password", map[string]string{"current_password": "Temp-Reset-7731", "new_password": "Second-Choice-2031"}); res.StatusCode != 204 {
		t.Fatalf("change: %d %s", res.StatusCode, body)
	}
	if res, _ := u.do("GET", "/api/v1/session", nil); res.StatusCode != 401 {
		t.Fatalf("the session of the change lives on: %d", res.StatusCode)
	}
	v := anon(t)
	res, body = v.do("POST", "/api/v1/session", map[string]string{"username": "reset-me", "password": "Second-Choice-2031"})
	if res.StatusCode != 200 || strings.Contains(string(body), "must_change_password") {
		t.Fatalf("login with the new password: %d %s", res.StatusCode, body)
	}
}

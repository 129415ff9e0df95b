package app

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	cfg, err := LoadConfig(env(map[string]string{"TUOYU_DATA_DIR": dir, "TUOYU_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":8080" || cfg.Location.String() != "Asia/Shanghai" || len(cfg.SecretKey) != 32 || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("defaults: %+v", cfg)
	}
	// The generated development key is kept across starts.
	again, err := LoadConfig(env(map[string]string{"TUOYU_DATA_DIR": dir}), quiet)
	if err != nil || string(again.SecretKey) != string(cfg.SecretKey) {
		t.Fatalf("second start got another key (%v)", err)
	}
	for name, e := range map[string]map[string]string{
		"external database without key": {"DATABASE_URL": "postgres://x@y/z", "TUOYU_DATA_DIR": dir},
		"short key":                     {"TUOYU_SECRET_KEY": "c2hvcnQ=", "TUOYU_DATA_DIR": dir},
		"bad proxy":                     {"TUOYU_TRUSTED_PROXIES": "balancer.local", "TUOYU_DATA_DIR": dir},
		"bad zone":                      {"TUOYU_TZ": "Mars/Olympus", "TUOYU_DATA_DIR": dir},
	} {
		if _, err := LoadConfig(env(e), quiet); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestForwardedForOnlyFromTrustedProxies: behind a configured balancer the
// client address comes from X-Forwarded-For; otherwise the header is ignored.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	base := testApp(t)
	for _, tc := range []struct {
		proxies []string
		wantIP  string
	}{
		{nil, "0.0.0.0"},
		{[]string{"0.0.0.0"}, "203.0.113.7"},
	} {
		cfg := testConfig()
		cfg.TrustedProxies = tc.proxies
		a, err := Wire(cfg, base.DB, base.Logger, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/api/v1/session", strings.NewReader(`{"username":"hr_approver2","password":"`+DemoPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		res, err := a.Fiber.Test(req, 30_000)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("login through proxy config %v: %v %v", tc.proxies, res.StatusCode, err)
		}
		var out struct{ User struct{ ID int64 } }
		_ = json.NewDecoder(res.Body).Decode(&out)
		var ip string
		if err := a.DB.NewRaw("SELECT ip FROM audit_events WHERE action = 'accounts.login' AND actor_user_id = ? ORDER BY id DESC LIMIT 1", out.User.ID).Scan(t.Context(), &ip); err != nil {
			t.Fatal(err)
		}
		if ip != tc.wantIP {
			t.Errorf("proxies %v: audited IP %q, want %q", tc.proxies, ip, tc.wantIP)
		}
	}
}

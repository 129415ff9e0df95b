package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"tuoyu/app/dbtest"
)

// The HTTP tests of every module live in this package: they drive the fully
// wired application through fiber's Test on the package's test database.

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var (
	harnessOnce sync.Once
	harnessApp  *App
	harnessErr  error
	logBuf      = &syncBuffer{}
)

// syncBuffer collects the log of the test app so tests can search it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testConfig is a configuration for tests with a fixed key.
func testConfig() Config {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return Config{Addr: ":0", DataDir: os.TempDir(), SecretKey: bytes.Repeat([]byte{7}, 32),
		BaseURL: "http://localhost:8080", Location: loc, Getenv: func(string) string { return "" }}
}

// testApp returns the wired application on the package database with the
// demo world seeded (once per package). It connects as the application's
// role (dbtest.AppDB), as the real server does, so every HTTP test also shows
// the application needs no privilege beyond the ones that role has.
func testApp(t testing.TB) *App {
	t.Helper()
	db := dbtest.AppDB(t)
	harnessOnce.Do(func() {
		logger := slog.New(slog.NewJSONHandler(logBuf, nil))
		harnessApp, harnessErr = Wire(testConfig(), db, logger, time.Now)
		if harnessErr == nil {
			harnessErr = harnessApp.SeedDemo(context.Background())
		}
	})
	if harnessErr != nil {
		t.Fatalf("wire test app: %v", harnessErr)
	}
	return harnessApp
}

// client is a logged-in (or anonymous) caller of the test app.
type client struct {
	t      testing.TB
	a      *App
	cookie string
	csrf   string
	bearer string
}

func anon(t testing.TB) *client { return &client{t: t, a: testApp(t)} }

// login logs username in with the demo password through the API.
func login(t testing.TB, username string) *client {
	t.Helper()
	return loginTo(t, testApp(t), username)
}

// loginTo is login on app a (a test's own app rather than the package's).
func loginTo(t testing.TB, a *App, username string) *client {
	t.Helper()
	c := &client{t: t, a: a}
	res, body := c.do("POST", "/api/v1/session", map[string]string{"username": username, "password": DemoPassword})
	if res.StatusCode != 200 {
		t.Fatalf("login %s: %d %s", username, res.StatusCode, body)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "tuoyu_session" {
			c.cookie = ck.Value
		}
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(body, &out)
	c.csrf = out.CSRF
	if c.cookie == "" || c.csrf == "" {
		t.Fatalf("login %s: no session cookie or csrf token", username)
	}
	return c
}

// do sends a request; a non-nil body that is not an io.Reader is sent as JSON.
func (c *client) do(method, path string, body any, headers ...string) (*http.Response, []byte) {
	c.t.Helper()
	var r io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r = b
	case string:
		r, ctype = strings.NewReader(b), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r, ctype = bytes.NewReader(js), "application/json"
	}
	req := httptest.NewRequest(method, path, r)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "tuoyu_session", Value: c.cookie})
		if method != "GET" && method != "HEAD" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.a.Fiber.Test(req, 30_000)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, out
}

// decode unmarshals a JSON body or fails the test.
func decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// problemCode returns the code of a problem+json body.
func problemCode(t testing.TB, body []byte) string {
	t.Helper()
	return decode[struct {
		Code string `json:"code"`
	}](t, body).Code
}

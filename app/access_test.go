package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/accounts"
	"tuoyu/modules/assessments"
	"tuoyu/modules/institutions"
	"tuoyu/modules/notify"
	"tuoyu/modules/orgs"
)

// The access matrix (issue 15): every route the app registers, API and
// page, with what each caller gets. The table is in access_matrix_test.go;
// this file walks it. A route registered but missing from the table fails
// the test, so a new route cannot ship without a decision on who may call it.
//
// Outcomes: "ok" (the request passed access control: 2xx, 3xx, or a
// 400/409/413/415/422 about the request itself), "401" (an API 401 or a page
// redirecting to /login?next=), "403", "404" (also for records outside the
// caller's scope, DESIGN §2). Anything 5xx or 429 is always a failure.

// accessCallers are the callers every row is tried with: anonymous, each
// demo login (DESIGN §5.5) and an API token of college1.
var accessCallers = []string{"anon", "admin", "college1", "college2", "provider1", "provider2", "hr_reviewer1",
	"hr_approver1", "hr_approver2", "regulator1", "regulator2", "institution1", "worker1", "token"}

// accessGroups name sets of callers for the expectations.
var accessGroups = map[string][]string{
	"*":         accessCallers,
	"users":     accessCallers[1:],
	"college":   {"college1", "college2"},
	"provider":  {"provider1", "provider2"},
	"hr":        {"hr_reviewer1", "hr_approver1", "hr_approver2"},
	"approver":  {"hr_approver1", "hr_approver2"},
	"regulator": {"regulator1", "regulator2"},
}

// accessRow is one request of the matrix. route is the method and path as
// fiber registered it; path (default: route's path) may hold placeholders
// such as {class_p1} resolved from the demo world, and {caller}. expect
// is a list of "who=outcome" applied left to right, who being "*", "users",
// a group or a caller, comma-separated. Unsafe requests carry bodies that
// fail validation or target records in a final state, so that running them
// changes nothing later checks or other tests rely on; fresh rows get a
// session of their own (logout).
type accessRow struct {
	route  string
	path   string
	expect string
	body   any
	fresh  bool
	pii    bool // an allowed answer may show a full number (an audited reveal)
}

func (r accessRow) method() string { m, _, _ := strings.Cut(r.route, " "); return m }

func (r accessRow) target() string {
	if r.path != "" {
		return r.path
	}
	_, p, _ := strings.Cut(r.route, " ")
	return p
}

// parseExpect expands an expectation into one outcome per caller.
func parseExpect(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Fields(s) {
		who, outcome, ok := strings.Cut(part, "=")
		switch outcome {
		case "ok", "401", "403", "404":
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("bad expectation %q", part)
		}
		for _, w := range strings.Split(who, ",") {
			members, isGroup := accessGroups[w]
			if !isGroup {
				if !isCaller(w) {
					return nil, fmt.Errorf("unknown caller or group %q", w)
				}
				members = []string{w}
			}
			for _, m := range members {
				out[m] = outcome
			}
		}
	}
	for _, c := range accessCallers {
		if out[c] == "" {
			return nil, fmt.Errorf("no outcome for %s", c)
		}
	}
	return out, nil
}

func isCaller(w string) bool {
	for _, c := range accessCallers {
		if c == w {
			return true
		}
	}
	return false
}

// outcomeOf classifies a response.
func outcomeOf(res *http.Response) string {
	loc := res.Header.Get("Location")
	switch {
	case res.StatusCode == 401, res.StatusCode/100 == 3 && strings.HasPrefix(loc, "/login?next="):
		return "401"
	case res.StatusCode == 403, res.StatusCode == 404:
		return strconv.Itoa(res.StatusCode)
	case res.StatusCode >= 500, res.StatusCode == 429:
		return strconv.Itoa(res.StatusCode)
	}
	return "ok"
}

// summarise writes outcomes as the shortest expectation of the form the
// table uses (for the failure message and for adding rows).
func summarise(got map[string]string) string {
	count := map[string]int{}
	for _, c := range accessCallers {
		count[got[c]]++
	}
	def, best := "", -1
	for _, o := range []string{"403", "401", "404", "ok"} {
		if count[o] > best {
			def, best = o, count[o]
		}
	}
	parts := []string{"*=" + def}
	byOutcome := map[string][]string{}
	var order []string
	taken := map[string]bool{}
	for _, g := range []string{"hr", "college", "provider", "regulator"} {
		o := got[accessGroups[g][0]]
		same := true
		for _, m := range accessGroups[g] {
			same = same && got[m] == o
		}
		if same && o != def {
			if byOutcome[o] == nil {
				order = append(order, o)
			}
			byOutcome[o] = append(byOutcome[o], g)
			for _, m := range accessGroups[g] {
				taken[m] = true
			}
		}
	}
	for _, c := range accessCallers {
		if taken[c] || got[c] == def {
			continue
		}
		if byOutcome[got[c]] == nil {
			order = append(order, got[c])
		}
		byOutcome[got[c]] = append(byOutcome[got[c]], c)
	}
	for _, o := range order {
		parts = append(parts, strings.Join(byOutcome[o], ",")+"="+o)
	}
	return strings.Join(parts, " ")
}

// accessWorld resolves the placeholders of the matrix from the demo world:
// {name} is a fixed record, {new_name} a throwaway record made for each
// request (for rows whose allowed answer deletes or revokes it).
type accessWorld struct {
	fixed map[string]string
	make  map[string]func() string
}

var placeholder = regexp.MustCompile(`\{[a-z0-9_]+\}`)

func (w accessWorld) expand(t *testing.T, s, caller string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "caller" {
			return caller
		}
		if v, ok := w.fixed[name]; ok {
			return v
		}
		if f, ok := w.make[name]; ok {
			return f()
		}
		t.Fatalf("unknown placeholder %s", m)
		return ""
	})
}

// rawJSON is a JSON body that may hold placeholders (numbers unquoted).
type rawJSON string

// upload is a multipart body with one file, built afresh for each request.
type upload struct{ field, name, content string }

func (u upload) reader() (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(u.field, u.name)
	_, _ = io.WriteString(fw, u.content)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

// newAccessWorld finds the demo records the matrix names and creates the
// few throwaway ones that unsafe rows may change (a token to revoke, a user
// to disable, institutions to delete).
func newAccessWorld(t *testing.T, a *App) accessWorld {
	t.Helper()
	ctx := context.Background()
	w := accessWorld{fixed: map[string]string{}, make: map[string]func() string{}}
	one := func(name, q string, args ...any) {
		t.Helper()
		var v string
		if err := a.DB.NewRaw(q, args...).Scan(ctx, &v); err != nil {
			t.Fatalf("matrix placeholder %s: %v (%s)", name, err, q)
		}
		w.fixed[name] = v
	}
	for _, p := range []struct{ key, code string }{{"p1", "provider1"}, {"p2", "provider2"}} {
		one("class_"+p.key, `SELECT c.id::text FROM classes c JOIN organisations o ON o.id = c.provider_org_id
			WHERE o.code = ? AND c.state = 'open' ORDER BY c.id LIMIT 1`, p.code)
		one("class_cancelled_"+p.key, `SELECT c.id::text FROM classes c JOIN organisations o ON o.id = c.provider_org_id
			WHERE o.code = ? AND c.state = 'cancelled' ORDER BY c.id LIMIT 1`, p.code)
		one("enrolment_"+p.key, `SELECT e.id::text FROM enrolments e JOIN classes c ON c.id = e.class_id
			JOIN organisations o ON o.id = c.provider_org_id WHERE o.code = ? AND c.state = 'open' ORDER BY e.id LIMIT 1`, p.code)
		one("enrolment_cancelled_"+p.key, `SELECT e.id::text FROM enrolments e JOIN classes c ON c.id = e.class_id
			JOIN organisations o ON o.id = c.provider_org_id WHERE o.code = ? AND c.state = 'cancelled' ORDER BY e.id LIMIT 1`, p.code)
	}
	// The demo world has sittings of provider1 only; provider2 gets one,
	// cancelled at once, so both sides of the scope have a record.
	p2, err := a.Accounts.PrincipalByUsername(ctx, "provider2")
	if err != nil {
		t.Fatal(err)
	}
	one("class_completed_p2", `SELECT c.id::text FROM classes c JOIN organisations o ON o.id = c.provider_org_id
		WHERE o.code = 'provider2' AND c.state = 'completed' ORDER BY c.id LIMIT 1`)
	classP2, _ := strconv.ParseInt(w.fixed["class_completed_p2"], 10, 64)
	day := a.Now().In(a.Config.Location).AddDate(0, 0, 40)
	at := func(hour int) string {
		return time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, a.Config.Location).Format(time.RFC3339)
	}
	var sittingsP2 int
	if err := a.DB.NewRaw("SELECT count(*) FROM assessment_sittings WHERE provider_org_id = ?", p2.OrgID).Scan(ctx, &sittingsP2); err != nil {
		t.Fatal(err)
	}
	if sittingsP2 == 0 {
		sv, err := a.Assessments.Schedule(ctx, &p2, classP2, assessments.SittingInput{Kind: assessments.KindTheory,
			StartsAt: at(9), EndsAt: at(11), Place: "宜昌市西陵区夷陵大道实训楼", ConfirmNonWorkingDay: true})
		if err != nil {
			t.Fatalf("matrix sitting of provider2: %v", err)
		}
		if err := a.Assessments.Cancel(ctx, &p2, sv.ID, "访问矩阵测试"); err != nil {
			t.Fatalf("cancel the matrix sitting of provider2: %v", err)
		}
	}
	for _, p := range []struct{ key, code string }{{"p1", "provider1"}, {"p2", "provider2"}} {
		one("sitting_"+p.key, `SELECT s.id::text FROM assessment_sittings s JOIN organisations o ON o.id = s.provider_org_id
			WHERE o.code = ? ORDER BY s.id LIMIT 1`, p.code)
		// Unsafe rows use a sitting that is over: moving, cancelling or
		// scoring it changes nothing.
		one("sitting_over_"+p.key, `SELECT s.id::text FROM assessment_sittings s JOIN organisations o ON o.id = s.provider_org_id
			WHERE o.code = ? AND s.state IN ('cancelled', 'closed') ORDER BY s.state = 'cancelled' DESC, s.id LIMIT 1`, p.code)
	}
	one("result_p1", `SELECT r.id::text FROM assessment_results r JOIN assessment_sittings s ON s.id = r.sitting_id
		JOIN organisations o ON o.id = s.provider_org_id WHERE o.code = 'provider1' ORDER BY r.id LIMIT 1`)
	one("worker_self", `SELECT worker_id::text FROM users WHERE username = 'worker1'`)
	one("enrolment_self", `SELECT e.id::text FROM enrolments e JOIN users u ON u.worker_id = e.worker_id WHERE u.username = 'worker1' ORDER BY e.id LIMIT 1`)
	one("worker_wh", `SELECT id::text FROM workers WHERE region_code LIKE '4201%' AND id <> (SELECT worker_id FROM users WHERE username = 'worker1') ORDER BY id LIMIT 1`)
	one("worker_yc", `SELECT id::text FROM workers WHERE region_code LIKE '4205%' ORDER BY id LIMIT 1`)
	one("roster_c1", `SELECT r.id::text FROM roster_imports r JOIN organisations o ON o.id = r.college_org_id WHERE o.code = 'college1' ORDER BY r.id LIMIT 1`)
	one("roster_c2", `SELECT r.id::text FROM roster_imports r JOIN organisations o ON o.id = r.college_org_id WHERE o.code = 'college2' ORDER BY r.id LIMIT 1`)
	one("institution_wh", `SELECT id::text FROM institutions WHERE region_code LIKE '4201%' ORDER BY id LIMIT 1`)
	one("institution_yc", `SELECT id::text FROM institutions WHERE region_code LIKE '4205%' ORDER BY id LIMIT 1`)
	one("ban", `SELECT id::text FROM bans ORDER BY id LIMIT 1`)
	one("org", `SELECT id::text FROM organisations WHERE code = 'college1'`)
	one("course", `SELECT id::text FROM courses ORDER BY id LIMIT 1`)
	for _, p := range []struct{ key, code string }{{"p1", "provider1"}, {"p2", "provider2"}} {
		one("lesson_"+p.key, `SELECT l.id::text FROM lessons l JOIN classes c ON c.id = l.class_id
			JOIN organisations o ON o.id = c.provider_org_id WHERE o.code = ? ORDER BY l.id LIMIT 1`, p.code)
		one("class_lessons_"+p.key, `SELECT c.id::text FROM classes c JOIN organisations o ON o.id = c.provider_org_id
			WHERE o.code = ? AND c.state = 'running' ORDER BY c.id LIMIT 1`, p.code)
	}
	// provider2 holds no certificates in the demo: provider1's show both sides.
	one("cert_p1", `SELECT ce.id::text FROM certificates ce JOIN organisations o ON o.id = ce.provider_org_id
		WHERE o.code = 'provider1' AND ce.status = 'valid' ORDER BY ce.id LIMIT 1`)
	one("class_cert_p1", `SELECT ce.class_id::text FROM certificates ce JOIN organisations o ON o.id = ce.provider_org_id
		WHERE o.code = 'provider1' AND ce.status = 'valid' ORDER BY ce.id LIMIT 1`)
	one("cert_revoked_p1", `SELECT ce.id::text FROM certificates ce JOIN organisations o ON o.id = ce.provider_org_id
		WHERE o.code = 'provider1' AND ce.status = 'revoked' ORDER BY ce.id LIMIT 1`)
	one("verify_code", `SELECT verify_code FROM certificates WHERE status = 'valid' ORDER BY id LIMIT 1`)
	p1, err := a.Accounts.PrincipalByUsername(ctx, "provider1")
	if err != nil {
		t.Fatal(err)
	}
	classCert, _ := strconv.ParseInt(w.fixed["class_cert_p1"], 10, 64)
	exp, err := a.Certificates.StartExport(ctx, &p1, classCert)
	if err != nil {
		t.Fatal(err)
	}
	w.fixed["export_p1"] = strconv.FormatInt(exp.ID, 10)
	// claims and payouts (issues 12–13).
	one("claim_wh", `SELECT id::text FROM claims WHERE region_code LIKE '4201%' AND status = 'rejected' ORDER BY id LIMIT 1`)
	one("claim_yc", `SELECT id::text FROM claims WHERE region_code LIKE '4205%' ORDER BY id LIMIT 1`)
	one("batch_paid_wh", `SELECT id::text FROM payout_batches WHERE status = 'paid' ORDER BY id LIMIT 1`)
	one("batch_claim_wh", `SELECT pb.claim_id::text FROM payout_batch_items pb JOIN payout_batches b ON b.id = pb.batch_id
		WHERE b.status = 'paid' ORDER BY pb.claim_id LIMIT 1`)
	for key, wid := range map[string]string{"notification_self": w.fixed["worker_self"], "notification_other": w.fixed["worker_wh"]} {
		id, _ := strconv.ParseInt(wid, 10, 64)
		if err := notify.Send(ctx, a.DB, notify.Message{WorkerID: id, Kind: "matrix.test", Title: "矩阵测试", Body: "访问矩阵测试的通知"}); err != nil {
			t.Fatal(err)
		}
		one(key, `SELECT max(id)::text FROM notifications WHERE worker_id = ?`, id)
	}

	admin, err := a.Accounts.PrincipalByUsername(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := a.Accounts.CreateToken(ctx, "college1", "matrix", admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	w.fixed["token_raw"] = raw
	w.make["new_token"] = func() string {
		_, tok, err := a.Accounts.CreateToken(ctx, "college2", "matrix scratch", admin.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(tok.ID, 10)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	uid, err := a.Accounts.CreateUser(ctx, accounts.NewUser{Username: "matrix-" + hex.EncodeToString(suffix), Role: accounts.RoleCollege, OrgCode: "college2", Password: "Matrix-scratch-2026"})
	if err != nil {
		t.Fatal(err)
	}
	w.fixed["user_scratch"] = strconv.FormatInt(uid, 10)
	reg, err := a.Accounts.PrincipalByUsername(ctx, "regulator1")
	if err != nil {
		t.Fatal(err)
	}
	serial := 0
	for key, region := range map[string]string{"wh": "420106", "yc": "420502"} {
		w.make["new_institution_"+key] = func() string {
			serial++
			first17 := fmt.Sprintf("91%sMA4K%05d", region, serial)
			inst, err := a.Institutions.Create(ctx, &reg, institutions.Input{USCC: first17 + string(orgs.USCCCheckChar(first17)),
				Name: fmt.Sprintf("矩阵测试托育园%d", serial), Kind: "non_profit", RegionCode: region, Address: "测试路 1 号",
				Places: 10, FilingStatus: "unfiled"})
			if err != nil {
				t.Fatalf("scratch institution: %v", err)
			}
			return strconv.FormatInt(inst.ID, 10)
		}
	}
	return w
}

var (
	matrixOnce sync.Once
	matrixInst *App
)

// matrixApp is the app wired a second time on the package database (the
// demo world), with the public rate limits off: the matrix calls every
// route as every caller, and must not spend the per-user budgets other
// tests of the package count on (rate limits are not access control).
func matrixApp(t *testing.T) *App {
	t.Helper()
	testApp(t)
	matrixOnce.Do(func() {
		cfg := testConfig()
		cfg.Getenv = func(k string) string {
			if strings.HasSuffix(k, "_RATE") {
				return "0"
			}
			return ""
		}
		a, err := Wire(cfg, dbtest.AppDB(t), slog.New(slog.NewJSONHandler(logBuf, nil)), time.Now)
		if err != nil {
			t.Fatalf("wire the matrix app: %v", err)
		}
		matrixInst = a
	})
	if matrixInst == nil {
		t.Fatal("no matrix app")
	}
	return matrixInst
}

// TestAccessMatrix walks the access matrix for every caller.
func TestAccessMatrix(t *testing.T) {
	observe := os.Getenv("TUOYU_MATRIX_OBSERVE") != ""
	a := matrixApp(t)
	w := newAccessWorld(t, a)
	secrets := personalNumbers(t, a)

	// Every registered route has at least one row, and every row a route.
	param := regexp.MustCompile(`:[A-Za-z_]+`)
	inTable := map[string]bool{}
	for _, r := range accessMatrix {
		inTable[r.route] = true
	}
	registered := map[string]bool{}
	var missing []string
	for _, r := range a.Fiber.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || r.Path == "/assets" || strings.HasPrefix(r.Path, "/assets/") {
			continue
		}
		k := r.Method + " " + r.Path
		if registered[k] {
			continue
		}
		registered[k] = true
		if !inTable[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, r := range accessMatrix {
		if !registered[r.route] {
			t.Errorf("matrix row %q names no registered route", r.route)
		}
	}

	callers := map[string]*client{}
	for _, c := range accessCallers {
		switch c {
		case "anon":
			callers[c] = &client{t: t, a: a}
		case "token":
			callers[c] = &client{t: t, a: a, bearer: w.fixed["token_raw"]}
		default:
			callers[c] = sessionClient(t, a, c)
		}
	}

	type result struct {
		row     accessRow
		got     map[string]string
		details map[string]string
	}
	run := func(r accessRow) result {
		got, details := map[string]string{}, map[string]string{}
		for _, name := range accessCallers {
			c := callers[name]
			if r.fresh && name != "anon" && name != "token" {
				c = sessionClient(t, a, name)
			}
			path := w.expand(t, param.ReplaceAllString(r.target(), "0"), name)
			var body any = r.body
			var headers []string
			switch b := r.body.(type) {
			case string:
				body = w.expand(t, b, name)
			case upload:
				rd, ctype := b.reader()
				body, headers = rd, []string{"Content-Type", ctype}
			case rawJSON:
				body, headers = strings.NewReader(w.expand(t, string(b), name)), []string{"Content-Type", "application/json"}
			}
			res, out := c.do(r.method(), path, body, headers...)
			o := outcomeOf(res)
			got[name] = o
			details[name] = fmt.Sprintf("%s %s → %d %.200s", r.method(), path, res.StatusCode, out)
			if o == "ok" && !r.pii {
				if s := secrets.find(out); s != "" {
					t.Errorf("%s %s as %s: the answer carries a full personal number (…%s)", r.method(), path, name, s[len(s)-4:])
				}
			}
		}
		return result{r, got, details}
	}
	var safe, unsafe []accessRow
	for _, r := range accessMatrix {
		if isUnsafe(r.method()) {
			unsafe = append(unsafe, r)
		} else {
			safe = append(safe, r)
		}
	}
	// Rows are independent of each other (see accessRow), so they run
	// side by side; the unsafe ones only once every safe one has answered.
	walk := func(rows []accessRow) []result {
		out := make([]result, len(rows))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i, r := range rows {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				out[i] = run(r)
			}()
		}
		wg.Wait()
		return out
	}
	results := append(walk(safe), walk(unsafe)...)

	for _, res := range results {
		want, err := parseExpect(res.row.expect)
		if err != nil {
			if observe {
				fmt.Printf("{route: %q, path: %q, expect: %q},\n", res.row.route, res.row.path, summarise(res.got))
				continue
			}
			t.Errorf("%s: %v", res.row.route, err)
			continue
		}
		for _, name := range accessCallers {
			if res.got[name] != want[name] {
				t.Errorf("%s as %s: got %s, want %s\n    %s\n    observed: %s", res.row.route, name, res.got[name], want[name],
					res.details[name], summarise(res.got))
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("routes missing from the access matrix (app/access_matrix_test.go); decide who may call them "+
			"(a row without expect, run with TUOYU_MATRIX_OBSERVE=1, prints what each caller gets today):\n  %s",
			strings.Join(missing, "\n  "))
	}
}

// sessionClient is a caller with a session opened directly in the sessions
// table: a login through the API costs an argon2 hash, which a matrix of
// many callers cannot afford to repeat.
func sessionClient(t testing.TB, a *App, username string) *client {
	t.Helper()
	ctx := context.Background()
	p, err := a.Accounts.PrincipalByUsername(ctx, username)
	if err != nil {
		t.Fatalf("session for %s: %v", username, err)
	}
	raw, csrf := make([]byte, 24), make([]byte, 18)
	_, _ = rand.Read(raw)
	_, _ = rand.Read(csrf)
	c := &client{t: t, a: a, cookie: hex.EncodeToString(raw), csrf: hex.EncodeToString(csrf)}
	h := sha256.Sum256([]byte(c.cookie))
	now := a.Now()
	if err := accounts.NewStore(a.DB).InsertSession(ctx, &accounts.Session{IDHash: h[:], UserID: p.UserID, CSRFToken: c.csrf,
		CreatedAt: now, LastSeenAt: now}); err != nil {
		t.Fatalf("session for %s: %v", username, err)
	}
	return c
}

// personalSet holds full personal numbers (ID numbers, phones, bank
// accounts) for scans: find looks them up in the runs of digits of a text,
// which is much faster than searching for each number.
type personalSet struct {
	numbers map[string]bool
	lengths []int
}

var digitRun = regexp.MustCompile(`[0-9]{6,}[0-9Xx]?`)

func newPersonalSet(numbers []string) personalSet {
	ps := personalSet{numbers: map[string]bool{}}
	seen := map[int]bool{}
	for _, n := range numbers {
		ps.numbers[n] = true
		if !seen[len(n)] {
			seen[len(n)] = true
			ps.lengths = append(ps.lengths, len(n))
		}
	}
	return ps
}

// find returns the first full personal number in b, "" when none.
func (ps personalSet) find(b []byte) string {
	for _, run := range digitRun.FindAll(b, -1) {
		for _, l := range ps.lengths {
			for i := 0; i+l <= len(run); i++ {
				if ps.numbers[string(run[i:i+l])] {
					return string(run[i : i+l])
				}
			}
		}
	}
	return ""
}

// personalNumbers returns every full ID number, phone number and bank
// account the demo world holds (decrypted), for the scans.
func personalNumbers(t testing.TB, a *App) personalSet {
	t.Helper()
	ctx := context.Background()
	var secrets []string
	for _, q := range []string{
		"SELECT id_number_enc FROM workers",
		"SELECT phone_enc FROM workers WHERE phone_enc IS NOT NULL",
		"SELECT bank_account_enc FROM workers WHERE bank_account_enc IS NOT NULL",
		"SELECT id_number_enc FROM bans",
		"SELECT id_number_enc FROM roster_rows WHERE id_number_enc IS NOT NULL",
		"SELECT phone_enc FROM roster_rows WHERE phone_enc IS NOT NULL",
	} {
		var encs [][]byte
		if err := a.DB.NewRaw(q).Scan(ctx, &encs); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for _, e := range encs {
			plain, err := a.Cipher.Decrypt(e)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			secrets = append(secrets, plain)
		}
	}
	if len(secrets) < 200 {
		t.Fatalf("only %d seeded personal numbers found: the demo seed did not run", len(secrets))
	}
	return newPersonalSet(secrets)
}

// TestCSRFOnEveryUnsafeRoute sends every unsafe route of the app, API and
// page, with a valid session cookie but without the CSRF token, and with a
// wrong one: each must be refused with 403 csrf_invalid before any handler
// runs. A bearer token needs no CSRF token (the matrix shows it allowed).
func TestCSRFOnEveryUnsafeRoute(t *testing.T) {
	a := testApp(t)
	c := sessionClient(t, a, "admin")
	param := regexp.MustCompile(`:[A-Za-z_]+`)
	checked := 0
	seen := map[string]bool{}
	for _, r := range a.Fiber.GetRoutes(true) {
		k := r.Method + " " + r.Path
		if !isUnsafe(r.Method) || r.Method == "USE" || seen[k] {
			continue
		}
		seen[k] = true
		path := param.ReplaceAllString(r.Path, "1")
		for _, token := range []string{"", "wrong-" + c.csrf} {
			for _, ctype := range []string{"application/json", "application/x-www-form-urlencoded"} {
				body := "{}"
				if ctype != "application/json" {
					body = "_csrf=" + token
				}
				req := httptest.NewRequest(r.Method, path, strings.NewReader(body))
				req.Header.Set("Content-Type", ctype)
				req.AddCookie(&http.Cookie{Name: accounts.SessionCookie, Value: c.cookie})
				if token != "" && ctype == "application/json" {
					req.Header.Set("X-CSRF-Token", token)
				}
				res, err := a.Fiber.Test(req, 30_000)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 403 || !strings.Contains(string(out), "csrf_invalid") {
					t.Errorf("%s %s (%s, token %q): %d %.200s, want 403 csrf_invalid", r.Method, path, ctype, token, res.StatusCode, out)
				}
			}
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d unsafe routes checked: the walk is broken", checked)
	}
	// The same session with its token passes the check (the route then
	// answers for itself), so the refusals above are about the token.
	res, _ := c.do("POST", "/admin/audit/verify", "")
	if res.StatusCode == 403 {
		t.Fatalf("POST /admin/audit/verify with the CSRF token: 403")
	}
}

// TestRevealsAreAudited: the two answers the matrix allows to carry full
// personal numbers (an HR reveal of an ID number, a college's roster error
// report) each leave an event on the audit trail naming who and what.
func TestRevealsAreAudited(t *testing.T) {
	a := testApp(t)
	w := newAccessWorld(t, a)
	ctx := context.Background()
	count := func(action, target, username string) int {
		t.Helper()
		var n int
		err := a.DB.NewRaw(`SELECT count(*) FROM audit_events e JOIN users u ON u.id = e.actor_user_id
			WHERE e.action = ? AND e.target_id = ? AND u.username = ?`, action, target, username).Scan(ctx, &n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct{ who, path, action, target string }{
		{"hr_reviewer1", "/workers/" + w.fixed["worker_wh"] + "/reveal", "workers.reveal_id", w.fixed["worker_wh"]},
		{"college1", "/api/v1/rosters/" + w.fixed["roster_c1"] + "/errors.csv", "rosters.errors_download", w.fixed["roster_c1"]},
	} {
		before := count(c.action, c.target, c.who)
		method := "GET"
		if strings.HasSuffix(c.path, "/reveal") {
			method = "POST"
		}
		res, body := sessionClient(t, a, c.who).do(method, c.path, "")
		if res.StatusCode != 200 {
			t.Fatalf("%s %s as %s: %d %.200s", method, c.path, c.who, res.StatusCode, body)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", c.path, res.Header.Get("Cache-Control"))
		}
		if got := count(c.action, c.target, c.who); got != before+1 {
			t.Errorf("%s as %s: %d new %s events, want 1", c.path, c.who, got-before, c.action)
		}
	}
}

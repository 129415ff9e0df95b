package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"tuoyu/app/seed"
	"tuoyu/modules/workers"
)

// HTTP tests of workers, institutions and bans on the demo world.

type workerItem struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number_masked"`
	RegionCode     string `json:"region_code"`
	Banned         bool   `json:"banned"`
	College        *struct {
		Name string `json:"name"`
	} `json:"college"`
}

type workerList struct {
	Items []workerItem `json:"items"`
	Total int          `json:"total"`
}

var peopleRand = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 99))

func freshID(area string) string {
	return workers.GenerateID(peopleRand, area, time.Date(1988, 4, 1+peopleRand.IntN(28), 0, 0, 0, 0, time.UTC), workers.SexFemale)
}

func TestWorkersHTTP(t *testing.T) {
	admin := login(t, "admin")
	res, body := admin.do("GET", "/api/v1/workers?per_page=200", nil)
	if res.StatusCode != 200 {
		t.Fatalf("admin list: %d %s", res.StatusCode, body)
	}
	all := decode[workerList](t, body)
	if all.Total < seed.DemoWorkers {
		t.Fatalf("demo workers: %d, want at least %d", all.Total, seed.DemoWorkers)
	}
	var grad1, grad2, yichang, banned *workerItem
	for i := range all.Items {
		w := &all.Items[i]
		if !strings.Contains(w.IDNumberMasked, "********") || len(w.IDNumberMasked) != 18 {
			t.Fatalf("id not masked: %q", w.IDNumberMasked)
		}
		switch {
		case w.College != nil && w.College.Name == "武汉城市职业学院" && grad1 == nil:
			grad1 = w
		case w.College != nil && w.College.Name == "三峡旅游职业技术学院" && grad2 == nil:
			grad2 = w
		}
		if strings.HasPrefix(w.RegionCode, "4205") && yichang == nil {
			yichang = w
		}
		if w.Banned {
			banned = w
		}
	}
	if grad1 == nil || grad2 == nil || yichang == nil {
		t.Fatalf("demo world lacks graduates of both colleges or a 宜昌 worker")
	}
	if banned == nil {
		t.Error("no demo worker carries the demo ban")
	}
	if strings.Contains(string(body), `"id_number"`) {
		t.Error("the list carries an id_number field")
	}

	// Scope: 404 outside, 200 inside.
	college1, college2, hr := login(t, "college1"), login(t, "college2"), login(t, "hr_reviewer1")
	for _, c := range []struct {
		who    *client
		id     int64
		status int
	}{
		{college1, grad1.ID, 200}, {college1, grad2.ID, 404}, {college2, grad1.ID, 404}, {college2, grad2.ID, 200},
		{hr, yichang.ID, 404},
	} {
		if res, body := c.who.do("GET", fmt.Sprintf("/api/v1/workers/%d", c.id), nil); res.StatusCode != c.status {
			t.Errorf("GET worker %d: %d %s, want %d", c.id, res.StatusCode, body, c.status)
		}
	}

	// The worker sees only themself.
	w1 := login(t, "worker1")
	res, body = w1.do("GET", "/api/v1/me/worker", nil)
	if res.StatusCode != 200 {
		t.Fatalf("me: %d %s", res.StatusCode, body)
	}
	me := decode[workerItem](t, body)
	other := grad2.ID
	if other == me.ID {
		other = grad1.ID
	}
	if res, _ := w1.do("GET", fmt.Sprintf("/api/v1/workers/%d", other), nil); res.StatusCode != 404 {
		t.Errorf("worker sees another worker: %d", res.StatusCode)
	}
	if res, _ := w1.do("GET", "/api/v1/workers", nil); res.StatusCode != 403 {
		t.Errorf("worker lists workers: %d", res.StatusCode)
	}
	path := fmt.Sprintf("/api/v1/workers/%d", me.ID)
	if res, body := w1.do("PATCH", path, map[string]any{"phone": "13912345678", "bank_name": "汉口银行"}); res.StatusCode != 200 ||
		!strings.Contains(string(body), `"phone_masked":"139****5678"`) {
		t.Errorf("worker edits phone: %d %s", res.StatusCode, body)
	}
	if res, body := w1.do("PATCH", path, map[string]any{"id_number": freshID("420106")}); res.StatusCode != 422 || !strings.Contains(string(body), `"field":"id_number"`) {
		t.Errorf("worker edits ID number: %d %s", res.StatusCode, body)
	}
	if res, body := w1.do("PATCH", path, map[string]any{"name": "改名"}); res.StatusCode != 422 || !strings.Contains(string(body), "not_editable") {
		t.Errorf("worker renames: %d %s", res.StatusCode, body)
	}

	// Search by exact ID number through the blind index.
	id := freshID("420102")
	res, body = hr.do("POST", "/api/v1/workers", map[string]any{"name": "检索测试", "id_number": id, "phone": "13700000001"})
	if res.StatusCode != 201 {
		t.Fatalf("register: %d %s", res.StatusCode, body)
	}
	registered := decode[workerItem](t, body)
	res, body = hr.do("GET", "/api/v1/workers?q="+id, nil)
	if got := decode[workerList](t, body); res.StatusCode != 200 || got.Total != 1 || got.Items[0].Name != "检索测试" {
		t.Errorf("search by ID: %d %s", res.StatusCode, body)
	}
	if res, body := hr.do("POST", "/api/v1/workers", map[string]any{"name": "重复", "id_number": id}); res.StatusCode != 409 {
		t.Errorf("duplicate register: %d %s", res.StatusCode, body)
	}
	if res, body := hr.do("POST", "/api/v1/workers", map[string]any{"name": "坏号", "id_number": "4.20106E+17"}); res.StatusCode != 422 ||
		!strings.Contains(string(body), workers.CodeIDExcelScientific) {
		t.Errorf("bad ID register: %d %s", res.StatusCode, body)
	}

	// Pages.
	for _, p := range []struct {
		who  *client
		path string
		want string
	}{
		{hr, "/workers?q=" + url.QueryEscape("检索"), "检索测试"},
		{hr, fmt.Sprintf("/workers/%d", registered.ID), "显示完整证件号"},
		{w1, "/me", "我的档案"},
		{w1, fmt.Sprintf("/workers/%d/edit", me.ID), "银行账号"},
		{college1, fmt.Sprintf("/workers/%d", grad1.ID), "编辑档案"},
	} {
		res, body := p.who.do("GET", p.path, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), p.want) {
			t.Errorf("GET %s: %d, want 200 containing %q", p.path, res.StatusCode, p.want)
		}
	}
	res, body = hr.do("POST", fmt.Sprintf("/workers/%d/reveal", grad1.ID), "")
	if res.StatusCode != 200 || !strings.Contains(string(body), "本次查看已记入审计日志") {
		t.Errorf("reveal page: %d", res.StatusCode)
	}
	if res, _ := college1.do("POST", fmt.Sprintf("/workers/%d/reveal", grad1.ID), ""); res.StatusCode != 403 {
		t.Errorf("college reveals: %d", res.StatusCode)
	}
	res, body = w1.do("POST", fmt.Sprintf("/workers/%d/edit", me.ID), "phone=123&education=bachelor")
	if res.StatusCode != 422 || !strings.Contains(string(body), "手机号") {
		t.Errorf("bad phone on the edit form: %d", res.StatusCode)
	}
	if res, _ := w1.do("POST", fmt.Sprintf("/workers/%d/edit", me.ID), "phone=&education=bachelor"); res.StatusCode != 303 {
		t.Errorf("edit form: %d", res.StatusCode)
	}

	if strings.Contains(logBuf.String(), id) {
		t.Error("the log holds a plaintext ID number")
	}
}

func TestInstitutionsHTTP(t *testing.T) {
	reg := login(t, "regulator2") // 武汉
	first17 := fmt.Sprintf("52420111MJH%05dX", peopleRand.IntN(100000))
	uscc := first17 + string(usccCheck(first17))
	in := map[string]any{"uscc": uscc, "name": "洪山区测试托育园", "kind": "public", "region_code": "420111", "places": 30,
		"filing_status": "filed", "filed_on": "2026-01-05"}
	res, body := reg.do("POST", "/api/v1/institutions", in)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	n := decode[struct {
		ID int64 `json:"id"`
	}](t, body)
	if res, body := reg.do("POST", "/api/v1/institutions", in); res.StatusCode != 409 || problemCode(t, body) != "uscc_taken" {
		t.Errorf("duplicate: %d %s", res.StatusCode, body)
	}
	in["uscc"], in["region_code"] = "91350100M000100Y42", "420502"
	if res, body := reg.do("POST", "/api/v1/institutions", in); res.StatusCode != 422 ||
		!strings.Contains(string(body), "invalid_uscc") || !strings.Contains(string(body), "region_out_of_scope") {
		t.Errorf("bad create: %d %s", res.StatusCode, body)
	}
	path := fmt.Sprintf("/api/v1/institutions/%d", n.ID)
	if res, body := reg.do("PATCH", path, map[string]any{"places": 45}); res.StatusCode != 200 || !strings.Contains(string(body), `"places":45`) {
		t.Errorf("patch: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "hr_reviewer1").do("PATCH", path, map[string]any{"places": 1}); res.StatusCode != 403 {
		t.Errorf("hr patches an institution: %d", res.StatusCode)
	}
	w1 := login(t, "worker1")
	res, body = w1.do("GET", "/api/v1/institutions", nil)
	if res.StatusCode != 200 || decode[workerList](t, body).Total < 5 {
		t.Errorf("registry list: %d %s", res.StatusCode, body)
	}
	for _, p := range []string{"/institutions", fmt.Sprintf("/institutions/%d", n.ID)} {
		if res, body := reg.do("GET", p, nil); res.StatusCode != 200 || !strings.Contains(string(body), "洪山区测试托育园") {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	if res, _ := reg.do("POST", fmt.Sprintf("/institutions/%d", n.ID), "uscc="+uscc+"&name=x&kind=public&region_code=420111&places=0&filing_status=filed&filed_on=2026-01-05"); res.StatusCode != 422 {
		t.Errorf("bad edit form: %d", res.StatusCode)
	}
	if res, _ := reg.do("DELETE", path, nil); res.StatusCode != 204 {
		t.Errorf("delete: %d", res.StatusCode)
	}
}

func usccCheck(first17 string) byte {
	const chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	w := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(chars, first17[i]) * w[i]
	}
	return chars[(31-sum%31)%31]
}

func TestBansHTTP(t *testing.T) {
	reg1, reg2 := login(t, "regulator1"), login(t, "regulator2")
	subject, manager := freshID("420106"), freshID("420103")
	res, body := reg1.do("POST", "/api/v1/bans", map[string]any{
		"name": "测试当事人", "id_number": subject, "reason": "虐待婴幼儿", "decision_no": "测〔2026〕1号",
		"decided_on": "2026-10-01", "region_code": "420100",
		"managers": []map[string]string{{"name": "测试主管", "id_number": manager}},
	})
	if res.StatusCode != 201 {
		t.Fatalf("record: %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), subject) || strings.Contains(string(body), manager) {
		t.Error("the record answer holds a plaintext ID number")
	}
	ban := decode[struct {
		ID       int64 `json:"id"`
		Managers []struct {
			ID int64 `json:"id"`
		} `json:"managers"`
	}](t, body)
	if len(ban.Managers) != 1 {
		t.Fatalf("managers: %s", body)
	}
	if res, body := reg1.do("POST", "/api/v1/bans", map[string]any{"name": "坏", "id_number": "42010619900101123", "reason": "x",
		"decision_no": "x", "decided_on": "2026-10-01"}); res.StatusCode != 422 || !strings.Contains(string(body), `"field":"id_number"`) {
		t.Errorf("bad ID: %d %s", res.StatusCode, body)
	}

	// The check answers only {"banned": bool}, for providers and institutions.
	prov := login(t, "provider1")
	for _, c := range []struct {
		id, want string
	}{{subject, `{"banned":true}`}, {manager, `{"banned":true}`}, {freshID("420106"), `{"banned":false}`}} {
		res, body := prov.do("GET", "/api/v1/bans/check?id_number="+c.id, nil)
		if res.StatusCode != 200 || string(body) != c.want {
			t.Errorf("check: %d %s, want %s", res.StatusCode, body, c.want)
		}
	}
	if res, body := prov.do("GET", "/api/v1/bans/check?id_number=123", nil); res.StatusCode != 422 || !strings.Contains(string(body), `"field":"id_number"`) {
		t.Errorf("check bad ID: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "hr_reviewer1").do("GET", "/api/v1/bans/check?id_number="+subject, nil); res.StatusCode != 403 {
		t.Errorf("hr checks: %d", res.StatusCode)
	}
	n, err := testApp(t).DB.NewSelect().Table("audit_events").Where("action = 'bans.check'").Count(context.Background())
	if err != nil || n < 4 {
		t.Errorf("check audit events: %d, %v", n, err)
	}

	// Rate limit per user.
	prov2 := login(t, "provider2")
	clean := freshID("420502")
	var last int
	for i := 0; i < 31; i++ {
		res, _ := prov2.do("GET", "/api/v1/bans/check?id_number="+clean, nil)
		last = res.StatusCode
		if i < 30 && last != 200 {
			t.Fatalf("check %d: %d", i+1, last)
		}
	}
	if res, body := prov2.do("GET", "/api/v1/bans/check?id_number="+clean, nil); res.StatusCode != 429 || problemCode(t, body) != "rate_limited" {
		t.Errorf("check 32: %d %s, want 429 rate_limited", res.StatusCode, body)
	}
	if last != 429 {
		t.Errorf("check 31: %d, want 429", last)
	}
	if res, _ := prov.do("GET", "/api/v1/bans/check?id_number="+clean, nil); res.StatusCode != 200 {
		t.Errorf("another user is limited too: %d", res.StatusCode)
	}

	// Lifting takes two regulators.
	base := fmt.Sprintf("/api/v1/bans/%d", ban.ID)
	if res, body := reg1.do("POST", base+"/lift-request", map[string]any{"lift_document": "鄂卫复〔2026〕3号"}); res.StatusCode != 200 {
		t.Fatalf("lift request: %d %s", res.StatusCode, body)
	}
	if res, body := reg1.do("POST", base+"/lift-confirm", nil); res.StatusCode != 403 || problemCode(t, body) != "four_eyes" {
		t.Errorf("same regulator confirms: %d %s", res.StatusCode, body)
	}
	if res, body := reg2.do("POST", base+"/lift-confirm", nil); res.StatusCode != 200 || !strings.Contains(string(body), `"status":"lifted"`) {
		t.Errorf("second regulator confirms: %d %s", res.StatusCode, body)
	}
	if _, body := prov.do("GET", "/api/v1/bans/check?id_number="+subject, nil); string(body) != `{"banned":false}` {
		t.Errorf("check after lift: %s", body)
	}
	if _, body := prov.do("GET", "/api/v1/bans/check?id_number="+manager, nil); string(body) != `{"banned":true}` {
		t.Errorf("the manager's ban must stand: %s", body)
	}

	// Pages.
	for _, p := range []struct {
		who  *client
		path string
		want string
	}{
		{reg1, "/bans", "终身禁入名单"},
		{reg1, "/bans/new", "直接主管人员"},
		{reg1, fmt.Sprintf("/bans/%d", ban.Managers[0].ID), "申请解除"},
		{prov, "/bans/check", "终身禁入查询"},
	} {
		res, body := p.who.do("GET", p.path, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), p.want) {
			t.Errorf("GET %s: %d, want 200 containing %q", p.path, res.StatusCode, p.want)
		}
	}
	res, body = prov.do("POST", "/bans/check", "id_number="+manager)
	if res.StatusCode != 200 || !strings.Contains(string(body), "已被列入终身禁入名单") || strings.Contains(string(body), manager) {
		t.Errorf("check page: %d", res.StatusCode)
	}
	res, body = reg1.do("POST", "/bans", "name=页面当事人&id_number="+freshID("420104")+"&reason=虐童&decision_no=页〔2026〕2号&decided_on=2026-10-02&manager_name=&manager_id_number=")
	if res.StatusCode != 303 {
		t.Errorf("record form: %d %s", res.StatusCode, body)
	}
	if strings.Contains(logBuf.String(), subject) || strings.Contains(logBuf.String(), manager) {
		t.Error("the log holds a plaintext ID number")
	}
}

// TestNoSeededIDNumberInPlaintext decrypts every stored ID number and looks
// for each in every text-like and bytea column of the database and in the
// captured log.
func TestNoSeededIDNumberInPlaintext(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	var encs [][]byte
	if err := a.DB.NewRaw(`SELECT id_number_enc FROM workers UNION ALL SELECT id_number_enc FROM bans`).Scan(ctx, &encs); err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, e := range encs {
		id, err := a.Cipher.Decrypt(e)
		if err != nil {
			t.Fatalf("decrypt: %v", err)
		}
		patterns = append(patterns, "%"+id+"%")
		if strings.Contains(logBuf.String(), id) {
			t.Errorf("the log holds the ID number of %s", id[:6])
		}
	}
	if len(patterns) < seed.DemoWorkers {
		t.Fatalf("only %d ID numbers stored", len(patterns))
	}
	var cols []struct{ Table, Column, Type string }
	if err := a.DB.NewRaw(`SELECT table_name AS table, column_name AS column, data_type AS type FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'bytea', 'ARRAY', 'json', 'jsonb')`).Scan(ctx, &cols); err != nil {
		t.Fatal(err)
	}
	for _, c := range cols {
		// encode(…, 'escape') shows bytea's printable bytes as they are.
		expr := "?::text"
		if c.Type == "bytea" {
			expr = "encode(?, 'escape')"
		}
		n, err := a.DB.NewSelect().TableExpr("?", bun.Ident(c.Table)).
			Where(expr+" LIKE ANY (?)", bun.Ident(c.Column), pgdialect.Array(patterns)).Count(ctx)
		if err != nil {
			t.Fatalf("scan %s.%s: %v", c.Table, c.Column, err)
		}
		if n > 0 {
			t.Errorf("%s.%s holds %d plaintext ID numbers", c.Table, c.Column, n)
		}
	}
	// The same query finds what is stored in clear (names), so it can fail.
	n, err := a.DB.NewSelect().TableExpr("workers").
		Where("?::text LIKE ANY (?)", bun.Ident("name"), pgdialect.Array([]string{"%演示%", "%" + demoWorkerName(t, a) + "%"})).Count(ctx)
	if err != nil || n == 0 {
		t.Errorf("control scan found %d names, %v", n, err)
	}
}

func demoWorkerName(t *testing.T, a *App) string {
	t.Helper()
	var name string
	if err := a.DB.NewRaw(`SELECT name FROM workers ORDER BY id LIMIT 1`).Scan(context.Background(), &name); err != nil {
		t.Fatal(err)
	}
	return name
}

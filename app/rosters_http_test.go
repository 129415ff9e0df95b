package app

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"tuoyu/modules/workers"
	"tuoyu/modules/workers/workerstest"
)

// multipartFile builds a multipart body with the field file and extra
// fields; it returns the body and its content type.
func multipartFile(t *testing.T, name string, data []byte, fields ...string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	if name != "" {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func (c *client) upload(path, name string, data []byte, fields ...string) (*http.Response, []byte) {
	c.t.Helper()
	t := c.t.(*testing.T)
	body, ctype := multipartFile(t, name, data, fields...)
	return c.do("POST", path, body, "Content-Type", ctype)
}

// gbkRoster is a GBK CSV roster of n fresh graduates, and their ID numbers.
func gbkRoster(t *testing.T, n int) ([]byte, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("姓名,身份证号,性别,手机号,专业,毕业年份\r\n")
	var ids []string
	for i := range n {
		id := workerstest.IDNumber("420106")
		r, err := workers.ValidateID(id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		fmt.Fprintf(&b, "测试%c,%s,%s,1390000%04d,早期教育,2026\r\n", '子'+rune(i), id, r.Sex.Label(), i)
	}
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return out, ids
}

type importBody struct {
	ID            int64  `json:"id"`
	Status        string `json:"status"`
	Encoding      string `json:"encoding"`
	FileSHA256    string `json:"file_sha256"`
	RowsTotal     int    `json:"rows_total"`
	RowsValid     int    `json:"rows_valid"`
	RowsInvalid   int    `json:"rows_invalid"`
	RowsNew       int    `json:"rows_new"`
	RowsChanged   int    `json:"rows_changed"`
	RowsUnchanged int    `json:"rows_unchanged"`
	Progress      int    `json:"progress"`
}

func TestRosterHTTP(t *testing.T) {
	c1, c2 := login(t, "college1"), login(t, "college2")
	data, ids := gbkRoster(t, 3)

	res, body := c1.upload("/api/v1/rosters", "2026届.csv", data)
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	im := decode[importBody](t, body)
	if im.Status != "validated" || im.Encoding != "gbk" || im.RowsTotal != 3 || im.RowsNew != 3 || im.Progress != 100 || len(im.FileSHA256) != 64 {
		t.Fatalf("import %+v", im)
	}
	path := fmt.Sprintf("/api/v1/rosters/%d", im.ID)

	// College B cannot see, read or commit A's import.
	for _, p := range []string{path, path + "/errors.csv", path + "/rows"} {
		if res, body := c2.do("GET", p, nil); res.StatusCode != 404 {
			t.Errorf("college2 GET %s: %d %s", p, res.StatusCode, body)
		}
	}
	if res, body := c2.do("POST", path+"/commit", nil); res.StatusCode != 404 || problemCode(t, body) != "roster_not_found" {
		t.Errorf("college2 commit: %d %s", res.StatusCode, body)
	}
	if res, _ := login(t, "provider1").do("GET", path, nil); res.StatusCode != 403 {
		t.Errorf("provider GET: %d", res.StatusCode)
	}

	res, body = c1.do("POST", path+"/commit", nil)
	if res.StatusCode != 200 || decode[importBody](t, body).Status != "committed" {
		t.Fatalf("commit: %d %s", res.StatusCode, body)
	}
	res, body = c1.do("POST", path+"/commit", nil)
	if res.StatusCode != 409 || problemCode(t, body) != "already_committed" {
		t.Errorf("second commit: %d %s", res.StatusCode, body)
	}

	// The same file again: every row unchanged; commit adds nothing.
	_, body = c1.upload("/api/v1/rosters", "2026届.csv", data)
	again := decode[importBody](t, body)
	if again.RowsUnchanged != 3 || again.RowsNew != 0 || again.RowsChanged != 0 {
		t.Errorf("re-upload %+v", again)
	}
	_, body = c1.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", again.ID), nil)
	if got := decode[importBody](t, body); got.RowsNew != 0 || got.RowsUnchanged != 3 {
		t.Errorf("re-commit %+v", got)
	}

	// Rows, errors.csv, template, history.
	if res, body := c1.do("GET", path+"/rows?outcome=new&per_page=2", nil); res.StatusCode != 200 ||
		!strings.Contains(string(body), `"total":3`) || strings.Contains(string(body), ids[0]) {
		t.Errorf("rows: %d %s", res.StatusCode, body)
	}
	if res, body := c1.do("GET", path+"/errors.csv", nil); res.StatusCode != 200 ||
		!strings.HasPrefix(string(body), "\xEF\xBB\xBF姓名,身份证号,性别,手机号,专业,毕业年份,错误") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("errors.csv: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	var downloads int
	_ = testApp(t).DB.NewRaw("SELECT count(*) FROM audit_events WHERE action = 'rosters.errors_download' AND target_id = ?", fmt.Sprint(im.ID)).Scan(t.Context(), &downloads)
	if downloads != 1 {
		t.Errorf("%d audit events for the errors.csv download, want 1", downloads)
	}
	if res, body := c1.do("GET", "/api/v1/rosters/template.xlsx", nil); res.StatusCode != 200 || !bytes.HasPrefix(body, []byte("PK")) {
		t.Errorf("template: %d", res.StatusCode)
	}
	if res, body := c1.do("GET", "/api/v1/rosters?per_page=200", nil); res.StatusCode != 200 ||
		!strings.Contains(string(body), fmt.Sprintf(`"id":%d,`, im.ID)) {
		t.Errorf("list: %d %s", res.StatusCode, body)
	}
	if _, body := c2.do("GET", "/api/v1/rosters?per_page=200", nil); strings.Contains(string(body), fmt.Sprintf(`"id":%d,`, im.ID)) {
		t.Error("college2 lists college1's import")
	}

	// Pages render.
	for _, p := range []string{"/rosters", "/rosters/new", fmt.Sprintf("/rosters/%d", im.ID)} {
		if res, body := c1.do("GET", p, nil); res.StatusCode != 200 || !strings.Contains(string(body), "花名册") {
			t.Errorf("page %s: %d", p, res.StatusCode)
		}
	}
	if res, _ := c2.do("GET", fmt.Sprintf("/rosters/%d", im.ID), nil); res.StatusCode != 404 {
		t.Errorf("college2 page: %d", res.StatusCode)
	}

	// A preview with a changed and an invalid row shows both, masked; the
	// stored phone is kept and the preview says so.
	changed := strings.Replace(string(mustUTF8(t, data)), "13900000000,早期教育", "13700000000,学前教育", 1)
	changed += "坏行,4.20106E+17,女,13900000009,早期教育,2026\r\n"
	res, body = c1.upload("/api/v1/rosters", "changed.csv", []byte(changed))
	if res.StatusCode != 201 {
		t.Fatalf("changed upload: %d %s", res.StatusCode, body)
	}
	prev := decode[importBody](t, body)
	if prev.RowsChanged != 1 || prev.RowsInvalid != 1 || prev.RowsUnchanged != 2 {
		t.Errorf("changed preview %+v", prev)
	}
	if _, body := c1.do("GET", fmt.Sprintf("/api/v1/rosters/%d/rows?outcome=changed", prev.ID), nil); !strings.Contains(string(body),
		`"phone":{"old":"139****0000","new":"137****0000","kept":true}`) {
		t.Errorf("changed row's diff does not show the phone kept: %s", body)
	}
	_, body = c1.do("GET", fmt.Sprintf("/rosters/%d", prev.ID), nil)
	page := string(body)
	for _, want := range []string{"与已有学员不同的行", "将更新", "保留 139****0000（不改为 137****0000）", "学前教育",
		"有错误的行", "科学计数法", "errors.csv"} {
		if !strings.Contains(page, want) {
			t.Errorf("preview page lacks %q", want)
		}
	}
	for _, id := range ids {
		if strings.Contains(page, id) {
			t.Error("preview page shows a whole ID number")
		}
	}
	_, body = c1.do("GET", fmt.Sprintf("/rosters/%d", again.ID), nil)
	if !strings.Contains(string(body), "同一文件") {
		t.Error("re-upload page does not mention the earlier upload of the same file")
	}

	// No ID number reached the log.
	for _, id := range ids {
		if strings.Contains(logBuf.String(), id) {
			t.Errorf("log contains an ID number")
		}
	}
}

func mustUTF8(t *testing.T, gbk []byte) []byte {
	t.Helper()
	out, err := simplifiedchinese.GBK.NewDecoder().Bytes(gbk)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRosterHTTPBadInput(t *testing.T) {
	c := login(t, "college1")
	a := testApp(t)
	count := func() int {
		n, err := a.DB.NewSelect().Table("roster_imports").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	before := count()
	tests := []struct {
		name, file string
		data       []byte
		status     int
		code       string
	}{
		{"no file", "", nil, 422, "file_required"},
		{"empty", "r.csv", []byte{}, 422, "empty_file"},
		{"wrong extension", "r.pdf", []byte("%PDF-1.4"), 415, "unsupported_file_type"},
		{"binary garbage", "r.csv", []byte{0, 1, 2, 3, 0xff}, 415, "unsupported_file_type"},
		{"no header", "r.csv", []byte("a,b\nc,d\n"), 422, "no_header"},
		{"0-byte xlsx", "r.xlsx", []byte{}, 422, "empty_file"},
		{"truncated xlsx", "r.xlsx", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), 422, "corrupt_xlsx"},
		{"over 20 MB", "r.csv", bytes.Repeat([]byte("x"), 20<<20+1), 413, "file_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := c.upload("/api/v1/rosters", tt.file, tt.data)
			if res.StatusCode != tt.status || problemCode(t, body) != tt.code {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, body, tt.status, tt.code)
			}
			if tt.code == "file_too_large" && !strings.Contains(string(body), "20 MB") {
				t.Errorf("the refusal does not name the 20 MB limit: %s", body)
			}
		})
	}
	if res, body := c.upload("/api/v1/rosters", "r.csv", []byte(sampleRoster(t)), "mode", "replace"); res.StatusCode != 422 || problemCode(t, body) != "invalid_mode" {
		t.Errorf("bad mode: %d %s", res.StatusCode, body)
	}
	if count() != before {
		t.Errorf("bad uploads stored %d imports", count()-before)
	}

	// The upload page shows the refusal in Chinese.
	res, body := c.upload("/rosters", "r.pdf", []byte("x"))
	if res.StatusCode != 415 || !strings.Contains(string(body), "不支持的文件类型") {
		t.Errorf("page upload of a pdf: %d", res.StatusCode)
	}
	// A file over 20 MB in a body the server accepts: the form says the
	// roster's own limit, and the form states it before anyone uploads.
	res, body = c.upload("/rosters", "big.csv", bytes.Repeat([]byte("x"), 20<<20+1))
	if res.StatusCode != 413 || !strings.Contains(string(body), "文件过大，不能超过 20 MB") {
		t.Errorf("page upload over 20 MB: %d", res.StatusCode)
	}
	if _, body := c.do("GET", "/rosters/new", nil); !strings.Contains(string(body), "文件大小不超过 20 MB") {
		t.Error("the upload form does not state the 20 MB limit")
	}
}

// TestRosterHTTPOtherCollege: college2 sends college1's graduate; the row
// is refused without showing anything of the graduate, and the commit
// leaves them to college1. A worker a provider registered is claimed, with
// the phone they have kept.
func TestRosterHTTPOtherCollege(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	c1, c2 := login(t, "college1"), login(t, "college2")
	data, ids := gbkRoster(t, 1)
	_, body := c1.upload("/api/v1/rosters", "mine.csv", data)
	if res, body := c1.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", decode[importBody](t, body).ID), nil); res.StatusCode != 200 {
		t.Fatalf("college1 commit: %d %s", res.StatusCode, body)
	}
	var workerID int64
	if err := a.DB.NewSelect().Table("workers").Column("id").Where("name = ?", "测试子").
		Where("college_org_id = (SELECT id FROM organisations WHERE code = 'college1')").
		OrderExpr("id DESC").Limit(1).Scan(ctx, &workerID); err != nil {
		t.Fatal(err)
	}
	type profile struct {
		Name        string `json:"name"`
		PhoneMasked string `json:"phone_masked"`
		Major       string `json:"major"`
		RegionCode  string `json:"region_code"`
		College     *struct {
			Name string `json:"name"`
		} `json:"college"`
	}
	show := fmt.Sprintf("/api/v1/workers/%d", workerID)
	res, body := c1.do("GET", show, nil)
	if res.StatusCode != 200 {
		t.Fatalf("college1 reads its graduate: %d %s", res.StatusCode, body)
	}
	before := decode[profile](t, body)

	r, _ := workers.ValidateID(ids[0], time.Now())
	otherID := workerstest.IDNumber("420502")
	ro, _ := workers.ValidateID(otherID, time.Now())
	takeover := "姓名,身份证号,性别,手机号,专业,毕业年份\r\n冒名," + ids[0] + "," + r.Sex.Label() + ",13711112222,学前教育,2025\r\n" +
		"宜昌学员," + otherID + "," + ro.Sex.Label() + ",13611112222,学前教育,2026\r\n"
	res, body = c2.upload("/api/v1/rosters", "takeover.csv", []byte(takeover))
	if res.StatusCode != 201 {
		t.Fatalf("college2 upload: %d %s", res.StatusCode, body)
	}
	im := decode[importBody](t, body)
	if im.RowsInvalid != 1 || im.RowsValid != 1 || im.RowsChanged != 0 {
		t.Errorf("college2 preview %+v, want the graduate's row invalid", im)
	}
	_, rows := c2.do("GET", fmt.Sprintf("/api/v1/rosters/%d/rows?outcome=invalid", im.ID), nil)
	if !strings.Contains(string(rows), `"code":"other_college"`) || !strings.Contains(string(rows), "不属于本校毕业生") {
		t.Errorf("invalid rows %s, want other_college", rows)
	}
	_, page := c2.do("GET", fmt.Sprintf("/rosters/%d", im.ID), nil)
	for _, foreign := range []string{`"worker_id"`, `"diff"`, before.PhoneMasked, before.College.Name, "早期教育"} {
		if strings.Contains(string(rows), foreign) || strings.Contains(string(page), foreign) {
			t.Errorf("college2's preview shows %q of college1's graduate", foreign)
		}
	}
	if res, body := c2.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", im.ID), nil); res.StatusCode != 200 {
		t.Fatalf("college2 commit: %d %s", res.StatusCode, body)
	}
	res, body = c1.do("GET", show, nil)
	if res.StatusCode != 200 {
		t.Fatalf("college1 lost its graduate: %d %s", res.StatusCode, body)
	}
	if after := decode[profile](t, body); after.PhoneMasked != before.PhoneMasked || after.Major != before.Major ||
		after.RegionCode != before.RegionCode || after.College == nil || after.College.Name != before.College.Name {
		t.Errorf("college1's graduate changed: %+v → %+v", before, after)
	}
	if res, _ := c2.do("GET", show, nil); res.StatusCode != 404 {
		t.Errorf("college2 reads college1's graduate: %d", res.StatusCode)
	}

	// A provider's worker is not the college's to claim either: refused,
	// and the stored record stays the provider's, unread and unchanged.
	id := workerstest.IDNumber("420106")
	rv, _ := workers.ValidateID(id, time.Now())
	res, body = login(t, "provider1").do("POST", "/api/v1/workers", map[string]string{"name": "机构登记", "id_number": id, "phone": "13822223333"})
	if res.StatusCode != 201 {
		t.Fatalf("provider registers: %d %s", res.StatusCode, body)
	}
	registered := decode[struct {
		ID int64 `json:"id"`
	}](t, body).ID
	res, body = c1.upload("/api/v1/rosters", "claim.csv", []byte("姓名,身份证号,性别,手机号,专业,毕业年份\n张冒名,"+id+","+rv.Sex.Label()+",13644445555,早期教育,2026\n"))
	if im := decode[importBody](t, body); res.StatusCode != 201 || im.RowsInvalid != 1 || im.RowsChanged != 0 {
		t.Fatalf("claim upload: %d %s", res.StatusCode, body)
	}
	if res, _ := c1.do("GET", fmt.Sprintf("/api/v1/workers/%d", registered), nil); res.StatusCode != 404 {
		t.Errorf("college1 reads a provider's worker: %d", res.StatusCode)
	}
	res, body = login(t, "provider1").do("GET", fmt.Sprintf("/api/v1/workers/%d", registered), nil)
	if got := decode[profile](t, body); res.StatusCode != 200 || got.Name != "机构登记" || got.College != nil {
		t.Errorf("the provider's worker changed: %d %+v", res.StatusCode, got)
	}
}

// TestRosterHTTPRefusedCommit: every valid row banned before the commit;
// the 422 and the import agree (rows invalid, errors.csv lists them).
func TestRosterHTTPRefusedCommit(t *testing.T) {
	c1 := login(t, "college1")
	data, ids := gbkRoster(t, 1)
	_, body := c1.upload("/api/v1/rosters", "ban.csv", data)
	im := decode[importBody](t, body)
	if im.RowsValid != 1 {
		t.Fatalf("preview %+v", im)
	}
	reg := login(t, "regulator1")
	if res, body := reg.do("POST", "/api/v1/bans", map[string]string{"name": "测试子", "id_number": ids[0], "reason": "虐童",
		"decision_no": "鄂卫禁〔2026〕99号", "decided_on": "2026-11-01", "region_code": "420100"}); res.StatusCode != 201 {
		t.Fatalf("ban: %d %s", res.StatusCode, body)
	}
	path := fmt.Sprintf("/api/v1/rosters/%d", im.ID)
	if res, body := c1.do("POST", path+"/commit", nil); res.StatusCode != 422 || problemCode(t, body) != "no_valid_rows" {
		t.Fatalf("commit: %d %s, want 422 no_valid_rows", res.StatusCode, body)
	}
	_, body = c1.do("GET", path, nil)
	if got := decode[importBody](t, body); got.RowsValid != 0 || got.RowsInvalid != 1 || got.RowsNew != 0 || got.Status != "validated" {
		t.Errorf("after the refusal %+v, want the row counted invalid", got)
	}
	if _, body := c1.do("GET", path+"/errors.csv", nil); !strings.Contains(string(body), "无法登记") || strings.Contains(string(body), "禁") {
		t.Errorf("errors.csv %q, want the row refused without naming the ban", body)
	}
}

func sampleRoster(t *testing.T) string {
	id := workerstest.IDNumber("420106")
	r, _ := workers.ValidateID(id, time.Now())
	return "姓名,身份证号,性别\n测试," + id + "," + r.Sex.Label() + "\n"
}

func TestRosterHTTPTokenAndPages(t *testing.T) {
	a := testApp(t)
	raw, _, err := a.Accounts.CreateToken(context.Background(), "college1", "教务系统", 0)
	if err != nil {
		t.Fatal(err)
	}
	sys := anon(t)
	sys.bearer = raw
	res, body := sys.upload("/api/v1/rosters", "push.csv", []byte(sampleRoster(t)), "mode", "add_only")
	if res.StatusCode != 201 {
		t.Fatalf("token upload: %d %s", res.StatusCode, body)
	}
	im := decode[importBody](t, body)
	res, body = sys.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", im.ID), nil)
	if res.StatusCode != 200 {
		t.Fatalf("token commit: %d %s", res.StatusCode, body)
	}

	// The page flow: upload form → preview → commit button.
	c := login(t, "college1")
	res, _ = c.upload("/rosters", "page.csv", []byte(sampleRoster(t)), "mode", "upsert")
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/rosters/") {
		t.Fatalf("page upload: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	loc := res.Header.Get("Location")
	if res, body := c.do("GET", loc, nil); res.StatusCode != 200 || !strings.Contains(string(body), "提交") {
		t.Fatalf("preview page: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", loc+"/commit", "_csrf="+c.csrf); res.StatusCode != 303 {
		t.Fatalf("commit form: %d", res.StatusCode)
	}
	if res, body := c.do("POST", loc+"/commit", "_csrf="+c.csrf); res.StatusCode != 409 || !strings.Contains(string(body), "已提交") {
		t.Errorf("second commit form: %d", res.StatusCode)
	}
}

func TestRosterDemoSeed(t *testing.T) {
	a := testApp(t)
	var rows []struct {
		Code   string `bun:"code"`
		Status string `bun:"status"`
	}
	err := a.DB.NewSelect().TableExpr("roster_imports AS ri").ColumnExpr("o.code, ri.status").
		Join("JOIN organisations AS o ON o.id = ri.college_org_id").
		Where("ri.file_name LIKE '%届%'").Where("o.code IN ('college1', 'college2')").
		OrderExpr("ri.id").Limit(2).Scan(context.Background(), &rows)
	if err != nil || len(rows) != 2 || rows[0].Code != "college1" || rows[1].Code != "college2" ||
		rows[0].Status != "committed" || rows[1].Status != "committed" {
		t.Fatalf("demo roster imports %+v %v", rows, err)
	}
}

// TestRosterProgressPage shows a validating import with a progress bar and
// a refresh, and the API with its progress figure.
func TestRosterProgressPage(t *testing.T) {
	a := testApp(t)
	c := login(t, "college1")
	p, err := a.Accounts.PrincipalByUsername(context.Background(), "college1")
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = a.DB.NewRaw(`INSERT INTO roster_imports (college_org_id, uploaded_by_user_id, uploaded_by_label, file_name,
		file_sha256, file_size, format, encoding, mode, status, progress)
		VALUES (?, ?, 'college1', 'big.csv', decode(repeat('ab', 32), 'hex'), 1000, 'csv', 'gbk', 'upsert', 'validating', 42)
		RETURNING id`, p.OrgID, p.UserID).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	defer a.DB.NewDelete().Table("roster_imports").Where("id = ?", id).Exec(context.Background())
	res, body := c.do("GET", fmt.Sprintf("/rosters/%d", id), nil)
	page := string(body)
	if res.StatusCode != 200 || !strings.Contains(page, `<progress max="100" value="42">`) ||
		!strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("progress page: %d", res.StatusCode)
	}
	_, body = c.do("GET", fmt.Sprintf("/api/v1/rosters/%d", id), nil)
	if got := decode[importBody](t, body); got.Status != "validating" || got.Progress != 42 {
		t.Errorf("api %+v", got)
	}
	res, body = c.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", id), nil)
	if res.StatusCode != 409 || problemCode(t, body) != "not_validated" {
		t.Errorf("commit while validating: %d %s", res.StatusCode, body)
	}
}

// TestRosterHTTPFiltersNamed: an unknown outcome filter answers 422 naming
// the parameter, not an empty list or a 5xx.
func TestRosterHTTPFiltersNamed(t *testing.T) {
	c1 := login(t, "college1")
	res, body := c1.upload("/api/v1/rosters", "filters.csv", []byte(sampleRoster(t)))
	if res.StatusCode != 201 && res.StatusCode != 200 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	im := decode[importBody](t, body)
	for _, q := range []string{"outcome=bogus", "outcome=new,bogus"} {
		res, body := c1.do("GET", fmt.Sprintf("/api/v1/rosters/%d/rows?%s", im.ID, q), nil)
		if res.StatusCode != 422 || problemCode(t, body) != "invalid_filter" || !strings.Contains(string(body), `"field":"outcome"`) {
			t.Errorf("%s: %d %s", q, res.StatusCode, body)
		}
	}
	if res, body := c1.do("GET", fmt.Sprintf("/api/v1/rosters/%d/rows?outcome=exists,new", im.ID), nil); res.StatusCode != 200 {
		t.Errorf("known outcomes: %d %s", res.StatusCode, body)
	}
}

// TestRosterHTTPAddOnlyShowsExisting: uploading people already on file in
// add_only mode shows them as 已存在，跳过 with what is stored, on the API
// and on the preview page, not as 无变化 with the file's values.
func TestRosterHTTPAddOnlyShowsExisting(t *testing.T) {
	c1 := login(t, "college1")
	roster := sampleRoster(t)
	res, body := c1.upload("/api/v1/rosters", "first.csv", []byte(roster))
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	if res, body := c1.do("POST", fmt.Sprintf("/api/v1/rosters/%d/commit", decode[importBody](t, body).ID), nil); res.StatusCode != 200 {
		t.Fatalf("commit: %d %s", res.StatusCode, body)
	}
	again := strings.Replace(roster, "测试,", "测试改,", 1) // the file says another name
	res, body = c1.upload("/api/v1/rosters", "again.csv", []byte(again), "mode", "add_only")
	if res.StatusCode != 201 {
		t.Fatalf("add_only upload: %d %s", res.StatusCode, body)
	}
	im := decode[importBody](t, body)
	_, rows := c1.do("GET", fmt.Sprintf("/api/v1/rosters/%d/rows", im.ID), nil)
	if !strings.Contains(string(rows), `"outcome":"exists"`) || !strings.Contains(string(rows), `"name":"测试"`) || strings.Contains(string(rows), `"name":"测试改"`) {
		t.Errorf("add_only rows %s, want exists with the stored name", rows)
	}
	_, page := c1.do("GET", fmt.Sprintf("/rosters/%d", im.ID), nil)
	if !strings.Contains(string(page), "已存在，跳过") {
		t.Error("the preview page does not list the existing person as 已存在，跳过")
	}
}

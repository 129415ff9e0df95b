package app

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/bans"
	"tuoyu/modules/certificates"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/workers"
)

type certJSON struct {
	ID           int64   `json:"id"`
	Number       string  `json:"number"`
	Kind         string  `json:"kind"`
	Source       string  `json:"source"`
	WorkerID     int64   `json:"worker_id"`
	HolderName   string  `json:"holder_name"`
	ClassID      *int64  `json:"class_id"`
	Status       string  `json:"status"`
	VerifyCode   string  `json:"verify_code"`
	RevokeReason *string `json:"revoke_reason"`
	HasPDF       bool    `json:"has_pdf"`
	ExpiresOn    *string `json:"expires_on"`
}

type certList struct {
	Items []certJSON `json:"items"`
	Total int        `json:"total"`
}

// certUpload builds a multipart body with one file field.
func certUpload(t *testing.T, field, name string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	part, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	return &b, mw.FormDataContentType()
}

// providerCert returns a valid certificate of provider1's demo certificate
// class held by someone other than worker1 and not yet used by a test.
func providerCerts(t *testing.T) []certJSON {
	t.Helper()
	p1 := login(t, "provider1")
	res, body := p1.do("GET", "/api/v1/certificates?status=valid&per_page=200", nil)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, body)
	}
	return decode[certList](t, body).Items
}

func TestCertificatesDemo(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	n, err := a.DB.NewSelect().Table("certificates").Count(ctx)
	if err != nil || n < 50 {
		t.Fatalf("the demo should hold at least 50 certificates, got %d (%v)", n, err)
	}
	revoked, _ := a.DB.NewSelect().Table("certificates").Where("status = 'revoked'").Count(ctx)
	supp, _ := a.DB.NewSelect().Table("certificates").Where("holder_name LIKE ?", "%𠮷%").Count(ctx)
	if revoked < 1 || supp < 1 {
		t.Fatalf("the demo should hold a revoked certificate (%d) and one of 𠮷 (%d)", revoked, supp)
	}
	expiring, _ := a.DB.NewSelect().Table("certificates").Where("expires_on IS NOT NULL AND plan_code = 'BYS-ZG'").Count(ctx)
	if expiring < 40 {
		t.Fatalf("in-service certificates should expire after the policy's years, got %d with an expiry", expiring)
	}
}

func TestWorkerDownloadsAndAnyoneVerifies(t *testing.T) {
	w := login(t, "worker1")
	res, body := w.do("GET", "/api/v1/me/certificates", nil)
	if res.StatusCode != 200 {
		t.Fatalf("me/certificates: %d %s", res.StatusCode, body)
	}
	mine := decode[certList](t, body)
	if mine.Total < 1 {
		t.Fatal("worker1 should hold a certificate")
	}
	c := mine.Items[0]
	res, pdf := w.do("GET", fmt.Sprintf("/api/v1/certificates/%d/pdf", c.ID), nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("pdf: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}

	anyone := anon(t)
	res, body = anyone.do("GET", "/api/v1/verify/"+strings.ToLower(c.VerifyCode), nil)
	if res.StatusCode != 200 {
		t.Fatalf("verify: %d %s", res.StatusCode, body)
	}
	ans := decode[certificates.Answer](t, body)
	sum := sha256.Sum256(pdf)
	if ans.Status != "valid" || ans.Number != c.Number || ans.PDFSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("verify answer %+v", ans)
	}
	if !strings.HasSuffix(ans.HolderNameMasked, "*") || strings.Contains(string(body), "********") {
		t.Fatalf("the answer must show the masked name only: %s", body)
	}
	// The signature checks with the published key.
	res, body = anyone.do("GET", "/api/v1/verify/key", nil)
	keys := decode[certificates.KeySet](t, body)
	pub, ok := keys.Find(ans.KeyID)
	if res.StatusCode != 200 || !ok || !certificates.CheckSignature(ed25519.PublicKey(pub), ans) {
		t.Fatalf("signature does not check with /api/v1/verify/key: %s", body)
	}

	// The downloaded file verifies; one changed byte does not.
	b, ctype := certUpload(t, "file", "c.pdf", pdf)
	res, body = anyone.do("POST", "/api/v1/verify/pdf", b, "Content-Type", ctype)
	if res.StatusCode != 200 || decode[certificates.Answer](t, body).Number != c.Number {
		t.Fatalf("upload of the genuine file: %d %s", res.StatusCode, body)
	}
	changed := bytes.Clone(pdf)
	changed[len(changed)/2] ^= 1
	b, ctype = certUpload(t, "file", "c.pdf", changed)
	res, body = anyone.do("POST", "/api/v1/verify/pdf", b, "Content-Type", ctype)
	if res.StatusCode != 200 || decode[certificates.Answer](t, body).Status != "unknown" {
		t.Fatalf("a changed byte should answer unknown: %d %s", res.StatusCode, body)
	}

	// Pages: the worker's list, the public page by code.
	for _, p := range []struct {
		c    *client
		path string
		want string
	}{{w, "/me/certificates", c.Number}, {anyone, "/verify/" + c.VerifyCode, "证书<strong>有效</strong>"}, {anyone, "/verify", "核验码"},
		{w, fmt.Sprintf("/certificates/%d", c.ID), c.VerifyCode}} {
		res, body := p.c.do("GET", p.path, nil)
		if res.StatusCode != 200 || !strings.Contains(string(body), p.want) {
			t.Errorf("GET %s: %d, want %q in the page", p.path, res.StatusCode, p.want)
		}
	}
}

func TestVerifyBadInput(t *testing.T) {
	anyone := anon(t)
	cases := []struct {
		name   string
		method string
		path   string
		body   func() (any, []string)
		status int
		code   string
	}{
		{"unknown code", "GET", "/api/v1/verify/0000-0000-0000-0000-0000", nil, 404, "certificate_not_found"},
		{"malformed code", "GET", "/api/v1/verify/not-a-code", nil, 422, "invalid_code"},
		{"no file", "POST", "/api/v1/verify/pdf", func() (any, []string) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			mw.WriteField("x", "y")
			mw.Close()
			return &b, []string{"Content-Type", mw.FormDataContentType()}
		}, 422, "file_required"},
		{"not a PDF", "POST", "/api/v1/verify/pdf", func() (any, []string) {
			b, ct := certUpload(t, "file", "c.pdf", []byte("GIF89a not a pdf"))
			return b, []string{"Content-Type", ct}
		}, 415, "not_pdf"},
		{"11 MB", "POST", "/api/v1/verify/pdf", func() (any, []string) {
			b, ct := certUpload(t, "file", "c.pdf", append([]byte("%PDF-"), make([]byte, 11<<20)...))
			return b, []string{"Content-Type", ct}
		}, 413, "file_too_large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			var headers []string
			if tc.body != nil {
				body, headers = tc.body()
			}
			res, out := anyone.do(tc.method, tc.path, body, headers...)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tc.status, out)
			}
			code := problemCode(t, out)
			if code == "" || (tc.code != "" && code != tc.code) {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
}

// TestVerifyRefusesHugeUpload sends 50 MB to a real listener: the server
// answers 413 with a problem instead of reading it all.
func TestVerifyRefusesHugeUpload(t *testing.T) {
	a := testApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go a.Fiber.Listener(ln)
	defer ln.Close()
	// Only the headers and the first bytes are sent: the answer must come
	// without the server waiting for the other 50 MB.
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/verify/pdf HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n--b\r\n", 50<<20)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || problemCode(t, body) == "" {
		t.Fatalf("50 MB upload: %d %s", res.StatusCode, body)
	}
}

func TestRevokeByIssuerOnly(t *testing.T) {
	cs := providerCerts(t)
	w1 := login(t, "worker1")
	res, body := w1.do("GET", "/api/v1/me/certificates", nil)
	w1ID := decode[certList](t, body).Items[0].WorkerID
	var c certJSON
	for _, x := range cs {
		if x.WorkerID != w1ID && x.HasPDF {
			c = x
			break
		}
	}
	path := fmt.Sprintf("/api/v1/certificates/%d/revoke", c.ID)
	good := map[string]string{"reason_category": "fraud", "note": "培训记录造假，经核查属实"}

	res, body = login(t, "provider2").do("POST", path, good)
	if res.StatusCode != 404 || problemCode(t, body) != "certificate_not_found" {
		t.Fatalf("another provider revoking: %d %s", res.StatusCode, body)
	}
	res, body = w1.do("POST", path, good)
	if res.StatusCode != 403 {
		t.Fatalf("a worker revoking: %d %s", res.StatusCode, body)
	}
	p1 := login(t, "provider1")
	res, body = p1.do("POST", path, map[string]string{"reason_category": "banned", "note": "x"})
	if res.StatusCode != 422 || problemCode(t, body) != "validation_failed" {
		t.Fatalf("banned by hand: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", path, map[string]string{"reason_category": "fraud"})
	if res.StatusCode != 422 {
		t.Fatalf("no note: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", path, good)
	if res.StatusCode != 200 || decode[certJSON](t, body).Status != "revoked" {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	res, body = p1.do("POST", path, good)
	if res.StatusCode != 409 || problemCode(t, body) != "already_revoked" {
		t.Fatalf("revoking twice: %d %s", res.StatusCode, body)
	}
	// The same code now answers revoked, with category and date.
	res, body = anon(t).do("GET", "/api/v1/verify/"+c.VerifyCode, nil)
	ans := decode[certificates.Answer](t, body)
	if ans.Status != "revoked" || ans.RevokeReason == nil || *ans.RevokeReason != "fraud" || ans.RevokedOn == nil {
		t.Fatalf("verify after revocation: %s", body)
	}
	res, body = anon(t).do("GET", "/verify/"+c.VerifyCode, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "已撤销") || !strings.Contains(string(body), "弄虚作假") {
		t.Fatalf("verify page after revocation: %d", res.StatusCode)
	}
	// A ZIP leaves it out.
	if c.ClassID == nil {
		t.Fatal("an issued certificate has a class")
	}
	res, body = p1.do("GET", fmt.Sprintf("/classes/%d/certificates", *c.ClassID), nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "打包下载") {
		t.Fatalf("class certificates page: %d", res.StatusCode)
	}
}

func TestCertificateScope(t *testing.T) {
	var c certJSON
	for _, x := range providerCerts(t) {
		if x.ExpiresOn != nil && !strings.Contains(x.HolderName, "𠮷") { // the certificate class: 武汉 workers
			c = x
		}
	}
	path := fmt.Sprintf("/api/v1/certificates/%d", c.ID)
	for _, who := range []string{"provider2", "college1"} {
		res, body := login(t, who).do("GET", path+"/pdf", nil)
		if res.StatusCode != 404 && res.StatusCode != 403 {
			t.Errorf("%s reading a PDF outside scope: %d %s", who, res.StatusCode, body)
		}
	}
	res, _ := login(t, "provider2").do("GET", path, nil)
	if res.StatusCode != 404 {
		t.Errorf("provider2 reading provider1's certificate: %d", res.StatusCode)
	}
	for _, who := range []string{"hr_reviewer1", "admin", "provider1"} {
		res, body := login(t, who).do("GET", path+"/pdf", nil)
		if res.StatusCode != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) {
			t.Errorf("%s reading the PDF: %d", who, res.StatusCode)
		}
	}
	res, body := login(t, "regulator1").do("GET", path+"/pdf", nil)
	if res.StatusCode != 404 {
		t.Errorf("a regulator gets no PDF: %d %s", res.StatusCode, body)
	}
	res, body = login(t, "hr_reviewer1").do("GET", "/api/v1/certificates?per_page=200", nil)
	if res.StatusCode != 200 || decode[certList](t, body).Total < 40 {
		t.Errorf("hr_reviewer1 (武汉) should list 武汉 certificates: %d %s", res.StatusCode, body)
	}
	res, body = login(t, "provider2").do("GET", "/api/v1/certificates?per_page=200", nil)
	for _, x := range decode[certList](t, body).Items {
		if x.ID == c.ID {
			t.Error("provider2 lists provider1's certificate")
		}
	}
	res, body = login(t, "worker1").do("GET", path, nil)
	if res.StatusCode != 404 {
		t.Errorf("worker1 reading another's certificate: %d", res.StatusCode)
	}
	res, body = login(t, "hr_reviewer1").do("GET", "/api/v1/certificates?status=nope", nil)
	if res.StatusCode != 422 {
		t.Errorf("a bad status filter: %d %s", res.StatusCode, body)
	}
}

func TestExternalCertificate(t *testing.T) {
	a := testApp(t)
	var workerID int64
	if err := a.DB.NewSelect().Table("workers").Column("id").Where("region_code LIKE '4201%' AND NOT banned").OrderExpr("id DESC").Limit(1).Scan(context.Background(), &workerID); err != nil {
		t.Fatal(err)
	}
	hr := login(t, "hr_reviewer1")
	in := map[string]any{"kind": "skill", "number": "EXT-2025-0001", "occupation": "4-10-01-03", "level": 4,
		"issued_on": "2025-06-01", "issuer": "湖北省职业技能鉴定指导中心"}
	path := fmt.Sprintf("/api/v1/workers/%d/certificates", workerID)
	res, body := hr.do("POST", path, in)
	if res.StatusCode != 201 {
		t.Fatalf("record: %d %s", res.StatusCode, body)
	}
	c := decode[certJSON](t, body)
	if c.Source != "external" || c.HasPDF {
		t.Fatalf("external certificate: %s", body)
	}
	res, body = hr.do("POST", path, in)
	if res.StatusCode != 409 || problemCode(t, body) != "duplicate_number" {
		t.Fatalf("the same number twice: %d %s", res.StatusCode, body)
	}
	res, body = hr.do("GET", fmt.Sprintf("/api/v1/certificates/%d/pdf", c.ID), nil)
	if res.StatusCode != 409 || problemCode(t, body) != "no_pdf" {
		t.Fatalf("PDF of an external certificate: %d %s", res.StatusCode, body)
	}
	res, body = anon(t).do("GET", "/verify/"+c.VerifyCode, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "没有电子证书文件") {
		t.Fatalf("the verify page should say there is no PDF: %d", res.StatusCode)
	}
	bad := map[string]any{"kind": "skill", "number": "", "occupation": "x", "issued_on": "2999-01-01", "issuer": ""}
	res, body = hr.do("POST", path, bad)
	if res.StatusCode != 422 || problemCode(t, body) != "validation_failed" {
		t.Fatalf("bad input: %d %s", res.StatusCode, body)
	}
	res, _ = login(t, "provider1").do("POST", path, in)
	if res.StatusCode != 403 {
		t.Fatalf("a provider recording: %d", res.StatusCode)
	}
}

func TestClassExportZIP(t *testing.T) {
	cs := providerCerts(t)
	var classID int64
	for _, c := range cs {
		if c.ClassID != nil && c.ExpiresOn != nil {
			classID = *c.ClassID
		}
	}
	p1 := login(t, "provider1")
	res, body := p1.do("POST", fmt.Sprintf("/api/v1/classes/%d/certificates/export", classID), nil)
	if res.StatusCode != 202 {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	exp := decode[struct {
		ID    int64 `json:"export_id"`
		Total int   `json:"total"`
	}](t, body)
	var status string
	for i := 0; i < 300 && status != "done"; i++ {
		res, body = p1.do("GET", fmt.Sprintf("/api/v1/exports/%d", exp.ID), nil)
		status = decode[struct {
			Status string `json:"status"`
		}](t, body).Status
		if status == "failed" {
			t.Fatalf("export failed: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != "done" {
		t.Fatalf("export did not finish: %s", body)
	}
	res, body = login(t, "provider2").do("GET", fmt.Sprintf("/api/v1/exports/%d", exp.ID), nil)
	if res.StatusCode != 404 {
		t.Fatalf("someone else's export: %d", res.StatusCode)
	}
	res, body = p1.do("GET", fmt.Sprintf("/api/v1/exports/%d/download", exp.ID), nil)
	if res.StatusCode != 200 {
		t.Fatalf("download: %d %s", res.StatusCode, body)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != exp.Total || exp.Total < 30 {
		t.Fatalf("zip holds %d files, export said %d", len(zr.File), exp.Total)
	}
	res, body = p1.do("GET", fmt.Sprintf("/exports/%d", exp.ID), nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "下载 ZIP") {
		t.Fatalf("export page: %d", res.StatusCode)
	}
	res, body = login(t, "provider2").do("POST", fmt.Sprintf("/api/v1/classes/%d/certificates/export", classID), nil)
	if res.StatusCode != 404 {
		t.Fatalf("another provider's class: %d %s", res.StatusCode, body)
	}
}

func TestTemplateVersionsKeepIssuedCertificates(t *testing.T) {
	admin := login(t, "admin")
	res, body := admin.do("GET", "/admin/certificate-templates", nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), "v1") {
		t.Fatalf("templates page: %d", res.StatusCode)
	}
	w := login(t, "worker1")
	_, body = w.do("GET", "/api/v1/me/certificates", nil)
	c := decode[certList](t, body).Items[0]
	_, before := w.do("GET", fmt.Sprintf("/api/v1/certificates/%d/pdf", c.ID), nil)

	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"layout": "plain", "title": "湖北省托育从业人员职业技能培训", "issuer_name": "湖北省托育服务指导中心", "signatory": "主任 王明"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	res, body = admin.do("POST", "/api/v1/certificate-templates", &b, "Content-Type", mw.FormDataContentType())
	if res.StatusCode != 201 || decode[struct {
		Version int `json:"version"`
	}](t, body).Version < 2 {
		t.Fatalf("upload template: %d %s", res.StatusCode, body)
	}
	_, after := w.do("GET", fmt.Sprintf("/api/v1/certificates/%d/pdf", c.ID), nil)
	if !bytes.Equal(before, after) {
		t.Fatal("an issued certificate must keep its template version and bytes")
	}
	res, _ = login(t, "provider1").do("GET", "/api/v1/certificate-templates", nil)
	if res.StatusCode != 403 {
		t.Fatalf("templates are for admins: %d", res.StatusCode)
	}
}

// TestIssueIsIdempotentAndBanRevokes drives the use cases the assessment
// and attendance modules call: issuing twice returns one certificate; a
// recorded ban revokes it (reason banned) and refuses a new one.
func TestIssueIsIdempotentAndBanRevokes(t *testing.T) {
	a := testApp(t)
	ctx := context.Background()
	comps, err := enrolment.NewStore(a.DB).Completions(ctx, 0, 1000)
	if err != nil || len(comps) == 0 {
		t.Fatalf("completions: %v", err)
	}
	var c enrolment.Completion
	for i := len(comps) - 1; i >= 0; i-- {
		cert, err := certificates.NewStore(a.DB).ByEnrolment(ctx, comps[i].EnrolmentID)
		if err == nil && cert != nil && cert.Status == certificates.StatusValid {
			c = comps[i]
			break
		}
	}
	in := certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID, ClassID: c.ClassID,
		ProviderOrgID: c.ProviderOrgID, PlanCode: c.PlanCode, PassedOn: c.CompletedOn}
	var first, second certificates.Certificate
	for _, dst := range []*certificates.Certificate{&first, &second} {
		err := a.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			var err error
			*dst, err = a.Certificates.Issue(ctx, tx, in)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if first.ID == 0 || first.ID != second.ID {
		t.Fatalf("issuing twice gave %d and %d", first.ID, second.ID)
	}
	n, err := a.Certificates.CatchUp(ctx, []certificates.IssueInput{in})
	if err != nil || n != 0 {
		t.Fatalf("catch-up of an issued enrolment: %d %v", n, err)
	}

	w, err := workers.NewStore(a.DB).Get(ctx, c.WorkerID)
	if err != nil {
		t.Fatal(err)
	}
	number, err := a.Cipher.Decrypt(w.IDNumberEnc)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := a.Accounts.PrincipalByUsername(ctx, "regulator1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Bans.Record(ctx, &reg, bans.RecordInput{Person: bans.Person{Name: w.Name, IDNumber: number},
		Reason: "虐待婴幼儿，经查证属实", DecisionNo: "鄂卫禁〔2026〕9号", DecidedOn: time.Now().Format(time.DateOnly)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := certificates.NewStore(a.DB).ByID(ctx, first.ID)
	if err != nil || got.Status != certificates.StatusRevoked || got.RevokeReason != certificates.ReasonBanned {
		t.Fatalf("after the ban: %+v %v", got, err)
	}
	// A new certificate for another completion of the banned person is refused.
	err = a.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := a.Certificates.Issue(ctx, tx, certificates.IssueInput{WorkerID: c.WorkerID, EnrolmentID: c.EnrolmentID + 100000,
			ClassID: c.ClassID, ProviderOrgID: c.ProviderOrgID, PlanCode: c.PlanCode})
		return err
	})
	if !apperr.Is(err, "worker_banned") {
		t.Fatalf("issuing to a banned person: %v", err)
	}
}

// TestVerifyRateLimit wires a second app on the same database with
// TUOYU_VERIFY_RATE=3: the fourth verification within a minute from one
// address gets 429 rate_limited (the shared test app keeps the default).
func TestVerifyRateLimit(t *testing.T) {
	a := testApp(t)
	cfg := testConfig()
	cfg.Getenv = func(k string) string {
		if k == "TUOYU_VERIFY_RATE" {
			return "3"
		}
		return ""
	}
	limited, err := Wire(cfg, a.DB, a.Logger, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, a: limited}
	for i := 1; i <= 4; i++ {
		res, body := c.do("GET", "/api/v1/verify/not-a-code", nil)
		want, code := 422, "invalid_code"
		if i == 4 {
			want, code = 429, "rate_limited"
		}
		if res.StatusCode != want || problemCode(t, body) != code {
			t.Fatalf("request %d: %d %s, want %d %s", i, res.StatusCode, body, want, code)
		}
	}
	cfg.Getenv = func(k string) string {
		if k == "TUOYU_VERIFY_RATE" {
			return "-1"
		}
		return ""
	}
	if _, err := Wire(cfg, a.DB, a.Logger, time.Now); err == nil {
		t.Fatal("a negative TUOYU_VERIFY_RATE should be refused at start")
	}
}

// TestVerifyPageUpload: the public page answers an uploaded PDF, and a
// typed code that cannot be one with a message, not an error page.
func TestVerifyPageUpload(t *testing.T) {
	w := login(t, "worker1")
	_, body := w.do("GET", "/api/v1/me/certificates", nil)
	c := decode[certList](t, body).Items[0]
	_, pdf := w.do("GET", fmt.Sprintf("/api/v1/certificates/%d/pdf", c.ID), nil)
	anyone := anon(t)
	b, ct := certUpload(t, "file", "mine.pdf", pdf)
	res, page := anyone.do("POST", "/verify", b, "Content-Type", ct)
	if res.StatusCode != 200 || !strings.Contains(string(page), c.Number) {
		t.Fatalf("upload on the page: %d", res.StatusCode)
	}
	b, ct = certUpload(t, "file", "x.txt", []byte("hello"))
	res, page = anyone.do("POST", "/verify", b, "Content-Type", ct)
	if res.StatusCode != 415 || !strings.Contains(string(page), "不是 PDF") {
		t.Fatalf("a text file on the page: %d", res.StatusCode)
	}
	res, page = anyone.do("POST", "/verify", "code=abc")
	if res.StatusCode != 422 || !strings.Contains(string(page), "核验码格式不正确") {
		t.Fatalf("a bad code on the page: %d", res.StatusCode)
	}
	res, _ = anyone.do("POST", "/verify", "code="+strings.ToLower(c.VerifyCode))
	if res.StatusCode != 303 || res.Header.Get("Location") != "/verify/"+c.VerifyCode {
		t.Fatalf("a typed code should redirect to its page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, page = anyone.do("GET", "/verify/0000-0000-0000-0000-0000", nil)
	if res.StatusCode != 404 || !strings.Contains(string(page), "未找到") {
		t.Fatalf("an unknown code's page: %d", res.StatusCode)
	}
}

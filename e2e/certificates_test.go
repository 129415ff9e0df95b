package e2e

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// certificateJourney: worker1 downloads their certificate from 我的证书; a
// stranger (no login) verifies a certificate by typing its code; provider1
// revokes that certificate and the same verify URL then says revoked
// (DESIGN §7). The revoked certificate is 吉𠮷's, from the demo's
// certificate class, which no other journey reads.
func certificateJourney(t *testing.T, srv *Server) {
	w := srv.Browser(t)
	w.Login("worker1")
	if status := w.Visit("/me/certificates"); status != http.StatusOK {
		t.Fatalf("/me/certificates answered %d", status)
	}
	name, pdf := w.Download(`a[href$="/pdf"]`)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !strings.HasSuffix(name, ".pdf") {
		t.Fatalf("the download %q is not a PDF (%d bytes)", name, len(pdf))
	}
	if !regexp.MustCompile(`^(S\d{21}|HBTY\d{12})\.pdf$`).MatchString(name) {
		t.Errorf("the file is named %q, want the certificate number", name)
	}

	// provider1 finds 吉𠮷's certificate.
	p := srv.Browser(t)
	p.Login("provider1")
	p.Visit("/certificates?status=valid&per_page=200")
	link := p.Attrs(`tbody tr:has(td:nth-child(2)) a`, "href")
	rows := p.Texts("tbody tr")
	certPath := ""
	for i, r := range rows {
		if strings.Contains(r, "吉𠮷") && i < len(link) {
			certPath = link[i]
		}
	}
	if certPath == "" {
		t.Fatalf("provider1's certificate list has no row for 吉𠮷: %q", rows)
	}
	p.Visit(certPath)
	code := ""
	for _, a := range p.Attrs(`a[href^="/verify/"]`, "href") {
		code = strings.TrimPrefix(a, "/verify/")
	}
	if code == "" {
		t.Fatal("the certificate page shows no verify code")
	}

	// A stranger types the code on the public page.
	s := srv.Browser(t)
	if status := s.Visit("/verify"); status != http.StatusOK {
		t.Fatalf("/verify answered %d", status)
	}
	s.Fill(`input[name="code"]`, strings.ToLower(code))
	if status := s.Submit(`form:not([enctype]) button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("verifying by code answered %d", status)
	}
	verifyPath := s.Path()
	if verifyPath != "/verify/"+code {
		t.Fatalf("after submitting the code the page is %s, want /verify/%s", verifyPath, code)
	}
	if got := s.Text(".notice"); !strings.Contains(got, "有效") {
		t.Fatalf("the verify page says %q, want 有效", got)
	}
	if facts := s.Text("dl.facts"); !strings.Contains(facts, "吉*") || strings.Contains(facts, "吉𠮷") {
		t.Errorf("the public page should show the masked name 吉* only: %q", facts)
	}

	// provider1 revokes it; the same URL now says revoked.
	p.Visit(certPath)
	p.Fill(`select[name="reason_category"]`, "issued_in_error")
	p.Fill(`textarea[name="note"]`, "发证信息录入错误，撤销后重新发证")
	if status := p.Submit(`form[action$="/revoke"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("revoking answered %d: %q", status, p.Texts(".alert"))
	}
	if got := p.Text(".alert"); !strings.Contains(got, "误发") {
		t.Errorf("the certificate page says %q after revoking", got)
	}
	if status := s.Visit(verifyPath); status != http.StatusOK {
		t.Fatalf("revisiting %s answered %d", verifyPath, status)
	}
	if got := s.Text(".alert"); !strings.Contains(got, "已撤销") || !strings.Contains(got, "误发") {
		t.Fatalf("after revocation the verify page says %q", got)
	}
	assertSameOrigin(t, srv.URL, s.Requests())
}

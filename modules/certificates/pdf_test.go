package certificates

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
)

// sample is a skill-level certificate held by 吉𠮷, whose name has a
// character outside the BMP.
func sample(name string) (Certificate, Template) {
	lvl := 5
	h := catalog.H(120)
	issued := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return Certificate{
			Kind: KindSkill, Source: SourceIssued, Number: "S0000420100012650000017", VerifyCode: "7K3M-9QX2-ABCD-EFGH-JKMN",
			HolderName: name, HolderIDMask: "420106********1234", Occupation: catalog.OccupationNursery, Level: &lvl,
			PlanCode: "BYS-5", PlanName: "保育师五级", Hours: &h, IssuerName: "武汉市托育职业技能培训中心",
			IssuedOn: issued, IssuedAt: issued, VerifyURL: "http://localhost:8080/verify/7K3M-9QX2-ABCD-EFGH-JKMN",
		}, Template{Version: 1, Layout: "classic", Title: "湖北省托育从业人员培训管理平台",
			IssuerName: "湖北省托育从业人员培训管理平台", Signatory: "（电子证书，扫码核验）"}
}

// tool runs a command-line tool the tests rely on; a missing tool fails
// the test with the package to install (make deps installs them).
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed for the certificate tests (make deps: poppler-utils, qpdf, zbar-tools): %v", name, err)
	}
	// stdout only: zbarimg chatters about D-Bus on stderr.
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func renderFile(t *testing.T, name string) (string, []byte) {
	t.Helper()
	c, tpl := sample(name)
	b, err := NewRenderer(os.Getenv("TUOYU_CERT_FONT")).Render(c, tpl)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	path := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b
}

func TestPDFTextHasNameAndNumber(t *testing.T) {
	path, b := renderFile(t, "吉𠮷")
	text := tool(t, "pdftotext", "-layout", path, "-")
	for _, want := range []string{"吉𠮷", "S0000420100012650000017", "职业技能等级证书", "420106********1234", "保育师", "五级/初级工", "120 学时", "2026年12月03日"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext should find %q in:\n%s", want, text)
		}
	}
	if len(b) > 60_000 {
		t.Errorf("a certificate should stay under 60 KB, got %d bytes", len(b))
	}
}

func TestPDFEmbedsOneSubsetFont(t *testing.T) {
	path, _ := renderFile(t, "吉𠮷")
	out := tool(t, "pdffonts", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 { // two header lines and one font
		t.Fatalf("pdffonts should list exactly one font:\n%s", out)
	}
	if !regexp.MustCompile(`^[A-Z]{6}\+\S+\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes`).MatchString(lines[2]) {
		t.Fatalf("the font should be an embedded subset with a six-letter tag:\n%s", out)
	}
}

func TestPDFPassesQPDFCheck(t *testing.T) {
	path, _ := renderFile(t, "张三")
	out := tool(t, "qpdf", "--check", path)
	if !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Fatalf("qpdf --check:\n%s", out)
	}
}

func TestPDFQRCodeOpensVerifyURL(t *testing.T) {
	path, _ := renderFile(t, "李四")
	prefix := filepath.Join(t.TempDir(), "page")
	tool(t, "pdftoppm", "-r", "150", "-png", "-singlefile", path, prefix)
	out := tool(t, "zbarimg", "--quiet", "--raw", prefix+".png")
	if strings.TrimSpace(out) != "http://localhost:8080/verify/7K3M-9QX2-ABCD-EFGH-JKMN" {
		t.Fatalf("zbarimg read %q", out)
	}
}

// TestPDFSameBytesInTwoProcesses renders here and in a child process (this
// test binary run again) and compares the SHA-256.
func TestPDFSameBytesInTwoProcesses(t *testing.T) {
	if os.Getenv("CERT_RENDER_CHILD") == "1" {
		return // the child's work is TestRenderChild
	}
	_, b := renderFile(t, "吉𠮷")
	mine := sha256.Sum256(b)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRenderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CERT_RENDER_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`sha256=([0-9a-f]{64})`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("child printed no digest:\n%s", out)
	}
	if m[1] != hex.EncodeToString(mine[:]) {
		t.Fatalf("two processes rendered different bytes: %s vs %x", m[1], mine)
	}
}

// TestRenderChild prints the digest of the sample when run as the child of
// TestPDFSameBytesInTwoProcesses; otherwise it checks one process renders
// the same bytes twice.
func TestRenderChild(t *testing.T) {
	c, tpl := sample("吉𠮷")
	r := NewRenderer(os.Getenv("TUOYU_CERT_FONT"))
	a, err := r.Render(c, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CERT_RENDER_CHILD") == "1" {
		sum := sha256.Sum256(a)
		os.Stdout.WriteString("sha256=" + hex.EncodeToString(sum[:]) + "\n")
		return
	}
	b, err := r.Render(c, tpl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("one renderer should give the same bytes twice")
	}
	c.HolderName = "吉吉"
	d, _ := r.Render(c, tpl)
	if bytes.Equal(a, d) {
		t.Fatal("another name should give other bytes")
	}
}

func TestPDFRefusesCharacterTheFontLacks(t *testing.T) {
	c, tpl := sample("张\U000F0041") // a private-use plane character no font has
	_, err := NewRenderer(os.Getenv("TUOYU_CERT_FONT")).Render(c, tpl)
	e, ok := apperr.As(err)
	if !ok || e.Code != "glyph_missing" || !strings.Contains(e.Message, "U+F0041") {
		t.Fatalf("want glyph_missing naming U+F0041, got %v", err)
	}
}

func TestPDFTrainingCertificateShowsPlanAndExpiry(t *testing.T) {
	c, tpl := sample("王五")
	c.Kind, c.Level, c.Number = KindTraining, nil, "HBTY202600000042"
	exp := time.Date(2027, 12, 3, 0, 0, 0, 0, time.UTC)
	c.ExpiresOn = &exp
	c.PlanName = "保育师在岗培训"
	tpl.Layout = "plain"
	b, err := NewRenderer(os.Getenv("TUOYU_CERT_FONT")).Render(c, tpl)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "t.pdf")
	os.WriteFile(path, b, 0o600)
	text := tool(t, "pdftotext", "-layout", path, "-")
	for _, want := range []string{"培训合格证书", "保育师在岗培训", "有效期至", "2027年12月03日", "HBTY202600000042"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext should find %q in:\n%s", want, text)
		}
	}
}

func TestMissingFontIsAClearError(t *testing.T) {
	c, tpl := sample("张三")
	_, err := NewRenderer(filepath.Join(t.TempDir(), "none.ttf")).Render(c, tpl)
	if !apperr.Is(err, "font_unavailable") {
		t.Fatalf("want font_unavailable, got %v", err)
	}
}

func BenchmarkRender(b *testing.B) {
	r := NewRenderer(os.Getenv("TUOYU_CERT_FONT"))
	c, t := sample("吉𠮷")
	out, err := r.Render(c, t)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Render(c, t); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(len(out)), "bytes/pdf")
}

package gofpdf

// PATCH: tests of the changes listed in PATCHES. They need the LXGW WenKai
// font (Debian fonts-lxgw-wenkai, or GOFPDF_TEST_FONT) and poppler-utils.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func testFont(t *testing.T) []byte {
	t.Helper()
	path := os.Getenv("GOFPDF_TEST_FONT")
	if path == "" {
		path = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("these tests need a TrueType font with a format-12 cmap (apt-get install fonts-lxgw-wenkai, or set GOFPDF_TEST_FONT): %v", err)
	}
	return b
}

func render(t *testing.T, src *UTF8FontSource, text string) []byte {
	t.Helper()
	pdf := New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromSource("wk", "", src)
	pdf.AddPage()
	pdf.SetFont("wk", "", 20)
	pdf.Text(20, 30, text)
	pdf.SetXY(20, 40)
	pdf.CellFormat(100, 10, text, "", 0, "L", false, 0, "")
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatalf("output: %v", err)
	}
	return buf.Bytes()
}

func tool(t *testing.T, pdf []byte, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed (apt-get install poppler-utils): %v", name, err)
	}
	file := filepath.Join(t.TempDir(), "t.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(name, append(args, file, "-")...).CombinedOutput()
	if name == "pdffonts" {
		out, err = exec.Command(name, file).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

func TestSupplementaryRunesRenderAndExtract(t *testing.T) {
	src, err := ParseUTF8Font(testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	if !src.HasRune(0x20BB7) || !src.HasRune('张') {
		t.Fatal("the font should map U+20BB7 (format 12) and 张 (format 4)")
	}
	text := "𠮷祥 张𬌗 AB12"
	pdf := render(t, src, text) // v1.16.2 panicked here: index out of range [65536]
	got := tool(t, pdf, "pdftotext")
	if strings.Count(got, text) != 2 {
		t.Fatalf("pdftotext should find %q twice, got %q", text, got)
	}
}

func TestSubsetTagIsSixLettersAndDeterministic(t *testing.T) {
	src, err := ParseUTF8Font(testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	fonts := tool(t, render(t, src, "证书 𠮷"), "pdffonts")
	m := regexp.MustCompile(`(?m)^([A-Z]{6})\+utf8wk\s.*\byes\s+yes\s+yes\b`).FindStringSubmatch(fonts)
	if m == nil {
		t.Fatalf("pdffonts should list one embedded subset with a six-letter tag:\n%s", fonts)
	}
	again := tool(t, render(t, src, "证书 𠮷"), "pdffonts")
	if !strings.Contains(again, m[1]+"+utf8wk") {
		t.Fatalf("the same text should give the same tag %s:\n%s", m[1], again)
	}
	other := tool(t, render(t, src, "别的字"), "pdffonts")
	if strings.Contains(other, m[1]+"+utf8wk") {
		t.Fatalf("another subset should get another tag than %s", m[1])
	}
}

func TestSourceOutputIsStableAndReused(t *testing.T) {
	src, err := ParseUTF8Font(testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	a := render(t, src, "张三 𠮷")
	b := render(t, src, "李四")
	c := render(t, src, "张三 𠮷")
	if !bytes.Equal(a, c) {
		t.Fatal("the same document twice from one parsed font should give the same bytes")
	}
	if bytes.Equal(a, b) {
		t.Fatal("different text should give different documents")
	}
	if len(a) > 60_000 {
		t.Fatalf("a subset should be small, got %d bytes", len(a))
	}
}

func TestMissingRunes(t *testing.T) {
	src, err := ParseUTF8Font(testFont(t))
	if err != nil {
		t.Fatal(err)
	}
	got := src.MissingRunes("张\U000F0001三\U000F0001\u0007")
	if len(got) != 2 || got[0] != 0xF0001 || got[1] != 7 {
		t.Fatalf("missing runes: got %U", got)
	}
	if src.MissingRunes("张三𠮷 HBTY2026") != nil {
		t.Fatal("no rune of a plain name should be missing")
	}
}

func TestParseRejectsNonTrueType(t *testing.T) {
	if _, err := ParseUTF8Font([]byte("%PDF-1.4 not a font")); err == nil {
		t.Fatal("a non-font should be refused")
	}
	if _, err := ParseUTF8Font(nil); err == nil {
		t.Fatal("no bytes should be refused")
	}
}

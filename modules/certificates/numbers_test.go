package certificates

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

func TestNumbers(t *testing.T) {
	p, err := SkillPrefix("010001", 2026, 5)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Number(KindSkill, p, 42)
	if err != nil {
		t.Fatal(err)
	}
	if n != "S00004201000126500004"+"2" || len(n) != 22 {
		t.Fatalf("skill number %q (%d chars), want 22 chars S+0000+42+010001+26+5+000042", n, len(n))
	}
	if n, _ := Number(KindTraining, TrainingPrefix(2026), 7); n != "HBTY202600000007" {
		t.Fatalf("training number %q", n)
	}
	if _, err := Number(KindSkill, p, 1_000_000); err == nil {
		t.Fatal("a serial over six digits must not wrap")
	}
	for _, bad := range []string{"", "01001", "01000A", "0100011"} {
		if _, err := SkillPrefix(bad, 2026, 5); err == nil {
			t.Errorf("site code %q should be refused", bad)
		}
	}
	if _, err := SkillPrefix("010001", 2026, 6); err == nil {
		t.Error("level 6 should be refused")
	}
}

func TestVerifyCodes(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		c, err := NewVerifyCode(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(c) || seen[c] {
			t.Fatalf("code %q malformed or repeated", c)
		}
		seen[c] = true
	}
	c, _ := NewVerifyCode(bytes.NewReader(bytes.Repeat([]byte{31}, 20)))
	if c != "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ" {
		t.Fatalf("code from fixed bytes: %q", c)
	}
	for in, want := range map[string]string{
		"7k3m 9qx2 abcd efgh jkmn": "7K3M-9QX2-ABCD-EFGH-JKMN",
		"OIL0-0000-0000-0000-0000": "0110-0000-0000-0000-0000",
		"7K3M9QX2ABCDEFGHJKMN":     "7K3M-9QX2-ABCD-EFGH-JKMN",
	} {
		if got, ok := NormalizeCode(in); !ok || got != want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "7K3M", "7K3M-9QX2-ABCD-EFGH-JKMU", "7K3M-9QX2-ABCD-EFGH-JKMN-0", "证书证书-9QX2-ABCD-EFGH-JKMN", strings.Repeat("A", 100)} {
		if _, ok := NormalizeCode(bad); ok {
			t.Errorf("NormalizeCode(%q) should fail", bad)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"张三": "张*", "吉𠮷": "吉*", "欧阳娜娜": "欧***", "𠮷": "𠮷", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignatureCoversCanonicalFields(t *testing.T) {
	s, err := NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	lvl := 5
	a := Answer{Status: "valid", Number: "S0000420100012650000017", Kind: "skill", Source: "issued", HolderNameMasked: "吉*",
		Occupation: "保育师", Level: &lvl, PlanCode: "BYS-5", IssuedOn: "2026-12-03", Issuer: "武汉", PDFSHA256: "ab", VerifyCode: "X", KeyID: s.KeyID}
	a.Signature = encode(s.Sign(a))
	if !CheckSignature(s.Public(), a) {
		t.Fatal("a signed answer should check")
	}
	a.Status = "revoked" // status is not signed: it changes
	if !CheckSignature(s.Public(), a) {
		t.Fatal("status is outside the signature")
	}
	b := a
	b.HolderNameMasked = "张*"
	if CheckSignature(s.Public(), b) {
		t.Fatal("a changed name must not check")
	}
	other, _ := NewSigner(bytes.Repeat([]byte{8}, 32))
	if CheckSignature(other.Public(), a) {
		t.Fatal("another key must not check")
	}
	if len(s.KeyID) != 16 || s.KeyID == other.KeyID || KeyID(s.Public()) != s.KeyID {
		t.Fatalf("key ids %q %q", s.KeyID, other.KeyID)
	}
	set := KeySet{Keys: []PublicKey{{KeyID: other.KeyID, PublicKey: encode(other.Public())}, {KeyID: s.KeyID, PublicKey: encode(s.Public())}}}
	if pub, ok := set.Find(s.KeyID); !ok || !ed25519.PublicKey(pub).Equal(s.Public()) {
		t.Fatal("a rotated key set should still find the old key")
	}
}

func TestLoadSignerKeepsOneKeyInDataDir(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadSigner("", dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadSigner("", dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID != b.KeyID {
		t.Fatal("a second start should read the same key")
	}
	env, err := LoadSigner(encode(bytes.Repeat([]byte{9}, 32)), dir)
	if err != nil || env.KeyID == a.KeyID {
		t.Fatalf("TUOYU_CERT_SIGNING_KEY should win: %v", err)
	}
	if _, err := LoadSigner("not base64!", dir); err == nil {
		t.Fatal("a bad key should be refused")
	}
}

func encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

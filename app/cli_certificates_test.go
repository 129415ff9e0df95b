package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCertificatesVerifyCommand checks a saved verify answer offline
// against a saved key file, as `tuoyu certificates verify` does, and
// refuses a changed answer.
func TestCertificatesVerifyCommand(t *testing.T) {
	w := login(t, "worker1")
	_, body := w.do("GET", "/api/v1/me/certificates", nil)
	c := decode[certList](t, body).Items[0]
	anyone := anon(t)
	_, answer := anyone.do("GET", "/api/v1/verify/"+c.VerifyCode, nil)
	_, key := anyone.do("GET", "/api/v1/verify/key", nil)
	dir := t.TempDir()
	keyFile, answerFile := filepath.Join(dir, "key.json"), filepath.Join(dir, "answer.json")
	os.WriteFile(keyFile, key, 0o600)
	os.WriteFile(answerFile, answer, 0o600)
	getenv := func(string) string { return "" }

	var out bytes.Buffer
	if err := runCertificates(context.Background(), []string{"verify", "--key", keyFile, answerFile}, getenv, &out); err != nil {
		t.Fatalf("a genuine answer: %v", err)
	}
	if !strings.Contains(out.String(), "signature valid") || !strings.Contains(out.String(), c.Number) {
		t.Fatalf("output: %s", out.String())
	}
	changed := bytes.Replace(answer, []byte(c.Number), []byte(c.Number[:len(c.Number)-1]+"9"), 1)
	if bytes.Equal(changed, answer) {
		changed = bytes.Replace(answer, []byte(c.Number), []byte(c.Number[:len(c.Number)-1]+"8"), 1)
	}
	os.WriteFile(answerFile, changed, 0o600)
	err := runCertificates(context.Background(), []string{"verify", "--key", keyFile, answerFile}, getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "INVALID") {
		t.Fatalf("a changed answer must fail: %v", err)
	}
	if err := runCertificates(context.Background(), []string{"verify", answerFile}, getenv, &out); err == nil {
		t.Fatal("no key file is a usage error")
	}
}

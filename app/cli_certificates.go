package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"tuoyu/modules/certificates"
)

const certificatesUsage = "usage: tuoyu certificates verify --key KEY.json [--url BASE_URL] FILE.pdf|ANSWER.json|CODE"

// runCertificates runs `tuoyu certificates verify`: it checks a
// certificate's Ed25519 signature against a public key saved earlier from
// GET /api/v1/verify/key, so the check does not trust the server it asks.
// ANSWER.json (a saved verify answer) is checked fully offline; a PDF or a
// code is first looked up at the server (--url, else TUOYU_BASE_URL).
func runCertificates(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{certificatesUsage}
	}
	fs := flag.NewFlagSet("certificates verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyFile := fs.String("key", "", "public key JSON saved from /api/v1/verify/key")
	base := fs.String("url", "", "server base URL")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 || *keyFile == "" {
		return usageError{certificatesUsage}
	}
	if *base == "" {
		*base = getenv("TUOYU_BASE_URL")
	}
	if *base == "" {
		*base = "http://localhost:8080"
	}
	kb, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	var keys certificates.KeySet
	if err := json.Unmarshal(kb, &keys); err != nil {
		return fmt.Errorf("key file %s is not the JSON of /api/v1/verify/key: %w", *keyFile, err)
	}
	target := fs.Arg(0)
	client := &http.Client{Timeout: 30 * time.Second}
	var (
		answer certificates.Answer
		pdf    []byte
	)
	switch {
	case strings.HasSuffix(strings.ToLower(target), ".json"):
		b, err := os.ReadFile(target)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &answer); err != nil {
			return fmt.Errorf("%s is not a verify answer: %w", target, err)
		}
	case strings.HasSuffix(strings.ToLower(target), ".pdf"):
		if pdf, err = os.ReadFile(target); err != nil {
			return err
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		part, _ := mw.CreateFormFile("file", "certificate.pdf")
		part.Write(pdf)
		mw.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(*base, "/")+"/api/v1/verify/pdf", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if answer, err = fetchAnswer(client, req); err != nil {
			return err
		}
	default:
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*base, "/")+"/api/v1/verify/"+url.PathEscape(target), nil)
		if answer, err = fetchAnswer(client, req); err != nil {
			return err
		}
	}
	if answer.Status == "unknown" {
		return fmt.Errorf("no certificate matches %s (not issued here, or changed)", target)
	}
	pub, ok := keys.Find(answer.KeyID)
	if !ok {
		return fmt.Errorf("certificate %s was signed with key %s, which the key file does not hold (save /api/v1/verify/key again)", answer.Number, answer.KeyID)
	}
	if !certificates.CheckSignature(pub, answer) {
		return fmt.Errorf("certificate %s: signature INVALID", answer.Number)
	}
	if pdf != nil {
		sum := sha256.Sum256(pdf)
		if hex.EncodeToString(sum[:]) != answer.PDFSHA256 {
			return fmt.Errorf("certificate %s: the file's SHA-256 is not the one signed", answer.Number)
		}
	}
	fmt.Fprintf(stdout, "signature valid (key %s)\nnumber: %s\nholder: %s\nissued: %s\nissuer: %s\nstatus: %s\n",
		answer.KeyID, answer.Number, answer.HolderNameMasked, answer.IssuedOn, answer.Issuer, answer.Status)
	if answer.RevokeReason != nil {
		fmt.Fprintf(stdout, "revoked: %s (%s)\n", *answer.RevokedOn, *answer.RevokeReason)
	}
	return nil
}

func fetchAnswer(client *http.Client, req *http.Request) (certificates.Answer, error) {
	var a certificates.Answer
	res, err := client.Do(req)
	if err != nil {
		return a, fmt.Errorf("ask %s: %w", req.URL.Host, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return a, err
	}
	if res.StatusCode != http.StatusOK {
		var p struct {
			Code, Title, Detail string
		}
		_ = json.Unmarshal(b, &p)
		return a, fmt.Errorf("%s answered %d %s: %s", req.URL.Host, res.StatusCode, p.Code, p.Detail+p.Title)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("verify answer: %w", err)
	}
	return a, nil
}

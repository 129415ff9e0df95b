package certificates

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Signer signs certificates with one Ed25519 key, named by its key id.
type Signer struct {
	key   ed25519.PrivateKey
	KeyID string
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// NewSigner returns a signer for the 32-byte seed.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("certificate signing key: want a %d-byte seed, got %d bytes", ed25519.SeedSize, len(seed))
	}
	key := ed25519.NewKeyFromSeed(seed)
	return &Signer{key: key, KeyID: KeyID(key.Public().(ed25519.PublicKey))}, nil
}

// Public is the signer's public key.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign signs the canonical form of a.
func (s *Signer) Sign(a Answer) []byte { return ed25519.Sign(s.key, Canonical(a)) }

// signingKeyFile is where a generated key lives in the data dir.
const signingKeyFile = "cert-signing.key"

// LoadSigner returns the signing key: TUOYU_CERT_SIGNING_KEY (the seed in
// base64) when set, else the key file in the data dir, generated on first
// use. Rotating means setting a new key: the old public key stays in the
// database, so what it signed stays checkable.
func LoadSigner(envValue, dataDir string) (*Signer, error) {
	if v := strings.TrimSpace(envValue); v != "" {
		seed, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("TUOYU_CERT_SIGNING_KEY is not base64: %w", err)
		}
		return NewSigner(seed)
	}
	path := filepath.Join(dataDir, signingKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir for the signing key: %w", err)
		}
		enc := base64.StdEncoding.EncodeToString(seed) + "\n"
		// O_EXCL: two processes starting at once keep one key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(enc)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("write signing key: %w", err)
			}
			return NewSigner(seed)
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create signing key: %w", err)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("signing key file %s is not base64: %w", path, err)
	}
	return NewSigner(seed)
}

// Answer is what verification says about a certificate (DESIGN §5.4 field
// details), the signed fields first. It carries no personal data beyond
// the masked name.
type Answer struct {
	Status           string  `json:"status"`
	Number           string  `json:"number,omitempty"`
	Kind             string  `json:"kind,omitempty"`
	Source           string  `json:"source,omitempty"`
	HolderNameMasked string  `json:"holder_name_masked,omitempty"`
	Occupation       string  `json:"occupation,omitempty"`
	Level            *int    `json:"level"`
	PlanCode         string  `json:"plan_code,omitempty"`
	PlanName         string  `json:"plan_name,omitempty"`
	IssuedOn         string  `json:"issued_on,omitempty"`
	ExpiresOn        *string `json:"expires_on"`
	Issuer           string  `json:"issuer,omitempty"`
	PDFSHA256        string  `json:"pdf_sha256,omitempty"`
	HasPDF           bool    `json:"has_pdf"`
	RevokedOn        *string `json:"revoked_on"`
	RevokeReason     *string `json:"revoke_reason"`
	VerifyCode       string  `json:"verify_code,omitempty"`
	Signature        string  `json:"signature,omitempty"`
	KeyID            string  `json:"key_id,omitempty"`
}

// Canonical is the byte string a certificate's signature covers: the fields
// that never change after issue, one per line, in a fixed order. Status is
// not signed: it changes, and the live answer reports it.
func Canonical(a Answer) []byte {
	level := ""
	if a.Level != nil {
		level = strconv.Itoa(*a.Level)
	}
	expires := ""
	if a.ExpiresOn != nil {
		expires = *a.ExpiresOn
	}
	var b strings.Builder
	b.WriteString("tuoyu-certificate/1\n")
	for _, kv := range [][2]string{
		{"number", a.Number}, {"kind", a.Kind}, {"source", a.Source},
		{"holder_name_masked", a.HolderNameMasked}, {"occupation", a.Occupation},
		{"level", level}, {"plan_code", a.PlanCode}, {"issued_on", a.IssuedOn},
		{"expires_on", expires}, {"issuer", a.Issuer}, {"pdf_sha256", a.PDFSHA256},
		{"verify_code", a.VerifyCode},
	} {
		// Values never hold a newline (they are validated); escaping keeps
		// the form unambiguous all the same.
		b.WriteString(kv[0] + "=" + strings.ReplaceAll(kv[1], "\n", `\n`) + "\n")
	}
	return []byte(b.String())
}

// CheckSignature reports whether a's signature is valid under pub.
func CheckSignature(pub ed25519.PublicKey, a Answer) bool {
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, Canonical(a), sig)
}

// PublicKey is a signing key as GET /api/v1/verify/key publishes it.
type PublicKey struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"` // base64, 32 bytes
	Current   bool   `json:"current"`
}

// KeySet is the answer of GET /api/v1/verify/key: the current key and every
// key that ever signed, so a saved copy checks old certificates too.
type KeySet struct {
	KeyID     string      `json:"key_id"`
	Algorithm string      `json:"algorithm"`
	PublicKey string      `json:"public_key"`
	Keys      []PublicKey `json:"keys"`
}

// Find returns the public key with id from the set.
func (k KeySet) Find(id string) (ed25519.PublicKey, bool) {
	for _, pk := range k.Keys {
		if pk.KeyID == id {
			b, err := base64.StdEncoding.DecodeString(pk.PublicKey)
			if err != nil || len(b) != ed25519.PublicKeySize || KeyID(b) != id {
				return nil, false
			}
			return b, true
		}
	}
	if k.KeyID == id {
		b, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err == nil && len(b) == ed25519.PublicKeySize && KeyID(b) == id {
			return b, true
		}
	}
	return nil, false
}

// StatusLabel is the answer's status in Chinese.
func (a Answer) StatusLabel() string {
	if a.Status == "unknown" {
		return "未找到"
	}
	return Status(a.Status).Label()
}

// ReasonLabel is the revocation reason in Chinese ("" when not revoked).
func (a Answer) ReasonLabel() string {
	if a.RevokeReason == nil {
		return ""
	}
	return ReasonLabel(*a.RevokeReason)
}

// LevelLabel is the level in Chinese ("" without one).
func (a Answer) LevelLabel() string {
	if a.Level == nil {
		return ""
	}
	return levelLabel(*a.Level)
}

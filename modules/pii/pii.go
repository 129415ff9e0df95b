// Package pii protects personal data at rest: resident ID numbers, phone
// numbers and bank accounts are stored encrypted with AES-256-GCM, looked up
// and kept unique through a keyed HMAC-SHA-256 "blind index", and shown to
// people as masks (DESIGN §3).
//
// One 32-byte secret (TUOYU_SECRET_KEY) feeds two subkeys derived with HKDF:
// one for encryption and one for the blind index. Using the same key for two
// different primitives is a classic mistake: a weakness or a leak of one use
// (an index key copied to an analytics job, say) must not expose the other.
// HKDF with distinct labels makes the two keys independent while the operator
// still manages a single secret.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// KeySize is the length in bytes of the secret New takes.
const KeySize = 32

// Kinds of personal data the blind index separates, so that an ID number and
// a bank account that happen to be the same digits never share an index.
const (
	KindIDNumber = "id_number"
	KindPhone    = "phone"
	KindBank     = "bank"
)

// Labels of the HKDF subkeys. Changing them changes every stored index and
// makes every ciphertext unreadable, so they are fixed for good.
const (
	labelEncrypt = "tuoyu pii encryption v1"
	labelIndex   = "tuoyu pii blind index v1"
)

// Cipher encrypts, decrypts and indexes personal data with keys derived from
// one secret. It is safe for concurrent use.
type Cipher struct {
	aead     cipher.AEAD
	indexKey []byte
}

// New returns a Cipher for the 32-byte secret. It fails when the secret has
// another length.
func New(secret []byte) (*Cipher, error) {
	if len(secret) != KeySize {
		return nil, fmt.Errorf("pii secret must be %d bytes, got %d", KeySize, len(secret))
	}
	encKey, err := hkdf.Key(sha256.New, secret, nil, labelEncrypt, 32)
	if err != nil {
		return nil, fmt.Errorf("derive encryption key: %w", err)
	}
	idxKey, err := hkdf.Key(sha256.New, secret, nil, labelIndex, 32)
	if err != nil {
		return nil, fmt.Errorf("derive index key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("aes cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &Cipher{aead: aead, indexKey: idxKey}, nil
}

// ErrCiphertext reports a ciphertext that is too short, was tampered with or
// was made with another key.
var ErrCiphertext = errors.New("pii: ciphertext cannot be decrypted")

// Encrypt seals plain with a fresh random nonce and returns nonce||sealed.
// An empty string encrypts to nil, so optional fields stay NULL in the
// database.
func (c *Cipher) Encrypt(plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plain)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return c.aead.Seal(nonce, nonce, []byte(plain), nil), nil
}

// Decrypt opens a value made by Encrypt. Nil or empty decrypts to "". It
// returns ErrCiphertext when the value is damaged or made with another key.
func (c *Cipher) Decrypt(ciphertext []byte) (string, error) {
	if len(ciphertext) == 0 {
		return "", nil
	}
	ns := c.aead.NonceSize()
	if len(ciphertext) < ns+c.aead.Overhead() {
		return "", ErrCiphertext
	}
	plain, err := c.aead.Open(nil, ciphertext[:ns], ciphertext[ns:], nil)
	if err != nil {
		return "", ErrCiphertext
	}
	return string(plain), nil
}

// Index returns the blind index of plain as the given kind: HMAC-SHA-256
// under the index key over kind, a zero byte and the normalised value. Equal
// values of one kind always give the same 32 bytes, so the index serves
// look-ups and unique constraints without revealing the value. An empty
// value has no index (nil).
func (c *Cipher) Index(kind, plain string) []byte {
	n := Normalize(kind, plain)
	if n == "" {
		return nil
	}
	m := hmac.New(sha256.New, c.indexKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(n))
	return m.Sum(nil)
}

// Normalize returns the form of plain that Index hashes: surrounding space
// trimmed; for ID numbers the check character upper-cased (x and X are the
// same ID); for phone numbers and bank accounts inner spaces and hyphens
// removed, as people type them in groups.
func Normalize(kind, plain string) string {
	s := strings.TrimSpace(plain)
	switch kind {
	case KindIDNumber:
		return strings.ToUpper(s)
	case KindPhone, KindBank:
		return strings.Map(func(r rune) rune {
			if r == '-' || unicode.IsSpace(r) {
				return -1
			}
			return r
		}, s)
	}
	return s
}

// MaskID shows the first six characters (the area) and the last four of an
// ID number: 420106199001011234 → 420106********1234. Shorter values are
// masked entirely but for their last character.
func MaskID(id string) string {
	return maskMiddle(strings.TrimSpace(id), 6, 4)
}

// MaskIDCell masks what someone typed as an ID number. A well-formed number
// (15 digits, or 17 digits and a digit or X) is masked as MaskID does; a
// mangled one (4.20106199001011E+17, a typo, a number cut short) shows
// only a short prefix and an ellipsis: 4.2010…. Keeping its end as well
// would show digits that MaskID hides in a correct number, and a typo
// may differ from the real number in one place only.
func MaskIDCell(s string) string {
	s = strings.TrimSpace(s)
	if wellFormedID.MatchString(s) {
		return MaskID(s)
	}
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return string(r[:min(6, len(r)/2)]) + "…"
}

var wellFormedID = regexp.MustCompile(`^([0-9]{15}|[0-9]{17}[0-9Xx])$`)

// MaskPhone shows the first three and last four digits: 138****5678.
func MaskPhone(phone string) string {
	return maskMiddle(Normalize(KindPhone, phone), 3, 4)
}

// MaskBank shows only the last four digits of a bank account.
func MaskBank(account string) string {
	return maskMiddle(Normalize(KindBank, account), 0, 4)
}

// MaskName keeps the first character of a name and masks the rest: 张三 →
// 张*, 欧阳娜娜 → 欧***. A one-character name becomes *.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}

// maskMiddle keeps head runes at the start and tail runes at the end and
// replaces the rest with *. When the value is too short to keep both, only
// its last rune stays visible, so a short value never shows whole.
func maskMiddle(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	r := []rune(s)
	if n <= head+tail {
		return strings.Repeat("*", n-1) + string(r[n-1])
	}
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

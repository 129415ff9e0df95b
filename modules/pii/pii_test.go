package pii

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testCipher(t *testing.T, fill byte) *Cipher {
	t.Helper()
	c, err := New(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestNewRejectsWrongKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := New(make([]byte, n)); err == nil {
			t.Errorf("New with %d-byte key: want error, got nil", n)
		}
	}
}

func TestEncryptRoundTripAndRandomNonce(t *testing.T) {
	c := testCipher(t, 1)
	for _, plain := range []string{"420106199001011234", "13812345678", "6222 0212 3456 7890", "张三"} {
		a, err := c.Encrypt(plain)
		if err != nil {
			t.Fatalf("Encrypt(%q): %v", plain, err)
		}
		b, err := c.Encrypt(plain)
		if err != nil {
			t.Fatalf("Encrypt(%q): %v", plain, err)
		}
		if bytes.Equal(a, b) {
			t.Errorf("two encryptions of %q are equal; the nonce must be random", plain)
		}
		if bytes.Contains(a, []byte(plain)) {
			t.Errorf("ciphertext of %q contains the plaintext", plain)
		}
		for _, ct := range [][]byte{a, b} {
			got, err := c.Decrypt(ct)
			if err != nil || got != plain {
				t.Errorf("Decrypt = %q, %v; want %q", got, err, plain)
			}
		}
	}
}

func TestEncryptEmptyIsNil(t *testing.T) {
	c := testCipher(t, 1)
	ct, err := c.Encrypt("")
	if err != nil || ct != nil {
		t.Fatalf(`Encrypt("") = %v, %v; want nil, nil`, ct, err)
	}
	if s, err := c.Decrypt(nil); err != nil || s != "" {
		t.Fatalf("Decrypt(nil) = %q, %v", s, err)
	}
}

func TestDecryptRejectsTamperingAndOtherKeys(t *testing.T) {
	c := testCipher(t, 1)
	ct, err := c.Encrypt("420106199001011234")
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	cases := map[string]struct {
		c  *Cipher
		ct []byte
	}{
		"tampered":  {c, tampered},
		"truncated": {c, ct[:10]},
		"other key": {testCipher(t, 2), ct},
	}
	for name, tc := range cases {
		if _, err := tc.c.Decrypt(tc.ct); !errors.Is(err, ErrCiphertext) {
			t.Errorf("%s: Decrypt err = %v, want ErrCiphertext", name, err)
		}
	}
}

func TestIndex(t *testing.T) {
	c := testCipher(t, 1)
	id := "42010619900101123X"

	a := c.Index(KindIDNumber, id)
	if len(a) != 32 {
		t.Fatalf("index length = %d, want 32", len(a))
	}
	if !bytes.Equal(a, c.Index(KindIDNumber, id)) {
		t.Error("Index is not stable")
	}
	if !bytes.Equal(a, c.Index(KindIDNumber, "  42010619900101123x ")) {
		t.Error("Index does not normalise case of X and surrounding space")
	}
	if !bytes.Equal(a, testCipher(t, 1).Index(KindIDNumber, id)) {
		t.Error("Index differs between two ciphers with the same key")
	}
	if bytes.Equal(a, testCipher(t, 2).Index(KindIDNumber, id)) {
		t.Error("Index is the same under another key")
	}
	digits := "6222021234567890"
	if bytes.Equal(c.Index(KindBank, digits), c.Index(KindPhone, digits)) ||
		bytes.Equal(c.Index(KindBank, digits), c.Index(KindIDNumber, digits)) {
		t.Error("Index of equal strings of different kinds collides")
	}
	if !bytes.Equal(c.Index(KindPhone, "138-1234 5678"), c.Index(KindPhone, "13812345678")) {
		t.Error("phone index does not drop spaces and hyphens")
	}
	if c.Index(KindPhone, "  ") != nil {
		t.Error("Index of a blank value should be nil")
	}
}

// TestSubkeysAreIndependent guards the key separation: the index must not
// be a plain HMAC under the raw secret, nor reuse the encryption key.
func TestSubkeysAreIndependent(t *testing.T) {
	c := testCipher(t, 1)
	if bytes.Equal(c.indexKey, bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatal("index key equals the raw secret")
	}
}

func TestMasks(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"id", MaskID, "420106199001011234", "420106********1234"},
		{"id with X", MaskID, "42010619900101123X", "420106********123X"},
		{"id short", MaskID, "12345", "****5"},
		{"id empty", MaskID, "", ""},
		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone spaced", MaskPhone, "138 1234 5678", "138****5678"},
		{"bank", MaskBank, "6222 0212 3456 7890", "************7890"},
		{"name two", MaskName, "张三", "张*"},
		{"name four", MaskName, "欧阳娜娜", "欧***"},
		{"name one", MaskName, "张", "*"},
		{"name empty", MaskName, " ", ""},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: mask(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestMaskNeverShowsWholeValue(t *testing.T) {
	for _, s := range []string{"1", "12", "1234", "12345678", "420106199001011234"} {
		for _, m := range []func(string) string{MaskID, MaskPhone, MaskBank} {
			if got := m(s); len(s) > 1 && got == s {
				t.Errorf("mask(%q) shows it whole", s)
			}
			if got := m(s); !strings.Contains(got, "*") && len(s) > 1 {
				t.Errorf("mask(%q) = %q has no *", s, got)
			}
		}
	}
}

// TestMaskIDCell: a mangled ID number is masked as a whole, a short prefix
// and an ellipsis, never with its end showing.
func TestMaskIDCell(t *testing.T) {
	tests := map[string]string{
		"420106199001011234":   "420106********1234",
		"42010619900101123x":   "420106********123x",
		"4.20106199001011E+17": "4.2010…",
		"42010619900101123":    "420106…", // one digit short
		"4201061990010112345":  "420106…", // one too many
		"420106-19900101-1234": "420106…",
		"12345":                "12…",
		"1":                    "…",
		"":                     "",
	}
	for in, want := range tests {
		if got := MaskIDCell(in); got != want {
			t.Errorf("MaskIDCell(%q) = %q, want %q", in, got, want)
		}
	}
}

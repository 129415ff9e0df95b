package certificates

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// SkillPrefix is the prefix of a skill-level certificate number before its
// six-digit serial: S + 0000 + 42 (Hubei) + the provider's six-digit site
// code + two-digit year + level digit (DESIGN §7, the national format).
func SkillPrefix(siteCode string, year, level int) (string, error) {
	if len(siteCode) != 6 || strings.Trim(siteCode, "0123456789") != "" {
		return "", fmt.Errorf("site code %q is not six digits", siteCode)
	}
	if level < 1 || level > 5 {
		return "", fmt.Errorf("level %d outside 1–5", level)
	}
	return fmt.Sprintf("S000042%s%02d%d", siteCode, year%100, level), nil
}

// TrainingPrefix is the prefix of a training certificate number before its
// eight-digit serial: HBTY + year.
func TrainingPrefix(year int) string { return fmt.Sprintf("HBTY%04d", year) }

// Number joins a prefix and a serial into a certificate number: skill
// numbers have six serial digits (22 characters in all), training numbers
// eight. A serial that does not fit is an error: numbers never wrap.
func Number(kind Kind, prefix string, serial int64) (string, error) {
	digits := 8
	if kind == KindSkill {
		digits = 6
	}
	s := fmt.Sprintf("%0*d", digits, serial)
	if serial < 1 || len(s) > digits {
		return "", fmt.Errorf("serial %d does not fit %d digits of prefix %s", serial, digits, prefix)
	}
	return prefix + s, nil
}

// crockford is Crockford's base32 alphabet: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeGroups × 4 characters × 5 bits = 100 random bits (DESIGN: ≥ 80).
const codeGroups = 5

// NewVerifyCode returns a random verify code, five groups of four Crockford
// base32 characters joined by dashes (7K3M-9QX2-…), read from r (crypto/rand
// when nil).
func NewVerifyCode(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	buf := make([]byte, codeGroups*4)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	var b strings.Builder
	for i, v := range buf {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford[v&31])
	}
	return b.String(), nil
}

// NormalizeCode turns what a person typed into a verify code: upper case,
// spaces and dashes ignored, the letters Crockford reads as digits (O → 0,
// I and L → 1) mapped. ok is false when the result cannot be a code.
func NormalizeCode(raw string) (code string, ok bool) {
	if len(raw) > 64 || !utf8.ValidString(raw) {
		return "", false
	}
	var chars []byte
	for _, r := range strings.ToUpper(raw) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		chars = append(chars, byte(r))
	}
	if len(chars) != codeGroups*4 {
		return "", false
	}
	var b strings.Builder
	for i, c := range chars {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// MaskName keeps the first character of a name and stars the rest: 张三 →
// 张*, 欧阳娜娜 → 欧***. Runes, not bytes, so 𠮷 counts as one character.
func MaskName(name string) string {
	rs := []rune(strings.TrimSpace(name))
	if len(rs) == 0 {
		return ""
	}
	return string(rs[0]) + strings.Repeat("*", len(rs)-1)
}

package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/crypto/argon2"

	"tuoyu/modules/apperr"
)

// argon2id parameters (RFC 9106's second recommended option, lighter memory):
// about 50 ms on one core here, which is slow for guessing and fine for logins.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in the PHC string format.
// Errors: only internal ones (random source).
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-format hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked for unknown usernames so that timing does not tell
// which usernames exist.
var dummyHash, _ = HashPassword("dummy password for timing")

// DemoPassword is the password of every demo login (DESIGN §5.5). It is
// printed by make run and in the README, so no real account may use it:
// only the demo seed sets it (NewUser.Demo).
const DemoPassword = "Tuoyu@2026"

// commonPasswords are passwords that meet the character rule and are still
// among the first an attacker tries (lists of leaked passwords, patterns
// common on Chinese systems). Compared without regard to case.
var commonPasswords = []string{
	DemoPassword, "Password123!", "Password@123", "P@ssw0rd123", "P@ssword123", "Passw0rd!23", "Admin@12345",
	"Admin@123456", "Admin123456!", "Root@123456", "Test@123456", "Welcome@123", "Huawei@123", "Huawei12#$",
	"Qwer@123456", "Qwerty@1234", "Qwerty123!", "1qaz@WSX3edc", "1qaz!QAZ2wsx", "1qaz2wsx#EDC", "Aa123456789",
	"Aa@123456789", "Aa123456!@#", "Abc@1234567", "Abcd@123456", "Abc123456!", "Asdf@123456", "Zxcv@123456",
	"Woaini@1314", "Iloveyou@520", "Tuoyu@123456", "Tuoyu12345!",
}

// CheckNewPassword enforces the password rule for username's new password:
// CheckPasswordRule, and not the username (or containing it), not the demo
// password, not one of the common passwords. Errors: Invalid weak_password.
func CheckNewPassword(username, password string) error {
	if err := CheckPasswordRule(password); err != nil {
		return err
	}
	weak := func(msg string) error {
		return apperr.Invalid("weak_password", "密码不符合要求",
			apperr.FieldError{Field: "password", Code: "weak_password", Message: msg})
	}
	lower := strings.ToLower(password)
	if u := strings.ToLower(strings.TrimSpace(username)); len(u) >= 3 && strings.Contains(lower, u) {
		return weak("密码不能包含用户名")
	}
	for _, c := range commonPasswords {
		if lower == strings.ToLower(c) {
			return weak("该密码过于常见（或是公开的演示密码），请换一个")
		}
	}
	return nil
}

// CheckPasswordRule enforces the password rule: at least 10 characters and
// at least 3 of 4 classes (lower case, upper case, digits, other). It returns
// an Invalid error naming the field. Errors: Invalid weak_password.
func CheckPasswordRule(password string) error {
	var lower, upper, digit, other bool
	n := 0
	for _, r := range password {
		n++
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if n < 10 || classes < 3 {
		return apperr.Invalid("weak_password", "密码不符合要求",
			apperr.FieldError{Field: "password", Code: "weak_password",
				Message: "密码至少 10 位，并包含大写字母、小写字母、数字、符号中的至少 3 类"})
	}
	return nil
}

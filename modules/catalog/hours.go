package catalog

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"tuoyu/modules/apperr"
)

// Hours is a number of training hours counted in tenths of an hour.
//
// Attendance is recorded in half or tenth hours ("1.5 学时") and completion
// compares sums against minimums: with float64, 0.1 added thirty times is
// not 3.0 and a worker could miss completion by a rounding error. Integer
// tenths add exactly. The database keeps the same values as numeric(5,1), so
// SQL shows real hours; Scan and Value convert without floats.
type Hours int64

// H returns whole hours as Hours, for data files and tests.
func H(whole int64) Hours { return Hours(whole * 10) }

// String formats h as hours with at most one decimal: "12", "1.5".
func (h Hours) String() string {
	sign := ""
	v := int64(h)
	if v < 0 {
		sign, v = "-", -v
	}
	if v%10 == 0 {
		return sign + strconv.FormatInt(v/10, 10)
	}
	return fmt.Sprintf("%s%d.%d", sign, v/10, v%10)
}

// ParseHours reads hours written as "8", "1.5" or "1.50". More than one
// significant decimal (1.25) is refused rather than rounded, so a CSV value
// is stored exactly as the provider wrote it or not at all.
// Errors: a plain error for text that is not hours with at most one decimal.
func ParseHours(s string) (Hours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("parse hours: empty")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("parse hours %q: no digits", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 1 {
		return 0, fmt.Errorf("parse hours %q: more than one decimal", s)
	}
	var w int64
	if whole != "" {
		if !allDigits(whole) || len(whole) > 6 {
			return 0, fmt.Errorf("parse hours %q: not a number", s)
		}
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	var t int64
	if frac != "" {
		if !allDigits(frac) {
			return 0, fmt.Errorf("parse hours %q: not a number", s)
		}
		t = int64(frac[0] - '0')
	}
	v := w*10 + t
	if neg {
		v = -v
	}
	return Hours(v), nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Value stores h as a numeric literal. Errors: none.
func (h Hours) Value() (driver.Value, error) { return h.String(), nil }

// Scan reads a numeric column (text such as "12.5") into h.
// Errors: a plain error for a value that is not a number of hours.
func (h *Hours) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*h = 0
		return nil
	case int64:
		*h = Hours(v * 10)
		return nil
	case []byte:
		return h.scanText(string(v))
	case string:
		return h.scanText(v)
	default:
		return fmt.Errorf("scan hours: unsupported type %T", src)
	}
}

func (h *Hours) scanText(s string) error {
	v, err := ParseHours(s)
	if err != nil {
		return fmt.Errorf("scan hours: %w", err)
	}
	*h = v
	return nil
}

// MarshalJSON writes h as a JSON number of hours (12.5). Errors: none.
func (h Hours) MarshalJSON() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalJSON reads a JSON number (or numeric string) of hours exactly.
// A value that is not hours in tenths (1.25, 1e308, "NaN") is valid JSON
// but a wrong value, so the error is an apperr.Invalid (invalid_hours) on
// field hours, which the strict decoder passes on as a 422, not as
// malformed JSON. Errors: Invalid invalid_hours.
func (h *Hours) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		// null is "not given", not zero: taken as 0 it erased recorded hours.
		// (Optional hours are *Hours, which JSON leaves nil without calling this.)
		return apperr.Invalid("invalid_hours", "学时填写有误", apperr.FieldError{
			Field: "hours", Code: "required", Message: "请填写学时"})
	}
	v, err := ParseHours(s)
	if err != nil {
		return apperr.Invalid("invalid_hours", "学时填写有误", apperr.FieldError{
			Field: "hours", Code: "invalid_hours", Message: "学时须为 0.1 的整数倍、不小于 0 且不超过课程学时",
		}).Wrap(err)
	}
	*h = v
	return nil
}

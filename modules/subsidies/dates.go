package subsidies

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a calendar date without time or zone, as policy dates are: issue
// dates, as-of dates, the dates a parameter is in force. It marshals as
// "YYYY-MM-DD". The zero Date means "not given".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is the only date format situations and parameters use.
const dateLayout = "2006-01-02"

// ParseDate parses a "YYYY-MM-DD" date; it rejects impossible days
// (2025-02-30) and years outside 1900–2200, which no policy date needs.
// Errors: a plain error for text that is not a date of years 1–9999.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: %w", s, err)
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		return Date{}, fmt.Errorf("parse date %q: year out of range", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// MustDate parses s and panics on error; for constants and tests.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d was not given.
func (d Date) IsZero() bool { return d == Date{} }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String formats d as "YYYY-MM-DD" (empty for the zero Date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	// By hand rather than fmt: the engine formats dates on its hot path.
	var b [10]byte
	y, m := d.Year, int(d.Month)
	b[0], b[1], b[2], b[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4], b[5], b[6] = '-', byte('0'+m/10), byte('0'+m%10)
	b[7], b[8], b[9] = '-', byte('0'+d.Day/10), byte('0'+d.Day%10)
	return string(b[:])
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date. Errors: none.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
// Errors: a plain error for a value that is not a YYYY-MM-DD string.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("date must be a string, got %s", b)
	}
	p, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// AddMonths adds n calendar months to d, clamping the day to the last day of
// the resulting month, as the policy's "within 12 months" is read:
// 2024-02-29 + 12 = 2025-02-28, 2025-01-31 + 1 = 2025-02-28.
func AddMonths(d Date, n int) Date {
	total := d.Year*12 + int(d.Month) - 1 + n
	y, m := total/12, time.Month(total%12+1)
	day := d.Day
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

// daysIn returns the number of days of month m in year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Value stores d in a PostgreSQL date column (NULL for the zero Date). Errors: none.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a date column, which the driver gives as time.Time or text.
// Errors: a plain error for a value that is not a date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		*d = DateOf(v)
		return nil
	case string:
		p, err := ParseDate(v[:min(len(v), 10)])
		*d = p
		return err
	case []byte:
		p, err := ParseDate(string(v[:min(len(v), 10)]))
		*d = p
		return err
	}
	return fmt.Errorf("scan date from %T", src)
}

package calendar

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"tuoyu/modules/apperr"
)

// Years the calendar accepts: wide enough for any claim or class, narrow
// enough that a typo does not create a calendar for the year 20260.
const (
	MinYear = 2000
	MaxYear = 2100
)

// MaxAdd caps "N working days after": a year and a bit is more than any
// rule of the system asks for.
const MaxAdd = 366

// DayInput is one special day as a client sends it.
type DayInput struct {
	Date string `json:"date"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// CheckYear returns Invalid invalid_year unless MinYear ≤ year ≤ MaxYear.
func CheckYear(year int) error {
	if year < MinYear || year > MaxYear {
		return apperr.Invalid("invalid_year", "年份无效",
			apperr.FieldError{Field: "year", Code: "invalid_year", Message: fmt.Sprintf("年份须在 %d 至 %d 之间", MinYear, MaxYear)})
	}
	return nil
}

// ParseDate reads a YYYY-MM-DD date as midnight UTC (a civil date).
func ParseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return t, err == nil
}

// ValidateYear checks the special days of a year all at once: each bad row
// gives one error per bad field, row numbered from 1. It returns the days to
// store, or Invalid invalid_calendar.
func ValidateYear(year int, in []DayInput) ([]Day, error) {
	if err := CheckYear(year); err != nil {
		return nil, err
	}
	var errs []apperr.FieldError
	bad := func(row int, field, code, msg string) {
		errs = append(errs, apperr.FieldError{Field: field, Row: row, Code: code, Message: msg})
	}
	seen := map[string]int{}
	days := make([]Day, 0, len(in))
	for i, d := range in {
		row := i + 1
		date, ok := ParseDate(d.Date)
		switch {
		case !ok:
			bad(row, "date", "invalid_date", "日期「"+d.Date+"」无效，应为 YYYY-MM-DD")
		case date.Year() != year:
			bad(row, "date", "wrong_year", fmt.Sprintf("日期 %s 不在 %d 年内", date.Format(time.DateOnly), year))
		default:
			key := date.Format(time.DateOnly)
			if first, dup := seen[key]; dup {
				bad(row, "date", "duplicate_date", fmt.Sprintf("日期 %s 与第 %d 行重复", key, first))
			} else {
				seen[key] = row
			}
		}
		kind := Kind(strings.TrimSpace(d.Kind))
		if !kind.Valid() {
			bad(row, "kind", "invalid_kind", "类型「"+d.Kind+"」无效，应为 holiday（放假）或 workday（调休上班）")
		}
		name := strings.TrimSpace(d.Name)
		switch {
		case name == "":
			bad(row, "name", "required", "请填写节日名称")
		case utf8.RuneCountInString(name) > 40:
			bad(row, "name", "too_long", "节日名称不能超过 40 个字")
		}
		days = append(days, Day{Date: date, Kind: kind, Name: name})
	}
	if len(errs) > 0 {
		return nil, apperr.Invalid("invalid_calendar", "日历有误，请修改标出的行", errs...)
	}
	return days, nil
}

package assessments

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/modules/apperr"
)

func sqlState(err error) string {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return pgErr.Field('C')
	}
	return ""
}

func isUnique(err error) bool    { return sqlState(err) == "23505" }
func isExclusion(err error) bool { return sqlState(err) == "23P01" }

func pgArray(v any) any { return pgdialect.Array(v) }

// errOverlap names the other sitting when it is known.
func errOverlap(other int64, when string) *apperr.Error {
	if other == 0 {
		return apperr.Conflict("sitting_overlap", "有考生在同一时间已安排了其他考核场次")
	}
	return apperr.Conflict("sitting_overlap", fmt.Sprintf("有考生在同一时间已安排了其他考核场次(场次 %d，%s)", other, when)).
		With("other_sitting_id", other)
}

func fieldErr(field, code, msg string) apperr.FieldError {
	return apperr.FieldError{Field: field, Code: code, Message: msg}
}

func rowErr(row int, field, code, msg string) apperr.FieldError {
	return apperr.FieldError{Row: row, Field: field, Code: code, Message: msg}
}

// timeText formats t in loc the way pages and messages show it.
func timeText(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04") }

func sortInt64(s []int64) { slices.Sort(s) }

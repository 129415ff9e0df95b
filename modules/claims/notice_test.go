package claims_test

import (
	"context"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/calendar"
	"tuoyu/modules/claims"
)

// The State Council's 2025 and 2026 holidays and adjusted working days,
// written out again here from policy/calendar.md, independently of the
// calendar module's shipped data.
var (
	holidayRanges = [][2]string{
		{"2025-01-01", "2025-01-01"}, {"2025-01-28", "2025-02-04"}, {"2025-04-04", "2025-04-06"},
		{"2025-05-01", "2025-05-05"}, {"2025-05-31", "2025-06-02"}, {"2025-10-01", "2025-10-08"},
		{"2026-01-01", "2026-01-03"}, {"2026-02-15", "2026-02-23"}, {"2026-04-04", "2026-04-06"},
		{"2026-05-01", "2026-05-05"}, {"2026-06-19", "2026-06-21"}, {"2026-09-25", "2026-09-27"},
		{"2026-10-01", "2026-10-07"},
	}
	adjustedWorkdays = []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
		"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// independentEnd counts n working days after d, d excluded.
func independentEnd(d time.Time, n int) time.Time {
	holiday, workday := map[time.Time]bool{}, map[time.Time]bool{}
	for _, r := range holidayRanges {
		for x := day(r[0]); !x.After(day(r[1])); x = x.AddDate(0, 0, 1) {
			holiday[x] = true
		}
	}
	for _, s := range adjustedWorkdays {
		workday[day(s)] = true
	}
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		wd := d.Weekday()
		if workday[d] || (wd != time.Saturday && wd != time.Sunday && !holiday[d]) {
			n--
		}
	}
	return d
}

// Golden: the notice end date for an approval on every day of 2025 and
// 2026 agrees with the count from the published calendar.
func TestNoticeEndEveryDayOf2025And2026(t *testing.T) {
	db := dbtest.DB(t)
	cal, err := calendar.NewService(db, shanghai, time.Now).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := claims.NoticeEnd(cal, day("2026-09-29"), 5); !got.Equal(day("2026-10-12")) {
		t.Fatalf("policy example: 2026-09-29 + 5 = %s, want 2026-10-12", got.Format(time.DateOnly))
	}
	n := 0
	for d := day("2025-01-01"); d.Year() <= 2026; d = d.AddDate(0, 0, 1) {
		want := independentEnd(d, claims.DefaultNoticeWorkingDays)
		if got := claims.NoticeEnd(cal, d, claims.DefaultNoticeWorkingDays); !got.Equal(want) {
			t.Errorf("approved %s: notice ends %s, want %s", d.Format(time.DateOnly), got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
		n++
	}
	if n != 730 {
		t.Fatalf("checked %d days, want 730", n)
	}
}

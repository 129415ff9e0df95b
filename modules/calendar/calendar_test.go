package calendar_test

import (
	"context"
	"os"
	"testing"
	"time"

	"tuoyu/app/dbtest"
	"tuoyu/modules/apperr"
	"tuoyu/modules/calendar"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// The tables of the policy's calendar notes, typed by hand a second time and
// independent of the migration's data: holidays and adjusted working days.
var (
	refHolidays = expand(
		"2025-01-01", "2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-04-06",
		"2025-05-01", "2025-05-05", "2025-05-31", "2025-06-02", "2025-10-01", "2025-10-08",
		"2026-01-01", "2026-01-03", "2026-02-15", "2026-02-23", "2026-04-04", "2026-04-06",
		"2026-05-01", "2026-05-05", "2026-06-19", "2026-06-21", "2026-09-25", "2026-09-27",
		"2026-10-01", "2026-10-07")
	refWorkdays = map[string]bool{
		"2025-01-26": true, "2025-02-08": true, "2025-04-27": true, "2025-09-28": true, "2025-10-11": true,
		"2026-01-04": true, "2026-02-14": true, "2026-02-28": true, "2026-05-09": true, "2026-09-20": true, "2026-10-10": true,
	}
)

// expand turns first/last pairs into a set of dates.
func expand(pairs ...string) map[string]bool {
	set := map[string]bool{}
	for i := 0; i < len(pairs); i += 2 {
		for d := day(pairs[i]); !d.After(day(pairs[i+1])); d = d.AddDate(0, 0, 1) {
			set[d.Format(time.DateOnly)] = true
		}
	}
	return set
}

func refWorking(d time.Time) bool {
	k := d.Format(time.DateOnly)
	if refWorkdays[k] {
		return true
	}
	if refHolidays[k] {
		return false
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
}

// refAdd is the plainest reading of "n working days after d".
func refAdd(d time.Time, n int) time.Time {
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if refWorking(d) {
			n--
		}
	}
	return d
}

// shipped is the calendar as the migration stores it.
func shipped(t *testing.T) *calendar.Calendar {
	t.Helper()
	svc := calendar.NewService(dbtest.DB(t), shanghai, time.Now)
	c, err := svc.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestShippedCalendarMatchesThePolicyEveryDay(t *testing.T) {
	c := shipped(t)
	checked := 0
	for d := day("2025-01-01"); d.Year() <= 2026; d = d.AddDate(0, 0, 1) {
		if got, want := c.IsWorkingDay(d), refWorking(d); got != want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", d.Format(time.DateOnly), got, want)
		}
		if got, want := c.AddWorkingDays(d, 5), refAdd(d, 5); !got.Equal(want) {
			t.Errorf("AddWorkingDays(%s, 5) = %s, want %s", d.Format(time.DateOnly), got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
		checked++
	}
	if checked != 730 {
		t.Fatalf("checked %d days, want 730", checked)
	}
}

func TestPolicyExamples(t *testing.T) {
	c := shipped(t)
	// A claim approved on 2026-09-29: 公示 on 09-30, 10-08, 10-09, 10-10, 10-12.
	if got := c.AddWorkingDays(day("2026-09-29"), 5); !got.Equal(day("2026-10-12")) {
		t.Errorf("5 working days after 2026-09-29 = %s, want 2026-10-12", got.Format(time.DateOnly))
	}
	// The first working day at least 7 days after a class ending 2026-09-29.
	if got := c.NextWorkingDay(day("2026-09-29").AddDate(0, 0, 7)); !got.Equal(day("2026-10-08")) {
		t.Errorf("first working day ≥ 2026-10-06 = %s, want 2026-10-08", got.Format(time.DateOnly))
	}
	if !c.IsWorkingDay(day("2026-10-10")) || c.IsWorkingDay(day("2026-10-01")) {
		t.Error("2026-10-10 is an adjusted working day and 2026-10-01 a holiday")
	}
	// n = 0 is the day itself, even a holiday.
	if got := c.AddWorkingDays(day("2026-10-01"), 0); !got.Equal(day("2026-10-01")) {
		t.Errorf("AddWorkingDays(2026-10-01, 0) = %s", got.Format(time.DateOnly))
	}
	// Negative counts go back: 1 working day before 2026-10-08 is 2026-09-30.
	if got := c.AddWorkingDays(day("2026-10-08"), -1); !got.Equal(day("2026-09-30")) {
		t.Errorf("AddWorkingDays(2026-10-08, -1) = %s", got.Format(time.DateOnly))
	}
}

func TestYearsNotEnteredFollowWeekdays(t *testing.T) {
	c := calendar.New(shanghai, nil)
	// 2030-01-01 is a Tuesday; 2030-01-05 a Saturday.
	if !c.IsWorkingDay(day("2030-01-01")) || c.IsWorkingDay(day("2030-01-05")) {
		t.Error("weekday rule broken")
	}
	if got := c.AddWorkingDays(day("2030-01-04"), 1); !got.Equal(day("2030-01-07")) {
		t.Errorf("1 working day after Friday 2030-01-04 = %s, want Monday", got.Format(time.DateOnly))
	}
}

func TestDatesAreTakenInTheCalendarZone(t *testing.T) {
	c := shipped(t)
	// 2026-09-30 20:00 UTC is already 2026-10-01 (a holiday) in Shanghai.
	evening := time.Date(2026, 9, 30, 20, 0, 0, 0, time.UTC)
	if c.IsWorkingDay(evening) {
		t.Error("2026-10-01 04:00 in Shanghai counted as a working day")
	}
	got := c.NextWorkingDay(evening)
	if got.Location() != shanghai || got.Hour() != 0 || got.Format(time.DateOnly) != "2026-10-08" {
		t.Errorf("NextWorkingDay = %v, want 2026-10-08 00:00 in Shanghai", got)
	}
}

func TestValidateYearReportsEveryBadRow(t *testing.T) {
	_, err := calendar.ValidateYear(2027, []calendar.DayInput{
		{Date: "2027-01-01", Kind: "holiday", Name: "元旦"},
		{Date: "2026-12-31", Kind: "holiday", Name: "元旦"},
		{Date: "2027-01-01", Kind: "weekend", Name: ""},
		{Date: "2027-02-30", Kind: "workday", Name: "春节"},
	})
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("err = %v, want Invalid", err)
	}
	want := map[[2]any]string{
		{2, "date"}: "wrong_year", {3, "date"}: "duplicate_date", {3, "kind"}: "invalid_kind",
		{3, "name"}: "required", {4, "date"}: "invalid_date",
	}
	if len(e.Fields) != len(want) {
		t.Errorf("errors = %+v, want %d", e.Fields, len(want))
	}
	for _, f := range e.Fields {
		if want[[2]any{f.Row, f.Field}] != f.Code || f.Message == "" {
			t.Errorf("unexpected error %+v", f)
		}
	}
}

func TestReplaceYearIsStoredAuditedAndSeenByOtherInstances(t *testing.T) {
	db := dbtest.DB(t)
	ctx := context.Background()
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, shanghai)
	now := func() time.Time { return clock }
	a := calendar.NewService(db, shanghai, now)
	b := calendar.NewService(db, shanghai, now) // a second app instance

	if ok, err := b.IsWorkingDay(ctx, day("2027-01-01")); err != nil || !ok {
		t.Fatalf("2027-01-01 before entry: %v, %v (a Friday, a working day)", ok, err)
	}
	_, err := a.ReplaceYear(ctx, 2027, []calendar.DayInput{
		{Date: "2027-01-01", Kind: "holiday", Name: "元旦"},
		{Date: "2027-01-02", Kind: "workday", Name: "测试调休"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The writing instance answers from the new calendar at once.
	if ok, _ := a.IsWorkingDay(ctx, day("2027-01-01")); ok {
		t.Error("instance a still sees 2027-01-01 as a working day")
	}
	// The other instance trusts its cache until CheckEvery has passed …
	if ok, _ := b.IsWorkingDay(ctx, day("2027-01-01")); !ok {
		t.Error("instance b reloaded before its check interval")
	}
	// … then notices the new version.
	clock = clock.Add(calendar.DefaultCheckEvery)
	if ok, _ := b.IsWorkingDay(ctx, day("2027-01-01")); ok {
		t.Error("instance b did not reload after its check interval")
	}
	if ok, _ := b.IsWorkingDay(ctx, day("2027-01-02")); !ok {
		t.Error("the adjusted Saturday 2027-01-02 is no working day")
	}
	days, err := a.Year(ctx, 2027)
	if err != nil || len(days) != 2 || days[0].Name != "元旦" || days[1].Kind != calendar.Workday {
		t.Fatalf("Year(2027) = %+v, %v", days, err)
	}
	var n int
	if err := db.NewSelect().Table("audit_events").ColumnExpr("count(*)").
		Where("action = 'calendar.replace_year' AND target_id = '2027'").Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("audit events = %d, %v", n, err)
	}
	// Replacing with nothing clears the year; other years stay.
	if _, err := a.ReplaceYear(ctx, 2027, nil); err != nil {
		t.Fatal(err)
	}
	if days, _ := a.Year(ctx, 2027); len(days) != 0 {
		t.Errorf("2027 after clearing: %+v", days)
	}
	if days, _ := a.Year(ctx, 2026); len(days) == 0 {
		t.Error("clearing 2027 removed 2026")
	}
	// Invalid input changes nothing.
	before, _ := a.Year(ctx, 2026)
	if _, err := a.ReplaceYear(ctx, 2026, []calendar.DayInput{{Date: "2026-13-01", Kind: "holiday", Name: "x"}}); apperr.KindOf(err) != apperr.KindInvalid {
		t.Fatalf("bad replace: %v", err)
	}
	if after, _ := a.Year(ctx, 2026); len(after) != len(before) {
		t.Errorf("a refused replace changed 2026: %d → %d days", len(before), len(after))
	}
	if _, err := a.AddWorkingDays(ctx, day("2026-01-01"), -1); apperr.KindOf(err) != apperr.KindInvalid {
		t.Errorf("AddWorkingDays with n < 0: %v", err)
	}
}

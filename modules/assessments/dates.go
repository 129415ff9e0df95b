package assessments

import "time"

// Scheduling rules (DESIGN §8) as pure functions of a working-day
// predicate, which the calendar module supplies: isWorking reports whether
// the date (its year, month and day; the clock is ignored) is a working day.

// Slot is a sitting's time.
type Slot struct {
	Start, End time.Time
}

// Sitting hours: theory 09:00–11:00, practical 09:00–12:00.
func slotOn(day time.Time, kind Kind, loc *time.Location) Slot {
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, loc)
	if kind == KindPractical {
		return Slot{start, start.Add(3 * time.Hour)}
	}
	return Slot{start, start.Add(2 * time.Hour)}
}

// dateOf is the calendar day of t, at midnight UTC, so that adding days
// never meets a daylight-saving gap.
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// WorkingOnOrAfter is the first working day on or after day. It gives up
// after a year of non-working days and returns the day after that, which
// only a broken calendar could cause.
func WorkingOnOrAfter(day time.Time, isWorking func(time.Time) bool) time.Time {
	d := dateOf(day)
	for i := 0; i < 366; i++ {
		if isWorking(d) {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// FirstSittings are the automatic sittings of a class that ended on
// classEnd: theory on the first working day at least 7 days later and not
// before earliest (a class found late is not given a date in the past),
// practical on the next working day when the mode has one.
func FirstSittings(classEnd, earliest time.Time, mode string, isWorking func(time.Time) bool, loc *time.Location) map[Kind]Slot {
	kinds := KindsOf(mode)
	if len(kinds) == 0 {
		return nil
	}
	day := dateOf(classEnd).AddDate(0, 0, 7)
	if e := dateOf(earliest); day.Before(e) {
		day = e
	}
	day = WorkingOnOrAfter(day, isWorking)
	out := map[Kind]Slot{KindTheory: slotOn(day, KindTheory, loc)}
	if len(kinds) == 2 {
		out[KindPractical] = slotOn(WorkingOnOrAfter(day.AddDate(0, 0, 1), isWorking), KindPractical, loc)
	}
	return out
}

// ResitSlot is the re-sit of a part whose sitting began at prev: 14 days
// later, on the next working day on or after, and not before earliest.
func ResitSlot(prev, earliest time.Time, kind Kind, isWorking func(time.Time) bool, loc *time.Location) Slot {
	day := dateOf(prev.In(loc)).AddDate(0, 0, 14)
	if e := dateOf(earliest); day.Before(e) {
		day = e
	}
	return slotOn(WorkingOnOrAfter(day, isWorking), kind, loc)
}

// Weekdays is the fallback calendar: Monday to Friday, no holidays.
func Weekdays(d time.Time) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

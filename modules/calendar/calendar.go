// Package calendar keeps the working-day calendar: the public holidays and
// adjusted working days (调休) published by the State Council each year, and
// the arithmetic other modules need on it (公示 periods of claims, assessment
// dates). A day not entered follows the weekdays.
//
// Dates are civil dates: the functions read the year, month and day of a
// time in the calendar's location (TUOYU_TZ) and answer midnight in it.
package calendar

import (
	"time"

	"github.com/uptrace/bun"
)

// Kind is what a special day is.
type Kind string

// The kinds of special days.
const (
	Holiday Kind = "holiday" // a day off, also on a weekday
	Workday Kind = "workday" // an adjusted working day, also on a weekend
)

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool { return k == Holiday || k == Workday }

// Label is the kind's name for people.
func (k Kind) Label() string {
	switch k {
	case Holiday:
		return "放假"
	case Workday:
		return "调休上班"
	}
	return string(k)
}

// Day is a stored special day.
type Day struct {
	bun.BaseModel `bun:"table:calendar_days"`

	Date  time.Time `bun:"day,pk,type:date"`
	Kind  Kind      `bun:"kind"`
	Name  string    `bun:"name"`
	SetBy int64     `bun:"set_by,nullzero"`
	SetAt time.Time `bun:"set_at,nullzero,default:now()"`
}

// civil is a date without a time of day: yyyymmdd as a number.
type civil int32

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil(y*10000 + int(m)*100 + d)
}

// Calendar is an immutable snapshot of the calendar: it answers without the
// database, so a job planning thousands of dates asks it in memory.
type Calendar struct {
	loc     *time.Location
	special map[civil]Day
}

// New builds a calendar of the special days in loc (nil: UTC). A later day
// on the same date replaces an earlier one.
func New(loc *time.Location, days []Day) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{loc: loc, special: make(map[civil]Day, len(days))}
	for _, d := range days {
		// Stored dates come back at midnight UTC: read their own fields.
		c.special[civilOf(d.Date)] = d
	}
	return c
}

// Location is the time zone whose dates the calendar counts.
func (c *Calendar) Location() *time.Location { return c.loc }

// Date is midnight of t's date in the calendar's location.
func (c *Calendar) Date(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// Special returns the special day entered for t's date, if any.
func (c *Calendar) Special(t time.Time) (Day, bool) {
	d, ok := c.special[civilOf(t.In(c.loc))]
	return d, ok
}

// IsWorkingDay reports whether t's date is a working day: Monday to Friday
// and not a holiday, or an adjusted working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	t = t.In(c.loc)
	if d, ok := c.special[civilOf(t)]; ok {
		return d.Kind == Workday
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays is the date n working days after t's date: counting starts
// on the first working day after it, t itself excluded, so n = 0 answers t's
// date itself (working day or not). A negative n counts back the same way.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	d := c.Date(t)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		// AddDate keeps midnight across daylight-saving changes of loc.
		d = d.AddDate(0, 0, step)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// NextWorkingDay is the first working day on or after t's date.
func (c *Calendar) NextWorkingDay(t time.Time) time.Time {
	d := c.Date(t)
	for !c.IsWorkingDay(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// Year lists the special days of a year in date order.
func (c *Calendar) Year(year int) []Day {
	var out []Day
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, c.loc); d.Year() == year; d = d.AddDate(0, 0, 1) {
		if s, ok := c.special[civilOf(d)]; ok {
			out = append(out, s)
		}
	}
	return out
}

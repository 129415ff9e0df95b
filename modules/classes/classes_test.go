package classes

import (
	"testing"
	"time"

	"tuoyu/modules/apperr"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func dayPtr(s string) *time.Time { t := day(s); return &t }

// TestCheckMove walks the life cycle: which changes are allowed, and on
// which days.
func TestCheckMove(t *testing.T) {
	c := Class{StartsOn: day("2027-03-01"), EndsOn: day("2027-03-10")}
	for _, tc := range []struct {
		from  State
		to    State
		today string
		code  string // "" allowed
	}{
		{StateDraft, StateOpen, "2027-02-01", ""},
		{StateDraft, StateOpen, "2027-03-01", ""},
		{StateDraft, StateOpen, "2027-03-02", "class_started"},
		{StateDraft, StateRunning, "2027-03-01", "class_state"},
		{StateOpen, StateRunning, "2027-02-28", "class_not_started"},
		{StateOpen, StateRunning, "2027-03-01", ""},
		{StateRunning, StateCompleted, "2027-03-09", "class_not_ended"},
		{StateRunning, StateCompleted, "2027-03-10", ""},
		{StateRunning, StateCancelled, "2027-03-05", ""},
		{StateCompleted, StateCancelled, "2027-04-01", "class_state"},
		{StateCancelled, StateOpen, "2027-02-01", "class_state"},
	} {
		c.State = tc.from
		err := CheckMove(c, tc.to, day(tc.today))
		if tc.code == "" && err != nil || tc.code != "" && !apperr.Is(err, tc.code) {
			t.Errorf("%s → %s on %s: %v, want %q", tc.from, tc.to, tc.today, err, tc.code)
		}
	}
}

// TestEnrollable: only an open class, inside its enrolment window (which
// closes on the first day unless set).
func TestEnrollable(t *testing.T) {
	open := Class{State: StateOpen, StartsOn: day("2027-03-01"), EndsOn: day("2027-03-10")}
	windowed := open
	windowed.EnrolOpensOn, windowed.EnrolClosesOn = dayPtr("2027-02-10"), dayPtr("2027-02-20")
	draft := open
	draft.State = StateDraft
	for _, tc := range []struct {
		name  string
		c     Class
		today string
		ok    bool
	}{
		{"open", open, "2027-02-01", true},
		{"open on the first day", open, "2027-03-01", true},
		{"open after the first day", open, "2027-03-02", false},
		{"draft", draft, "2027-02-01", false},
		{"before the window", windowed, "2027-02-09", false},
		{"in the window", windowed, "2027-02-15", true},
		{"after the window", windowed, "2027-02-21", false},
	} {
		err := Enrollable(tc.c, day(tc.today))
		if tc.ok != (err == nil) || err != nil && !apperr.Is(err, "class_not_open") {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestInputValidate: each field's rule answers on its field.
func TestInputValidate(t *testing.T) {
	today := day("2027-01-01")
	good := Input{PlanCode: "BYS-5", Name: "第1期", StartsOn: "2027-02-01", EndsOn: "2027-02-10", Capacity: 30, Region: "420106"}
	if _, fields := good.validate(today); len(fields) != 0 {
		t.Fatalf("a good class: %v", fields)
	}
	for _, tc := range []struct {
		edit  func(*Input)
		field string
		code  string
	}{
		{func(in *Input) { in.Name = " " }, "name", "required"},
		{func(in *Input) { in.Capacity = 0 }, "capacity", "invalid"},
		{func(in *Input) { in.Region = "110101" }, "region", "invalid_region"},
		{func(in *Input) { in.StartsOn = "2026-12-31" }, "starts_on", "in_past"},
		{func(in *Input) { in.EndsOn = "2027-01-31" }, "ends_on", "ends_before_start"},
		{func(in *Input) { in.EndsOn = "2028-03-01" }, "ends_on", "too_long"},
		{func(in *Input) { in.EnrolClosesOn = "2027-03-01" }, "enrol_closes_on", "closes_after_end"},
		{func(in *Input) { in.StartsOn = "2027/02/01" }, "starts_on", "invalid_date"},
	} {
		in := good
		tc.edit(&in)
		_, fields := in.validate(today)
		found := false
		for _, f := range fields {
			found = found || f.Field == tc.field && f.Code == tc.code
		}
		if !found {
			t.Errorf("want %s on %s, got %v", tc.code, tc.field, fields)
		}
	}
}

func TestProviderArea(t *testing.T) {
	for region, want := range map[string]string{"420106": "4201", "420000": "42", "429004": "429004", "42": "42"} {
		if got := providerArea(region); got != want {
			t.Errorf("providerArea(%s) = %s, want %s", region, got, want)
		}
	}
}

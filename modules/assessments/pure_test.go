package assessments

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

// nationalDay2026 is a test calendar holding the 2026 National Day: 10-01
// to 10-07 off, Sunday 09-20 and Saturday 10-10 worked.
func nationalDay2026(d time.Time) bool {
	s := d.Format("01-02")
	if d.Year() == 2026 && s >= "10-01" && s <= "10-07" {
		return false
	}
	if d.Year() == 2026 && (s == "09-20" || s == "10-10") {
		return true
	}
	return Weekdays(d)
}

func TestParseScore(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Score
		ok   bool
	}{
		{"60", 600, true}, {"59.5", 595, true}, {"100", 1000, true}, {"0", 0, true}, {"85.50", 855, true},
		{"100.1", 0, false}, {"101", 0, false}, {"-1", 0, false}, {"59.55", 0, false}, {"abc", 0, false}, {"", 0, false}, {".5", 0, false},
	} {
		got, err := ParseScore(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseScore(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	if _, err := ScoreFromFloat(101); err == nil {
		t.Error("101 accepted")
	}
	if v, err := ScoreFromFloat(59.5); err != nil || v != 595 {
		t.Errorf("59.5 = %v, %v", v, err)
	}
	if _, err := ScoreFromFloat(59.55); err == nil {
		t.Error("two decimals accepted")
	}
	if !Score(600).Passes(60) || Score(599).Passes(60) {
		t.Error("pass mark boundary wrong")
	}
}

func TestDecide(t *testing.T) {
	both := "theory_practical"
	for _, c := range []struct {
		name      string
		completed bool
		mode      string
		parts     map[Kind]Part
		want      Outcome
		left      int
	}{
		{"not completed", false, both, nil, OutcomeInTraining, 2},
		{"no assessment passes on completion", true, "none", nil, OutcomePassed, 0},
		{"awaiting first sitting", true, both, nil, OutcomeAwaiting, 2},
		{"theory passed, practical open", true, both, map[Kind]Part{KindTheory: {Attempts: 1, Passed: true}}, OutcomeAwaiting, 2},
		{"both passed", true, both, map[Kind]Part{KindTheory: {Attempts: 1, Passed: true}, KindPractical: {Attempts: 2, Passed: true}}, OutcomePassed, 0},
		{"one failure leaves one", true, both, map[Kind]Part{KindTheory: {Attempts: 1}}, OutcomeAwaiting, 1},
		{"attempts used up", true, both, map[Kind]Part{KindTheory: {Attempts: 2}, KindPractical: {Attempts: 1, Passed: true}}, OutcomeFailed, 0},
		{"theory only passes alone", true, "theory", map[Kind]Part{KindTheory: {Attempts: 2, Passed: true}}, OutcomePassed, 0},
	} {
		d := Decide(c.completed, c.mode, 2, c.parts)
		if d.Outcome != c.want || d.AttemptsLeft != c.left {
			t.Errorf("%s: got %+v, want %s left %d", c.name, d, c.want, c.left)
		}
	}
}

func TestCheckRatio(t *testing.T) {
	for _, c := range []struct {
		kind               Kind
		cands, rooms, p, e int
		ok                 bool
		needed             int
	}{
		{KindTheory, 10, 1, 2, 0, true, 2},
		{KindTheory, 10, 1, 1, 0, false, 2},
		{KindTheory, 40, 1, 2, 0, false, 3},
		{KindTheory, 40, 2, 3, 1, true, 4},
		{KindPractical, 5, 1, 0, 3, true, 3},
		{KindPractical, 16, 1, 5, 3, false, 4},
		{KindPractical, 20, 1, 0, 4, true, 4},
	} {
		r := CheckRatio(c.kind, c.cands, c.rooms, c.p, c.e)
		if r.OK != c.ok || r.Needed != c.needed || (!r.OK && r.Message == "") {
			t.Errorf("%s %d candidates %d rooms %d/%d: %+v, want ok=%v needed %d", c.kind, c.cands, c.rooms, c.p, c.e, r, c.ok, c.needed)
		}
	}
}

func TestFirstSittingsAfterNationalDay(t *testing.T) {
	end := time.Date(2026, 9, 29, 0, 0, 0, 0, time.UTC)
	got := FirstSittings(end, time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), "theory_practical", nationalDay2026, shanghai)
	if want := time.Date(2026, 10, 8, 9, 0, 0, 0, shanghai); !got[KindTheory].Start.Equal(want) || !got[KindTheory].End.Equal(want.Add(2*time.Hour)) {
		t.Errorf("theory = %v, want %v–11:00", got[KindTheory], want)
	}
	if want := time.Date(2026, 10, 9, 9, 0, 0, 0, shanghai); !got[KindPractical].Start.Equal(want) || !got[KindPractical].End.Equal(want.Add(3*time.Hour)) {
		t.Errorf("practical = %v, want %v–12:00", got[KindPractical], want)
	}
	if s := FirstSittings(end, end, "theory", nationalDay2026, shanghai); len(s) != 1 {
		t.Errorf("theory plan got %d sittings", len(s))
	}
	if s := FirstSittings(end, end, "none", nationalDay2026, shanghai); len(s) != 0 {
		t.Errorf("plan without assessment got %d sittings", len(s))
	}
	// A class found late is not given a past date.
	late := FirstSittings(end, time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), "theory", Weekdays, shanghai)
	if d := late[KindTheory].Start.Format(time.DateOnly); d != "2026-10-20" {
		t.Errorf("late class theory on %s", d)
	}
	// Re-sit: 14 days after 2026-09-24 is 10-08, a working day; after
	// 09-19 it is 10-03, a holiday, so the next working day 10-08.
	if r := ResitSlot(time.Date(2026, 9, 19, 9, 0, 0, 0, shanghai), end, KindTheory, nationalDay2026, shanghai); r.Start.Format(time.DateOnly) != "2026-10-08" {
		t.Errorf("re-sit on %v", r.Start)
	}
	// Saturday 10-10 is an adjusted working day.
	if d := WorkingOnOrAfter(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC), nationalDay2026); d.Day() != 10 {
		t.Errorf("10-10 not worked: %v", d)
	}
}

func TestICS(t *testing.T) {
	start := time.Date(2026, 10, 8, 9, 0, 0, 0, shanghai)
	out := ICS("托育培训与考核", []Event{
		{UID: "sitting-1@tuoyu", Summary: "理论考核(第1次)", Location: "武汉市武昌区中南路 99 号托育职业技能培训中心三楼第一考场,请提前三十分钟到场; 携带身份证", Start: start, End: start.Add(2 * time.Hour)},
		{UID: "class-2-20261001@tuoyu", Summary: "培训：保育师", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), AllDay: true},
	}, start)
	if !bytes.HasPrefix(out, []byte("BEGIN:VCALENDAR\r\n")) || !bytes.HasSuffix(out, []byte("END:VCALENDAR\r\n")) {
		t.Fatalf("not a calendar:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if strings.Contains(line, "\n") {
			t.Errorf("bare LF in %q", line)
		}
	}
	unfolded := strings.ReplaceAll(string(out), "\r\n ", "")
	for _, want := range []string{"DTSTART:20261008T010000Z", "DTEND:20261008T030000Z", "UID:sitting-1@tuoyu",
		"DTSTART;VALUE=DATE:20261001", `携带身份证`, `\; 携带`, `考场\,请`} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("feed lacks %q:\n%s", want, unfolded)
		}
	}
	if strings.Count(unfolded, "BEGIN:VEVENT") != 2 {
		t.Error("want two events")
	}
}

func TestWithoutOverlaps(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 10, 8, h, 0, 0, 0, shanghai) }
	in := []newCandidate{
		{SittingID: 1, EnrolmentID: 1, WorkerID: 7, Start: at(9), End: at(11)},
		{SittingID: 2, EnrolmentID: 2, WorkerID: 7, Start: at(10), End: at(12)}, // same worker, overlapping: left out
		{SittingID: 3, EnrolmentID: 3, WorkerID: 7, Start: at(11), End: at(12)}, // touching: kept
		{SittingID: 2, EnrolmentID: 4, WorkerID: 8, Start: at(10), End: at(12)},
	}
	out := withoutOverlaps(in)
	if len(out) != 3 || out[1].SittingID != 3 || out[2].WorkerID != 8 {
		t.Errorf("kept %+v", out)
	}
}

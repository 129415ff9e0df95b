package assessments

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
)

// Score is a mark 0–100 in tenths (a score of 59.5 is 595). Integer tenths
// compare exactly against the pass mark; the database keeps numeric(4,1).
type Score int

// MaxScore is 100.0.
const MaxScore Score = 1000

// String formats s with at most one decimal: "60", "59.5".
func (s Score) String() string {
	if s%10 == 0 {
		return strconv.Itoa(int(s) / 10)
	}
	return fmt.Sprintf("%d.%d", s/10, s%10)
}

// Float is s as a JSON number.
func (s Score) Float() float64 { return float64(s) / 10 }

// ParseScore reads "85", "59.5" or "59.50". More than one significant
// decimal, a sign, or anything outside 0–100 is an error: a score is stored
// as written or not at all.
func ParseScore(raw string) (Score, error) {
	s := strings.TrimSpace(raw)
	whole, frac, hasDot := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(whole) > 3 || !digits(whole) || !digits(frac) || (hasDot && len(frac) > 1) {
		return 0, fmt.Errorf("score %q: not a number with at most one decimal", raw)
	}
	w, _ := strconv.Atoi(whole)
	v := Score(w * 10)
	if frac != "" {
		v += Score(frac[0] - '0')
	}
	if v > MaxScore {
		return 0, fmt.Errorf("score %q: above 100", raw)
	}
	return v, nil
}

// ScoreFromFloat converts a JSON number, refusing more than one decimal and
// anything outside 0–100.
func ScoreFromFloat(f float64) (Score, error) {
	t := f * 10
	r := float64(int64(t + 0.5))
	if f < 0 || t-r > 1e-6 || r-t > 1e-6 {
		if f < 0 {
			return 0, fmt.Errorf("score %v: below 0", f)
		}
		return 0, fmt.Errorf("score %v: more than one decimal", f)
	}
	if Score(r) > MaxScore {
		return 0, fmt.Errorf("score %v: above 100", f)
	}
	return Score(r), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Scan reads numeric(4,1) text without floats.
func (s *Score) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case []byte:
		text = string(v)
	case string:
		text = v
	case int64:
		*s = Score(v * 10)
		return nil
	default:
		return fmt.Errorf("scan score from %T", src)
	}
	v, err := ParseScore(text)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Value writes s as numeric text.
func (s Score) Value() (driver.Value, error) { return s.String(), nil }

// Passes reports whether s reaches the pass mark (whole points).
func (s Score) Passes(passMark int) bool { return int(s) >= passMark*10 }

// Part is one part's record for an enrolment: attempts used (absences
// count) and whether any attempt passed.
type Part struct {
	Attempts int
	Passed   bool
	Pending  bool // a candidate of a sitting still without a result
}

// Decision is an enrolment's assessment outcome.
type Decision struct {
	Outcome      Outcome
	AttemptsLeft int
}

// Decide is the outcome of an enrolment (DESIGN §4.3, §7): in training
// until completed; for a plan without assessment, completion is the pass;
// otherwise passed when every part of the mode passed, failed when a part
// has no pass and no attempt left, else awaiting. Attempts left are those
// of the part with fewest left among the parts not passed yet.
func Decide(completed bool, mode string, maxAttempts int, parts map[Kind]Part) Decision {
	kinds := KindsOf(mode)
	if !completed {
		return Decision{Outcome: OutcomeInTraining, AttemptsLeft: maxAttempts * min(len(kinds), 1)}
	}
	if len(kinds) == 0 {
		return Decision{Outcome: OutcomePassed}
	}
	left, open := maxAttempts, false
	for _, k := range kinds {
		p := parts[k]
		if p.Passed {
			continue
		}
		open = true
		if l := maxAttempts - p.Attempts; l < left {
			left = max(l, 0)
		}
	}
	switch {
	case !open:
		return Decision{Outcome: OutcomePassed}
	case left == 0:
		for _, k := range kinds {
			if parts[k].Pending {
				return Decision{Outcome: OutcomeAwaiting}
			}
		}
		return Decision{Outcome: OutcomeFailed}
	}
	return Decision{Outcome: OutcomeAwaiting, AttemptsLeft: left}
}

// KindsOf lists the parts an assessment mode consists of, theory first.
func KindsOf(mode string) []Kind {
	switch mode {
	case "theory":
		return []Kind{KindTheory}
	case "theory_practical":
		return []Kind{KindTheory, KindPractical}
	}
	return nil
}

// Ratio is whether a sitting's examiners suffice for its candidates.
type Ratio struct {
	Needed  int    `json:"needed"`
	Have    int    `json:"have"`
	OK      bool   `json:"ok"`
	Message string `json:"message,omitempty"`
}

// CheckRatio applies the examiner ratios: theory ≥ 1 proctor per 15
// candidates and ≥ 2 per room; practical ≥ 1 examiner per 5 candidates and
// a panel of ≥ 3. Theory counts proctors and examiners (an examiner can
// proctor); practical only examiners.
func CheckRatio(kind Kind, candidates, rooms int, proctors, examiners int) Ratio {
	var r Ratio
	switch kind {
	case KindPractical:
		r.Needed, r.Have = max(ceilDiv(candidates, 5), 3), examiners
	default:
		r.Needed, r.Have = max(ceilDiv(candidates, 15), 2*max(rooms, 1)), proctors+examiners
	}
	r.OK = r.Have >= r.Needed
	if !r.OK {
		if kind == KindPractical {
			r.Message = fmt.Sprintf("实操考评员不足：%d 名考生、需至少 %d 名考评员(每 5 人 1 名且不少于 3 人)，现有 %d 名", candidates, r.Needed, r.Have)
		} else {
			r.Message = fmt.Sprintf("理论监考人员不足：%d 名考生、%d 个考场、需至少 %d 名监考(每 15 人 1 名且每考场不少于 2 名)，现有 %d 名", candidates, max(rooms, 1), r.Needed, r.Have)
		}
	}
	return r
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

package claims

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"tuoyu/modules/certificates"
	"tuoyu/modules/subsidies"
)

// Facts is what is on file about one person: the subsidy facts of the
// worker record, the certificates held and the claims that count as paid.
type Facts struct {
	AsOf          subsidies.Date
	Region        string
	Employment    string   // "": never asked
	InsuredMonths *int     // nil: never asked
	TargetGroups  []string // nil: never asked; empty: none of the six
	Banned        bool
	Certificates  []certificates.Held
	Counted       []Counted
}

// Counted is a claim that counts as paid (approved, in notice, payable,
// batched or paid, any region) with the certificate it was for.
type Counted struct {
	ClaimID       int64          `bun:"id"`
	WorkerID      int64          `bun:"worker_id"`
	CertificateID int64          `bun:"certificate_id"`
	Subsidy       string         `bun:"subsidy"`
	Occupation    string         `bun:"occupation"`
	Level         *int           `bun:"level"`
	On            subsidies.Date `bun:"counted_on"` // paid on, else approved on
}

// kindOf maps a certificate kind to the rules' kinds: a skill certificate
// here is a 职业技能等级证书.
func kindOf(k certificates.Kind) string {
	switch k {
	case certificates.KindSkill:
		return subsidies.KindSkillLevel
	case certificates.KindTraining:
		return subsidies.KindTraining
	}
	return ""
}

// CertKey is how a certificate is named inside a situation.
func CertKey(id int64) string { return strconv.FormatInt(id, 10) }

// SituationOf builds the §6.2 situation from stored facts. A fact never set
// stays unknown (nil), never a default: it gives unknown, never fail. A
// skill certificate is a first evaluation when the person holds no earlier
// one in the same occupation; training hours count whole hours.
func SituationOf(f Facts) subsidies.Situation {
	s := subsidies.Situation{AsOf: f.AsOf, Region: f.Region,
		Certificates: make([]subsidies.Certificate, 0, len(f.Certificates)),
		Paid:         make([]subsidies.Payment, 0, len(f.Counted))}
	if f.Employment != "" {
		e := f.Employment
		s.Person.Employment = &e
	}
	if f.InsuredMonths != nil {
		m := *f.InsuredMonths
		s.Person.InsuredMonths = &m
	}
	if f.TargetGroups != nil {
		s.Person.Groups = append([]string{}, f.TargetGroups...)
	}
	banned := f.Banned
	s.Person.Banned = &banned
	for _, c := range f.Certificates {
		sc := subsidies.Certificate{ID: CertKey(c.ID), Kind: kindOf(c.Kind), Occupation: c.Occupation,
			IssuedOn: subsidies.DateOf(c.IssuedOn)}
		if c.Level != nil {
			l := *c.Level
			sc.Level = &l
		}
		if c.Kind == certificates.KindTraining && c.Hours != nil {
			h := int(*c.Hours / 10)
			sc.Hours = &h
		}
		if c.Kind == certificates.KindSkill {
			first := true
			for _, o := range f.Certificates {
				if o.ID != c.ID && o.Kind == certificates.KindSkill && o.Occupation == c.Occupation &&
					(o.IssuedOn.Before(c.IssuedOn) || (o.IssuedOn.Equal(c.IssuedOn) && o.ID < c.ID)) {
					first = false
				}
			}
			sc.FirstEvaluation = &first
		}
		s.Certificates = append(s.Certificates, sc)
	}
	for _, p := range f.Counted {
		pay := subsidies.Payment{Subsidy: p.Subsidy, CertificateID: CertKey(p.CertificateID), Occupation: p.Occupation, PaidOn: p.On}
		if p.Level != nil {
			l := *p.Level
			pay.Level = &l
		}
		s.Paid = append(s.Paid, pay)
	}
	return s
}

// resultFor picks the result of one certificate and subsidy.
func resultFor(ev subsidies.Evaluation, certID int64, subsidy string) (subsidies.Result, bool) {
	key := CertKey(certID)
	for _, r := range ev.Results {
		if r.CertificateID == key && r.Subsidy == subsidy {
			return r, true
		}
	}
	return subsidies.Result{}, false
}

// WindowEnd is the last day of a result's claim window, from its
// claim-window check; zero when unknown.
func WindowEnd(r subsidies.Result) subsidies.Date {
	for _, ch := range r.Checks {
		if len(ch.Code) > 13 && ch.Code[len(ch.Code)-13:] == "_claim_window" {
			if s, ok := ch.Threshold.(string); ok {
				if d, err := subsidies.ParseDate(s); err == nil {
					return d
				}
			}
		}
	}
	return subsidies.Date{}
}

// limitChecks are the checks a concurrent approval could break: limits and
// "once" rules counted over other claims.
var limitChecks = []string{"su_once_per_level", "su_no_lower_after_higher", "su_not_combined", "su_annual_limit",
	"tr_lifetime_limit", "tr_once_per_level", "tr_not_combined", "ap_lifetime_limit", "ap_once_per_occupation"}

// failing returns the checks of r that fail.
func failing(r subsidies.Result) []subsidies.Check {
	var out []subsidies.Check
	for _, ch := range r.Checks {
		if ch.Result == subsidies.Fail {
			out = append(out, ch)
		}
	}
	return out
}

// unknownChecks returns the checks of r that are unknown.
func unknownChecks(r subsidies.Result) []subsidies.Check {
	var out []subsidies.Check
	for _, ch := range r.Checks {
		if ch.Result == subsidies.Unknown {
			out = append(out, ch)
		}
	}
	return out
}

// breaksLimit reports whether a failing check is a limit or "once" rule.
func breaksLimit(fails []subsidies.Check) bool {
	for _, ch := range fails {
		if slices.Contains(limitChecks, ch.Code) {
			return true
		}
	}
	return false
}

// Diff lists, field by field, what differs between the frozen snapshot and
// a new one: the person's facts, the amount, the status, the policy
// version and each check's result and value.
func Diff(before, after Snapshot) []Change {
	var out []Change
	add := func(field string, a, b any) {
		if !reflect.DeepEqual(norm(a), norm(b)) {
			out = append(out, Change{Field: field, Before: a, After: b})
		}
	}
	bp, ap := before.Situation.Person, after.Situation.Person
	add("person.employment", deref(bp.Employment), deref(ap.Employment))
	add("person.insured_months", derefInt(bp.InsuredMonths), derefInt(ap.InsuredMonths))
	add("person.target_groups", before.TargetGroups, after.TargetGroups)
	add("person.banned", bp.Banned != nil && *bp.Banned, ap.Banned != nil && *ap.Banned)
	add("status", before.Result.Status, after.Result.Status)
	add("amount_yuan", before.Result.AmountYuan, after.Result.AmountYuan)
	add("policy_version", before.PolicyVersion, after.PolicyVersion)
	prev := map[string]subsidies.Check{}
	for _, ch := range before.Result.Checks {
		prev[ch.Code] = ch
	}
	for _, ch := range after.Result.Checks {
		old, ok := prev[ch.Code]
		if !ok {
			add("checks."+ch.Code, nil, ch.Result)
			continue
		}
		add("checks."+ch.Code+".result", old.Result, ch.Result)
		add("checks."+ch.Code+".value", old.Value, ch.Value)
	}
	return out
}

// norm compares values as their JSON would, so a snapshot read back from the
// database equals the one just computed.
func norm(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func derefInt(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

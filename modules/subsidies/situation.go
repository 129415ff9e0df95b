package subsidies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"

	"tuoyu/modules/apperr"
)

// Subsidy names, fixed by DESIGN §1.
const (
	SkillUpgrade = "skill_upgrade" // 技能提升补贴
	Training     = "training"      // 职业培训补贴
	Appraisal    = "appraisal"     // 技能评价补贴
)

// Subsidies lists the subsidies in the order results are given per certificate.
var Subsidies = []string{SkillUpgrade, Training, Appraisal}

// Employment values (DESIGN §6.2).
const (
	EmploymentEnterprise = "enterprise_employee"
	EmploymentBenefit    = "unemployment_benefit"
	EmploymentUnemployed = "registered_unemployed"
	EmploymentFlexible   = "flexible"
	EmploymentPublic     = "public_sector"
	EmploymentRetired    = "retired"
	EmploymentStudent    = "student"
)

// Certificate kinds (DESIGN §6.2).
const (
	KindQualification  = "qualification"   // 职业资格证书
	KindSkillLevel     = "skill_level"     // 职业技能等级证书
	KindSpecialAbility = "special_ability" // 专项职业能力证书
	KindTraining       = "training"        // 培训合格证书
)

// Employments, Groups and Kinds list the accepted values in display order.
var (
	Employments = []string{EmploymentEnterprise, EmploymentBenefit, EmploymentUnemployed,
		EmploymentFlexible, EmploymentPublic, EmploymentRetired, EmploymentStudent}
	Groups = []string{"poverty_monitoring", "graduate_of_year", "school_leaver",
		"rural_migrant", "registered_unemployed", "employment_difficulty"}
	Kinds = []string{KindQualification, KindSkillLevel, KindSpecialAbility, KindTraining}
)

// Situation is what the engine evaluates: a person, their certificates and
// the subsidies already paid to them, on a date in a region (DESIGN §6.2).
// Absent and null values are unknown, never "no": pointers are nil, slices
// are nil (an empty groups list is known to be empty).
type Situation struct {
	AsOf         Date          `json:"as_of"`
	Region       string        `json:"region,omitempty"`
	Person       Person        `json:"person"`
	Certificates []Certificate `json:"certificates"`
	Paid         []Payment     `json:"paid"`
}

// Person is what the rules need to know about the person.
type Person struct {
	Employment    *string  `json:"employment,omitempty"`
	InsuredMonths *int     `json:"insured_months,omitempty"`
	Groups        []string `json:"groups,omitempty"` // nil: unknown; empty: none
	Banned        *bool    `json:"banned,omitempty"`
}

// Certificate is one certificate held, issued here or recorded from outside.
type Certificate struct {
	ID              string `json:"id"`
	Kind            string `json:"kind,omitempty"` // "" when unknown
	Occupation      string `json:"occupation,omitempty"`
	Level           *int   `json:"level,omitempty"`
	IssuedOn        Date   `json:"issued_on"`
	FirstEvaluation *bool  `json:"first_evaluation,omitempty"`
	Hours           *int   `json:"hours,omitempty"`
}

// Payment is a subsidy already paid to the person (in any region).
type Payment struct {
	Subsidy       string `json:"subsidy"`
	CertificateID string `json:"certificate_id,omitempty"`
	Occupation    string `json:"occupation,omitempty"`
	Level         *int   `json:"level,omitempty"`
	PaidOn        Date   `json:"paid_on"`
}

// Limits on list lengths, so one request cannot ask for unbounded work.
const (
	maxCertificates = 50
	maxPaid         = 100
)

var regionPattern = regexp.MustCompile(`^42[0-9]{4}$`)

// DecodeSituation reads one JSON situation strictly. Malformed JSON is a
// BadRequest error with code malformed_json; a well-formed document with bad
// values is an Invalid error with code invalid_situation and one field error
// per bad field (unknown fields or values, wrong types, unparsable dates,
// levels outside 1–5, as_of before a certificate's issue date or a payment, a region
// outside Hubei, no certificate at all). Other missing fields are not
// errors: they are unknown.
// Errors: Invalid invalid_situation; BadRequest malformed_json.
func DecodeSituation(r io.Reader) (Situation, error) {
	return decodeSituation(r, &decoder{})
}

// decodeSituation runs the decoder d, which may carry checks against stored
// facts (known regions, today's date), so that one answer lists every error
// of the request instead of revealing them one stage at a time.
func decodeSituation(r io.Reader, d *decoder) (Situation, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return Situation{}, fmt.Errorf("read situation: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return Situation{}, malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Situation{}, malformed(errors.New("data after the JSON value"))
	}
	s := d.situation(doc)
	if len(d.errs) > 0 {
		return Situation{}, apperr.Invalid("invalid_situation", "情形信息有误，请按提示修改", d.errs...)
	}
	return s, nil
}

// CheckAsOf reports certificates issued and payments made after s.AsOf, for
// callers that set AsOf after decoding (to today). Errors: Invalid.
func CheckAsOf(s Situation) error {
	var fields []apperr.FieldError
	for i, c := range s.Certificates {
		if !c.IssuedOn.IsZero() && s.AsOf.Before(c.IssuedOn) {
			fields = append(fields, apperr.FieldError{Field: fmt.Sprintf("certificates[%d].issued_on", i),
				Code: "after_as_of", Message: msgIssuedAfterAsOf})
		}
	}
	for i, p := range s.Paid {
		if !p.PaidOn.IsZero() && s.AsOf.Before(p.PaidOn) {
			fields = append(fields, apperr.FieldError{Field: fmt.Sprintf("paid[%d].paid_on", i),
				Code: "after_as_of", Message: msgPaidAfterAsOf})
		}
	}
	if len(fields) > 0 {
		return apperr.Invalid("invalid_situation", "情形信息有误，请按提示修改", fields...)
	}
	return nil
}

const (
	msgIssuedAfterAsOf = "发证日期晚于计算日期 as_of"
	// A payment after as_of had not happened on that day, yet it would count
	// towards the limits.
	msgPaidAfterAsOf = "发放日期不能晚于计算日期"
)

func malformed(err error) *apperr.Error {
	return apperr.BadRequest("malformed_json", "请求内容不是有效的 JSON").Wrap(err)
}

// decoder walks the generic JSON tree so that every error names its exact
// path (certificates[0].level), which encoding/json's typed errors do not.
type decoder struct {
	errs []apperr.FieldError
	// knownRegion, when set, refuses region codes of the right shape that
	// are not in the regions table.
	knownRegion func(code string) bool
	// today, when set, stands in for an absent as_of in the date checks.
	today Date
}

func (d *decoder) fail(field, code, msg string) {
	d.errs = append(d.errs, apperr.FieldError{Field: field, Code: code, Message: msg})
}

// object checks v is an object with only the allowed keys; it reports
// unknown keys and returns nil when v is not an object (or null).
func (d *decoder) object(path string, v any, allowed ...string) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(orRoot(path), "wrong_type", "应为对象")
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors in a stable order
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			d.fail(join(path, k), "unknown_field", "不认识的字段")
		}
	}
	return m
}

func orRoot(path string) string {
	if path == "" {
		return "$"
	}
	return path
}

func join(path, key string) string {
	if key == "" {
		key = `""` // an empty key still needs a visible name
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) array(path string, v any, max int) []any {
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		d.fail(path, "wrong_type", "应为数组")
		return nil
	}
	if len(a) > max {
		d.fail(path, "too_many", fmt.Sprintf("最多 %d 项", max))
		return nil
	}
	return a
}

func (d *decoder) str(path string, v any) (string, bool) {
	if v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		d.fail(path, "wrong_type", "应为字符串")
		return "", false
	}
	return s, true
}

func (d *decoder) oneOf(path string, v any, values []string) (string, bool) {
	s, ok := d.str(path, v)
	if !ok {
		return "", false
	}
	for _, x := range values {
		if s == x {
			return s, true
		}
	}
	d.fail(path, "unknown_value", "不认识的取值："+truncate(s))
	return "", false
}

func (d *decoder) boolean(path string, v any) *bool {
	if v == nil {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		d.fail(path, "wrong_type", "应为 true 或 false")
		return nil
	}
	return &b
}

// integer reads a whole number in [min, max].
func (d *decoder) integer(path string, v any, min, max int, rangeMsg string) *int {
	if v == nil {
		return nil
	}
	n, ok := v.(json.Number)
	if !ok {
		d.fail(path, "wrong_type", "应为整数")
		return nil
	}
	i, err := strconv.Atoi(string(n))
	if err != nil {
		d.fail(path, "wrong_type", "应为整数")
		return nil
	}
	if i < min || i > max {
		d.fail(path, "out_of_range", rangeMsg)
		return nil
	}
	return &i
}

func (d *decoder) date(path string, v any) Date {
	s, ok := d.str(path, v)
	if !ok {
		return Date{}
	}
	t, err := ParseDate(s)
	if err != nil {
		d.fail(path, "invalid_date", "日期格式应为 YYYY-MM-DD 且为有效日期")
		return Date{}
	}
	return t
}

func truncate(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func (d *decoder) situation(doc any) Situation {
	var s Situation
	if doc == nil {
		d.fail("$", "wrong_type", "应为对象")
		return s
	}
	m := d.object("", doc, "as_of", "region", "person", "certificates", "paid")
	if m == nil {
		return s
	}
	s.AsOf = d.date("as_of", m["as_of"])
	asOf := s.AsOf
	if asOf.IsZero() && m["as_of"] == nil {
		asOf = d.today
	}
	if r, ok := d.str("region", m["region"]); ok {
		switch {
		case !regionPattern.MatchString(r):
			d.fail("region", "invalid_region", "地区应为湖北省的六位行政区划代码（42 开头）")
		case d.knownRegion != nil && !d.knownRegion(r):
			d.fail("region", "unknown_region", "行政区划代码「"+r+"」不存在")
		default:
			s.Region = r
		}
	}
	s.Person = d.person(m["person"])
	certs := d.array("certificates", m["certificates"], maxCertificates)
	if len(certs) == 0 {
		if a, isArray := m["certificates"].([]any); m["certificates"] == nil || (isArray && len(a) == 0) {
			// Without a certificate there is nothing to calculate: an empty
			// answer would look like "no subsidy" rather than "ask again".
			d.fail("certificates", "required", "至少填写一张证书")
		}
	}
	ids := map[string]bool{}
	for i, v := range certs {
		path := fmt.Sprintf("certificates[%d]", i)
		c := d.certificate(path, v)
		if c.ID != "" {
			if ids[c.ID] {
				d.fail(path+".id", "duplicate", "证书编号重复")
			}
			ids[c.ID] = true
		}
		if !asOf.IsZero() && !c.IssuedOn.IsZero() && asOf.Before(c.IssuedOn) {
			d.fail(path+".issued_on", "after_as_of", msgIssuedAfterAsOf)
		}
		s.Certificates = append(s.Certificates, c)
	}
	for i, v := range d.array("paid", m["paid"], maxPaid) {
		path := fmt.Sprintf("paid[%d]", i)
		p := d.payment(path, v)
		if !asOf.IsZero() && !p.PaidOn.IsZero() && asOf.Before(p.PaidOn) {
			d.fail(path+".paid_on", "after_as_of", msgPaidAfterAsOf)
		}
		s.Paid = append(s.Paid, p)
	}
	return s
}

func (d *decoder) person(v any) Person {
	var p Person
	m := d.object("person", v, "employment", "insured_months", "groups", "banned")
	if m == nil {
		return p
	}
	if e, ok := d.oneOf("person.employment", m["employment"], Employments); ok {
		p.Employment = &e
	}
	p.InsuredMonths = d.integer("person.insured_months", m["insured_months"], 0, 1200, "缴费月数应在 0–1200 之间")
	if m["groups"] != nil {
		p.Groups = []string{}
		for i, g := range d.array("person.groups", m["groups"], len(Groups)*2) {
			if s, ok := d.oneOf(fmt.Sprintf("person.groups[%d]", i), g, Groups); ok {
				p.Groups = append(p.Groups, s)
			}
		}
	}
	p.Banned = d.boolean("person.banned", m["banned"])
	return p
}

func (d *decoder) level(path string, v any) *int {
	return d.integer(path, v, 1, 5, "等级应为 1–5（1 为一级/高级技师，5 为五级/初级）")
}

// occupationCode is the national occupation code (国家职业分类大典), e.g.
// 4-10-01-03; "manager" stands for 托育机构负责人, which has none.
var occupationCode = regexp.MustCompile(`^[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{2}$`)

// occupation reads an occupation code. A typo such as 4-10-01-3 would
// compare unequal to every payment and wrongly pass the once-only checks, so
// anything that is not a code is refused.
func (d *decoder) occupation(path string, v any) string {
	s, ok := d.str(path, v)
	if !ok || s == "" {
		return s
	}
	if s != "manager" && !occupationCode.MatchString(s) {
		d.fail(path, "unknown_value", "职业代码应为国家职业分类代码，如 4-10-01-03")
		return ""
	}
	return s
}

func (d *decoder) certificate(path string, v any) Certificate {
	var c Certificate
	m := d.object(path, v, "id", "kind", "occupation", "level", "issued_on", "first_evaluation", "hours")
	if m == nil {
		if v == nil {
			d.fail(path, "wrong_type", "应为对象")
		}
		return c
	}
	c.ID, _ = d.str(path+".id", m["id"])
	c.Kind, _ = d.oneOf(path+".kind", m["kind"], Kinds)
	c.Occupation = d.occupation(path+".occupation", m["occupation"])
	c.Level = d.level(path+".level", m["level"])
	c.IssuedOn = d.date(path+".issued_on", m["issued_on"])
	c.FirstEvaluation = d.boolean(path+".first_evaluation", m["first_evaluation"])
	c.Hours = d.integer(path+".hours", m["hours"], 0, 10000, "学时应在 0–10000 之间")
	return c
}

func (d *decoder) payment(path string, v any) Payment {
	var p Payment
	m := d.object(path, v, "subsidy", "certificate_id", "occupation", "level", "paid_on")
	if m == nil {
		if v == nil {
			d.fail(path, "wrong_type", "应为对象")
		}
		return p
	}
	// A payment of an unknown subsidy could count against any limit, so the
	// one field a payment cannot do without is required.
	if m["subsidy"] == nil {
		d.fail(path+".subsidy", "required", "请填写已领取的补贴种类")
	}
	p.Subsidy, _ = d.oneOf(path+".subsidy", m["subsidy"], Subsidies)
	p.CertificateID, _ = d.str(path+".certificate_id", m["certificate_id"])
	p.Occupation = d.occupation(path+".occupation", m["occupation"])
	p.Level = d.level(path+".level", m["level"])
	p.PaidOn = d.date(path+".paid_on", m["paid_on"])
	return p
}

// Package subsidies holds the subsidy rules as code (DESIGN §6): the
// situation a person is in, dated regional policy parameters, and a pure
// engine that turns the two into one result per certificate and subsidy,
// with every check, its reason and what would make the person eligible.
// The same engine serves the public calculator, stored workers and claims.
package subsidies

import (
	"fmt"
	"strconv"
	"strings"
)

// Check results (DESIGN §6.1).
const (
	Pass    = "pass"
	Fail    = "fail"
	Unknown = "unknown" // the input needed is missing
)

// Result statuses: any fail → ineligible; else any unknown → unknown; else eligible.
const (
	StatusEligible   = "eligible"
	StatusIneligible = "ineligible"
	StatusUnknown    = "unknown"
)

// Evaluation is the answer for one situation (DESIGN §6.2 output).
type Evaluation struct {
	AsOf          Date     `json:"as_of"`
	PolicyVersion string   `json:"policy_version"`
	Results       []Result `json:"results"`
}

// Result is the answer for one certificate and one subsidy.
type Result struct {
	CertificateID string   `json:"certificate_id"`
	Subsidy       string   `json:"subsidy"`
	Status        string   `json:"status"`
	AmountYuan    int64    `json:"amount_yuan"` // 0 unless eligible
	Checks        []Check  `json:"checks"`
	Remedy        []string `json:"remedy"`
	// AmountExample is true when the amount comes from an example figure
	// (Param.Example) that pages must label as such.
	AmountExample bool `json:"-"`
}

// Check is one condition of a subsidy and how the situation fares on it.
type Check struct {
	Code      string `json:"code"`
	Result    string `json:"result"`
	Value     any    `json:"value"`
	Threshold any    `json:"threshold"`
	Reference string `json:"reference"`
	Message   string `json:"message"`
}

// CheckCodes lists, per check code of DESIGN §6.3, the results it can have.
// Checks comparing against paid subsidies are unknown when a payment lacks the
// occupation or level to tell whether it excludes the certificate.
var CheckCodes = map[string][]string{
	"su_employment":            {Pass, Fail, Unknown},
	"su_insured_months":        {Pass, Fail, Unknown},
	"su_certificate_kind":      {Pass, Fail, Unknown},
	"su_level":                 {Pass, Fail, Unknown},
	"su_issued_since":          {Pass, Fail, Unknown},
	"su_claim_window":          {Pass, Fail, Unknown},
	"su_once_per_level":        {Pass, Fail, Unknown},
	"su_no_lower_after_higher": {Pass, Fail, Unknown},
	"su_not_combined":          {Pass, Fail, Unknown},
	"su_annual_limit":          {Pass, Fail, Unknown},
	"not_banned":               {Pass, Fail, Unknown},
	"tr_target_group":          {Pass, Fail, Unknown},
	"tr_certificate_kind":      {Pass, Unknown}, // the decoder refuses other kinds
	"tr_claim_window":          {Pass, Fail, Unknown},
	"tr_lifetime_limit":        {Pass, Fail, Unknown}, // unknown: no limit in force on as_of
	"tr_once_per_level":        {Pass, Fail, Unknown},
	"tr_not_combined":          {Pass, Fail, Unknown},
	"tr_hours":                 {Pass, Fail, Unknown},
	"ap_target_group":          {Pass, Fail, Unknown},
	"ap_certificate_kind":      {Pass, Fail, Unknown},
	"ap_first_evaluation":      {Pass, Fail, Unknown},
	"ap_claim_window":          {Pass, Fail, Unknown},
	"ap_lifetime_limit":        {Pass, Fail, Unknown},
	"ap_once_per_occupation":   {Pass, Fail, Unknown},
}

// References of rules that are fixed in code rather than parameters.
const (
	refSU40       = "人社部发〔2017〕40号《关于失业保险支持参保职工提升职业技能有关问题的通知》"
	refSUNational = "人社部技能提升补贴政策（2024、2025 年版）：同一职业同一等级只能申领一次；已领取高等级补贴的不再领取低等级；不与职业培训补贴重复享受"
	refTraining   = "财社〔2017〕164号《就业补助资金管理办法》、财社〔2023〕181号；人社部就业创业政策清单（六类人员）"
	refAppraisal  = "人社部就业创业政策清单：职业技能评价补贴面向六类人员，初次评价取得职业资格、职业技能等级或专项职业能力证书（培训合格证书不在此列）"
	refNotBanned  = "国办发〔2019〕15号、湖北省实施意见二(三)14：对虐童等行为实行终身禁入"
	refNoParam    = "计算日期没有生效的参数"
)

var suIssuedSince = Date{2017, 1, 1}

var kindNames = map[string]string{
	KindQualification:  "职业资格证书",
	KindSkillLevel:     "职业技能等级证书",
	KindSpecialAbility: "专项职业能力证书",
	KindTraining:       "培训合格证书",
}

var subsidyNames = map[string]string{
	SkillUpgrade: "技能提升补贴",
	Training:     "职业培训补贴",
	Appraisal:    "技能评价补贴",
}

// SubsidyName returns the Chinese name of a subsidy.
func SubsidyName(s string) string { return subsidyNames[s] }

// KindName returns the Chinese name of a certificate kind.
func KindName(k string) string { return kindNames[k] }

// missing names, per check code, what the person must supply when the check
// is unknown.
var missing = map[string]string{
	"su_employment":       "就业状态",
	"su_insured_months":   "失业保险累计缴费月数",
	"su_certificate_kind": "证书类别",
	"su_level":            "证书等级",
	"su_issued_since":     "发证日期",
	"su_claim_window":     "发证日期",
	"su_not_combined":     "已领补贴对应的证书",
	"su_annual_limit":     "已领补贴的发放日期和证书职业",
	"not_banned":          "是否被列入终身禁入名单",
	"tr_target_group":     "是否属于六类人员",
	"tr_certificate_kind": "证书类别",
	"tr_claim_window":     "发证日期",
	"tr_not_combined":     "已领补贴对应的证书",
	"tr_hours":            "培训学时",
	"ap_target_group":     "是否属于六类人员",
	"ap_certificate_kind": "证书类别",
	"ap_first_evaluation": "是否初次参加技能评价",
	"ap_claim_window":     "发证日期",

	"su_once_per_level":        "证书和已领补贴的职业、等级",
	"su_no_lower_after_higher": "证书和已领补贴的职业、等级",
	"tr_once_per_level":        "证书和已领补贴的职业、等级",
	"ap_once_per_occupation":   "证书和已领补贴的职业",
}

// Evaluate applies the subsidy rules of DESIGN §6.3 to s with the parameters
// of ps in force on s.AsOf in s.Region. It is pure: the same inputs give the
// same evaluation. Callers set AsOf (to today when the person gave none);
// checks whose parameter is not in force on AsOf are unknown.
func Evaluate(s Situation, ps ParamSet) Evaluation {
	l := &lookup{ps: &ps, chain: regionChain(s.Region), asOf: s.AsOf, used: make([]*entry, 0, 16)}
	asOf := s.AsOf.String()
	ev := Evaluation{AsOf: s.AsOf, Results: make([]Result, 0, 3*len(s.Certificates))}
	for _, c := range s.Certificates {
		e := evaluator{s: &s, c: &c, l: l, asOf: asOf}
		ev.Results = append(ev.Results, e.skillUpgrade(), e.training(), e.appraisal())
	}
	ev.PolicyVersion = l.version()
	return ev
}

// evaluator holds what the checks of one certificate share.
type evaluator struct {
	s    *Situation
	c    *Certificate
	l    *lookup
	asOf string // s.AsOf formatted once

	checks  []Check
	example bool
	// noAmount names the parameter that lacks the amount for this
	// certificate, when the amount cannot be determined for that reason:
	// the admin must set it, the person can do nothing.
	noAmount string
}

func (e *evaluator) add(code, result string, value, threshold any, ref, msg string) {
	if e.checks == nil {
		e.checks = make([]Check, 0, 11) // the most checks a subsidy has
	}
	e.checks = append(e.checks, Check{Code: code, Result: result, Value: value, Threshold: threshold, Reference: ref, Message: msg})
}

// result closes one subsidy's checks into a Result and resets the evaluator.
// amount < 0 means the amount cannot be determined from the situation;
// amountMissing then names what is missing. fixes gives, per check code, the
// remedy of a failure that the person can still fix; remedies are only given
// when every failure is fixable.
func (e *evaluator) result(subsidy string, amount int64, amountMissing string, fixes map[string]string, windowEnd Date, windowOpen bool) Result {
	r := Result{CertificateID: e.c.ID, Subsidy: subsidy, Status: StatusEligible, Checks: e.checks, Remedy: []string{}}
	var unknown, fixed []string
	unfixable := false
	for _, ch := range e.checks {
		switch ch.Result {
		case Fail:
			r.Status = StatusIneligible
			if fix := fixes[ch.Code]; fix != "" {
				fixed = append(fixed, fix)
			} else {
				unfixable = true
			}
		case Unknown:
			if r.Status == StatusEligible {
				r.Status = StatusUnknown
			}
			// An unknown caused by a missing parameter is not the person's to fix.
			if m := missing[ch.Code]; m != "" && ch.Reference != refNoParam && !contains(unknown, m) {
				unknown = append(unknown, m)
			}
		}
	}
	var adminFix string
	if r.Status == StatusEligible && amount < 0 {
		// Every condition holds but the amount depends on a value not given,
		// by the person or, when noAmount is set, by the admin.
		r.Status = StatusUnknown
		if e.noAmount != "" {
			adminFix = "补贴标准参数 " + e.noAmount + " 在计算日期没有适用于本证书的金额，请联系人社部门由管理员补充该参数后重新计算"
		} else {
			unknown = append(unknown, amountMissing)
		}
	}
	if r.Status == StatusEligible {
		r.AmountYuan = amount
		r.AmountExample = e.example
	}
	if !unfixable {
		r.Remedy = append(r.Remedy, fixed...)
		if len(unknown) > 0 {
			r.Remedy = append(r.Remedy, "请补充"+strings.Join(unknown, "、")+"后重新计算")
		}
		if adminFix != "" {
			r.Remedy = append(r.Remedy, adminFix)
		}
		if windowOpen {
			r.Remedy = append(r.Remedy, "须在 "+windowEnd.String()+" 前申请")
		}
	}
	e.checks, e.example, e.noAmount = nil, false, ""
	return r
}

// itoa formats an integer of any size for messages.
func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func levelValue(l *int) any {
	if l == nil {
		return nil
	}
	return *l
}

// match is a three-valued answer to "is this payment the same as …?", ordered
// so that min combines conditions that must all hold and max collects over
// payments.
type match int

const (
	no    match = iota
	maybe       // a side lacks what the comparison needs
	yes
)

// sameOccupation compares the occupations of a payment and a certificate; a
// missing one could be any (DESIGN §6.1: missing data is neither yes nor no).
func sameOccupation(p Payment, c *Certificate) match {
	switch {
	case p.Occupation == "" || c.Occupation == "":
		return maybe
	case p.Occupation == c.Occupation:
		return yes
	}
	return no
}

// levelless reports whether the certificate's kind has no levels, so a null
// level is its value rather than a gap (DESIGN §6.2).
func levelless(c *Certificate) bool {
	return c.Kind == KindSpecialAbility || c.Kind == KindTraining
}

// sameLevelAs compares levels as values, exactly as DESIGN §6.3 fixes it: a
// missing level matches only a missing level. (Occupations differ: DESIGN
// says nothing of a missing one, so §6.1 makes it unknown.)
func sameLevelAs(p Payment, c *Certificate) match {
	switch {
	case p.Level == nil && c.Level == nil:
		return yes
	case p.Level != nil && c.Level != nil && *p.Level == *c.Level:
		return yes
	}
	return no
}

// higherLevel tells whether a payment was for a higher level (smaller
// number) than the certificate; a missing level is never higher or lower
// than another (DESIGN §6.3).
func higherLevel(p Payment, c *Certificate) match {
	if p.Level != nil && c.Level != nil && *p.Level < *c.Level {
		return yes
	}
	return no
}

// levelName gives "四级" for 4.
func levelName(l int) string {
	names := [...]string{"", "一级", "二级", "三级", "四级", "五级"}
	if l >= 1 && l <= 5 {
		return names[l]
	}
	return strconv.Itoa(l) + "级"
}

// notBanned is the check every subsidy shares.
func (e *evaluator) notBanned() {
	b := e.s.Person.Banned
	switch {
	case b == nil:
		e.add("not_banned", Unknown, nil, false, refNotBanned, "未提供是否被列入终身禁入名单")
	case *b:
		e.add("not_banned", Fail, true, false, refNotBanned, "已被列入终身禁入名单，不能享受补贴")
	default:
		e.add("not_banned", Pass, false, false, refNotBanned, "未被列入终身禁入名单")
	}
}

// claimWindow checks issued_on <= as_of <= issued_on + months and returns
// the last day to apply and whether the window is open.
func (e *evaluator) claimWindow(code, param string) (Date, bool) {
	months, pe := e.l.number(param)
	switch {
	case pe == nil:
		e.add(code, Unknown, nil, nil, refNoParam, "计算日期没有生效的申领期限参数")
		return Date{}, false
	case e.c.IssuedOn.IsZero():
		e.add(code, Unknown, nil, int(months), pe.Reference, "未提供发证日期，无法判断是否在发证后 "+itoa(months)+" 个月内")
		return Date{}, false
	}
	end := AddMonths(e.c.IssuedOn, int(months))
	asOf, endS := e.s.AsOf, end.String()
	if !asOf.Before(e.c.IssuedOn) && !asOf.After(end) {
		e.add(code, Pass, e.asOf, endS, pe.Reference,
			"在发证后 "+itoa(months)+" 个月的申领期内，最后一天为 "+endS)
		return end, true
	}
	e.add(code, Fail, e.asOf, endS, pe.Reference,
		"已超过发证后 "+itoa(months)+" 个月的申领期（截至 "+endS+"）")
	return end, false
}

// targetGroup checks that the person is in one of the six groups.
func (e *evaluator) targetGroup(code, ref string) {
	g := e.s.Person.Groups
	switch {
	case g == nil:
		e.add(code, Unknown, nil, "六类人员之一", ref, "未提供是否属于六类人员")
	case len(g) == 0:
		e.add(code, Fail, []string{}, "六类人员之一", ref, "不属于六类人员（脱贫监测对象、毕业年度高校毕业生、未升学初高中毕业生、农村转移就业劳动者、城镇登记失业人员、就业困难人员）")
	default:
		e.add(code, Pass, g, "六类人员之一", ref, "属于六类人员")
	}
}

// notCombined checks that no payment of the other subsidy was made for this
// certificate. When either side has no certificate id, a payment that could
// be for this certificate (occupation and level not different) is unknown.
func (e *evaluator) notCombined(code, other string) {
	ref := refSUNational
	result, value := Pass, any(nil)
	for _, p := range e.s.Paid {
		if p.Subsidy != other {
			continue
		}
		if e.c.ID != "" && p.CertificateID == e.c.ID {
			result, value = Fail, p.CertificateID
			break
		}
		if (e.c.ID == "" || p.CertificateID == "") && couldBe(p, e.c) {
			result = Unknown
		}
	}
	name := subsidyNames[other]
	switch result {
	case Fail:
		e.add(code, Fail, value, nil, ref, "本证书已领取"+name+"，两项补贴不能重复享受")
	case Unknown:
		e.add(code, Unknown, nil, nil, ref, "已领取的"+name+"未注明证书，无法判断是否为本证书")
	default:
		e.add(code, Pass, nil, nil, ref, "本证书未领取"+name)
	}
}

// sameCertificate reports whether p was paid for certificate c itself, which
// is the same occupation and level whatever else p says.
func sameCertificate(p Payment, c *Certificate) bool {
	return c.ID != "" && p.CertificateID == c.ID
}

func couldBe(p Payment, c *Certificate) bool {
	occ := p.Occupation == "" || c.Occupation == "" || p.Occupation == c.Occupation
	lvl := p.Level == nil || c.Level == nil || *p.Level == *c.Level
	return occ && lvl
}

func (e *evaluator) skillUpgrade() Result {
	monthsShort := e.suPerson()
	e.suCertificate()

	// su_claim_window
	end, open := e.claimWindow("su_claim_window", "skill_upgrade.claim_window_months")

	e.suPaidBefore()

	// su_not_combined
	e.notCombined("su_not_combined", Training)

	// su_annual_limit
	nextYearOK := e.annualLimit(end)

	e.notBanned()
	amount := e.suAmount()

	// Paying in more months fixes su_insured_months only if the claim
	// window is still open by then.
	fixes := map[string]string{"su_annual_limit": nextYearOK}
	if monthsShort > 0 && (end.IsZero() || !AddMonths(e.s.AsOf, monthsShort).After(end)) {
		fixes["su_insured_months"] = fmt.Sprintf("再缴纳 %d 个月失业保险后可申领", monthsShort)
	}
	return e.result(SkillUpgrade, amount, "证书等级", fixes, end, open)
}

// suPerson checks the person's side of the skill upgrade subsidy
// (employment, insured months) and returns the months still missing.
func (e *evaluator) suPerson() (monthsShort int) {
	p := e.s.Person
	// su_employment
	eligibleEmployment := []string{EmploymentEnterprise, EmploymentBenefit}
	switch {
	case p.Employment == nil:
		e.add("su_employment", Unknown, nil, eligibleEmployment, refSU40, "未提供就业状态")
	case *p.Employment == EmploymentEnterprise || *p.Employment == EmploymentBenefit:
		e.add("su_employment", Pass, *p.Employment, eligibleEmployment, refSU40, "企业职工或领取失业保险金人员可以申领")
	default:
		e.add("su_employment", Fail, *p.Employment, eligibleEmployment, refSU40, "仅企业职工和领取失业保险金人员可以申领")
	}

	// su_insured_months
	minMonths, pe := e.l.number("skill_upgrade.min_insured_months")
	onBenefit := p.Employment != nil && *p.Employment == EmploymentBenefit
	switch {
	case onBenefit:
		e.add("su_insured_months", Pass, levelValue(p.InsuredMonths), nil, refSU40, "领取失业保险金人员不受缴费月数限制")
	case pe == nil:
		e.add("su_insured_months", Unknown, levelValue(p.InsuredMonths), nil, refNoParam, "计算日期没有生效的缴费月数要求")
	case p.InsuredMonths == nil:
		e.add("su_insured_months", Unknown, nil, minMonths, pe.Reference, "未提供失业保险累计缴费月数")
	case int64(*p.InsuredMonths) >= minMonths:
		e.add("su_insured_months", Pass, *p.InsuredMonths, minMonths, pe.Reference,
			"已累计缴纳失业保险 "+itoa(*p.InsuredMonths)+" 个月，达到 "+itoa(minMonths)+" 个月的要求")
	case p.Employment == nil:
		// Someone receiving unemployment benefit needs no months.
		e.add("su_insured_months", Unknown, *p.InsuredMonths, minMonths, pe.Reference,
			fmt.Sprintf("累计缴费 %d 个月，不足 %d 个月；若正在领取失业保险金则不受此限，请提供就业状态", *p.InsuredMonths, minMonths))
	default:
		monthsShort = int(minMonths) - *p.InsuredMonths
		e.add("su_insured_months", Fail, *p.InsuredMonths, minMonths, pe.Reference,
			fmt.Sprintf("累计缴纳失业保险 %d 个月，不足 %d 个月", *p.InsuredMonths, minMonths))
	}

	return monthsShort
}

// suCertificate checks the certificate's kind, level and date.
func (e *evaluator) suCertificate() {
	c := e.c
	// su_certificate_kind
	suKinds := []string{KindQualification, KindSkillLevel}
	switch c.Kind {
	case "":
		e.add("su_certificate_kind", Unknown, nil, suKinds, refSU40, "未提供证书类别")
	case KindQualification, KindSkillLevel:
		e.add("su_certificate_kind", Pass, c.Kind, suKinds, refSU40, kindNames[c.Kind]+"可以申领")
	default:
		e.add("su_certificate_kind", Fail, c.Kind, suKinds, refSU40, "仅职业资格证书和职业技能等级证书可以申领，"+kindNames[c.Kind]+"不在此列")
	}

	// su_level
	suLevels := []int{5, 4, 3}
	switch {
	case c.Level == nil:
		e.add("su_level", Unknown, nil, suLevels, refSU40, "未提供证书等级")
	case *c.Level >= 3:
		e.add("su_level", Pass, *c.Level, suLevels, refSU40, levelName(*c.Level)+"证书属于可申领的五级、四级、三级")
	default:
		e.add("su_level", Fail, *c.Level, suLevels, refSU40, "仅初级（五级）、中级（四级）、高级（三级）证书可以申领，"+levelName(*c.Level)+"不在此列")
	}

	// su_issued_since
	switch {
	case c.IssuedOn.IsZero():
		e.add("su_issued_since", Unknown, nil, suIssuedSince.String(), refSU40, "未提供发证日期")
	case !c.IssuedOn.Before(suIssuedSince):
		e.add("su_issued_since", Pass, c.IssuedOn.String(), suIssuedSince.String(), refSU40, "证书于 2017-01-01 以后取得")
	default:
		e.add("su_issued_since", Fail, c.IssuedOn.String(), suIssuedSince.String(), refSU40, "仅 2017-01-01 以后取得的证书可以申领")
	}

}

// suPaidBefore checks the payments made before for the same or a higher
// level of the same occupation.
func (e *evaluator) suPaidBefore() {
	c := e.c
	// su_once_per_level and su_no_lower_after_higher: a payment missing the
	// occupation or level the comparison needs could be the one that
	// excludes this certificate, so it makes the check unknown, never a pass.
	samePaid, higherPaid := no, no
	var higher *int
	for i := range e.s.Paid {
		pd := e.s.Paid[i]
		if pd.Subsidy != SkillUpgrade {
			continue
		}
		if sameCertificate(pd, c) {
			samePaid = yes
			continue
		}
		occ := sameOccupation(pd, c)
		samePaid = max(samePaid, min(occ, sameLevelAs(pd, c)))
		if h := min(occ, higherLevel(pd, c)); h == yes && (higher == nil || *pd.Level < *higher) {
			higher, higherPaid = pd.Level, yes
		} else {
			higherPaid = max(higherPaid, h)
		}
	}
	switch samePaid {
	case yes:
		e.add("su_once_per_level", Fail, levelValue(c.Level), nil, refSUNational, "同一职业同一等级已领取过技能提升补贴")
	case maybe:
		e.add("su_once_per_level", Unknown, levelValue(c.Level), nil, refSUNational, "证书或已领补贴未注明职业或等级，无法判断是否同一职业同一等级已领取过")
	default:
		e.add("su_once_per_level", Pass, levelValue(c.Level), nil, refSUNational, "同一职业同一等级未领取过技能提升补贴")
	}
	switch higherPaid {
	case yes:
		e.add("su_no_lower_after_higher", Fail, *higher, levelValue(c.Level), refSUNational,
			"已按同一职业更高等级（"+levelName(*higher)+"）领取过技能提升补贴，不能再领取较低等级")
	case maybe:
		e.add("su_no_lower_after_higher", Unknown, nil, levelValue(c.Level), refSUNational,
			"证书或已领补贴未注明职业或等级，无法判断是否已按同一职业更高等级领取过")
	default:
		e.add("su_no_lower_after_higher", Pass, nil, levelValue(c.Level), refSUNational, "未按同一职业更高等级领取过技能提升补贴")
	}

}

// suAmount is the amount for the certificate's level in the region's tier,
// -1 when it cannot be told.
func (e *evaluator) suAmount() int64 {
	c := e.c
	amount := int64(-1)
	if c.Level != nil {
		e.noAmount = "skill_upgrade.amount"
		if ae := e.l.get("skill_upgrade.amount"); ae != nil {
			tier := e.tier()
			v, ok := path(ae.decoded, tier, strconv.Itoa(*c.Level))
			if !ok {
				v, ok = path(ae.decoded, "standard", strconv.Itoa(*c.Level))
			}
			if n, isInt := asInt(v); ok && isInt && n >= 0 {
				amount, e.example, e.noAmount = n, ae.Example, ""
			}
		}
	}

	return amount
}

// tier returns the amount tier of the certificate's occupation: shortage
// wins over paper_only; both lists are parameters that start empty.
func (e *evaluator) tier() string {
	occ := e.c.Occupation
	if occ == "" {
		return "standard"
	}
	if list, _ := e.l.list("skill_upgrade.shortage_occupations"); contains(list, occ) {
		return "shortage"
	}
	if list, _ := e.l.list("skill_upgrade.paper_only_occupations"); contains(list, occ) {
		return "paper_only"
	}
	return "standard"
}

// annualLimit adds su_annual_limit. When the limit is reached and next year
// starts within the claim window, it returns that remedy.
func (e *evaluator) annualLimit(windowEnd Date) string {
	const code = "su_annual_limit"
	le := e.l.get("skill_upgrade.annual_limit")
	if le == nil {
		e.add(code, Unknown, nil, nil, refNoParam, "计算日期没有生效的年度次数参数")
		return ""
	}
	if s, ok := le.decoded.(string); ok && s == "none" {
		e.add(code, Pass, nil, "none", le.Reference, "当年没有申领次数限制")
		return ""
	}
	limit, ok := asInt(le.decoded)
	if !ok {
		e.add(code, Unknown, nil, nil, refNoParam, "年度次数参数无效")
		return ""
	}
	ref := le.Reference
	lo, hi := limit, limit
	if list, _ := e.l.list("skill_upgrade.shortage_occupations"); len(list) > 0 {
		if sl, se := e.l.number("skill_upgrade.shortage_annual_limit"); se != nil {
			switch {
			case contains(list, e.c.Occupation):
				lo, hi, ref = sl, sl, se.Reference
			case e.c.Occupation == "":
				hi = max(hi, sl) // the occupation might be on the list
			}
		}
	}
	year := e.s.AsOf.Year
	known, undated := 0, 0
	for _, p := range e.s.Paid {
		if p.Subsidy != SkillUpgrade {
			continue
		}
		switch {
		case p.PaidOn.IsZero():
			undated++
		case p.PaidOn.Year == year:
			known++
		}
	}
	switch {
	case int64(known) >= hi:
		e.add(code, Fail, known, hi, ref, fmt.Sprintf("%d 年已领取 %d 次技能提升补贴，达到每年 %d 次的上限", year, known, hi))
		next := Date{year + 1, 1, 1}
		if !windowEnd.IsZero() && !next.After(windowEnd) {
			return "本年度次数已满，可于 " + next.String() + " 起申请"
		}
	case int64(known+undated) < lo:
		e.add(code, Pass, known, lo, ref, itoa(year)+" 年已领取 "+itoa(known)+" 次技能提升补贴，未达每年 "+itoa(lo)+" 次的上限")
	default:
		e.add(code, Unknown, known, lo, ref, "部分已领补贴未注明发放日期或职业，无法判断是否达到年度次数上限")
	}
	return ""
}

func (e *evaluator) training() Result {
	c := e.c
	e.targetGroup("tr_target_group", refTraining)
	if c.Kind == "" {
		e.add("tr_certificate_kind", Unknown, nil, Kinds, refTraining, "未提供证书类别")
	} else {
		e.add("tr_certificate_kind", Pass, c.Kind, Kinds, refTraining, kindNames[c.Kind]+"可以申领职业培训补贴")
	}
	end, open := e.claimWindow("tr_claim_window", "training.claim_window_months")
	e.lifetimeLimit("tr_lifetime_limit", Training, "training.lifetime_limit")

	same := no
	for _, p := range e.s.Paid {
		switch {
		case p.Subsidy != Training:
		case sameCertificate(p, c):
			same = yes
		default:
			same = max(same, min(sameOccupation(p, c), sameLevelAs(p, c)))
		}
	}
	switch same {
	case yes:
		e.add("tr_once_per_level", Fail, levelValue(c.Level), nil, refTraining, "同一职业同一等级已领取过职业培训补贴")
	case maybe:
		e.add("tr_once_per_level", Unknown, levelValue(c.Level), nil, refTraining, "证书或已领补贴未注明职业或等级，无法判断是否同一职业同一等级已领取过")
	default:
		e.add("tr_once_per_level", Pass, levelValue(c.Level), nil, refTraining, "同一职业同一等级未领取过职业培训补贴")
	}
	e.notCombined("tr_not_combined", SkillUpgrade)

	amount, amountMissing := int64(-1), "证书等级"
	switch c.Kind {
	case KindTraining:
		e.hours()
		amountMissing = "培训学时"
		rate, re := e.l.number("training.per_hour")
		limit, ce := e.l.number("training.training_cap")
		switch {
		case re == nil || rate < 0:
			e.noAmount = "training.per_hour"
		case ce == nil || limit < 0:
			e.noAmount = "training.training_cap"
		case c.Hours != nil:
			amount = perHour(rate, int64(*c.Hours), limit)
			e.example = re.Example || ce.Example
		}
	case KindSpecialAbility:
		e.noAmount = "training.special_ability_amount"
		if n, ae := e.l.number("training.special_ability_amount"); ae != nil && n >= 0 {
			amount, e.example, e.noAmount = n, ae.Example, ""
		}
	case KindQualification, KindSkillLevel:
		if c.Level != nil {
			e.noAmount = "training.amount"
		}
		if ae := e.l.get("training.amount"); ae != nil && c.Level != nil {
			if v, ok := path(ae.decoded, strconv.Itoa(*c.Level)); ok {
				if n, ok := asInt(v); ok && n >= 0 {
					amount, e.example, e.noAmount = n, ae.Example, ""
				}
			}
		}
	default:
		amountMissing = "证书类别"
	}
	e.notBanned()
	return e.result(Training, amount, amountMissing, nil, end, open)
}

// perHour is rate × hours capped at limit, without overflow whatever the
// stored parameters say (all three are ≥ 0).
func perHour(rate, hours, limit int64) int64 {
	if hours > 0 && rate > limit/hours {
		return limit // rate × hours > limit, and may not fit in an int64
	}
	return min(rate*hours, limit)
}

// hours adds tr_hours, for training certificates only.
func (e *evaluator) hours() {
	h := e.c.Hours
	const ref = "职业培训补贴按培训学时计算（示例规则）"
	switch {
	case h == nil:
		e.add("tr_hours", Unknown, nil, 1, ref, "未提供培训学时")
	case *h == 0:
		e.add("tr_hours", Fail, 0, 1, ref, "培训学时为 0，不能按学时申领")
	default:
		e.add("tr_hours", Pass, *h, 1, ref, "培训学时 "+itoa(*h))
	}
}

// lifetimeLimit adds a check that fewer than the limit of this subsidy were
// ever paid.
func (e *evaluator) lifetimeLimit(code, subsidy, param string) {
	limit, le := e.l.number(param)
	n := 0
	for _, p := range e.s.Paid {
		if p.Subsidy == subsidy {
			n++
		}
	}
	name := subsidyNames[subsidy]
	switch {
	case le == nil:
		e.add(code, Unknown, n, nil, refNoParam, "计算日期没有生效的累计次数限制")
	case int64(n) >= limit:
		e.add(code, Fail, n, limit, le.Reference, fmt.Sprintf("已累计领取 %d 次%s，达到每人 %d 次的上限", n, name, limit))
	default:
		e.add(code, Pass, n, limit, le.Reference, "已累计领取 "+itoa(n)+" 次"+name+"，未达每人 "+itoa(limit)+" 次的上限")
	}
}

func (e *evaluator) appraisal() Result {
	c := e.c
	e.targetGroup("ap_target_group", refAppraisal)
	apKinds := []string{KindQualification, KindSkillLevel, KindSpecialAbility}
	switch c.Kind {
	case "":
		e.add("ap_certificate_kind", Unknown, nil, apKinds, refAppraisal, "未提供证书类别")
	case KindTraining:
		e.add("ap_certificate_kind", Fail, c.Kind, apKinds, refAppraisal, "培训合格证书不能申领技能评价补贴")
	default:
		e.add("ap_certificate_kind", Pass, c.Kind, apKinds, refAppraisal, kindNames[c.Kind]+"可以申领技能评价补贴")
	}
	switch fe := c.FirstEvaluation; {
	case fe == nil:
		e.add("ap_first_evaluation", Unknown, nil, true, refAppraisal, "未提供是否初次参加技能评价")
	case *fe:
		e.add("ap_first_evaluation", Pass, true, true, refAppraisal, "初次参加技能评价")
	default:
		e.add("ap_first_evaluation", Fail, false, true, refAppraisal, "仅初次参加技能评价取得证书的可以申领")
	}
	end, open := e.claimWindow("ap_claim_window", "appraisal.claim_window_months")
	e.lifetimeLimit("ap_lifetime_limit", Appraisal, "appraisal.lifetime_limit")

	same := no
	for _, p := range e.s.Paid {
		switch {
		case p.Subsidy != Appraisal:
		case sameCertificate(p, c):
			same = yes
		default:
			same = max(same, sameOccupation(p, c))
		}
	}
	switch same {
	case yes:
		e.add("ap_once_per_occupation", Fail, c.Occupation, nil, refAppraisal, "同一职业已领取过技能评价补贴")
	case maybe:
		e.add("ap_once_per_occupation", Unknown, nil, nil, refAppraisal, "证书或已领补贴未注明职业，无法判断是否同一职业已领取过")
	default:
		e.add("ap_once_per_occupation", Pass, c.Occupation, nil, refAppraisal, "同一职业未领取过技能评价补贴")
	}
	e.notBanned()

	amount := int64(-1)
	e.noAmount = "appraisal.amount"
	if n, ae := e.l.number("appraisal.amount"); ae != nil && n >= 0 {
		amount, e.example, e.noAmount = n, ae.Example, ""
	}
	return e.result(Appraisal, amount, "", nil, end, open)
}

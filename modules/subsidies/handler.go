package subsidies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/ratelimit"
	"tuoyu/modules/web"
)

// DefaultCalcPerMinute is how many calculations one IP may ask for per
// minute, on the API and the page each, unless configured otherwise.
const DefaultCalcPerMinute = 120

// Handler serves the calculator (public), the calculate API (public) and the
// parameters admin page.
type Handler struct {
	svc   *Service
	limit *ratelimit.Limiter
}

// NewHandler returns the subsidies handler; limit counts calculations per IP,
// shared by the API and the page (nil: no limit).
func NewHandler(svc *Service, limit *ratelimit.Limiter) *Handler {
	return &Handler{svc: svc, limit: limit}
}

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	limit := h.limit.Handler(ratelimit.ByIP)
	api.Post("/subsidies/calculate", limit, h.apiCalculate)

	pages.Get("/subsidies/calculator", h.calculatorPage)
	pages.Post("/subsidies/calculator", limit, h.calculatorForm)
	admin := accounts.Require(accounts.RoleAdmin)
	pages.Get("/subsidies/parameters", admin, h.parametersPage)
	pages.Post("/subsidies/parameters", admin, h.parametersForm)
}

func (h *Handler) apiCalculate(c *fiber.Ctx) error {
	s, err := DecodeSituation(bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	ev, err := h.svc.Calculate(c.UserContext(), s)
	if err != nil {
		return err
	}
	return c.JSON(ev)
}

// ---- calculator page ----

// Regions offered by the calculator: the province and its 17 prefecture-level units.
var calcRegions = []struct{ Code, Name string }{
	{"420000", "湖北省（全省标准）"}, {"420100", "武汉市"}, {"420200", "黄石市"}, {"420300", "十堰市"},
	{"420500", "宜昌市"}, {"420600", "襄阳市"}, {"420700", "鄂州市"}, {"420800", "荆门市"},
	{"420900", "孝感市"}, {"421000", "荆州市"}, {"421100", "黄冈市"}, {"421200", "咸宁市"},
	{"421300", "随州市"}, {"422800", "恩施土家族苗族自治州"}, {"429004", "仙桃市"}, {"429005", "潜江市"},
	{"429006", "天门市"}, {"429021", "神农架林区"},
}

type option struct{ Value, Label string }

var (
	employmentOptions = []option{{EmploymentEnterprise, "企业职工"}, {EmploymentBenefit, "正在领取失业保险金"},
		{EmploymentUnemployed, "城镇登记失业人员"}, {EmploymentFlexible, "灵活就业"}, {EmploymentPublic, "机关事业单位"},
		{EmploymentRetired, "已退休"}, {EmploymentStudent, "在校学生"}}
	groupOptions = []option{{"poverty_monitoring", "防止返贫监测对象"}, {"graduate_of_year", "毕业年度高校毕业生"},
		{"school_leaver", "未继续升学的应届初高中毕业生"}, {"rural_migrant", "农村转移就业劳动者"},
		{"registered_unemployed", "城镇登记失业人员"}, {"employment_difficulty", "就业困难人员"}}
	kindOptions = []option{{KindQualification, "职业资格证书"}, {KindSkillLevel, "职业技能等级证书"},
		{KindSpecialAbility, "专项职业能力证书"}, {KindTraining, "培训合格证书"}}
	occupationOptions = []option{{catalog.OccupationNursery, "保育师"}, {catalog.OccupationInfantCare, "育婴员"},
		{catalog.OccupationGuide, "婴幼儿发展引导员"}, {catalog.OccupationManager, "托育机构负责人"}, {"other", "其他职业"}}
	levelOptions   = []option{{"5", "五级 / 初级工"}, {"4", "四级 / 中级工"}, {"3", "三级 / 高级工"}, {"2", "二级 / 技师"}, {"1", "一级 / 高级技师"}}
	subsidyOptions = []option{{SkillUpgrade, "技能提升补贴"}, {Training, "职业培训补贴"}, {Appraisal, "技能评价补贴"}}
)

// calcRows is how many certificates and paid subsidies the page offers.
const calcRows = 3

type certForm struct {
	N                                                   int
	Kind, Occupation, Level, IssuedOn, FirstEval, Hours string
}

type paidForm struct {
	N                                               int
	Subsidy, Certificate, Occupation, Level, PaidOn string
}

// Answers to "属于以下哪类人员": a three-way question, so that a form left
// alone says "unknown" rather than "none of them".
const (
	groupsSome    = "some"    // 属于以下人员 (the ticked ones)
	groupsNone    = "none"    // 都不属于
	groupsUnknown = "unknown" // 不确定
)

// calcForm holds the calculator's inputs as typed, to show them again.
type calcForm struct {
	AsOf, Region, Employment, InsuredMonths, Banned string
	Groups                                          []string
	GroupsAnswer                                    string
	Certs                                           []certForm
	Paid                                            []paidForm
}

// newCalcForm is the empty form: every answer about the person starts as
// 不确定, so nothing the visitor did not say is counted (DESIGN §6.1).
func newCalcForm(today Date) calcForm {
	f := calcForm{AsOf: today.String(), Region: "420100", GroupsAnswer: groupsUnknown}
	for i := 1; i <= calcRows; i++ {
		f.Certs = append(f.Certs, certForm{N: i, Occupation: catalog.OccupationNursery})
		f.Paid = append(f.Paid, paidForm{N: i, Certificate: "other", Occupation: catalog.OccupationNursery})
	}
	return f
}

func readCalcForm(c *fiber.Ctx) calcForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f := calcForm{AsOf: v("as_of"), Region: v("region"), Employment: v("employment"), InsuredMonths: v("insured_months"),
		Banned: v("banned"), GroupsAnswer: v("groups_answer")}
	for _, g := range c.Request().PostArgs().PeekMulti("groups") {
		f.Groups = append(f.Groups, string(g))
	}
	for i := 1; i <= calcRows; i++ {
		p := "c" + strconv.Itoa(i) + "_"
		f.Certs = append(f.Certs, certForm{N: i, Kind: v(p + "kind"), Occupation: v(p + "occupation"), Level: v(p + "level"),
			IssuedOn: v(p + "issued_on"), FirstEval: v(p + "first"), Hours: v(p + "hours")})
		p = "p" + strconv.Itoa(i) + "_"
		f.Paid = append(f.Paid, paidForm{N: i, Subsidy: v(p + "subsidy"), Certificate: v(p + "certificate"),
			Occupation: v(p + "occupation"), Level: v(p + "level"), PaidOn: v(p + "paid_on")})
	}
	if f.GroupsAnswer == "" || (f.GroupsAnswer == groupsUnknown && len(f.Groups) > 0) {
		// Ticking a group answers the question even if the radio was left alone.
		f.GroupsAnswer = groupsUnknown
		if len(f.Groups) > 0 {
			f.GroupsAnswer = groupsSome
		}
	}
	return f
}

// check reports answers that contradict each other, which the situation
// cannot express, in the form's words.
func (f calcForm) check() []string {
	switch {
	case f.GroupsAnswer == groupsNone && len(f.Groups) > 0:
		return []string{"六类人员：选择了“都不属于”，又勾选了人员类别，请只选其一"}
	case f.GroupsAnswer == groupsSome && len(f.Groups) == 0:
		return []string{"六类人员：选择了“属于以下人员”，请勾选属于哪一类"}
	case f.GroupsAnswer != groupsSome && f.GroupsAnswer != groupsNone && f.GroupsAnswer != groupsUnknown:
		return []string{"六类人员：请选择属于、都不属于或不确定"}
	}
	return nil
}

// situationJSON turns the form into the API's situation document, so the
// page and the API share one strict decoder and its field errors. Blank
// fields are left out: unknown, never "no".
func (f calcForm) situationJSON() []byte {
	num := func(s string) any {
		if _, err := strconv.Atoi(s); err == nil {
			return json.Number(s)
		}
		return s // the decoder names it as not a whole number
	}
	doc := map[string]any{}
	if f.AsOf != "" {
		doc["as_of"] = f.AsOf
	}
	if f.Region != "" {
		doc["region"] = f.Region
	}
	person := map[string]any{}
	if f.Employment != "" {
		person["employment"] = f.Employment
	}
	if f.InsuredMonths != "" {
		person["insured_months"] = num(f.InsuredMonths)
	}
	switch f.GroupsAnswer {
	case groupsSome:
		groups := []any{}
		for _, g := range f.Groups {
			groups = append(groups, g)
		}
		person["groups"] = groups
	case groupsNone:
		person["groups"] = []any{}
	} // unknown: absent
	switch f.Banned {
	case "yes":
		person["banned"] = true
	case "no":
		person["banned"] = false
	}
	doc["person"] = person
	certs := []any{}
	for _, cf := range f.Certs {
		if cf.Kind == "" && cf.IssuedOn == "" {
			continue
		}
		c := map[string]any{"id": "c" + strconv.Itoa(cf.N)}
		set := func(k, v string) {
			if v != "" {
				c[k] = v
			}
		}
		set("kind", cf.Kind)
		set("occupation", cf.Occupation)
		set("issued_on", cf.IssuedOn)
		if cf.Level != "" {
			c["level"] = num(cf.Level)
		}
		if cf.Hours != "" {
			c["hours"] = num(cf.Hours)
		}
		switch cf.FirstEval {
		case "yes":
			c["first_evaluation"] = true
		case "no":
			c["first_evaluation"] = false
		}
		certs = append(certs, c)
	}
	doc["certificates"] = certs
	paid := []any{}
	for _, pf := range f.Paid {
		if pf.Subsidy == "" {
			continue
		}
		p := map[string]any{"subsidy": pf.Subsidy}
		if pf.Certificate == "other" || pf.Certificate == "" {
			p["certificate_id"] = "p" + strconv.Itoa(pf.N) // some other certificate
		} else {
			p["certificate_id"] = pf.Certificate
		}
		if pf.Occupation != "" {
			p["occupation"] = pf.Occupation
		}
		if pf.Level != "" {
			p["level"] = num(pf.Level)
		}
		if pf.PaidOn != "" {
			p["paid_on"] = pf.PaidOn
		}
		paid = append(paid, p)
	}
	doc["paid"] = paid
	b, _ := json.Marshal(doc)
	return b
}

// fieldLabels names the situation's fields in the words of the form.
var fieldLabels = map[string]string{
	"as_of": "计算日期", "region": "地区", "person": "个人情况",
	"person.employment": "就业状态", "person.insured_months": "失业保险缴费月数",
	"person.groups": "六类人员", "person.banned": "是否被列入终身禁入名单",
	"id": "编号", "kind": "证书类别", "occupation": "职业（工种）", "level": "等级", "issued_on": "发证日期",
	"first_evaluation": "是否初次参加技能评价", "hours": "培训学时",
	"subsidy": "补贴种类", "certificate_id": "对应证书", "paid_on": "发放日期",
}

// fieldLabel names a situation field path (certificates[0].level,
// person.groups[1]) in the words of the form (证书1 等级, 六类人员第 2 项);
// a path it does not know is shown as it is.
func fieldLabel(path string) string {
	if l, ok := fieldLabels[path]; ok {
		return l
	}
	var i int
	var rest string
	switch {
	case scanIndex(path, "certificates", &i, &rest):
		if l, ok := fieldLabels[rest]; ok || rest == "" {
			return strings.TrimSpace("证书" + strconv.Itoa(i+1) + " " + l)
		}
	case scanIndex(path, "paid", &i, &rest):
		if l, ok := fieldLabels[rest]; ok || rest == "" {
			return strings.TrimSpace("已领补贴" + strconv.Itoa(i+1) + " " + l)
		}
	case scanIndex(path, "person.groups", &i, &rest) && rest == "":
		return fmt.Sprintf("六类人员第 %d 项", i+1)
	}
	return path
}

// scanIndex splits "prefix[i].rest" (or "prefix[i]") into i and rest.
func scanIndex(path, prefix string, i *int, rest *string) bool {
	tail, ok := strings.CutPrefix(path, prefix+"[")
	if !ok {
		return false
	}
	num, after, ok := strings.Cut(tail, "]")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return false
	}
	*i, *rest = n, strings.TrimPrefix(after, ".")
	return true
}

// Views of an evaluation for the page.
type checkView struct {
	Result, Label, Message, Reference string
}

type resultView struct {
	Subsidy, Status, StatusLabel string
	Amount                       int64
	Example                      bool
	Checks                       []checkView
	Remedy                       []string
}

type certView struct {
	Title   string
	Results []resultView
}

var resultLabels = map[string]string{Pass: "符合", Fail: "不符合", Unknown: "待补充信息"}
var statusLabels = map[string]string{StatusEligible: "可以申领", StatusIneligible: "不符合条件", StatusUnknown: "信息不足，暂无法判断"}

func evaluationView(ev Evaluation, s Situation) []certView {
	var out []certView
	for i, c := range s.Certificates {
		title := "证书" + strings.TrimPrefix(c.ID, "c") + "：" + KindName(c.Kind)
		if c.Kind == "" {
			title = "证书" + strings.TrimPrefix(c.ID, "c") + "：类别未填"
		}
		if c.Occupation != "" {
			title += " · " + catalog.OccupationLabel(c.Occupation)
		}
		if c.Level != nil {
			title += " · " + levelName(*c.Level)
		}
		cv := certView{Title: title}
		for _, r := range ev.Results[3*i : 3*i+3] {
			rv := resultView{Subsidy: SubsidyName(r.Subsidy), Status: r.Status, StatusLabel: statusLabels[r.Status],
				Amount: r.AmountYuan, Example: r.AmountExample, Remedy: r.Remedy}
			for _, ch := range r.Checks {
				rv.Checks = append(rv.Checks, checkView{Result: ch.Result, Label: resultLabels[ch.Result], Message: ch.Message, Reference: ch.Reference})
			}
			cv.Results = append(cv.Results, rv)
		}
		out = append(out, cv)
	}
	return out
}

func (h *Handler) renderCalculator(c *fiber.Ctx, f calcForm, data fiber.Map) error {
	data["Title"] = "补贴测算"
	data["Form"] = f
	data["Regions"] = calcRegions
	data["Employments"] = employmentOptions
	data["GroupOptions"] = groupOptions
	data["Kinds"] = kindOptions
	data["Occupations"] = occupationOptions
	data["Levels"] = levelOptions
	data["SubsidyOptions"] = subsidyOptions
	return web.Render(c, "subsidies/calculator", data)
}

func (h *Handler) calculatorPage(c *fiber.Ctx) error {
	return h.renderCalculator(c, newCalcForm(h.svc.Today()), fiber.Map{})
}

func (h *Handler) calculatorForm(c *fiber.Ctx) error {
	f := readCalcForm(c)
	if msgs := f.check(); len(msgs) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderCalculator(c, f, fiber.Map{"Error": "情形信息有误，请按提示修改", "Errors": msgs})
	}
	s, err := DecodeSituation(bytes.NewReader(f.situationJSON()))
	var ev Evaluation
	if err == nil {
		ev, err = h.svc.Calculate(c.UserContext(), s)
	}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || (e.Kind != apperr.KindInvalid && e.Kind != apperr.KindBadRequest) {
			return err
		}
		var msgs []string
		for _, fe := range e.Fields {
			msgs = append(msgs, fieldLabel(fe.Field)+"："+fe.Message)
		}
		c.Status(fiber.StatusUnprocessableEntity)
		return h.renderCalculator(c, f, fiber.Map{"Error": e.Message, "Errors": msgs})
	}
	return h.renderCalculator(c, f, fiber.Map{"Evaluation": ev, "Certs": evaluationView(ev, s), "NoCertificates": len(s.Certificates) == 0})
}

// ---- parameters page ----

// paramLabels are the Chinese names of the parameters.
var paramLabels = map[string]string{
	"skill_upgrade.min_insured_months":     "技能提升补贴：失业保险最低缴费月数",
	"skill_upgrade.claim_window_months":    "技能提升补贴：发证后申领期限（月）",
	"skill_upgrade.annual_limit":           "技能提升补贴：每人每年申领次数上限",
	"skill_upgrade.shortage_annual_limit":  "技能提升补贴：急需紧缺职业每年次数上限",
	"skill_upgrade.amount":                 "技能提升补贴：金额（元，按档次和等级）",
	"skill_upgrade.paper_only_occupations": "技能提升补贴：试卷方式考核的职业（低档）",
	"skill_upgrade.shortage_occupations":   "技能提升补贴：急需紧缺职业目录（上浮 30%）",
	"training.claim_window_months":         "职业培训补贴：发证后申领期限（月）",
	"training.lifetime_limit":              "职业培训补贴：每人累计次数上限",
	"training.amount":                      "职业培训补贴：金额（元，按等级）",
	"training.special_ability_amount":      "职业培训补贴：专项职业能力证书金额（元）",
	"training.per_hour":                    "职业培训补贴：培训合格证书每学时金额（元）",
	"training.training_cap":                "职业培训补贴：培训合格证书金额上限（元）",
	"appraisal.claim_window_months":        "技能评价补贴：发证后申领期限（月）",
	"appraisal.lifetime_limit":             "技能评价补贴：每人累计次数上限",
	"appraisal.amount":                     "技能评价补贴：金额（元）",
	"claims.notice_working_days":           "补贴申请：公示期（工作日）",
	"certificates.in_service_valid_years":  "证书：在岗培训合格证书有效期（年）",
}

type paramRow struct {
	StoredParam
	Value   string
	InForce bool // the value that applies today in its region
}

type paramGroup struct {
	Name, Label string
	Example     bool
	Rows        []paramRow
}

func (h *Handler) parametersPage(c *fiber.Ctx) error {
	return h.renderParameters(c, NewValue{EffectiveFrom: h.svc.Today().String(), Region: ProvinceRegion}, nil)
}

func (h *Handler) renderParameters(c *fiber.Ctx, form NewValue, formErr error) error {
	rows, err := h.svc.History(c.UserContext())
	if err != nil {
		return err
	}
	if len(rows) == 0 { // first visit on a new database
		if _, err := h.svc.Params(c.UserContext()); err != nil {
			return err
		}
		if rows, err = h.svc.History(c.UserContext()); err != nil {
			return err
		}
	}
	today := h.svc.Today()
	// The winner per (name, region) today: latest start in force, later entry on a tie.
	winner := map[string]int64{}
	var winFrom = map[string]Date{}
	for _, r := range rows {
		if !r.Param().InForce(today) {
			continue
		}
		k := r.Name + "|" + r.RegionCode
		if f, ok := winFrom[k]; !ok || !r.EffectiveFrom.Before(f) {
			winner[k], winFrom[k] = r.ID, r.EffectiveFrom
		}
	}
	var groups []paramGroup
	for _, r := range rows {
		if len(groups) == 0 || groups[len(groups)-1].Name != r.Name {
			label := paramLabels[r.Name]
			if label == "" {
				label = r.Name
			}
			groups = append(groups, paramGroup{Name: r.Name, Label: label})
		}
		g := &groups[len(groups)-1]
		g.Example = g.Example || r.Example
		g.Rows = append(g.Rows, paramRow{StoredParam: r, Value: string(r.ValueJSON), InForce: winner[r.Name+"|"+r.RegionCode] == r.ID})
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	if formErr != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "subsidies/parameters", fiber.Map{"Title": "补贴参数", "Groups": groups, "Today": today.String(),
		"Form": form, "Error": msg, "Fields": fields, "Added": c.Query("added")})
}

func (h *Handler) parametersForm(c *fiber.Ctx) error {
	in := NewValue{Name: c.FormValue("name"), Region: c.FormValue("region"), EffectiveFrom: c.FormValue("effective_from"),
		EffectiveTo: c.FormValue("effective_to"), Value: c.FormValue("value"), Reference: c.FormValue("reference"),
		Example: c.FormValue("example") != "", Note: c.FormValue("note")}
	sp, err := h.svc.AddValue(c.UserContext(), in)
	if err != nil {
		return h.renderParameters(c, in, err)
	}
	return web.Redirect(c, "/subsidies/parameters?added="+strconv.FormatInt(sp.ID, 10)+"#p"+strconv.FormatInt(sp.ID, 10))
}

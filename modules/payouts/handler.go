package payouts

import (
	"bytes"
	"html/template"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the payouts API and pages.
type Handler struct {
	svc *Service
}

// NewHandler returns the payouts handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	viewer := accounts.Require(viewers...)
	admin := accounts.Require(accounts.RoleAdmin)

	api.Get("/stats", viewer, h.apiStats)
	api.Get("/payout-budgets", admin, h.apiBudgets)
	api.Put("/payout-budgets", admin, h.apiSetBudget)

	pages.Get("/hr/dashboard", viewer, h.dashboardPage)
	pages.Get("/hr/dashboard.csv", viewer, h.dashboardCSV)
	pages.Get("/admin/budgets", admin, h.budgetsPage)
	pages.Post("/admin/budgets", admin, h.budgetsForm)

	h.batchRoutes(api, pages)

}

func (h *Handler) stats(c *fiber.Ctx) (*Stats, error) {
	year, err := h.svc.ParseYear(c.Query("year"))
	if err != nil {
		return nil, err
	}
	return h.svc.Stats(c.UserContext(), accounts.PrincipalOf(c), c.Query("region"), year)
}

func (h *Handler) apiStats(c *fiber.Ctx) error {
	st, err := h.stats(c)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h *Handler) dashboardCSV(c *fiber.Ctx) error {
	st, err := h.stats(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := st.WriteCSV(&buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="stats-`+st.Region+`-`+strconv.Itoa(st.Year)+`.csv"`)
	return c.Send(buf.Bytes())
}

// Chart colours (SVG presentation attributes, fixed here).
const (
	colourBlue   = "#2b6cb0"
	colourGreen  = "#2f855a"
	colourOrange = "#c05621"
	colourPurple = "#6b46c1"
	colourRed    = "#c53030"
)

func (h *Handler) dashboardPage(c *fiber.Ctx) error {
	st, err := h.stats(c)
	if err != nil {
		return err
	}
	un := map[string]bool{}
	for _, u := range st.Unavailable {
		un[u] = true
	}
	months := make([]string, len(st.Months))
	pick := func(f func(Figures) int64) []int64 {
		out := make([]int64, len(st.Months))
		for i, m := range st.Months {
			out[i] = f(m.Figures)
		}
		return out
	}
	for i := range st.Months {
		months[i] = strconv.Itoa(i+1) + "月"
	}
	var people []Series
	for _, s := range []struct {
		key, name, colour string
		f                 func(Figures) int64
	}{
		{"trained", "培训结业", colourBlue, func(f Figures) int64 { return f.Trained }},
		{"passed", "考核通过", colourGreen, func(f Figures) int64 { return f.Passed }},
		{"certified", "取证", colourOrange, func(f Figures) int64 { return f.Certified }},
	} {
		if !un[s.key] {
			people = append(people, Series{Name: s.name, Colour: s.colour, Values: pick(s.f)})
		}
	}
	money := []Series{
		{Name: "审批通过（元）", Colour: colourPurple, Values: pick(func(f Figures) int64 { return f.ApprovedYuan })},
		{Name: "已拨付（元）", Colour: colourGreen, Values: pick(func(f Figures) int64 { return f.PaidYuan })},
		{Name: "银行退回（元）", Colour: colourRed, Values: pick(func(f Figures) int64 { return f.ReturnedYuan })},
	}
	names := make([]string, len(st.Regions))
	regionPick := func(f func(Figures) int64) []int64 {
		out := make([]int64, len(st.Regions))
		for i, r := range st.Regions {
			out[i] = f(r.Figures)
		}
		return out
	}
	for i, r := range st.Regions {
		names[i] = strings.TrimSuffix(r.Name, "（本级）")
	}
	regionClaims := []Series{
		{Name: "申请", Colour: colourBlue, Values: regionPick(func(f Figures) int64 { return f.Claimed })},
		{Name: "审批通过", Colour: colourPurple, Values: regionPick(func(f Figures) int64 { return f.Approved })},
		{Name: "已拨付", Colour: colourGreen, Values: regionPick(func(f Figures) int64 { return f.Paid })},
	}
	regionMoney := []Series{
		{Name: "审批通过（元）", Colour: colourPurple, Values: regionPick(func(f Figures) int64 { return f.ApprovedYuan })},
		{Name: "已拨付（元）", Colour: colourGreen, Values: regionPick(func(f Figures) int64 { return f.PaidYuan })},
	}
	var peopleChart template.HTML
	if len(people) > 0 {
		peopleChart = BarChart(strconv.Itoa(st.Year)+"年各月培训与取证人数", months, people)
	}
	p := accounts.PrincipalOf(c)
	home := p.Region
	if p.Role == accounts.RoleAdmin || home == "" {
		home = "420000"
	}
	return web.Render(c, "hr/dashboard", fiber.Map{
		"Title": "补贴与培训统计", "S": st, "Un": un, "Statuses": ClaimStatuses, "StatusLabel": ClaimStatusLabel,
		"PeopleChart": peopleChart,
		"MoneyChart":  BarChart(strconv.Itoa(st.Year)+"年各月补贴金额", months, money),
		"RegionChart": BarChart("各地区补贴申请、审批与拨付笔数", names, regionClaims),
		"RegionMoney": BarChart("各地区补贴审批与拨付金额", names, regionMoney),
		"Home":        home, "Years": yearsUpTo(h.svc.today().Year()),
	})
}

// yearsUpTo lists the years the overview offers, newest first.
func yearsUpTo(y int) []int {
	var out []int
	for x := y; x >= 2017 && x > y-8; x-- {
		out = append(out, x)
	}
	return out
}

type budgetForm struct {
	RegionCode string `json:"region_code"`
	Year       int    `json:"year"`
	AmountYuan int64  `json:"amount_yuan"`
	Note       string `json:"note"`
}

type budgetView struct {
	ID         int64  `json:"id"`
	RegionCode string `json:"region_code"`
	RegionName string `json:"region_name,omitempty"`
	Year       int    `json:"year"`
	AmountYuan int64  `json:"amount_yuan"`
	Note       string `json:"note"`
	SetAt      string `json:"set_at"`
}

func toBudgetView(b *Budget) budgetView {
	return budgetView{ID: b.ID, RegionCode: b.RegionCode, RegionName: b.RegionName, Year: b.Year, AmountYuan: b.AmountYuan,
		Note: b.Note, SetAt: b.SetAt.Format("2006-01-02T15:04:05Z07:00")}
}

func (h *Handler) apiBudgets(c *fiber.Ctx) error {
	bs, err := h.svc.Budgets(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	out := make([]budgetView, len(bs))
	for i := range bs {
		out[i] = toBudgetView(&bs[i])
	}
	return c.JSON(web.List(out, len(out)))
}

func (h *Handler) apiSetBudget(c *fiber.Ctx) error {
	var f budgetForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	b, err := h.svc.SetBudget(c.UserContext(), accounts.PrincipalOf(c), BudgetInput(f))
	if err != nil {
		return err
	}
	return c.JSON(toBudgetView(b))
}

func (h *Handler) budgetsPage(c *fiber.Ctx) error { return h.renderBudgets(c, budgetForm{}, nil) }

func (h *Handler) renderBudgets(c *fiber.Ctx, form budgetForm, formErr error) error {
	bs, err := h.svc.Budgets(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "补贴预算", "Budgets": bs, "Form": form}
	if form.Year == 0 {
		data["DefaultYear"] = h.svc.today().Year()
	}
	if formErr != nil {
		fields, msg := web.FieldMessages(formErr)
		data["Error"], data["Fields"] = msg, fields
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return web.Render(c, "payouts/budgets", data)
}

func (h *Handler) budgetsForm(c *fiber.Ctx) error {
	f := budgetForm{RegionCode: c.FormValue("region_code"), Note: c.FormValue("note")}
	var fields []apperr.FieldError
	var err error
	if f.Year, err = strconv.Atoi(strings.TrimSpace(c.FormValue("year"))); err != nil {
		fields = append(fields, apperr.FieldError{Field: "year", Code: "invalid_year", Message: "年份须为整数"})
	}
	if f.AmountYuan, err = strconv.ParseInt(strings.TrimSpace(c.FormValue("amount_yuan")), 10, 64); err != nil {
		fields = append(fields, apperr.FieldError{Field: "amount_yuan", Code: "invalid_amount", Message: "预算须为整数元"})
	}
	if len(fields) > 0 {
		return h.renderBudgets(c, f, apperr.Invalid("validation_failed", "预算填写有误", fields...))
	}
	if _, err := h.svc.SetBudget(c.UserContext(), accounts.PrincipalOf(c), BudgetInput(f)); err != nil {
		if apperr.KindOf(err) == apperr.KindInvalid {
			return h.renderBudgets(c, f, err)
		}
		return err
	}
	return web.Redirect(c, "/admin/budgets")
}

package catalog

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the catalogue API and pages: everyone logged in reads,
// admins edit.
type Handler struct{ svc *Service }

// NewHandler returns the catalogue handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	admin := accounts.Require(accounts.RoleAdmin)
	api.Get("/courses", anyone, h.apiCourses)
	api.Patch("/courses/:id", admin, h.apiUpdateCourse)
	api.Get("/plans", anyone, h.apiPlans)
	api.Get("/plans/:code", anyone, h.apiPlan)
	api.Put("/plans/:code", admin, h.apiEditPlan)

	pages.Get("/catalog/courses", anyone, h.coursesPage)
	pages.Get("/catalog/courses/:id", admin, h.coursePage)
	pages.Post("/catalog/courses/:id", admin, h.courseForm)
	pages.Get("/catalog/plans", anyone, h.plansPage)
	pages.Get("/catalog/plans/:code", anyone, h.planPage)
	pages.Post("/catalog/plans/:code", admin, h.planForm)
}

func (h *Handler) apiCourses(c *fiber.Ctx) error {
	cs, err := h.svc.Courses(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(web.List(cs, len(cs)))
}

func (h *Handler) apiUpdateCourse(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.Course(c.UserContext(), id)
	if err != nil {
		return err
	}
	in := CourseInput{Title: cur.Title, TheoryHours: cur.TheoryHours, PracticeHours: cur.PracticeHours, Description: cur.Description}
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	co, err := h.svc.UpdateCourse(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(co)
}

func (h *Handler) apiPlans(c *fiber.Ctx) error {
	ps, err := h.svc.Plans(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(web.List(ps, len(ps)))
}

func (h *Handler) apiPlan(c *fiber.Ctx) error {
	p, err := h.svc.Plan(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *Handler) apiEditPlan(c *fiber.Ctx) error {
	p, err := h.svc.Plan(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	var in VersionInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	v, created, err := h.svc.EditPlan(c.UserContext(), p.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"plan_code": p.Code, "version": v, "new_version": created})
}

func (h *Handler) coursesPage(c *fiber.Ctx) error {
	cs, err := h.svc.Courses(c.UserContext())
	if err != nil {
		return err
	}
	groups := make([]courseGroup, 0, len(Categories))
	for _, cat := range Categories {
		g := courseGroup{Category: cat, Label: cat.Label()}
		for _, co := range cs {
			if co.Category == cat {
				g.Courses = append(g.Courses, co)
			}
		}
		groups = append(groups, g)
	}
	return web.Render(c, "catalog/courses", fiber.Map{"Title": "课程目录", "Groups": groups, "Total": len(cs)})
}

type courseGroup struct {
	Category Category
	Label    string
	Courses  []Course
}

func (h *Handler) coursePage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	co, err := h.svc.Course(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.renderCourse(c, co, nil)
}

func (h *Handler) renderCourse(c *fiber.Ctx, co Course, formErr error) error {
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	if formErr != nil {
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "catalog/course", fiber.Map{"Title": "编辑课程", "Course": co, "CategoryLabel": co.Category.Label(),
		"Error": msg, "Fields": fields})
}

func (h *Handler) courseForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.Course(c.UserContext(), id)
	if err != nil {
		return err
	}
	in := CourseInput{Title: c.FormValue("title"), Description: c.FormValue("description")}
	var fields []apperr.FieldError
	in.TheoryHours = formHours(c, "theory_hours", "理论学时", &fields)
	in.PracticeHours = formHours(c, "practice_hours", "实操学时", &fields)
	if len(fields) > 0 {
		cur.Title, cur.Description = in.Title, in.Description
		return h.renderCourse(c, cur, apperr.Invalid("invalid_course", "课程填写有误", fields...))
	}
	if _, err := h.svc.UpdateCourse(c.UserContext(), id, in); err != nil {
		cur.Title, cur.Description, cur.TheoryHours, cur.PracticeHours = in.Title, in.Description, in.TheoryHours, in.PracticeHours
		return h.renderCourse(c, cur, err)
	}
	return web.Redirect(c, "/catalog/courses")
}

// formHours reads an hours field of a form; a bad value adds a field error.
func formHours(c *fiber.Ctx, field, label string, fields *[]apperr.FieldError) Hours {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return 0
	}
	h, err := ParseHours(v)
	if err != nil {
		*fields = append(*fields, apperr.FieldError{Field: field, Code: "invalid_hours", Message: label + "应为数字，最多一位小数"})
	}
	return h
}

func statusOf(err error) int {
	switch apperr.KindOf(err) {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindNotFound:
		return fiber.StatusNotFound
	}
	return fiber.StatusUnprocessableEntity
}

func (h *Handler) plansPage(c *fiber.Ctx) error {
	ps, err := h.svc.Plans(c.UserContext())
	if err != nil {
		return err
	}
	return web.Render(c, "catalog/plans", fiber.Map{"Title": "培训计划", "Plans": planRows(ps)})
}

// PlanRow is a plan as the pages show it.
type PlanRow struct {
	PlanSummary
	OccupationLabel string
	PurposeLabel    string
	LevelLabel      string
}

func planRows(ps []PlanSummary) []PlanRow {
	out := make([]PlanRow, 0, len(ps))
	for _, p := range ps {
		r := PlanRow{PlanSummary: p, OccupationLabel: OccupationLabel(p.Occupation), PurposeLabel: p.Purpose.Label()}
		if p.Level != nil {
			r.LevelLabel = LevelLabel(*p.Level)
		}
		out = append(out, r)
	}
	return out
}

// planCourseRow is one line of the plan form: a catalogue course, whether
// the plan includes it, and the hours it requires.
type planCourseRow struct {
	Course
	CategoryLabel string
	In            bool
	Required      string
}

type minimumRow struct {
	Category Category
	Label    string
	Value    string
}

func (h *Handler) planPage(c *fiber.Ctx) error {
	p, err := h.svc.Plan(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	in := VersionInput{MinTotalHours: p.Current.MinTotalHours, PassMark: p.Current.PassMark, MaxAttempts: p.Current.MaxAttempts,
		Minimums: map[Category]Hours{}}
	for _, pc := range p.Current.Courses {
		in.Courses = append(in.Courses, VersionCourseInput{Code: pc.Code, Hours: pc.Required})
	}
	for _, m := range p.Current.Minimums {
		in.Minimums[m.Category] = m.Min
	}
	notice := ""
	if v := c.Query("saved"); v != "" {
		notice = "已保存，当前为第 " + v + " 版。"
		if c.Query("new") == "1" {
			notice = "原版本已有学员报名，已保存为新的第 " + v + " 版；已报名学员仍按原版本要求。"
		}
	}
	return h.renderPlan(c, p, in, nil, notice)
}

func (h *Handler) renderPlan(c *fiber.Ctx, p PlanSummary, in VersionInput, formErr error, notice string) error {
	courses, err := h.svc.Courses(c.UserContext())
	if err != nil {
		return err
	}
	required := map[string]Hours{}
	for _, pc := range in.Courses {
		required[pc.Code] = pc.Hours
	}
	rows := make([]planCourseRow, 0, len(courses))
	for _, cat := range Categories {
		for _, co := range courses {
			if co.Category != cat {
				continue
			}
			r := planCourseRow{Course: co, CategoryLabel: cat.Label()}
			if h, ok := required[co.Code]; ok {
				r.In, r.Required = true, h.String()
			}
			rows = append(rows, r)
		}
	}
	mins := make([]minimumRow, 0, len(Categories))
	for _, cat := range Categories {
		mins = append(mins, minimumRow{Category: cat, Label: cat.Label(), Value: in.Minimums[cat].String()})
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	if formErr != nil {
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "catalog/plan", fiber.Map{"Title": p.Name, "Plan": planRows([]PlanSummary{p})[0], "Input": in,
		"Courses": rows, "Minimums": mins, "Error": msg, "Fields": fields, "Notice": notice,
		"CanEdit": accounts.PrincipalOf(c).Is(accounts.RoleAdmin), "AssessmentModes": assessmentModes()})
}

func (h *Handler) planForm(c *fiber.Ctx) error {
	p, err := h.svc.Plan(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	var fields []apperr.FieldError
	in := VersionInput{Minimums: map[Category]Hours{}}
	in.MinTotalHours = formHours(c, "min_total_hours", "总学时", &fields)
	in.PassMark, _ = strconv.Atoi(c.FormValue("pass_mark"))
	in.MaxAttempts, _ = strconv.Atoi(c.FormValue("max_attempts"))
	for _, cat := range Categories {
		in.Minimums[cat] = formHours(c, "min_"+string(cat), cat.Label()+"最低学时", &fields)
	}
	courses, err := h.svc.Courses(c.UserContext())
	if err != nil {
		return err
	}
	for _, co := range courses {
		if c.FormValue("in_"+co.Code) != "on" {
			continue
		}
		in.Courses = append(in.Courses, VersionCourseInput{Code: co.Code, Hours: formHours(c, "hours_"+co.Code, co.Title+"学时", &fields)})
	}
	if len(fields) > 0 {
		return h.renderPlan(c, p, in, apperr.Invalid("invalid_plan_version", "培训计划学时设置有误", fields...), "")
	}
	mode := c.FormValue("assessment", p.Assessment)
	if !ValidAssessment(mode) {
		return h.renderPlan(c, p, in, errInvalidAssessment(), "")
	}
	v, created, err := h.svc.EditPlan(c.UserContext(), p.ID, in)
	if err != nil {
		return h.renderPlan(c, p, in, err, "")
	}
	if mode != p.Assessment {
		if err := h.svc.SetAssessment(c.UserContext(), p.Code, mode); err != nil {
			return err
		}
	}
	url := "/catalog/plans/" + p.Code + "?saved=" + strconv.Itoa(v.Version)
	if created {
		url += "&new=1"
	}
	return web.Redirect(c, url)
}

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
	var form versionForm
	if err := web.BindJSON(c, &form); err != nil {
		return err
	}
	in, err := form.input(p)
	if err != nil {
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
		web.FormStatus(c, formErr)
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
		web.FormStatus(c, formErr)
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

// versionForm is the body of PUT /api/v1/plans/{code}: the plan version in
// the shape GET shows it under "current", so what GET returns can be PUT
// back unchanged. The editable members are min_total_hours, pass_mark,
// max_attempts, minimums and, per course, code and required_hours (hours is
// the older name of required_hours). The read-only members GET adds are
// accepted: id and version, when given, must name the current version (an
// edit made on a stale copy is refused), plan_id this plan; the course's
// course_id, title, category and max_hours and the version's in_use and
// created_at are the catalogue's and are not written.
type versionForm struct {
	ID            *int64              `json:"id"`
	PlanID        *int64              `json:"plan_id"`
	Version       *int                `json:"version"`
	InUse         *bool               `json:"in_use"`
	CreatedAt     *string             `json:"created_at"`
	MinTotalHours Hours               `json:"min_total_hours"`
	PassMark      int                 `json:"pass_mark"`
	MaxAttempts   int                 `json:"max_attempts"`
	Minimums      Minimums            `json:"minimums"`
	Courses       []versionCourseForm `json:"courses"`
}

// versionCourseForm is one course of a versionForm.
type versionCourseForm struct {
	CourseID *int64    `json:"course_id"`
	Code     string    `json:"code"`
	Title    *string   `json:"title"`
	Category *Category `json:"category"`
	Required *Hours    `json:"required_hours"`
	Hours    *Hours    `json:"hours"`
	Max      *Hours    `json:"max_hours"`
}

// input checks the read-only members against plan p and returns the edit.
// Errors: Conflict stale_version; Invalid invalid_plan_version.
func (f versionForm) input(p PlanSummary) (VersionInput, error) {
	if (f.ID != nil && *f.ID != p.Current.ID) || (f.Version != nil && *f.Version != p.Current.Version) {
		return VersionInput{}, apperr.Conflict("stale_version", "培训计划已有更新的版本，请重新读取后再修改").
			With("current_version", p.Current.Version)
	}
	var fields []apperr.FieldError
	if f.PlanID != nil && *f.PlanID != p.ID {
		fields = append(fields, apperr.FieldError{Field: "plan_id", Code: "read_only", Message: "plan_id 与所改的培训计划不符"})
	}
	in := VersionInput{MinTotalHours: f.MinTotalHours, PassMark: f.PassMark, MaxAttempts: f.MaxAttempts, Minimums: f.Minimums}
	for i, c := range f.Courses {
		ci := VersionCourseInput{Code: c.Code}
		switch {
		case c.Required != nil && c.Hours != nil && *c.Required != *c.Hours:
			fields = append(fields, apperr.FieldError{Field: "courses[" + strconv.Itoa(i) + "].required_hours", Code: "conflicting",
				Message: "required_hours 与 hours 不一致（两者同义，填写一个即可）"})
		case c.Required != nil:
			ci.Hours = *c.Required
		case c.Hours != nil:
			ci.Hours = *c.Hours
		}
		in.Courses = append(in.Courses, ci)
	}
	if len(fields) > 0 {
		return VersionInput{}, apperr.Invalid("invalid_plan_version", "培训计划填写有误", fields...)
	}
	return in, nil
}

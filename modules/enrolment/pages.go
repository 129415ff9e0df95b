package enrolment

import (
	"context"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/web"
)

// Region is a row of the regions table for the pages' selects.
type Region struct {
	Code  string `bun:"code"`
	Name  string `bun:"name"`
	Level int    `bun:"level"`
}

// regions lists the regions of Hubei, province first.
func (h *Handler) regions(ctx context.Context) ([]Region, error) {
	var rs []Region
	err := h.svc.db.NewSelect().Table("regions").Column("code", "name", "level").
		Where("code LIKE '42%'").OrderExpr("code").Scan(ctx, &rs)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	return rs, nil
}

func cities(rs []Region) []Region {
	var out []Region
	for _, r := range rs {
		if r.Level == 2 {
			out = append(out, r)
		}
	}
	return out
}

// classRow is a class as the pages show it.
type classRow struct {
	Class
	StateLabel string
}

func classRows(cs []Class) []classRow {
	out := make([]classRow, 0, len(cs))
	for _, c := range cs {
		out = append(out, classRow{Class: c, StateLabel: c.State.Label()})
	}
	return out
}

// query rebuilds the filter part of a list URL for the pager links,
// encoded here so the template can place it as is.
func query(c *fiber.Ctx) template.URL {
	v := url.Values{}
	for _, k := range []string{"state", "plan", "city", "from", "to"} {
		if s := c.Query(k); s != "" {
			v.Set(k, s)
		}
	}
	return template.URL(v.Encode()) // every value is escaped by Encode
}

func (h *Handler) listPage(c *fiber.Ctx) error {
	f, err := filter(c)
	if err != nil {
		return err
	}
	cs, total, err := h.svc.Classes(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return err
	}
	plans, err := h.catalog.Plans(c.UserContext())
	if err != nil {
		return err
	}
	pg, _ := web.Pagination(c)
	return web.Render(c, "classes/list", fiber.Map{"Title": "培训班", "Classes": classRows(cs), "Total": total,
		"Page": pg.Page, "PerPage": pg.PerPage, "Plans": plans, "States": []State{StateDraft, StateOpen, StateRunning, StateCompleted, StateCancelled},
		"Filter": f, "Query": query(c), "IsProvider": accounts.PrincipalOf(c).Is(accounts.RoleProvider)})
}

func (h *Handler) newPage(c *fiber.Ctx) error { return h.renderNew(c, ClassInput{Capacity: 30}, nil) }

func (h *Handler) renderNew(c *fiber.Ctx, in ClassInput, formErr error) error {
	plans, err := h.catalog.Plans(c.UserContext())
	if err != nil {
		return err
	}
	rs, err := h.regions(c.UserContext())
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	if formErr != nil {
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "classes/new", fiber.Map{"Title": "开设培训班", "Form": in, "Plans": plans, "Regions": rs,
		"Error": msg, "Fields": fields})
}

func (h *Handler) createForm(c *fiber.Ctx) error {
	cap, _ := strconv.Atoi(c.FormValue("capacity"))
	in := ClassInput{PlanCode: c.FormValue("plan_code"), Name: c.FormValue("name"), StartsOn: c.FormValue("starts_on"),
		EndsOn: c.FormValue("ends_on"), Capacity: cap, Region: c.FormValue("region"), Place: c.FormValue("place"),
		EnrolOpensOn: c.FormValue("enrol_opens_on"), EnrolClosesOn: c.FormValue("enrol_closes_on")}
	cl, err := h.svc.CreateClass(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return h.renderNew(c, in, err)
	}
	return web.Redirect(c, "/classes/"+itoa(cl.ID))
}

func (h *Handler) searchPage(c *fiber.Ctx) error {
	f, err := filter(c)
	if err != nil {
		return err
	}
	cs, total, err := h.svc.OpenClasses(c.UserContext(), f)
	if err != nil {
		return err
	}
	plans, err := h.catalog.Plans(c.UserContext())
	if err != nil {
		return err
	}
	rs, err := h.regions(c.UserContext())
	if err != nil {
		return err
	}
	pg, _ := web.Pagination(c)
	// A worker sees where they already are instead of a button that would
	// only answer "already enrolled".
	mine := map[int64]string{}
	isWorker := accounts.PrincipalOf(c).Is(accounts.RoleWorker)
	if isWorker {
		ens, err := h.svc.MyEnrolments(c.UserContext(), accounts.PrincipalOf(c))
		if err != nil {
			return err
		}
		for _, e := range ens {
			if e.Status == StatusEnrolled || e.Status == StatusWaitlisted || e.Status == StatusCompleted {
				mine[e.ClassID] = e.Status.Label()
			}
		}
	}
	return web.Render(c, "classes/search", fiber.Map{"Title": "查找培训班", "Classes": classRows(cs), "Total": total,
		"Page": pg.Page, "PerPage": pg.PerPage, "Plans": plans, "Cities": cities(rs), "Filter": f,
		"City": c.Query("city"), "From": c.Query("from"), "To": c.Query("to"), "Query": query(c),
		"IsWorker": isWorker, "Mine": mine})
}

func (h *Handler) waitlistPage(c *fiber.Ctx) error {
	ws, err := h.svc.PlanWaitlist(c.UserContext())
	if err != nil {
		return err
	}
	return web.Render(c, "classes/waitlist", fiber.Map{"Title": "候补名单", "Waiting": ws})
}

func (h *Handler) showPage(c *fiber.Ctx) error { return h.renderShow(c, nil, "") }

// renderShow renders the class page; a failed action shows its error.
func (h *Handler) renderShow(c *fiber.Ctx, actionErr error, notice string) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, roster, err := h.svc.ClassRoster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	_, msg := web.FieldMessages(actionErr)
	if actionErr != nil && msg == "" {
		return actionErr
	}
	if actionErr != nil {
		c.Status(statusOf(actionErr))
	}
	var active, waiting, left []EnrolmentView
	for _, v := range roster {
		switch v.Status {
		case StatusEnrolled, StatusCompleted:
			active = append(active, v)
		case StatusWaitlisted:
			waiting = append(waiting, v)
		default:
			left = append(left, v)
		}
	}
	var mine *EnrolmentView
	if p.Is(accounts.RoleWorker) && len(roster) > 0 {
		mine = &roster[0]
	}
	keeper := p.Is(accounts.RoleAdmin) || p.Is(accounts.RoleProvider) && cl.ProviderOrgID == p.OrgID
	return web.Render(c, "classes/show", fiber.Map{"Title": cl.Name, "Class": classRow{Class: cl, StateLabel: cl.State.Label()},
		"Active": active, "Waiting": waiting, "Left": left, "Mine": mine, "Keeper": keeper,
		"IsWorker": p.Is(accounts.RoleWorker), "IsProvider": p.Is(accounts.RoleProvider) && keeper,
		"CanOpen": keeper && allowed(cl.State, StateOpen), "CanStart": keeper && allowed(cl.State, StateRunning),
		"CanFinish": keeper && allowed(cl.State, StateCompleted), "CanCancel": keeper && allowed(cl.State, StateCancelled),
		"Error": msg, "Notice": notice})
}

func (h *Handler) stateForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	switch c.FormValue("action") {
	case "open":
		_, err = h.svc.Open(ctx, p, id)
	case "start":
		_, err = h.svc.Start(ctx, p, id)
	case "finish":
		_, err = h.svc.Finish(ctx, p, id)
	case "cancel":
		var res Cancellation
		res, err = h.svc.Cancel(ctx, p, id, c.FormValue("reason"))
		if err == nil {
			return h.renderShow(c, nil, fmt.Sprintf("培训班已取消，%d 名学员的报名随之取消，取消原因已记录在审计日志中以便通知。", len(res.Notified)))
		}
	default:
		err = apperr.Invalid("invalid_action", "未知的操作")
	}
	if err != nil {
		return h.renderShow(c, err, "")
	}
	return web.Redirect(c, "/classes/"+itoa(id))
}

func (h *Handler) enrolForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	in := enrolInput{IDNumber: c.FormValue("id_number")}
	if p.Is(accounts.RoleProvider) && strings.TrimSpace(in.IDNumber) == "" {
		in.WorkerID, _ = strconv.ParseInt(strings.TrimSpace(c.FormValue("worker_id")), 10, 64)
	}
	e, err := h.enrol(c, id, in)
	if err != nil {
		return h.renderShow(c, err, "")
	}
	if p.Is(accounts.RoleWorker) {
		return web.Redirect(c, "/me/classes")
	}
	return h.renderShow(c, nil, fmt.Sprintf("已为学员（报名编号 %d）报名：%s。", e.ID, e.Status.Label()))
}

// attendanceLine is one enrolled worker on the attendance form.
type attendanceLine struct {
	Line  int
	View  EnrolmentView
	Done  catalog.Hours
	Max   catalog.Hours
	Value string
}

func (h *Handler) attendancePage(c *fiber.Ctx) error { return h.renderAttendance(c, nil, "", nil) }

func (h *Handler) renderAttendance(c *fiber.Ctx, formErr error, notice string, values map[int64]string) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, roster, err := h.svc.ClassRoster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if !(p.Is(accounts.RoleAdmin) || cl.ProviderOrgID == p.OrgID) {
		return errClassNotFound()
	}
	courseID, _ := strconv.ParseInt(c.Query("course", c.FormValue("course_id")), 10, 64)
	// The courses of the class's plan are those of its enrolments' versions;
	// the first enrolment's list serves for the select.
	var courses []CourseProgress
	seen := map[int64]bool{}
	for _, v := range roster {
		for _, cp := range v.Progress.Courses {
			if !seen[cp.CourseID] {
				seen[cp.CourseID] = true
				courses = append(courses, cp)
			}
		}
	}
	if courseID == 0 && len(courses) > 0 {
		courseID = courses[0].CourseID
	}
	var lines []attendanceLine
	for _, v := range roster {
		if v.Status != StatusEnrolled && v.Status != StatusCompleted {
			continue
		}
		l := attendanceLine{Line: len(lines) + 1, View: v}
		for _, cp := range v.Progress.Courses {
			if cp.CourseID == courseID {
				l.Done, l.Max = cp.Done, cp.Max
			}
		}
		l.Value = l.Done.String()
		if s, ok := values[v.ID]; ok {
			l.Value = s
		}
		lines = append(lines, l)
	}
	var rowErrs []apperr.FieldError
	msg := ""
	if formErr != nil {
		e, ok := apperr.As(formErr)
		if !ok || e.Kind == apperr.KindInternal {
			return formErr
		}
		msg, rowErrs = e.Message, e.Fields
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "classes/attendance", fiber.Map{"Title": "登记学时：" + cl.Name, "Class": cl, "Courses": courses,
		"CourseID": courseID, "Lines": lines, "Error": msg, "RowErrors": rowErrs, "Notice": notice})
}

func (h *Handler) attendanceForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	courseID, _ := strconv.ParseInt(c.FormValue("course_id"), 10, 64)
	p := accounts.PrincipalOf(c)
	_, roster, err := h.svc.ClassRoster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	var entries []AttendanceEntry
	var fields []apperr.FieldError
	values := map[int64]string{}
	line := 0
	for _, v := range roster {
		if v.Status != StatusEnrolled && v.Status != StatusCompleted {
			continue
		}
		line++
		raw := strings.TrimSpace(c.FormValue("hours_" + itoa(v.ID)))
		values[v.ID] = raw
		if raw == "" {
			continue
		}
		hrs, err := catalog.ParseHours(raw)
		if err != nil {
			fields = append(fields, rowErr(line, "hours", "invalid_hours", v.WorkerName+"：学时应为数字，最多一位小数"))
			continue
		}
		entries = append(entries, AttendanceEntry{Row: line, EnrolmentID: v.ID, CourseID: courseID, Hours: hrs,
			Reason: c.FormValue("reason_" + itoa(v.ID))})
	}
	if len(fields) > 0 {
		return h.renderAttendance(c, apperr.Invalid("attendance_invalid", "有学时记录有误，全部未保存", fields...), "", values)
	}
	res, err := h.svc.RecordAttendance(c.UserContext(), p, id, entries, AttendanceForm)
	if err != nil {
		return h.renderAttendance(c, err, "", values)
	}
	return h.renderAttendance(c, nil, attendanceNotice(res), nil)
}

func attendanceNotice(res AttendanceResult) string {
	return fmt.Sprintf("已保存：%d 条变更，%d 条未变；%d 名学员完成学时，%d 名学员因更正不再满足。",
		res.Changed, res.Unchanged, len(res.Completed), len(res.Reopened))
}

func (h *Handler) importForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	data, name, err := upload(c)
	if err != nil {
		return h.renderAttendance(c, err, "", nil)
	}
	res, err := h.svc.ImportAttendance(c.UserContext(), accounts.PrincipalOf(c), id, data, name)
	if err != nil {
		return h.renderAttendance(c, err, "", nil)
	}
	return h.renderAttendance(c, nil, attendanceNotice(res), nil)
}

func (h *Handler) minePage(c *fiber.Ctx) error {
	vs, err := h.svc.MyEnrolments(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return web.Render(c, "enrolment/mine", fiber.Map{"Title": "我的培训", "Enrolments": enrolmentRows(vs), "Today": h.svc.today()})
}

// enrolmentRow is an enrolment as the pages show it.
type enrolmentRow struct {
	EnrolmentView
	StatusLabel string
	StateLabel  string
	CanWithdraw bool
}

func enrolmentRows(vs []EnrolmentView) []enrolmentRow {
	out := make([]enrolmentRow, 0, len(vs))
	for _, v := range vs {
		out = append(out, enrolmentRow{EnrolmentView: v, StatusLabel: v.Status.Label(), StateLabel: v.ClassState.Label(),
			CanWithdraw: v.ClassState == StateOpen && (v.Status == StatusEnrolled || v.Status == StatusWaitlisted)})
	}
	return out
}

func (h *Handler) progressPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Progress(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	type group struct {
		CategoryProgress
		Courses []CourseProgress
	}
	var groups []group
	for _, cat := range v.Progress.Categories {
		g := group{CategoryProgress: cat}
		for _, cp := range v.Progress.Courses {
			if cp.Category == cat.Category {
				g.Courses = append(g.Courses, cp)
			}
		}
		groups = append(groups, g)
	}
	return web.Render(c, "enrolment/progress", fiber.Map{"Title": "学习进度", "E": enrolmentRows([]EnrolmentView{v})[0], "Groups": groups})
}

func (h *Handler) withdrawForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	e, err := h.svc.Withdraw(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if p.Is(accounts.RoleWorker) {
		return web.Redirect(c, "/me/classes")
	}
	return web.Redirect(c, "/classes/"+itoa(e.ClassID))
}

func statusOf(err error) int {
	switch apperr.KindOf(err) {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindNotFound:
		return fiber.StatusNotFound
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindUnsupported:
		return fiber.StatusUnsupportedMediaType
	}
	return fiber.StatusUnprocessableEntity
}

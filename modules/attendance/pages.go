package attendance

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/web"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (h *Handler) showPage(c *fiber.Ctx) error { return h.renderShow(c, nil, "") }

// renderShow renders the class page; a failed action shows its error.
func (h *Handler) renderShow(c *fiber.Ctx, actionErr error, notice string) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, roster, err := h.svc.Roster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	_, msg := web.FieldMessages(actionErr)
	if actionErr != nil && msg == "" {
		return actionErr
	}
	if actionErr != nil {
		c.Status(apperr.Status(actionErr))
	}
	var active, waiting, left []Enrolment
	for _, v := range roster {
		switch v.Status {
		case enrolment.StatusEnrolled, enrolment.StatusCompleted:
			active = append(active, v)
		case enrolment.StatusWaitlisted:
			waiting = append(waiting, v)
		default:
			left = append(left, v)
		}
	}
	var mine *Enrolment
	if p.Is(accounts.RoleWorker) && len(roster) > 0 {
		mine = &roster[0]
	}
	keeper := p.Is(accounts.RoleAdmin) || p.Is(accounts.RoleProvider) && cl.ProviderOrgID == p.OrgID
	return web.Render(c, "classes/show", fiber.Map{"Title": cl.Name, "Class": classes.Row{Class: cl, StateLabel: cl.State.Label()},
		"Active": active, "Waiting": waiting, "Left": left, "Mine": mine, "Keeper": keeper,
		"IsWorker": p.Is(accounts.RoleWorker), "IsProvider": p.Is(accounts.RoleProvider) && keeper,
		"CanOpen":   keeper && classes.Allowed(cl.State, classes.StateOpen),
		"CanStart":  keeper && classes.Allowed(cl.State, classes.StateRunning),
		"CanFinish": keeper && classes.Allowed(cl.State, classes.StateCompleted),
		"CanCancel": keeper && classes.Allowed(cl.State, classes.StateCancelled),
		"Error":     msg, "Notice": notice})
}

func (h *Handler) stateForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	switch c.FormValue("action") {
	case "open":
		_, err = h.enrolment.Open(ctx, p, id)
	case "start":
		_, err = h.enrolment.Start(ctx, p, id)
	case "finish":
		_, err = h.enrolment.Finish(ctx, p, id)
	case "cancel":
		var res enrolment.Cancellation
		res, err = h.enrolment.Cancel(ctx, p, id, c.FormValue("reason"))
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
	in := enrolment.EnrolInput{IDNumber: c.FormValue("id_number")}
	if p.Is(accounts.RoleProvider) && strings.TrimSpace(in.IDNumber) == "" {
		in.WorkerID, _ = strconv.ParseInt(strings.TrimSpace(c.FormValue("worker_id")), 10, 64)
	}
	e, err := h.enrolment.EnrolRequest(c.UserContext(), p, id, in)
	if err != nil {
		return h.renderShow(c, err, "")
	}
	if p.Is(accounts.RoleWorker) {
		return web.Redirect(c, "/me/classes")
	}
	return h.renderShow(c, nil, fmt.Sprintf("已为学员（报名编号 %d）报名：%s。", e.ID, e.Status.Label()))
}

// line is one enrolled worker on the attendance form.
type line struct {
	Line  int
	View  Enrolment
	Done  catalog.Hours
	Max   catalog.Hours
	Value string
}

func (h *Handler) attendancePage(c *fiber.Ctx) error { return h.renderAttendance(c, nil, "", nil) }

// courseChoices are the courses of the class's plan: those of its
// enrolments' versions, the first enrolment's list first.
func courseChoices(roster []Enrolment) []CourseProgress {
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
	return courses
}

// formLines are the attending workers of the roster with their hours in
// course courseID; values holds what the form sent back, by enrolment.
func formLines(roster []Enrolment, courseID int64, values map[int64]string) []line {
	var lines []line
	for _, v := range roster {
		if !v.Status.Attending() {
			continue
		}
		l := line{Line: len(lines) + 1, View: v}
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
	return lines
}

func (h *Handler) renderAttendance(c *fiber.Ctx, formErr error, notice string, values map[int64]string) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, roster, err := h.svc.Roster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if !(p.Is(accounts.RoleAdmin) || cl.ProviderOrgID == p.OrgID) {
		return classes.ErrNotFound()
	}
	courseID, _ := strconv.ParseInt(c.Query("course", c.FormValue("course_id")), 10, 64)
	courses := courseChoices(roster)
	if courseID == 0 && len(courses) > 0 {
		courseID = courses[0].CourseID
	}
	var rowErrs []apperr.FieldError
	msg := ""
	if formErr != nil {
		e, ok := apperr.As(formErr)
		if !ok || e.Kind == apperr.KindInternal {
			return formErr
		}
		msg, rowErrs = e.Message, e.Fields
		c.Status(apperr.Status(formErr))
	}
	return web.Render(c, "classes/attendance", fiber.Map{"Title": "登记学时：" + cl.Name, "Class": cl, "Courses": courses,
		"CourseID": courseID, "Lines": formLines(roster, courseID, values), "Error": msg, "RowErrors": rowErrs, "Notice": notice})
}

func (h *Handler) attendanceForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	courseID, _ := strconv.ParseInt(c.FormValue("course_id"), 10, 64)
	p := accounts.PrincipalOf(c)
	_, roster, err := h.enrolment.ClassRoster(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	var entries []Entry
	var fields []apperr.FieldError
	values := map[int64]string{}
	n := 0
	for _, v := range roster {
		if !v.Status.Attending() {
			continue
		}
		n++
		raw := strings.TrimSpace(c.FormValue("hours_" + itoa(v.ID)))
		values[v.ID] = raw
		if raw == "" {
			continue
		}
		hrs, err := catalog.ParseHours(raw)
		if err != nil {
			fields = append(fields, rowErr(n, "hours", "invalid_hours", v.WorkerName+"：学时应为数字，最多一位小数"))
			continue
		}
		entries = append(entries, Entry{Row: n, EnrolmentID: v.ID, CourseID: courseID, Hours: hrs,
			Reason: c.FormValue("reason_" + itoa(v.ID))})
	}
	if len(fields) > 0 {
		return h.renderAttendance(c, apperr.Invalid("attendance_invalid", "有学时记录有误，全部未保存", fields...), "", values)
	}
	res, err := h.svc.Record(c.UserContext(), p, id, entries, SourceForm)
	if err != nil {
		return h.renderAttendance(c, err, "", values)
	}
	return h.renderAttendance(c, nil, notice(res), nil)
}

func notice(res Result) string {
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
	res, err := h.svc.Import(c.UserContext(), accounts.PrincipalOf(c), id, data, name)
	if err != nil {
		return h.renderAttendance(c, err, "", nil)
	}
	return h.renderAttendance(c, nil, notice(res), nil)
}

func (h *Handler) minePage(c *fiber.Ctx) error {
	vs, err := h.svc.Mine(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return web.Render(c, "enrolment/mine", fiber.Map{"Title": "我的培训", "Enrolments": rows(vs), "Today": h.svc.classes.Today()})
}

// row is an enrolment as the pages show it.
type row struct {
	Enrolment
	StatusLabel string
	StateLabel  string
	CanWithdraw bool
}

func rows(vs []Enrolment) []row {
	out := make([]row, 0, len(vs))
	for _, v := range vs {
		out = append(out, row{Enrolment: v, StatusLabel: v.Status.Label(), StateLabel: v.ClassState.Label(),
			CanWithdraw: v.ClassState == classes.StateOpen && (v.Status == enrolment.StatusEnrolled || v.Status == enrolment.StatusWaitlisted)})
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
	return web.Render(c, "enrolment/progress", fiber.Map{"Title": "学习进度", "E": rows([]Enrolment{v})[0], "Groups": groups})
}

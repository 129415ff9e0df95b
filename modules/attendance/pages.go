package attendance

import (
	"encoding/json"
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

// gridRow is one attending worker on the lessons page: a tick per lesson
// attended and their hours so far.
type gridRow struct {
	View  Enrolment
	Ticks []bool
	Check bool // ticked on the new-lesson form
}

// lessonForm is what the new-lesson form sent back, to show it again.
type lessonForm struct {
	Date, Course, Hours string
	Present             map[int64]bool
}

func (h *Handler) lessonsPage(c *fiber.Ctx) error {
	return h.renderLessons(c, nil, "", lessonForm{})
}

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

// renderLessons renders the lessons grid of a class (lessons × attending
// workers) with the new-lesson form and the sign-in sheet upload; a failed
// action shows its errors and keeps what was typed.
func (h *Handler) renderLessons(c *fiber.Ctx, formErr error, notice string, form lessonForm) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	cl, roster, ls, err := h.svc.Lessons(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if !(p.Is(accounts.RoleAdmin) || cl.ProviderOrgID == p.OrgID) {
		return classes.ErrNotFound()
	}
	msg, rowErrs, err := formError(c, formErr)
	if err != nil {
		return err
	}
	var grid []gridRow
	for _, v := range roster {
		if !v.Status.Attending() {
			continue
		}
		r := gridRow{View: v, Check: form.Present[v.ID]}
		for _, l := range ls {
			r.Ticks = append(r.Ticks, l.Attended(v.ID))
		}
		grid = append(grid, r)
	}
	if form.Date == "" {
		today := h.svc.classes.Today()
		if today.After(cl.EndsOn) {
			today = cl.EndsOn
		}
		form.Date = today.Format("2006-01-02")
	}
	return web.Render(c, "classes/lessons", fiber.Map{"Title": "考勤：" + cl.Name, "Class": cl, "Lessons": ls, "Grid": grid,
		"Courses": courseChoices(roster), "Form": form, "Attendable": classes.Attendable(cl) == nil,
		"Error": msg, "RowErrors": rowErrs, "Notice": notice})
}

// formError turns a refused action into a message and row errors shown on
// the page, with the status it answers; anything else is passed on.
func formError(c *fiber.Ctx, formErr error) (string, []apperr.FieldError, error) {
	if formErr == nil {
		return "", nil, nil
	}
	e, ok := apperr.As(formErr)
	if !ok || e.Kind == apperr.KindInternal {
		return "", nil, formErr
	}
	c.Status(apperr.Status(formErr))
	return e.Message, e.Fields, nil
}

// presentIDs reads the ticked boxes "present" of a form.
func presentIDs(c *fiber.Ctx) []int64 {
	var out []int64
	for _, raw := range c.Request().PostArgs().PeekMulti("present") {
		if id, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func (h *Handler) lessonForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	form := lessonForm{Date: c.FormValue("date"), Course: c.FormValue("course_code"), Hours: c.FormValue("hours"), Present: map[int64]bool{}}
	present := presentIDs(c)
	for _, e := range present {
		form.Present[e] = true
	}
	hrs, err := catalog.ParseHours(form.Hours)
	if err != nil {
		return h.renderLessons(c, apperr.Invalid("lesson_invalid", "课次记录有误，未保存",
			apperr.FieldError{Field: "hours", Code: "invalid_hours", Message: "学时应为数字，以 0.5 为单位"}), "", form)
	}
	in := LessonInput{Date: form.Date, CourseCode: form.Course, Hours: hrs, Present: present}
	res, err := h.svc.RecordLesson(c.UserContext(), accounts.PrincipalOf(c), id, in, SourceForm)
	if err != nil {
		return h.renderLessons(c, err, "", form)
	}
	return h.renderLessons(c, nil, fmt.Sprintf("已记录 %s %s %s 学时，出勤 %d 人；%d 名学员完成全部学时。",
		res.Date, res.CourseCode, res.Hours, len(res.Present), len(res.Completed)), lessonForm{})
}

// sheetForm reads an uploaded sign-in sheet and shows what it would store;
// the preview page carries the lessons back to sheetConfirm, which checks
// them again before storing.
func (h *Handler) sheetForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	data, name, err := upload(c)
	if err != nil {
		return h.renderLessons(c, err, "", lessonForm{})
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	ins, err := h.svc.ReadSheet(ctx, p, id, data, name)
	if err != nil {
		return h.renderLessons(c, err, "", lessonForm{})
	}
	res, err := h.svc.PreviewLessons(ctx, p, id, ins)
	if err != nil {
		return h.renderLessons(c, err, "", lessonForm{})
	}
	cl, roster, _, err := h.svc.Lessons(ctx, p, id)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, v := range roster {
		names[v.ID] = v.WorkerName
	}
	type previewLesson struct {
		LessonResult
		Names []string
	}
	var rows []previewLesson
	completed := 0
	for _, r := range res {
		pl := previewLesson{LessonResult: r}
		for _, e := range r.Present {
			pl.Names = append(pl.Names, names[e])
		}
		completed += len(r.Completed)
		rows = append(rows, pl)
	}
	carried, err := json.Marshal(ins)
	if err != nil {
		return apperr.Internal(err)
	}
	return web.Render(c, "classes/sheet", fiber.Map{"Title": "签到表预览：" + cl.Name, "Class": cl, "Rows": rows,
		"Completed": completed, "Sheet": string(carried)})
}

func (h *Handler) sheetConfirm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var ins []LessonInput
	dec := json.NewDecoder(strings.NewReader(c.FormValue("lessons")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ins); err != nil {
		return h.renderLessons(c, apperr.Invalid("sheet_invalid", "预览内容已损坏，请重新上传签到表"), "", lessonForm{})
	}
	res, err := h.svc.RecordLessons(c.UserContext(), accounts.PrincipalOf(c), id, ins)
	if err != nil {
		return h.renderLessons(c, err, "", lessonForm{})
	}
	completed := 0
	for _, r := range res {
		completed += len(r.Completed)
	}
	return h.renderLessons(c, nil, fmt.Sprintf("签到表已保存：%d 个课次；%d 名学员完成全部学时。", len(res), completed), lessonForm{})
}

func (h *Handler) lessonPage(c *fiber.Ctx) error { return h.renderLesson(c, nil, "", nil) }

// renderLesson renders one lesson with a tick box per attending worker and
// the reason a correction needs.
func (h *Handler) renderLesson(c *fiber.Ctx, formErr error, notice string, ticked map[int64]bool) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	l, cl, roster, err := h.svc.Lesson(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if !(p.Is(accounts.RoleAdmin) || cl.ProviderOrgID == p.OrgID) {
		return ErrLessonNotFound()
	}
	msg, rowErrs, err := formError(c, formErr)
	if err != nil {
		return err
	}
	type tick struct {
		View  Enrolment
		Check bool
	}
	var ticks []tick
	for _, v := range roster {
		if !v.Status.Attending() && !l.Attended(v.ID) {
			continue
		}
		t := tick{View: v, Check: l.Attended(v.ID)}
		if ticked != nil {
			t.Check = ticked[v.ID]
		}
		ticks = append(ticks, t)
	}
	return web.Render(c, "lessons/show", fiber.Map{"Title": "课次 " + l.Date + " " + l.CourseCode, "Lesson": l, "Class": cl,
		"Ticks": ticks, "Error": msg, "RowErrors": rowErrs, "Notice": notice})
}

func (h *Handler) correctForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	present := presentIDs(c)
	ticked := map[int64]bool{}
	for _, e := range present {
		ticked[e] = true
	}
	res, err := h.svc.CorrectLesson(c.UserContext(), accounts.PrincipalOf(c), id, Correction{Present: present, Reason: c.FormValue("reason")})
	if err != nil {
		return h.renderLesson(c, err, "", ticked)
	}
	if len(res.Added) == 0 && len(res.Removed) == 0 {
		return h.renderLesson(c, nil, "出勤没有变化，未作更正。", nil)
	}
	return h.renderLesson(c, nil, fmt.Sprintf("已更正：补记 %d 人，取消 %d 人；原因已记录。", len(res.Added), len(res.Removed)), nil)
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
	hist, err := h.svc.History(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	// The class is a link only for a reader who may open it: a college
	// follows its graduates into classes that are their providers', and a
	// bureau may follow a worker of its region into a class held elsewhere.
	classOpens := true
	if _, err := h.svc.classes.Class(c.UserContext(), accounts.PrincipalOf(c), v.ClassID); apperr.Is(err, "class_not_found") {
		classOpens = false
	} else if err != nil {
		return err
	}
	return web.Render(c, "enrolment/progress", fiber.Map{"Title": "学习进度", "E": rows([]Enrolment{v})[0], "Groups": groups, "History": hist,
		"ClassOpens": classOpens})
}

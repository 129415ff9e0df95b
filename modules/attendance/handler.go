package attendance

import (
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/enrolment"
	"tuoyu/modules/web"
)

// Handler serves hours and progress: the attendance API and pages, and the
// pages and lists that show enrolments with their progress (the class page
// with its roster and its forms, "my training", one enrolment's progress).
type Handler struct {
	svc       *Service
	enrolment *enrolment.Service
	catalog   *catalog.Service
	outcome   EnrolmentOutcomeFunc // set by WithOutcome; nil shows no outcome
}

// NewHandler returns the attendance handler.
func NewHandler(svc *Service, enr *enrolment.Service, cat *catalog.Service) *Handler {
	return &Handler{svc: svc, enrolment: enr, catalog: cat}
}

// maxUpload bounds an attendance file: a class's hours fit in far less.
const maxUpload = 5 << 20

// Routes registers the API and page routes. Register it after the classes
// and enrolment handlers (their fixed paths come before /classes/:id).
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	worker := accounts.Require(accounts.RoleWorker)
	enrollers := accounts.Require(accounts.RoleWorker, accounts.RoleProvider)
	keepers := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin)
	college := accounts.Require(accounts.RoleCollege)

	api.Get("/classes/:id/enrolments", anyone, h.apiRoster)
	api.Get("/classes/:id/lessons", keepers, h.apiLessons)
	api.Post("/classes/:id/lessons", keepers, h.apiRecordLesson)
	api.Post("/classes/:id/lessons/sheet", keepers, h.apiSheet)
	api.Patch("/lessons/:id", keepers, h.apiCorrectLesson)
	api.Get("/enrolments", worker, h.apiMine)
	api.Get("/enrolments/:id", anyone, h.apiProgress)
	api.Get("/enrolments/:id/history", anyone, h.apiHistory)
	api.Get("/graduates/progress", college, h.apiGraduates)

	pages.Get("/classes/:id", anyone, h.showPage)
	pages.Post("/classes/:id/state", keepers, h.stateForm)
	pages.Post("/classes/:id/enrolments", enrollers, h.enrolForm)
	pages.Get("/classes/:id/lessons", keepers, h.lessonsPage)
	pages.Post("/classes/:id/lessons", keepers, h.lessonForm)
	pages.Post("/classes/:id/lessons/sheet", keepers, h.sheetForm)
	pages.Post("/classes/:id/lessons/sheet/confirm", keepers, h.sheetConfirm)
	pages.Get("/lessons/:id", keepers, h.lessonPage)
	pages.Post("/lessons/:id", keepers, h.correctForm)
	pages.Get("/me/classes", worker, h.minePage)
	pages.Get("/enrolments/:id", anyone, h.progressPage)
	pages.Get("/graduates", college, h.graduatesPage)
}

// EnrolmentJSON is an enrolment with progress as the API returns it.
type EnrolmentJSON struct {
	Enrolment
	StartsOn    string  `json:"starts_on"`
	EndsOn      string  `json:"ends_on"`
	CompletedOn *string `json:"completed_on"`
}

func enrolmentsJSON(vs []Enrolment) []EnrolmentJSON {
	out := make([]EnrolmentJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, EnrolmentJSON{Enrolment: v, StartsOn: v.StartsOn.Format(time.DateOnly),
			EndsOn: v.EndsOn.Format(time.DateOnly), CompletedOn: classes.DateText(v.CompletedOn)})
	}
	return out
}

func (h *Handler) apiRoster(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	status, err := web.QueryEnum(c, "status", statuses...)
	if err != nil {
		return err
	}
	_, all, err := h.svc.Roster(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	vs := withStatus(all, status)
	total := len(vs)
	from, to := min(pg.Offset(), total), min(pg.Offset()+pg.PerPage, total)
	return c.JSON(web.List(enrolmentsJSON(vs[from:to]), total))
}

func (h *Handler) apiLessons(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	fs := web.NewFilters(c)
	course := strings.ToUpper(strings.TrimSpace(c.Query("course")))
	from, to := fs.Date("from", nil), fs.Date("to", nil)
	_, roster, all, err := h.svc.Lessons(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	if course != "" && !slices.ContainsFunc(courseChoices(roster), func(cp CourseProgress) bool { return cp.Code == course }) {
		fs.Fail("course", "课程代码「"+course+"」不在本班培训计划中")
	}
	if err := fs.Err(); err != nil {
		return err
	}
	ls := make([]Lesson, 0, len(all))
	for _, l := range all {
		if (course == "" || l.CourseCode == course) && (from.IsZero() || !l.HeldOn.Before(from)) && (to.IsZero() || !l.HeldOn.After(to)) {
			ls = append(ls, l)
		}
	}
	return c.JSON(web.List(ls, len(ls)))
}

func (h *Handler) apiRecordLesson(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in LessonInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.RecordLesson(c.UserContext(), accounts.PrincipalOf(c), id, in, SourceForm)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(res)
}

func (h *Handler) apiCorrectLesson(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in Correction
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.CorrectLesson(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// sheetJSON answers a sign-in sheet upload: the lessons it holds (with the
// completions they bring) and whether they were stored.
type sheetJSON struct {
	Stored  bool           `json:"stored"`
	Lessons []LessonResult `json:"lessons"`
}

// apiSheet reads a sign-in sheet; it previews unless the form field
// confirm is "true", then it stores every lesson or none.
func (h *Handler) apiSheet(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	store := false
	switch strings.TrimSpace(c.FormValue("confirm")) {
	case "", "false":
	case "true":
		store = true
	default:
		return apperr.Invalid("invalid_field", "confirm 只能是 true 或 false",
			apperr.FieldError{Field: "confirm", Code: "invalid_field", Message: "confirm 只能是 true 或 false"})
	}
	data, name, err := upload(c)
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	ins, err := h.svc.ReadSheet(ctx, p, id, data, name)
	if err != nil {
		return err
	}
	if !store {
		res, err := h.svc.PreviewLessons(ctx, p, id, ins)
		if err != nil {
			return err
		}
		return c.JSON(sheetJSON{Lessons: res})
	}
	res, err := h.svc.RecordLessons(ctx, p, id, ins)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sheetJSON{Stored: true, Lessons: res})
}

func (h *Handler) apiHistory(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	hist, err := h.svc.History(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(hist)
}

// upload reads the multipart field "file" within maxUpload.
func upload(c *fiber.Ctx) ([]byte, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", apperr.Invalid("file_required", "请选择要上传的文件",
			apperr.FieldError{Field: "file", Code: "required", Message: "请选择要上传的文件"})
	}
	if fh.Size > maxUpload {
		return nil, "", apperr.TooLarge("file_too_large", "文件过大，不能超过 5 MB")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", apperr.Internal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return nil, "", apperr.Internal(err)
	}
	return data, fh.Filename, nil
}

// statuses are the values of the status filter of enrolment lists.
var statuses = []string{string(enrolment.StatusEnrolled), string(enrolment.StatusWaitlisted),
	string(enrolment.StatusCompleted), string(enrolment.StatusWithdrawn), string(enrolment.StatusCancelled)}

// withStatus keeps the enrolments in status ("" keeps all).
func withStatus(vs []Enrolment, status string) []Enrolment {
	if status == "" {
		return vs
	}
	out := make([]Enrolment, 0, len(vs))
	for _, v := range vs {
		if string(v.Status) == status {
			out = append(out, v)
		}
	}
	return out
}

func (h *Handler) apiMine(c *fiber.Ctx) error {
	status, err := web.QueryEnum(c, "status", statuses...)
	if err != nil {
		return err
	}
	vs, err := h.svc.Mine(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	vs = withStatus(vs, status)
	return c.JSON(web.List(enrolmentsJSON(vs), len(vs)))
}

func (h *Handler) apiProgress(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Progress(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return h.withOutcome(c, enrolmentsJSON([]Enrolment{v})[0])
}

// GraduateJSON is a graduate's enrolment as the API returns it.
type GraduateJSON struct {
	EnrolmentJSON
	Outcome *Outcome `json:"outcome"`
}

// graduates reads the status filter and the window (?page=&per_page= or
// ?after=, see web.Paging) and loads the page, read with one row more than
// the page so the listing knows whether a next one exists. Errors: Invalid
// invalid_filter, invalid_pagination, page_too_deep, invalid_cursor.
func (h *Handler) graduates(c *fiber.Ctx) (web.Listing[Graduate], web.Window, error) {
	status, err := web.QueryEnum(c, "status", statuses...)
	if err != nil {
		return web.Listing[Graduate]{}, web.Window{}, err
	}
	win, err := web.Paging(c)
	if err != nil {
		return web.Listing[Graduate]{}, win, err
	}
	f := enrolment.GraduatesPage{Status: enrolment.Status(status), Limit: win.Fetch(), Offset: win.Offset()}
	if win.After != "" {
		if err := win.Key(&f.AfterName, &f.AfterWorkerID, &f.AfterID); err != nil {
			return web.Listing[Graduate]{}, win, err
		}
	}
	gs, total, estimate, err := h.svc.Graduates(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return web.Listing[Graduate]{}, win, err
	}
	return web.NewListing(win, gs, total, estimate, func(i int) string {
		return web.Cursor(gs[i].WorkerName, gs[i].WorkerID, gs[i].ID)
	}), win, nil
}

func (h *Handler) apiGraduates(c *fiber.Ctx) error {
	l, _, err := h.graduates(c)
	if err != nil {
		return err
	}
	out := make([]GraduateJSON, 0, len(l.Items))
	for _, g := range l.Items {
		out = append(out, GraduateJSON{EnrolmentJSON: enrolmentsJSON([]Enrolment{g.Enrolment})[0], Outcome: g.Outcome})
	}
	return c.JSON(web.Listing[GraduateJSON]{Items: out, Total: l.Total, TotalIsEstimate: l.TotalIsEstimate, NextCursor: l.NextCursor})
}

func (h *Handler) graduatesPage(c *fiber.Ctx) error {
	l, win, err := h.graduates(c)
	if err != nil {
		return err
	}
	return web.Render(c, "graduates/list", fiber.Map{"Title": "毕业生培训进度", "Graduates": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate,
		"Page": win.Page, "PerPage": win.PerPage, "Next": l.NextCursor, "Cursor": win.After != "", "Status": c.Query("status")})
}

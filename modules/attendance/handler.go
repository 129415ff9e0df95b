package attendance

import (
	"io"
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
	outcome   OutcomeFunc // set by WithOutcome; nil shows no outcome
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

	api.Get("/classes/:id/enrolments", anyone, h.apiRoster)
	api.Post("/classes/:id/attendance", keepers, h.apiAttendance)
	api.Post("/classes/:id/attendance/import", keepers, h.apiImport)
	api.Get("/enrolments", worker, h.apiMine)
	api.Get("/enrolments/:id", anyone, h.apiProgress)

	pages.Get("/classes/:id", anyone, h.showPage)
	pages.Post("/classes/:id/state", keepers, h.stateForm)
	pages.Post("/classes/:id/enrolments", enrollers, h.enrolForm)
	pages.Get("/classes/:id/attendance", keepers, h.attendancePage)
	pages.Post("/classes/:id/attendance", keepers, h.attendanceForm)
	pages.Post("/classes/:id/attendance/import", keepers, h.importForm)
	pages.Get("/me/classes", worker, h.minePage)
	pages.Get("/enrolments/:id", anyone, h.progressPage)
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
	_, vs, err := h.svc.Roster(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	total := len(vs)
	from, to := min(pg.Offset(), total), min(pg.Offset()+pg.PerPage, total)
	return c.JSON(web.List(enrolmentsJSON(vs[from:to]), total))
}

type attendanceJSON struct {
	Entries []struct {
		EnrolmentID int64         `json:"enrolment_id"`
		CourseCode  string        `json:"course_code"`
		Hours       catalog.Hours `json:"hours"`
		Reason      string        `json:"reason"`
	} `json:"entries"`
}

func (h *Handler) apiAttendance(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in attendanceJSON
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cs, err := h.catalog.Courses(c.UserContext())
	if err != nil {
		return err
	}
	codes := courseIDs(cs)
	entries := make([]Entry, 0, len(in.Entries))
	var fields []apperr.FieldError
	for i, e := range in.Entries {
		cid, ok := codes[strings.ToUpper(e.CourseCode)]
		if !ok {
			fields = append(fields, rowErr(i+1, "course_code", "unknown_course", "课程代码 "+e.CourseCode+" 不存在"))
			continue
		}
		entries = append(entries, Entry{Row: i + 1, EnrolmentID: e.EnrolmentID, CourseID: cid, Hours: e.Hours, Reason: e.Reason})
	}
	if len(fields) > 0 {
		return apperr.Invalid("attendance_invalid", "有学时记录有误，全部未保存", fields...)
	}
	res, err := h.svc.Record(c.UserContext(), accounts.PrincipalOf(c), id, entries, SourceForm)
	if err != nil {
		return err
	}
	return c.JSON(res)
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

func (h *Handler) apiImport(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	data, name, err := upload(c)
	if err != nil {
		return err
	}
	res, err := h.svc.Import(c.UserContext(), accounts.PrincipalOf(c), id, data, name)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *Handler) apiMine(c *fiber.Ctx) error {
	vs, err := h.svc.Mine(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
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

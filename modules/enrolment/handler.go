package enrolment

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/catalog"
	"tuoyu/modules/web"
)

// Handler serves classes, enrolments and attendance: the JSON API and the
// pages for workers, providers and staff.
type Handler struct {
	svc     *Service
	catalog *catalog.Service
	outcome OutcomeFunc // set by WithOutcome; nil shows no outcome
}

// NewHandler returns the enrolment handler.
func NewHandler(svc *Service, cat *catalog.Service) *Handler {
	return &Handler{svc: svc, catalog: cat}
}

// maxUpload bounds an attendance file: a class's hours fit in far less.
const maxUpload = 5 << 20

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	provider := accounts.Require(accounts.RoleProvider)
	worker := accounts.Require(accounts.RoleWorker)
	staff := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin, accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator)
	enrollers := accounts.Require(accounts.RoleWorker, accounts.RoleProvider)
	keepers := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin)

	api.Post("/classes", provider, h.apiCreate)
	api.Get("/classes", anyone, h.apiList)
	api.Get("/classes/search", anyone, h.apiSearch)
	api.Get("/classes/:id", anyone, h.apiShow)
	api.Post("/classes/:id/open", keepers, h.apiMove(h.svc.Open))
	api.Post("/classes/:id/start", keepers, h.apiMove(h.svc.Start))
	api.Post("/classes/:id/finish", keepers, h.apiMove(h.svc.Finish))
	api.Post("/classes/:id/cancel", keepers, h.apiCancel)
	api.Get("/classes/:id/enrolments", anyone, h.apiRoster)
	api.Post("/classes/:id/enrolments", enrollers, h.apiEnrol)
	api.Post("/classes/:id/attendance", keepers, h.apiAttendance)
	api.Post("/classes/:id/attendance/import", keepers, h.apiImport)
	api.Get("/enrolments", worker, h.apiMine)
	api.Get("/enrolments/:id", anyone, h.apiProgress)
	api.Post("/enrolments/:id/withdraw", enrollers, h.apiWithdraw)
	api.Get("/plan-waitlist", staff, h.apiPlanWaitlist)

	pages.Get("/classes", staff, h.listPage)
	pages.Post("/classes", provider, h.createForm)
	pages.Get("/classes/new", provider, h.newPage)
	pages.Get("/classes/search", anyone, h.searchPage)
	pages.Get("/classes/waitlist", staff, h.waitlistPage)
	pages.Get("/classes/:id", anyone, h.showPage)
	pages.Post("/classes/:id/state", keepers, h.stateForm)
	pages.Post("/classes/:id/enrolments", enrollers, h.enrolForm)
	pages.Get("/classes/:id/attendance", keepers, h.attendancePage)
	pages.Post("/classes/:id/attendance", keepers, h.attendanceForm)
	pages.Post("/classes/:id/attendance/import", keepers, h.importForm)
	pages.Get("/me/classes", worker, h.minePage)
	pages.Get("/enrolments/:id", anyone, h.progressPage)
	pages.Post("/enrolments/:id/withdraw", enrollers, h.withdrawForm)
}

// ClassJSON is a class as the API returns it.
type ClassJSON struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	PlanCode      string     `json:"plan_code"`
	PlanName      string     `json:"plan_name"`
	ProviderID    int64      `json:"provider_org_id"`
	ProviderName  string     `json:"provider_name"`
	StartsOn      string     `json:"starts_on"`
	EndsOn        string     `json:"ends_on"`
	Place         string     `json:"place"`
	Region        string     `json:"region"`
	RegionName    string     `json:"region_name"`
	Capacity      int        `json:"capacity"`
	Enrolled      int        `json:"enrolled"`
	Waitlisted    int        `json:"waitlisted"`
	Remaining     int        `json:"remaining"`
	EnrolOpensOn  *string    `json:"enrol_opens_on"`
	EnrolClosesOn *string    `json:"enrol_closes_on"`
	State         State      `json:"state"`
	CancelReason  string     `json:"cancel_reason,omitempty"`
	CancelledAt   *time.Time `json:"cancelled_at,omitempty"`
}

func dateText(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func classJSON(c Class) ClassJSON {
	return ClassJSON{ID: c.ID, Name: c.Name, PlanCode: c.PlanCode, PlanName: c.PlanName, ProviderID: c.ProviderOrgID,
		ProviderName: c.ProviderName, StartsOn: c.StartsOn.Format(time.DateOnly), EndsOn: c.EndsOn.Format(time.DateOnly),
		Place: c.Place, Region: c.RegionCode, RegionName: c.RegionName, Capacity: c.Capacity, Enrolled: c.EnrolledCount,
		Waitlisted: c.WaitlistedCount, Remaining: c.Remaining(), EnrolOpensOn: dateText(c.EnrolOpensOn),
		EnrolClosesOn: dateText(c.EnrolClosesOn), State: c.State, CancelReason: c.CancelReason, CancelledAt: c.CancelledAt}
}

func classesJSON(cs []Class) []ClassJSON {
	out := make([]ClassJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, classJSON(c))
	}
	return out
}

// EnrolmentJSON is an enrolment with progress as the API returns it.
type EnrolmentJSON struct {
	EnrolmentView
	StartsOn    string  `json:"starts_on"`
	EndsOn      string  `json:"ends_on"`
	CompletedOn *string `json:"completed_on"`
}

func enrolmentsJSON(vs []EnrolmentView) []EnrolmentJSON {
	out := make([]EnrolmentJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, EnrolmentJSON{EnrolmentView: v, StartsOn: v.StartsOn.Format(time.DateOnly),
			EndsOn: v.EndsOn.Format(time.DateOnly), CompletedOn: dateText(v.CompletedOn)})
	}
	return out
}

// filter reads the list filters of a query string: state, plan, city (or
// region), from, to.
func filter(c *fiber.Ctx) (ClassFilter, error) {
	f := ClassFilter{State: State(c.Query("state")), PlanCode: c.Query("plan"), Region: c.Query("region")}
	if f.Region == "" {
		f.Region = c.Query("city")
	}
	var fields []apperr.FieldError
	f.From = queryDate(c, "from", &fields)
	f.To = queryDate(c, "to", &fields)
	if f.Region != "" && (len(f.Region) != 6 || strings.Trim(f.Region, "0123456789") != "") {
		fields = append(fields, apperr.FieldError{Field: "region", Code: "invalid_region", Message: "行政区划代码应为6位数字"})
	}
	switch f.State {
	case "", StateDraft, StateOpen, StateRunning, StateCompleted, StateCancelled:
	default:
		fields = append(fields, apperr.FieldError{Field: "state", Code: "invalid_state", Message: "班级状态无效"})
	}
	if len(fields) > 0 {
		return f, apperr.Invalid("invalid_filter", "查询条件有误", fields...)
	}
	pg, err := web.Pagination(c)
	if err != nil {
		return f, err
	}
	f.Limit, f.Offset = pg.PerPage, pg.Offset()
	return f, nil
}

func queryDate(c *fiber.Ctx, name string, fields *[]apperr.FieldError) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		*fields = append(*fields, apperr.FieldError{Field: name, Code: "invalid_date", Message: "日期应为 YYYY-MM-DD"})
	}
	return t
}

func (h *Handler) apiCreate(c *fiber.Ctx) error {
	var in ClassInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cl, err := h.svc.CreateClass(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(classJSON(cl))
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	f, err := filter(c)
	if err != nil {
		return err
	}
	cs, total, err := h.svc.Classes(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(web.List(classesJSON(cs), total))
}

func (h *Handler) apiSearch(c *fiber.Ctx) error {
	f, err := filter(c)
	if err != nil {
		return err
	}
	cs, total, err := h.svc.OpenClasses(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(web.List(classesJSON(cs), total))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cl, err := h.svc.Class(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(classJSON(cl))
}

func (h *Handler) apiMove(move func(ctx context.Context, p *accounts.Principal, id int64) (Class, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := web.ParamID(c, "id")
		if err != nil {
			return err
		}
		cl, err := move(c.UserContext(), accounts.PrincipalOf(c), id)
		if err != nil {
			return err
		}
		return c.JSON(classJSON(cl))
	}
}

type cancelForm struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiCancel(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in cancelForm
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.Cancel(c.UserContext(), accounts.PrincipalOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"class": classJSON(res.Class), "affected_worker_ids": nonNil(res.Notified)})
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
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
	_, vs, err := h.svc.ClassRoster(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	total := len(vs)
	from, to := min(pg.Offset(), total), min(pg.Offset()+pg.PerPage, total)
	return c.JSON(web.List(enrolmentsJSON(vs[from:to]), total))
}

// enrolInput is the body of an enrolment: {} by a worker for themself; by a
// provider either {"worker_id"} of a worker in its scope or {"id_number"}
// of a registered person it has in front of it.
type enrolInput struct {
	WorkerID int64  `json:"worker_id"`
	IDNumber string `json:"id_number"`
}

// enrol runs the enrolment in names.
func (h *Handler) enrol(c *fiber.Ctx, classID int64, in enrolInput) (Enrolment, error) {
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	if strings.TrimSpace(in.IDNumber) == "" {
		return h.svc.Enrol(ctx, p, classID, in.WorkerID)
	}
	if in.WorkerID != 0 {
		return Enrolment{}, apperr.Invalid("invalid_enrolment", "请只填写学员编号或身份证号中的一项",
			apperr.FieldError{Field: "id_number", Code: "one_of", Message: "worker_id 与 id_number 只能填写一项"})
	}
	return h.svc.EnrolByIDNumber(ctx, p, classID, in.IDNumber)
}

func (h *Handler) apiEnrol(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in enrolInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	e, err := h.enrol(c, id, in)
	if err != nil {
		return err
	}
	out := fiber.Map{"id": e.ID, "status": e.Status, "class_id": e.ClassID, "worker_id": e.WorkerID}
	if e.Position != nil {
		out["position"] = *e.Position
	}
	return c.Status(fiber.StatusCreated).JSON(out)
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
	codes, err := h.courseIDs(c)
	if err != nil {
		return err
	}
	entries := make([]AttendanceEntry, 0, len(in.Entries))
	var fields []apperr.FieldError
	for i, e := range in.Entries {
		cid, ok := codes[strings.ToUpper(e.CourseCode)]
		if !ok {
			fields = append(fields, rowErr(i+1, "course_code", "unknown_course", "课程代码 "+e.CourseCode+" 不存在"))
			continue
		}
		entries = append(entries, AttendanceEntry{Row: i + 1, EnrolmentID: e.EnrolmentID, CourseID: cid, Hours: e.Hours, Reason: e.Reason})
	}
	if len(fields) > 0 {
		return apperr.Invalid("attendance_invalid", "有学时记录有误，全部未保存", fields...)
	}
	res, err := h.svc.RecordAttendance(c.UserContext(), accounts.PrincipalOf(c), id, entries, AttendanceForm)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *Handler) courseIDs(c *fiber.Ctx) (map[string]int64, error) {
	cs, err := h.catalog.Courses(c.UserContext())
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(cs))
	for _, co := range cs {
		out[strings.ToUpper(co.Code)] = co.ID
	}
	return out, nil
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
	res, err := h.svc.ImportAttendance(c.UserContext(), accounts.PrincipalOf(c), id, data, name)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *Handler) apiMine(c *fiber.Ctx) error {
	vs, err := h.svc.MyEnrolments(c.UserContext(), accounts.PrincipalOf(c))
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
	return h.withOutcome(c, enrolmentsJSON([]EnrolmentView{v})[0])
}

func (h *Handler) apiWithdraw(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.Withdraw(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": e.ID, "status": e.Status})
}

func (h *Handler) apiPlanWaitlist(c *fiber.Ctx) error {
	ws, err := h.svc.PlanWaitlist(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(web.List(ws, len(ws)))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

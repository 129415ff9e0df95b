package assessments

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the assessment API and pages.
type Handler struct {
	svc     *Service
	loc     *time.Location
	baseURL string
}

// NewHandler returns the assessment handler; baseURL makes the calendar
// feed's address.
func NewHandler(svc *Service, loc *time.Location, baseURL string) *Handler {
	return &Handler{svc: svc, loc: loc, baseURL: strings.TrimRight(baseURL, "/")}
}

// maxUpload bounds a results file: 5000 rows fit in far less.
const maxUpload = 5 << 20

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	provider := accounts.Require(accounts.RoleProvider)
	worker := accounts.Require(accounts.RoleWorker)
	staff := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin, accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator)

	api.Get("/classes/:id/assessments", anyone, h.apiClass)
	api.Post("/classes/:id/assessments", provider, h.apiSchedule)
	api.Get("/assessments/:id", staff, h.apiShow)
	api.Patch("/assessments/:id", provider, h.apiMove)
	api.Post("/assessments/:id/cancel", provider, h.apiCancel)
	api.Get("/assessments/:id/candidates", staff, h.apiCandidates)
	api.Get("/assessments/:id/examiners", staff, h.apiExaminers)
	api.Put("/assessments/:id/examiners", provider, h.apiSetExaminers)
	api.Post("/assessments/:id/results", provider, h.apiResults)
	api.Post("/assessments/:id/results/import", provider, h.apiImport)
	api.Patch("/assessment-results/:id", provider, h.apiCorrect)
	api.Get("/workers/:id/results", anyone, h.apiWorkerResults)
	api.Post("/me/calendar-token", worker, h.apiResetToken)

	pages.Get("/classes/:id/assessments", staff, h.classPage)
	pages.Post("/classes/:id/assessments", provider, h.scheduleForm)
	pages.Get("/assessments/:id", staff, h.showPage)
	pages.Post("/assessments/:id/move", provider, h.moveForm)
	pages.Post("/assessments/:id/cancel", provider, h.cancelForm)
	pages.Post("/assessments/:id/examiners", provider, h.examinersForm)
	pages.Post("/assessments/:id/results", provider, h.resultsForm)
	pages.Post("/assessments/:id/results/import", provider, h.importForm)
	pages.Post("/assessment-results/:id/correct", provider, h.correctForm)
	pages.Get("/me/assessments", worker, h.minePage)
	pages.Post("/me/calendar-token", worker, h.resetTokenForm)
	pages.Get("/me/calendar.ics", h.feed)
}

// SittingJSON is a sitting as the API returns it (DESIGN §5.4), times with
// the offset of the configured zone.
type SittingJSON struct {
	ID           int64     `json:"id"`
	ClassID      int64     `json:"class_id"`
	Kind         Kind      `json:"kind"`
	Attempt      int       `json:"attempt"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	Place        string    `json:"place"`
	Capacity     int       `json:"capacity"`
	Rooms        int       `json:"rooms"`
	State        State     `json:"state"`
	Candidates   int       `json:"candidates"`
	CreatedByJob bool      `json:"created_by_job"`
	CancelReason string    `json:"cancel_reason,omitempty"`
	Ratio        Ratio     `json:"examiner_ratio"`
}

func (h *Handler) sittingJSON(v SittingView) SittingJSON {
	return SittingJSON{ID: v.ID, ClassID: v.ClassID, Kind: v.Kind, Attempt: v.Attempt, StartsAt: v.StartsAt.In(h.loc), EndsAt: v.EndsAt.In(h.loc),
		Place: v.Place, Capacity: v.Capacity, Rooms: v.Rooms, State: v.State, Candidates: v.Candidates, CreatedByJob: v.CreatedByJob,
		CancelReason: v.CancelReason, Ratio: v.Ratio}
}

func (h *Handler) apiClass(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	_, vs, err := h.svc.ClassSittings(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	items := make([]SittingJSON, len(vs))
	for i, v := range vs {
		items[i] = h.sittingJSON(v)
	}
	return c.JSON(web.List(items, len(items)))
}

func (h *Handler) apiSchedule(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in SittingInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Schedule(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(h.sittingJSON(v))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.Sitting(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(h.sittingJSON(v))
}

func (h *Handler) apiMove(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in SittingInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	v, err := h.svc.Move(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(h.sittingJSON(v))
}

func (h *Handler) apiCancel(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.svc.Cancel(c.UserContext(), accounts.PrincipalOf(c), id, in.Reason); err != nil {
		return err
	}
	v, err := h.svc.Sitting(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(h.sittingJSON(v))
}

func (h *Handler) apiCandidates(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	_, cs, err := h.svc.Candidates(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(web.List(cs, len(cs)))
}

func (h *Handler) apiExaminers(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	es, err := h.svc.Examiners(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(web.List(es, len(es)))
}

func (h *Handler) apiSetExaminers(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Examiners []ExaminerInput `json:"examiners"`
	}
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	v, err := h.svc.SetExaminers(c.UserContext(), accounts.PrincipalOf(c), id, in.Examiners)
	if err != nil {
		return err
	}
	return c.JSON(h.sittingJSON(v))
}

func (h *Handler) apiResults(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Results []ResultInput `json:"results"`
	}
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.RecordResults(c.UserContext(), accounts.PrincipalOf(c), id, in.Results)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// apiImport reads a results file: a preview (every check, nothing stored)
// unless the form field commit is "true", which records all rows or none.
func (h *Handler) apiImport(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	data, name, err := upload(c)
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	rows, err := h.svc.ParseResults(c.UserContext(), p, id, data, name)
	if err != nil {
		return err
	}
	commit := c.FormValue("commit") == "true"
	var res Recorded
	if commit {
		res, err = h.svc.RecordResults(c.UserContext(), p, id, rows)
	} else {
		res, err = h.svc.PreviewResults(c.UserContext(), p, id, rows)
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"committed": commit, "rows": len(rows), "recorded": res.Recorded, "passed": res.Passed, "failed": res.Failed, "absent": res.Absent})
}

func upload(c *fiber.Ctx) ([]byte, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", apperr.Invalid("file_required", "请选择要上传的文件", fieldErr("file", "required", "请选择要上传的文件"))
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

func (h *Handler) apiCorrect(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in CorrectionInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	r, err := h.svc.Correct(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	var score *float64
	if r.Score != nil {
		f := r.Score.Float()
		score = &f
	}
	return c.JSON(fiber.Map{"id": r.ID, "sitting_id": r.SittingID, "enrolment_id": r.EnrolmentID, "score": score, "absent": r.Absent, "passed": r.Passed})
}

func (h *Handler) apiWorkerResults(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	outs, err := h.svc.WorkerResults(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	for i := range outs {
		for j := range outs[i].Results {
			outs[i].Results[j].StartsAt = outs[i].Results[j].StartsAt.In(h.loc)
		}
	}
	return c.JSON(web.List(outs, len(outs)))
}

func (h *Handler) apiResetToken(c *fiber.Ctx) error {
	tok, err := h.svc.ResetCalendarToken(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"token": tok, "url": h.feedURL(tok)})
}

func (h *Handler) feedURL(token string) string { return h.baseURL + "/me/calendar.ics?token=" + token }

// feed serves the calendar feed; the token is the credential (calendar
// apps send no cookies).
func (h *Handler) feed(c *fiber.Ctx) error {
	body, err := h.svc.CalendarFeed(c.UserContext(), c.Query("token"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(body)
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}

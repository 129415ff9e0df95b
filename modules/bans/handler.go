package bans

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/pii"
	"tuoyu/modules/ratelimit"
	"tuoyu/modules/web"
	"tuoyu/modules/workers"
)

// CheckLimit is how many ban checks one user may make per minute unless
// TUOYU_BANCHECK_RATE says otherwise: enough for a hiring desk, too few to
// walk through ID numbers.
const CheckLimit = 30

// managerRows is how many manager rows the record form offers.
const managerRows = 3

// Handler serves the bans API and pages.
type Handler struct {
	svc        *Service
	checkLimit *ratelimit.Limiter
}

// NewHandler returns the bans handler; checkLimit counts checks per user or
// API token (nil: no limit).
func NewHandler(svc *Service, checkLimit *ratelimit.Limiter) *Handler {
	return &Handler{svc: svc, checkLimit: checkLimit}
}

// Routes registers the API and page routes. The check is rate limited per
// user, across the API and the page together.
func (h *Handler) Routes(api, pages fiber.Router) {
	keeper := accounts.Require(keepers...)
	checker := accounts.Require(checkers...)
	limit := h.checkLimit.Handler(func(c *fiber.Ctx) string {
		if p := accounts.PrincipalOf(c); p != nil {
			if p.TokenID != 0 { // API tokens have no user: each token its own bucket
				return "bans.check:token:" + strconv.FormatInt(p.TokenID, 10)
			}
			return "bans.check:" + strconv.FormatInt(p.UserID, 10)
		}
		return "bans.check:ip:" + c.IP()
	})

	api.Get("/bans/check", checker, limit, h.apiCheck)
	api.Get("/bans", keeper, h.apiList)
	api.Post("/bans", keeper, h.apiRecord)
	api.Get("/bans/:id", keeper, h.apiShow)
	api.Post("/bans/:id/lift-request", keeper, h.apiLiftRequest)
	api.Post("/bans/:id/lift-confirm", keeper, h.apiLiftConfirm)
	api.Post("/bans/:id/lift-reject", keeper, h.apiLiftReject)

	pages.Get("/bans/check", checker, h.checkPage)
	pages.Post("/bans/check", checker, limit, h.checkForm)
	pages.Get("/bans", keeper, h.listPage)
	// The search form posts, so a full ID number never sits in a URL
	// (browser history, proxies, the login redirect).
	pages.Post("/bans/search", keeper, h.listPage)
	pages.Get("/bans/new", keeper, h.newPage)
	pages.Post("/bans", keeper, h.recordForm)
	pages.Get("/bans/:id", keeper, h.showPage)
	pages.Post("/bans/:id/lift-request", keeper, h.liftRequestForm)
	pages.Post("/bans/:id/lift-confirm", keeper, h.liftConfirmForm)
	pages.Post("/bans/:id/lift-reject", keeper, h.liftRejectForm)
}

// view is a ban in the API; the ID number only masked.
type view struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	IDNumberMasked  string     `json:"id_number_masked"`
	Reason          string     `json:"reason"`
	DecisionNo      string     `json:"decision_no"`
	DecidedOn       string     `json:"decided_on"`
	RegionCode      string     `json:"region_code"`
	PrimaryBanID    int64      `json:"primary_ban_id,omitempty"`
	Status          Status     `json:"status"`
	RecordedAt      time.Time  `json:"recorded_at"`
	LiftRequestedBy int64      `json:"lift_requested_by,omitempty"`
	LiftRequestedAt *time.Time `json:"lift_requested_at,omitempty"`
	LiftDocument    *string    `json:"lift_document,omitempty"`
	LiftedBy        int64      `json:"lifted_by,omitempty"`
	LiftedAt        *time.Time `json:"lifted_at,omitempty"`
	Managers        []view     `json:"managers,omitempty"`
}

func toView(b *Ban) view {
	return view{ID: b.ID, Name: b.Name, IDNumberMasked: b.IDMask, Reason: b.Reason, DecisionNo: b.DecisionNo,
		DecidedOn: b.DecidedOn.Format(time.DateOnly), RegionCode: b.RegionCode, PrimaryBanID: b.PrimaryBanID,
		Status: b.Status(), RecordedAt: b.RecordedAt, LiftRequestedBy: b.LiftRequestedBy, LiftRequestedAt: b.LiftRequestedAt,
		LiftDocument: b.LiftDocument, LiftedBy: b.LiftedBy, LiftedAt: b.LiftedAt}
}

type personForm struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

type recordForm struct {
	Name       string       `json:"name"`
	IDNumber   string       `json:"id_number"`
	Reason     string       `json:"reason"`
	DecisionNo string       `json:"decision_no"`
	DecidedOn  string       `json:"decided_on"`
	RegionCode string       `json:"region_code"`
	Managers   []personForm `json:"managers"`
}

func (f recordForm) input() RecordInput {
	in := RecordInput{Person: Person{Name: f.Name, IDNumber: f.IDNumber}, Reason: f.Reason, DecisionNo: f.DecisionNo,
		DecidedOn: f.DecidedOn, RegionCode: f.RegionCode}
	for _, m := range f.Managers {
		in.Managers = append(in.Managers, Person(m))
	}
	return in
}

func (h *Handler) apiRecord(c *fiber.Ctx) error {
	var f recordForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	bs, err := h.svc.Record(c.UserContext(), accounts.PrincipalOf(c), f.input())
	if err != nil {
		return err
	}
	v := toView(&bs[0])
	for i := range bs[1:] {
		v.Managers = append(v.Managers, toView(&bs[i+1]))
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (h *Handler) apiCheck(c *fiber.Ctx) error {
	banned, err := h.svc.Check(c.UserContext(), accounts.PrincipalOf(c), c.Query("id_number"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"banned": banned})
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	bs, total, err := h.svc.List(c.UserContext(), accounts.PrincipalOf(c), Filter{Q: c.Query("q"), Status: Status(c.Query("status")),
		Page: pg.Page, PerPage: pg.PerPage})
	if err != nil {
		return err
	}
	out := make([]view, len(bs))
	for i := range bs {
		out[i] = toView(&bs[i])
	}
	return c.JSON(web.List(out, total))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	b, err := h.load(c)
	if err != nil {
		return err
	}
	return c.JSON(toView(b))
}

func (h *Handler) load(c *fiber.Ctx) (*Ban, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), id)
}

type liftForm struct {
	LiftDocument string `json:"lift_document"`
	Reason       string `json:"reason"`
}

func (h *Handler) apiLiftRequest(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var f liftForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	b, err := h.svc.RequestLift(c.UserContext(), accounts.PrincipalOf(c), id, f.LiftDocument, f.Reason)
	if err != nil {
		return err
	}
	return c.JSON(toView(b))
}

func (h *Handler) apiLiftConfirm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	b, err := h.svc.ConfirmLift(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toView(b))
}

func (h *Handler) apiLiftReject(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	b, err := h.svc.RejectLift(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toView(b))
}

// Pages.

func (h *Handler) checkPage(c *fiber.Ctx) error {
	return web.Render(c, "bans/check", fiber.Map{"Title": "终身禁入查询"})
}

func (h *Handler) checkForm(c *fiber.Ctx) error {
	banned, err := h.svc.Check(c.UserContext(), accounts.PrincipalOf(c), c.FormValue("id_number"))
	data := fiber.Map{"Title": "终身禁入查询"}
	if err != nil {
		if !redisplay(err) {
			return err
		}
		fields, msg := web.FieldMessages(err)
		data["Error"], data["Fields"] = msg, fields
		c.Status(fiber.StatusUnprocessableEntity)
		return web.Render(c, "bans/check", data)
	}
	// Answer without echoing the number: the page shows only its mask.
	data["Checked"], data["Banned"], data["Mask"] = true, banned, maskOf(c.FormValue("id_number"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, "bans/check", data)
}

func (h *Handler) listPage(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	q, status := strings.TrimSpace(searchQuery(c)), Status(formOrQuery(c, "status"))
	bs, total, err := h.svc.List(c.UserContext(), accounts.PrincipalOf(c), Filter{Q: q, Status: status, Page: pg.Page, PerPage: pg.PerPage})
	if err != nil {
		return err
	}
	return web.Render(c, "bans/list", fiber.Map{"Title": "终身禁入名单", "Bans": bs, "Total": total, "Page": pg.Page,
		"PerPage": pg.PerPage, "Q": q, "Status": string(status),
		"Statuses": []Status{StatusActive, StatusLiftRequested, StatusLifted}})
}

func (h *Handler) newPage(c *fiber.Ctx) error {
	return h.renderNew(c, recordForm{DecidedOn: time.Now().Format(time.DateOnly)}, nil)
}

func (h *Handler) renderNew(c *fiber.Ctx, f recordForm, formErr error) error {
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && !redisplay(formErr) {
		return formErr
	}
	if formErr != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	for len(f.Managers) < managerRows {
		f.Managers = append(f.Managers, personForm{})
	}
	// Never send ID numbers back to the browser: the form is re-filled with
	// names and decision details only.
	f.IDNumber = ""
	for i := range f.Managers {
		f.Managers[i].IDNumber = ""
	}
	return web.Render(c, "bans/new", fiber.Map{"Title": "记录终身禁入", "Form": f, "Error": msg, "Fields": fields,
		"Region": accounts.PrincipalOf(c).Region})
}

func (h *Handler) recordForm(c *fiber.Ctx) error {
	f := recordForm{Name: c.FormValue("name"), IDNumber: c.FormValue("id_number"), Reason: c.FormValue("reason"),
		DecisionNo: c.FormValue("decision_no"), DecidedOn: c.FormValue("decided_on"), RegionCode: c.FormValue("region_code")}
	names, ids := formValues(c, "manager_name"), formValues(c, "manager_id_number")
	for i := range names {
		m := personForm{Name: names[i]}
		if i < len(ids) {
			m.IDNumber = ids[i]
		}
		if strings.TrimSpace(m.Name) != "" || strings.TrimSpace(m.IDNumber) != "" {
			f.Managers = append(f.Managers, m)
		}
	}
	bs, err := h.svc.Record(c.UserContext(), accounts.PrincipalOf(c), f.input())
	if err != nil {
		return h.renderNew(c, f, err)
	}
	return web.Redirect(c, "/bans/"+strconv.FormatInt(bs[0].ID, 10))
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	b, err := h.load(c)
	if err != nil {
		return err
	}
	return h.renderShow(c, b, nil)
}

func (h *Handler) renderShow(c *fiber.Ctx, b *Ban, formErr error) error {
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && !redisplay(formErr) {
		return formErr
	}
	if formErr != nil {
		c.Status(statusOf(formErr))
	}
	decision, err := h.svc.Decision(c.UserContext(), accounts.PrincipalOf(c), b)
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	return web.Render(c, "bans/show", fiber.Map{"Title": "终身禁入记录", "B": b, "Decision": decision,
		"CanConfirm": b.Status() == StatusLiftRequested && b.LiftRequestedBy != p.UserID,
		"Error":      msg, "Fields": fields})
}

func (h *Handler) liftRequestForm(c *fiber.Ctx) error {
	return h.liftAction(c, func(id int64) error {
		_, err := h.svc.RequestLift(c.UserContext(), accounts.PrincipalOf(c), id, c.FormValue("lift_document"), c.FormValue("reason"))
		return err
	})
}

func (h *Handler) liftConfirmForm(c *fiber.Ctx) error {
	return h.liftAction(c, func(id int64) error {
		_, err := h.svc.ConfirmLift(c.UserContext(), accounts.PrincipalOf(c), id)
		return err
	})
}

func (h *Handler) liftRejectForm(c *fiber.Ctx) error {
	return h.liftAction(c, func(id int64) error {
		_, err := h.svc.RejectLift(c.UserContext(), accounts.PrincipalOf(c), id)
		return err
	})
}

func (h *Handler) liftAction(c *fiber.Ctx, act func(id int64) error) error {
	b, err := h.load(c)
	if err != nil {
		return err
	}
	if err := act(b.ID); err != nil {
		return h.renderShow(c, b, err)
	}
	return web.Redirect(c, "/bans/"+strconv.FormatInt(b.ID, 10))
}

// redisplay reports whether an error belongs on the form (bad input, a
// clash, the four-eyes refusal) rather than on an error page.
func redisplay(err error) bool {
	if apperr.Is(err, "four_eyes") {
		return true
	}
	k := apperr.KindOf(err)
	return k == apperr.KindInvalid || k == apperr.KindConflict
}

func statusOf(err error) int {
	switch apperr.KindOf(err) {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	}
	return fiber.StatusUnprocessableEntity
}

// formValues returns every value of a repeated form field, in order.
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	return out
}

func maskOf(idNumber string) string { return pii.MaskID(workers.NormalizeID(idNumber)) }

// searchQuery is the search text: posted by the search form, or in the
// query string of a paging link.
func searchQuery(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodPost {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return formOrQuery(c, "q")
}

func formOrQuery(c *fiber.Ctx, key string) string {
	if c.Method() == fiber.MethodPost {
		return c.FormValue(key)
	}
	return c.Query(key)
}

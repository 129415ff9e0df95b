package audit

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the admin pages of the audit trail. The caller mounts it on
// a router that already admits administrators only (audit sits below
// accounts, so it does not check roles itself).
type Handler struct {
	db  *bun.DB
	loc *time.Location
}

// NewHandler returns the audit handler.
func NewHandler(db *bun.DB, loc *time.Location) *Handler { return &Handler{db: db, loc: loc} }

// Routes registers the API and page routes behind adminOnly, the
// middleware that admits administrators.
func (h *Handler) Routes(api, pages fiber.Router, adminOnly fiber.Handler) {
	api.Get("/audit-events", adminOnly, h.apiList)
	pages.Get("/admin/audit", adminOnly, h.page)
	pages.Post("/admin/audit/verify", adminOnly, h.verify)
}

// filter reads the query; a malformed page, size or date is refused (422)
// rather than silently ignored, as every list of the API does.
func (h *Handler) filter(c *fiber.Ctx) (Filter, error) {
	f := Filter{Action: c.Query("action"), ActorLabel: c.Query("actor"), TargetType: c.Query("target_type"), TargetID: c.Query("target_id"),
		Page: 1, PerPage: 50}
	var fields []apperr.FieldError
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			fields = append(fields, apperr.FieldError{Field: "page", Code: "invalid_page", Message: "page 须为正整数"})
		}
		f.Page = n
	}
	if s := c.Query("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			fields = append(fields, apperr.FieldError{Field: "per_page", Code: "invalid_per_page", Message: "per_page 须为 1–200 的整数"})
		}
		f.PerPage = n
	}
	dates := web.NewFilters(c)
	f.From = dates.Date("from", h.loc)
	if to := dates.Date("to", h.loc); !to.IsZero() {
		f.To = to.AddDate(0, 0, 1) // up to the end of that day
	}
	if err := dates.Err(); err != nil {
		e, _ := apperr.As(err)
		fields = append(fields, e.Fields...)
	}
	if len(fields) > 0 {
		return f, apperr.Invalid("invalid_filter", "筛选条件有误", fields...)
	}
	return f, nil
}

// window checks how deep f pages and reads ?after= into f.AfterID.
// Errors: Invalid page_too_deep, invalid_cursor.
func window(c *fiber.Ctx, f *Filter) (web.Window, error) {
	w, err := web.PagingValues(max(f.Page, 1), max(f.PerPage, 50), c.Query("after"))
	if err != nil {
		return w, err
	}
	if f.PerPage <= 0 {
		f.PerPage = w.PerPage
	}
	if w.After != "" {
		err = w.Key(&f.AfterID)
	}
	return w, err
}

// browse reads the window of events the request asks for.
func (h *Handler) browse(c *fiber.Ctx, f *Filter) (web.Listing[Event], error) {
	w, err := window(c, f)
	if err != nil {
		return web.Listing[Event]{}, err
	}
	rows, total, estimate, err := Browse(c.UserContext(), h.db, *f)
	if err != nil {
		return web.Listing[Event]{}, err
	}
	return web.NewListing(w, rows, total, estimate, func(i int) string { return web.Cursor(rows[i].ID) }), nil
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	f, err := h.filter(c)
	if err != nil {
		return err
	}
	l, err := h.browse(c, &f)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (h *Handler) page(c *fiber.Ctx) error { return h.render(c, nil) }

func (h *Handler) render(c *fiber.Ctx, result *VerifyResult) error {
	f, err := h.filter(c)
	if err != nil {
		return err
	}
	l, err := h.browse(c, &f)
	if err != nil {
		return err
	}
	return c.Render("audit/list", fiber.Map{"Title": "审计日志", "Events": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate, "Next": l.NextCursor, "F": f,
		"FromQ": c.Query("from"), "ToQ": c.Query("to"), "Verify": result}, "layouts/main")
}

func (h *Handler) verify(c *fiber.Ctx) error {
	res, err := Verify(c.UserContext(), h.db)
	if err != nil {
		return err
	}
	return h.render(c, &res)
}

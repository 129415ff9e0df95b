package audit

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
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

func (h *Handler) filter(c *fiber.Ctx) Filter {
	f := Filter{Action: c.Query("action"), ActorLabel: c.Query("actor"), TargetType: c.Query("target_type"), TargetID: c.Query("target_id")}
	f.Page, _ = strconv.Atoi(c.Query("page"))
	f.PerPage, _ = strconv.Atoi(c.Query("per_page"))
	if f.PerPage > 200 {
		f.PerPage = 200
	}
	if t, err := time.ParseInLocation("2006-01-02", c.Query("from"), h.loc); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", c.Query("to"), h.loc); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	return f
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	rows, total, err := List(c.UserContext(), h.db, h.filter(c))
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []Event{}
	}
	return c.JSON(fiber.Map{"items": rows, "total": total})
}

func (h *Handler) page(c *fiber.Ctx) error { return h.render(c, nil) }

func (h *Handler) render(c *fiber.Ctx, result *VerifyResult) error {
	f := h.filter(c)
	rows, total, err := List(c.UserContext(), h.db, f)
	if err != nil {
		return err
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	if f.PerPage <= 0 {
		f.PerPage = 50
	}
	return c.Render("audit/list", fiber.Map{"Title": "审计日志", "Events": rows, "Total": total, "F": f,
		"FromQ": c.Query("from"), "ToQ": c.Query("to"), "Verify": result}, "layouts/main")
}

func (h *Handler) verify(c *fiber.Ctx) error {
	res, err := Verify(c.UserContext(), h.db)
	if err != nil {
		return err
	}
	return h.render(c, &res)
}

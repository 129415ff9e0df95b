package notify

import (
	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/web"
)

// Handler serves the inbox page and API.
type Handler struct{ svc *Service }

// NewHandler returns the notify handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes; every logged-in caller has an inbox.
func (h *Handler) Routes(api, pages fiber.Router) {
	in := accounts.Require()
	api.Get("/notifications", in, h.apiList)
	api.Post("/notifications/:id/read", in, h.apiRead)
	pages.Get("/notifications", in, h.page)
	pages.Post("/notifications/:id/read", in, h.readForm)
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	ms, total, unread, err := h.svc.Inbox(c.UserContext(), accounts.PrincipalOf(c), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	out := web.List(ms, total)
	out["unread"] = unread
	return c.JSON(out)
}

func (h *Handler) apiRead(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.MarkRead(c.UserContext(), accounts.PrincipalOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) page(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	ms, total, unread, err := h.svc.Inbox(c.UserContext(), accounts.PrincipalOf(c), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	return web.Render(c, "notify/list", fiber.Map{"Title": "消息", "Messages": ms, "Total": total, "Unread": unread,
		"Page": pg.Page, "PerPage": pg.PerPage})
}

func (h *Handler) readForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.MarkRead(c.UserContext(), accounts.PrincipalOf(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/notifications")
}

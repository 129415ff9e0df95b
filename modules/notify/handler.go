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

// inbox is a page of the caller's messages: the cursor listing plus the
// number of unread messages.
type inbox struct {
	web.Listing[Message]
	Unread int `json:"unread"`
}

// inbox reads the window (?page=&per_page= or ?after=, see web.Paging) and
// loads that page of the caller's messages. Errors: Invalid
// invalid_pagination, page_too_deep, invalid_cursor.
func (h *Handler) inbox(c *fiber.Ctx) (inbox, web.Window, error) {
	win, err := web.Paging(c)
	if err != nil {
		return inbox{}, win, err
	}
	var after int64
	if win.After != "" {
		if err := win.Key(&after); err != nil {
			return inbox{}, win, err
		}
	}
	ms, total, unread, estimate, err := h.svc.Inbox(c.UserContext(), accounts.PrincipalOf(c), win.Fetch(), win.Offset(), after)
	if err != nil {
		return inbox{}, win, err
	}
	l := web.NewListing(win, ms, total, estimate, func(i int) string { return web.Cursor(ms[i].ID) })
	return inbox{Listing: l, Unread: unread}, win, nil
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	in, _, err := h.inbox(c)
	if err != nil {
		return err
	}
	return c.JSON(in)
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
	in, win, err := h.inbox(c)
	if err != nil {
		return err
	}
	return web.Render(c, "notify/list", fiber.Map{"Title": "消息", "Messages": in.Items, "Total": in.Total,
		"TotalText": web.ApproxCount(in.Total, in.TotalIsEstimate), "Estimate": in.TotalIsEstimate, "Unread": in.Unread,
		"Page": win.Page, "PerPage": win.PerPage, "Next": in.NextCursor, "Cursor": win.After != ""})
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

package orgs

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/web"
)

// Handler serves regions and the organisation admin pages and API.
type Handler struct{ svc *Service }

// NewHandler returns the orgs handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes; admin is the middleware that
// admits administrators (orgs sits below accounts, so the caller supplies it).
func (h *Handler) Routes(api, pages fiber.Router, admin fiber.Handler) {
	api.Get("/regions", h.apiRegions)
	api.Get("/organisations", admin, h.apiList)
	api.Post("/organisations", admin, h.apiCreate)
	api.Get("/organisations/:id", admin, h.apiShow)
	api.Patch("/organisations/:id", admin, h.apiUpdate)

	pages.Get("/admin/orgs", admin, h.listPage)
	pages.Post("/admin/orgs", admin, h.createForm)
	pages.Get("/admin/orgs/:id", admin, h.editPage)
	pages.Post("/admin/orgs/:id", admin, h.updateForm)
}

func (h *Handler) apiRegions(c *fiber.Ctx) error {
	rs, err := h.svc.Regions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(web.List(rs, len(rs)))
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	kind, err := kindFilter(c)
	if err != nil {
		return err
	}
	os, total, err := h.svc.List(c.UserContext(), kind, pg.Page, pg.PerPage)
	if err != nil {
		return err
	}
	return c.JSON(web.List(os, total))
}

func (h *Handler) apiCreate(c *fiber.Ctx) error {
	var in Input
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	o, err := h.svc.Create(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

type updateInput struct {
	Name       string `json:"name"`
	RegionCode string `json:"region_code"`
	USCC       string `json:"uscc"`
	SiteCode   string `json:"site_code"`
	Active     *bool  `json:"active"`
}

func (h *Handler) apiUpdate(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	in := updateInput{Name: cur.Name, RegionCode: cur.RegionCode, USCC: cur.USCC, SiteCode: cur.SiteCode, Active: &cur.Active}
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	active := cur.Active
	if in.Active != nil {
		active = *in.Active
	}
	o, err := h.svc.Update(c.UserContext(), id, Input{Name: in.Name, RegionCode: in.RegionCode, USCC: in.USCC, SiteCode: in.SiteCode}, active)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (h *Handler) listPage(c *fiber.Ctx) error { return h.renderList(c, Input{}, nil) }

func (h *Handler) renderList(c *fiber.Ctx, form Input, formErr error) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	kind, err := kindFilter(c)
	if err != nil {
		return err
	}
	os, total, err := h.svc.List(c.UserContext(), kind, pg.Page, pg.PerPage)
	if err != nil {
		return err
	}
	regions, err := h.svc.Regions(c.UserContext())
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	web.FormStatus(c, formErr)
	return web.Render(c, "orgs/list", fiber.Map{"Title": "机构管理", "Orgs": os, "Total": total, "Page": pg.Page, "PerPage": pg.PerPage,
		"Kind": c.Query("kind"), "Kinds": Kinds, "Regions": regions, "Form": form, "Error": msg, "Fields": fields})
}

func formInput(c *fiber.Ctx) Input {
	return Input{Code: c.FormValue("code"), Name: c.FormValue("name"), Kind: c.FormValue("kind"),
		RegionCode: c.FormValue("region_code"), USCC: c.FormValue("uscc"), SiteCode: c.FormValue("site_code")}
}

func (h *Handler) createForm(c *fiber.Ctx) error {
	in := formInput(c)
	if _, err := h.svc.Create(c.UserContext(), in); err != nil {
		return h.renderList(c, in, err)
	}
	return web.Redirect(c, "/admin/orgs")
}

func (h *Handler) editPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.renderEdit(c, o, nil)
}

func (h *Handler) renderEdit(c *fiber.Ctx, o Organisation, formErr error) error {
	regions, err := h.svc.Regions(c.UserContext())
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	web.FormStatus(c, formErr)
	return web.Render(c, "orgs/edit", fiber.Map{"Title": "编辑机构", "Org": o, "KindLabel": KindLabel(o.Kind), "Regions": regions, "Error": msg, "Fields": fields})
}

func (h *Handler) updateForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	in := formInput(c)
	o, err := h.svc.Update(c.UserContext(), id, in, c.FormValue("active") == "on")
	if err != nil {
		cur, gerr := h.svc.ByID(c.UserContext(), id)
		if gerr != nil {
			return gerr
		}
		cur.Name, cur.RegionCode, cur.USCC, cur.SiteCode = in.Name, in.RegionCode, in.USCC, in.SiteCode
		return h.renderEdit(c, cur, err)
	}
	return web.Redirect(c, "/admin/orgs/"+itoa(o.ID))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// kindFilter reads ?kind=, one of Kinds. Errors: Invalid invalid_filter.
func kindFilter(c *fiber.Ctx) (string, error) {
	codes := make([]string, len(Kinds))
	for i, k := range Kinds {
		codes[i] = k.Code
	}
	return web.QueryEnum(c, "kind", codes...)
}

package institutions

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/web"
)

// Handler serves the institutions API and pages.
type Handler struct {
	svc *Service
}

// NewHandler returns the institutions handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes. Reading is open to any
// logged-in user; the service decides who may write.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	keeper := accounts.Require(keepers...)
	api.Get("/institutions", anyone, h.apiList)
	api.Post("/institutions", keeper, h.apiCreate)
	api.Get("/institutions/:id", anyone, h.apiShow)
	api.Patch("/institutions/:id", keeper, h.apiUpdate)
	api.Delete("/institutions/:id", keeper, h.apiDelete)

	pages.Get("/institutions", anyone, h.listPage)
	pages.Post("/institutions", keeper, h.createForm)
	pages.Get("/institutions/:id", anyone, h.showPage)
	pages.Post("/institutions/:id", keeper, h.updateForm)
	pages.Post("/institutions/:id/delete", keeper, h.deleteForm)
}

// view is an institution in the API.
type view struct {
	ID             int64        `json:"id"`
	USCC           string       `json:"uscc"`
	Name           string       `json:"name"`
	Kind           Kind         `json:"kind"`
	RegionCode     string       `json:"region_code"`
	RegionName     string       `json:"region_name"`
	Address        string       `json:"address"`
	Places         int          `json:"places"`
	FilingStatus   FilingStatus `json:"filing_status"`
	FiledOn        string       `json:"filed_on,omitempty"`
	RevokedOn      string       `json:"revoked_on,omitempty"`
	OrganisationID int64        `json:"organisation_id,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
}

func toView(n *Institution) view {
	return view{ID: n.ID, USCC: n.USCC, Name: n.Name, Kind: n.Kind, RegionCode: n.RegionCode, RegionName: n.RegionName,
		Address: n.Address, Places: n.Places, FilingStatus: n.FilingStatus, FiledOn: dateString(n.FiledOn),
		RevokedOn: dateString(n.RevokedOn), OrganisationID: n.OrganisationID, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt}
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// form is the JSON body of create and update.
type form struct {
	USCC           string `json:"uscc"`
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	RegionCode     string `json:"region_code"`
	Address        string `json:"address"`
	Places         int    `json:"places"`
	FilingStatus   string `json:"filing_status"`
	FiledOn        string `json:"filed_on"`
	RevokedOn      string `json:"revoked_on"`
	OrganisationID int64  `json:"organisation_id"`
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	region, err := h.regionFilter(c)
	if err != nil {
		return err
	}
	ns, total, err := h.svc.List(c.UserContext(), Filter{Q: c.Query("q"), Region: region, Page: pg.Page, PerPage: pg.PerPage})
	if err != nil {
		return err
	}
	out := make([]view, len(ns))
	for i := range ns {
		out[i] = toView(&ns[i])
	}
	return c.JSON(web.List(out, total))
}

func (h *Handler) apiCreate(c *fiber.Ctx) error {
	var f form
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	n, err := h.svc.Create(c.UserContext(), accounts.PrincipalOf(c), Input(f))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toView(n))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	n, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toView(n))
}

// apiUpdate applies the fields present in the body over the stored ones.
func (h *Handler) apiUpdate(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	v := toView(cur)
	f := form{USCC: v.USCC, Name: v.Name, Kind: string(v.Kind), RegionCode: v.RegionCode, Address: v.Address,
		Places: v.Places, FilingStatus: string(v.FilingStatus), FiledOn: v.FiledOn, RevokedOn: v.RevokedOn, OrganisationID: v.OrganisationID}
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	n, err := h.svc.Update(c.UserContext(), accounts.PrincipalOf(c), id, Input(f))
	if err != nil {
		return err
	}
	return c.JSON(toView(n))
}

func (h *Handler) apiDelete(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.svc.Delete(c.UserContext(), accounts.PrincipalOf(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Pages.

func formInput(c *fiber.Ctx) (Input, error) {
	in := Input{USCC: c.FormValue("uscc"), Name: c.FormValue("name"), Kind: c.FormValue("kind"),
		RegionCode: c.FormValue("region_code"), Address: c.FormValue("address"), FilingStatus: c.FormValue("filing_status"),
		FiledOn: c.FormValue("filed_on"), RevokedOn: c.FormValue("revoked_on")}
	places, err := strconv.Atoi(strings.TrimSpace(c.FormValue("places")))
	if err != nil {
		return in, apperr.Invalid("validation_failed", "托育机构信息有误", apperr.FieldError{
			Field: "places", Code: "invalid_places", Message: "托位数须为正整数"})
	}
	in.Places = places
	return in, nil
}

func (h *Handler) regions(c *fiber.Ctx) ([]orgs.Region, error) { return h.svc.Regions(c.UserContext()) }

func (h *Handler) listPage(c *fiber.Ctx) error {
	return h.renderList(c, Input{FilingStatus: "unfiled"}, nil)
}

func (h *Handler) renderList(c *fiber.Ctx, in Input, formErr error) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.Query("q"))
	region, err := h.regionFilter(c)
	if err != nil {
		return err
	}
	ns, total, err := h.svc.List(c.UserContext(), Filter{Q: q, Region: region, Page: pg.Page, PerPage: pg.PerPage})
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && !web.Redisplay(c, formErr) {
		return formErr
	}
	regions, err := h.regions(c)
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	return web.Render(c, "institutions/list", fiber.Map{"Title": "托育机构", "Institutions": ns, "Total": total,
		"Page": pg.Page, "PerPage": pg.PerPage, "Q": q, "CanCreate": p.Is(keepers...), "Form": in,
		"Kinds": Kinds, "Statuses": FilingStatuses, "Regions": regions, "Error": msg, "Fields": fields})
}

func (h *Handler) createForm(c *fiber.Ctx) error {
	in, err := formInput(c)
	if err == nil {
		var n *Institution
		if n, err = h.svc.Create(c.UserContext(), accounts.PrincipalOf(c), in); err == nil {
			return web.Redirect(c, "/institutions/"+strconv.FormatInt(n.ID, 10))
		}
	}
	return h.renderList(c, in, err)
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	n, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return h.renderShow(c, n, toInput(n), nil)
}

func toInput(n *Institution) Input {
	return Input{USCC: n.USCC, Name: n.Name, Kind: string(n.Kind), RegionCode: n.RegionCode, Address: n.Address,
		Places: n.Places, FilingStatus: string(n.FilingStatus), FiledOn: dateString(n.FiledOn), RevokedOn: dateString(n.RevokedOn),
		OrganisationID: n.OrganisationID}
}

func (h *Handler) renderShow(c *fiber.Ctx, n *Institution, in Input, formErr error) error {
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && !web.Redisplay(c, formErr) {
		return formErr
	}
	regions, err := h.regions(c)
	if err != nil {
		return err
	}
	return web.Render(c, "institutions/show", fiber.Map{"Title": n.Name + " - 托育机构", "N": n, "Form": in,
		"CanEdit": CanEdit(accounts.PrincipalOf(c), n), "Kinds": Kinds, "Statuses": FilingStatuses, "Regions": regions,
		"Error": msg, "Fields": fields})
}

func (h *Handler) updateForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	in, err := formInput(c)
	in.OrganisationID = cur.OrganisationID
	if err == nil {
		if _, err = h.svc.Update(c.UserContext(), accounts.PrincipalOf(c), id, in); err == nil {
			return web.Redirect(c, "/institutions/"+strconv.FormatInt(id, 10))
		}
	}
	return h.renderShow(c, cur, in, err)
}

func (h *Handler) deleteForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cur, err := h.svc.ByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(c.UserContext(), accounts.PrincipalOf(c), id); err != nil {
		return h.renderShow(c, cur, toInput(cur), err)
	}
	return web.Redirect(c, "/institutions")
}

// regionFilter reads ?region=, a region code of the regions table.
// Errors: Invalid invalid_filter.
func (h *Handler) regionFilter(c *fiber.Ctx) (string, error) {
	region := strings.TrimSpace(c.Query("region"))
	if region == "" {
		return "", nil
	}
	known, err := h.svc.KnownRegion(c.UserContext(), region)
	if err != nil {
		return "", err
	}
	if !known {
		f := web.NewFilters(c)
		f.Fail("region", "region 的取值「"+region+"」不是已知的行政区划代码")
		return "", f.Err()
	}
	return region, nil
}

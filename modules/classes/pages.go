package classes

import (
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/orgs"
	"tuoyu/modules/web"
)

// Cities keeps the cities (level 2) of rs, for the search page's select.
func Cities(rs []orgs.Region) []orgs.Region {
	var out []orgs.Region
	for _, r := range rs {
		if r.Level == 2 {
			out = append(out, r)
		}
	}
	return out
}

// Row is a class as the pages show it.
type Row struct {
	Class
	StateLabel string
}

// Rows are cs as the pages show them.
func Rows(cs []Class) []Row {
	out := make([]Row, 0, len(cs))
	for _, c := range cs {
		out = append(out, Row{Class: c, StateLabel: c.State.Label()})
	}
	return out
}

// PagerQuery rebuilds the filter part of a list URL for the pager links,
// encoded here so the template can place it as is.
func PagerQuery(c *fiber.Ctx) template.URL {
	v := url.Values{}
	for _, k := range []string{"state", "plan", "city", "from", "to"} {
		if s := c.Query(k); s != "" {
			v.Set(k, s)
		}
	}
	return template.URL(v.Encode()) // every value is escaped by Encode
}

func (h *Handler) listPage(c *fiber.Ctx) error {
	f, win, err := FilterOf(c, h.catalog)
	if err != nil {
		return err
	}
	cs, total, estimate, err := h.svc.Browse(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return err
	}
	plans, err := h.catalog.Plans(c.UserContext())
	if err != nil {
		return err
	}
	m := PagerView(win, Listing(win, cs, total, estimate))
	m["Title"], m["Plans"], m["States"], m["Filter"] = "培训班", plans, States, f
	m["Query"], m["IsProvider"] = PagerQuery(c), accounts.PrincipalOf(c).Is(accounts.RoleProvider)
	return web.Render(c, "classes/list", m)
}

// PagerView is what a class list page shows of l: its rows, the total as
// people read it ("约 18 万" when estimated) and the pager's window.
func PagerView(win web.Window, l web.Listing[Class]) fiber.Map {
	return fiber.Map{"Classes": Rows(l.Items), "Total": l.Total, "TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate),
		"Estimate": l.TotalIsEstimate, "Page": win.Page, "PerPage": win.PerPage, "Next": l.NextCursor, "Cursor": win.After != ""}
}

func (h *Handler) newPage(c *fiber.Ctx) error { return h.renderNew(c, Input{Capacity: 30}, nil) }

func (h *Handler) renderNew(c *fiber.Ctx, in Input, formErr error) error {
	plans, err := h.catalog.Plans(c.UserContext())
	if err != nil {
		return err
	}
	rs, err := h.svc.Regions(c.UserContext())
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && msg == "" {
		return formErr
	}
	if formErr != nil {
		c.Status(apperr.Status(formErr))
	}
	return web.Render(c, "classes/new", fiber.Map{"Title": "开设培训班", "Form": in, "Plans": plans, "Regions": rs,
		"Error": msg, "Fields": fields})
}

func (h *Handler) createForm(c *fiber.Ctx) error {
	capacity, _ := strconv.Atoi(c.FormValue("capacity"))
	in := Input{PlanCode: c.FormValue("plan_code"), Name: c.FormValue("name"), StartsOn: c.FormValue("starts_on"),
		EndsOn: c.FormValue("ends_on"), Capacity: capacity, Region: c.FormValue("region"), Place: c.FormValue("place"),
		EnrolOpensOn: c.FormValue("enrol_opens_on"), EnrolClosesOn: c.FormValue("enrol_closes_on")}
	cl, err := h.svc.Create(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return h.renderNew(c, in, err)
	}
	return web.Redirect(c, "/classes/"+strconv.FormatInt(cl.ID, 10))
}

package classes

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
	"tuoyu/modules/web"
)

// Handler serves the class API and the pages to create and list classes.
// The class page itself shows enrolments and hours and belongs to the
// modules above (attendance).
type Handler struct {
	svc     *Service
	catalog *catalog.Service
}

// NewHandler returns the classes handler.
func NewHandler(svc *Service, cat *catalog.Service) *Handler {
	return &Handler{svc: svc, catalog: cat}
}

// Routes registers the API and page routes. Register it before the
// enrolment and attendance handlers: /classes/new and /classes/search come
// before /classes/:id.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	provider := accounts.Require(accounts.RoleProvider)
	staff := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin, accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator)
	keepers := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin)

	api.Post("/classes", provider, h.apiCreate)
	api.Get("/classes", anyone, h.apiList)
	api.Get("/classes/search", anyone, h.apiSearch)
	api.Get("/classes/:id", anyone, h.apiShow)
	api.Post("/classes/:id/finish", keepers, h.apiFinish)

	pages.Get("/classes", staff, h.listPage)
	pages.Post("/classes", provider, h.createForm)
	pages.Get("/classes/new", provider, h.newPage)
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

// DateText is a date as YYYY-MM-DD, nil for none.
func DateText(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// JSON is c as the API returns it.
func JSON(c Class) ClassJSON {
	return ClassJSON{ID: c.ID, Name: c.Name, PlanCode: c.PlanCode, PlanName: c.PlanName, ProviderID: c.ProviderOrgID,
		ProviderName: c.ProviderName, StartsOn: c.StartsOn.Format(time.DateOnly), EndsOn: c.EndsOn.Format(time.DateOnly),
		Place: c.Place, Region: c.RegionCode, RegionName: c.RegionName, Capacity: c.Capacity, Enrolled: c.EnrolledCount,
		Waitlisted: c.WaitlistedCount, Remaining: c.Remaining(), EnrolOpensOn: DateText(c.EnrolOpensOn),
		EnrolClosesOn: DateText(c.EnrolClosesOn), State: c.State, CancelReason: c.CancelReason, CancelledAt: c.CancelledAt}
}

func listJSON(cs []Class) []ClassJSON {
	out := make([]ClassJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, JSON(c))
	}
	return out
}

// FilterOf reads the list filters of a query string: state, plan, city (or
// region), from, to, and the window (?page=&per_page= or ?after=, see
// web.Paging). A value the list does not know (a state or plan that does
// not exist, a malformed region or date) is refused, never ignored: one 422
// invalid_filter names every bad parameter. cat checks the plan code, only
// when one is given. The filter reads one row more than the page
// (web.Window.Fetch) so NewListing can tell whether a next page exists.
// Errors: Invalid (invalid_filter, invalid_pagination, page_too_deep,
// invalid_cursor).
func FilterOf(c *fiber.Ctx, cat *catalog.Service) (Filter, web.Window, error) {
	fs := web.NewFilters(c)
	f := Filter{
		State:    State(fs.Enum("state", string(StateDraft), string(StateOpen), string(StateRunning), string(StateCompleted), string(StateCancelled))),
		PlanCode: strings.ToUpper(strings.TrimSpace(c.Query("plan"))),
	}
	regionParam := "region"
	if f.Region = strings.TrimSpace(c.Query("region")); f.Region == "" {
		regionParam, f.Region = "city", strings.TrimSpace(c.Query("city"))
	}
	f.From = fs.Date("from", nil)
	f.To = fs.Date("to", nil)
	if f.Region != "" && (len(f.Region) != 6 || strings.Trim(f.Region, "0123456789") != "") {
		fs.Fail(regionParam, regionParam+" 须为 6 位行政区划代码")
		f.Region = ""
	}
	if f.PlanCode != "" {
		codes, err := cat.PlanCodes(c.UserContext())
		if err != nil {
			return f, web.Window{}, err
		}
		if !codes[f.PlanCode] {
			fs.Fail("plan", "培训计划代码「"+f.PlanCode+"」不存在")
		}
	}
	if err := fs.Err(); err != nil {
		return f, web.Window{}, err
	}
	win, err := web.Paging(c)
	if err != nil {
		return f, win, err
	}
	f.Limit, f.Offset = win.Fetch(), win.Offset()
	if win.After != "" {
		var day string
		if err := win.Key(&day, &f.AfterID); err != nil {
			return f, win, err
		}
		var perr error
		if f.AfterStartsOn, perr = time.Parse(time.DateOnly, day); perr != nil || f.AfterID <= 0 {
			return f, win, web.InvalidCursor()
		}
	}
	return f, win, nil
}

// Listing is the answer of a class list: the page of cs (read with
// FilterOf's one extra row), the total and the cursor after the page's
// last class.
func Listing(win web.Window, cs []Class, total int, estimate bool) web.Listing[Class] {
	return web.NewListing(win, cs, total, estimate, func(i int) string {
		return web.Cursor(cs[i].StartsOn.Format(time.DateOnly), cs[i].ID)
	})
}

func listingJSON(l web.Listing[Class]) web.Listing[ClassJSON] {
	return web.Listing[ClassJSON]{Items: listJSON(l.Items), Total: l.Total, TotalIsEstimate: l.TotalIsEstimate, NextCursor: l.NextCursor}
}

func (h *Handler) apiCreate(c *fiber.Ctx) error {
	var in Input
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cl, err := h.svc.Create(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(JSON(cl))
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	f, win, err := FilterOf(c, h.catalog)
	if err != nil {
		return err
	}
	cs, total, estimate, err := h.svc.Browse(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(listingJSON(Listing(win, cs, total, estimate)))
}

func (h *Handler) apiSearch(c *fiber.Ctx) error {
	f, win, err := FilterOf(c, h.catalog)
	if err != nil {
		return err
	}
	cs, total, estimate, err := h.svc.Search(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(listingJSON(Listing(win, cs, total, estimate)))
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
	return c.JSON(JSON(cl))
}

func (h *Handler) apiFinish(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cl, err := h.svc.Finish(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(JSON(cl))
}

package enrolment

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/catalog"
	"tuoyu/modules/classes"
	"tuoyu/modules/web"
)

// Handler serves enrolment, withdrawal, the class life-cycle steps that
// change places, the plan waiting list and the class search page (which
// shows a worker where they already are). The class page, with its roster
// and hours, is served by package attendance.
type Handler struct {
	svc     *Service
	classes *classes.Service
	catalog *catalog.Service
}

// NewHandler returns the enrolment handler.
func NewHandler(svc *Service, cls *classes.Service, cat *catalog.Service) *Handler {
	return &Handler{svc: svc, classes: cls, catalog: cat}
}

// Routes registers the API and page routes. Register it after the classes
// handler and before the attendance handler (/classes/search and
// /classes/waitlist come before /classes/:id).
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	staff := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin, accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator)
	enrollers := accounts.Require(accounts.RoleWorker, accounts.RoleProvider)
	keepers := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin)

	api.Post("/classes/:id/open", keepers, h.apiMove(h.svc.Open))
	api.Post("/classes/:id/start", keepers, h.apiMove(h.svc.Start))
	api.Post("/classes/:id/cancel", keepers, h.apiCancel)
	api.Post("/classes/:id/enrolments", enrollers, h.apiEnrol)
	api.Post("/enrolments/:id/withdraw", enrollers, h.apiWithdraw)
	api.Get("/plan-waitlist", staff, h.apiPlanWaitlist)

	pages.Get("/classes/search", anyone, h.searchPage)
	pages.Get("/classes/waitlist", staff, h.waitlistPage)
	pages.Post("/enrolments/:id/withdraw", enrollers, h.withdrawForm)
}

func (h *Handler) apiMove(move func(ctx context.Context, p *accounts.Principal, id int64) (classes.Class, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := web.ParamID(c, "id")
		if err != nil {
			return err
		}
		cl, err := move(c.UserContext(), accounts.PrincipalOf(c), id)
		if err != nil {
			return err
		}
		return c.JSON(classes.JSON(cl))
	}
}

type cancelForm struct {
	Reason string `json:"reason"`
}

func (h *Handler) apiCancel(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in cancelForm
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	res, err := h.svc.Cancel(c.UserContext(), accounts.PrincipalOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	affected := res.Notified
	if affected == nil {
		affected = []int64{}
	}
	return c.JSON(fiber.Map{"class": classes.JSON(res.Class), "affected_worker_ids": affected})
}

func (h *Handler) apiEnrol(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in EnrolInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	e, err := h.svc.EnrolRequest(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	out := fiber.Map{"id": e.ID, "status": e.Status, "class_id": e.ClassID, "worker_id": e.WorkerID}
	if e.Position != nil {
		out["position"] = *e.Position
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (h *Handler) apiWithdraw(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.Withdraw(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": e.ID, "status": e.Status})
}

func (h *Handler) apiPlanWaitlist(c *fiber.Ctx) error {
	ws, err := h.waiting(c)
	if err != nil {
		return err
	}
	return c.JSON(web.List(ws, len(ws)))
}

// waiting is the plan waiting list summary narrowed by the filters plan
// and region (a code of the list or above it: 420100 keeps 4201xx). An
// unknown plan or a malformed region answers 422 invalid_filter.
func (h *Handler) waiting(c *fiber.Ctx) ([]PlanWaiting, error) {
	fs := web.NewFilters(c)
	plan := strings.ToUpper(strings.TrimSpace(c.Query("plan")))
	region := strings.TrimSpace(c.Query("region"))
	if plan != "" {
		codes, err := h.catalog.PlanCodes(c.UserContext())
		if err != nil {
			return nil, err
		}
		if !codes[plan] {
			fs.Fail("plan", "培训计划代码「"+plan+"」不存在")
		}
	}
	if region != "" && (len(region) != 6 || strings.Trim(region, "0123456789") != "") {
		fs.Fail("region", "region 须为 6 位行政区划代码")
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	ws, err := h.svc.PlanWaitlist(c.UserContext())
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimRight(region, "0")
	if len(prefix)%2 == 1 {
		prefix += "0"
	}
	out := make([]PlanWaiting, 0, len(ws))
	for _, w := range ws {
		if (plan == "" || w.PlanCode == plan) && strings.HasPrefix(w.RegionCode, prefix) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (h *Handler) searchPage(c *fiber.Ctx) error {
	f, win, err := classes.FilterOf(c, h.catalog)
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	cs, total, estimate, err := h.classes.Search(ctx, f)
	if err != nil {
		return err
	}
	plans, err := h.catalog.Plans(ctx)
	if err != nil {
		return err
	}
	rs, err := h.classes.Regions(ctx)
	if err != nil {
		return err
	}
	// A worker sees where they already are instead of a button that would
	// only answer "already enrolled".
	mine := map[int64]string{}
	isWorker := p.Is(accounts.RoleWorker)
	if isWorker {
		ens, err := h.svc.Mine(ctx, p)
		if err != nil {
			return err
		}
		for _, e := range ens {
			if e.Status.Active() {
				mine[e.ClassID] = e.Status.Label()
			}
		}
	}
	m := classes.PagerView(win, classes.Listing(win, cs, total, estimate))
	m["Title"], m["Plans"], m["Cities"], m["Filter"] = "查找培训班", plans, classes.Cities(rs), f
	m["City"], m["From"], m["To"], m["Query"] = c.Query("city"), c.Query("from"), c.Query("to"), classes.PagerQuery(c)
	m["IsWorker"], m["Mine"] = isWorker, mine
	return web.Render(c, "classes/search", m)
}

func (h *Handler) waitlistPage(c *fiber.Ctx) error {
	ws, err := h.waiting(c)
	if err != nil {
		return err
	}
	return web.Render(c, "classes/waitlist", fiber.Map{"Title": "候补名单", "Waiting": ws})
}

func (h *Handler) withdrawForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	e, err := h.svc.Withdraw(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if p.Is(accounts.RoleWorker) {
		return web.Redirect(c, "/me/classes")
	}
	return web.Redirect(c, "/classes/"+strconv.FormatInt(e.ClassID, 10))
}

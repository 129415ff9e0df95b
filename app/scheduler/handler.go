package scheduler

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the admin page and API of scheduled jobs.
type Handler struct {
	s *Scheduler
}

// NewHandler returns the handler for s.
func NewHandler(s *Scheduler) *Handler { return &Handler{s: s} }

// Routes registers, for administrators only, GET /api/v1/jobs,
// POST /api/v1/jobs/:name/run, the page /admin/jobs and its "run now" form.
func (h *Handler) Routes(api, pages fiber.Router) {
	admin := accounts.Require(accounts.RoleAdmin)
	api.Get("/jobs", admin, h.apiList)
	api.Post("/jobs/:name/run", admin, h.apiRun)
	pages.Get("/admin/jobs", admin, h.page)
	pages.Post("/admin/jobs/:name/run", admin, h.pageRun)
}

// jobView is a job as the API and the page show it.
type jobView struct {
	Name           string    `json:"name"`
	Spec           string    `json:"spec"`
	SpecSource     string    `json:"spec_source,omitempty"`
	TimeoutSeconds int64     `json:"timeout_seconds"`
	NextRun        time.Time `json:"next_run"`
	LastRun        *runView  `json:"last_run"`
}

// runView is a run without the instance internals the page does not need.
type runView struct {
	ID          int64      `json:"id"`
	Slot        time.Time  `json:"slot"`
	Manual      bool       `json:"manual"`
	Instance    string     `json:"instance"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	Status      string     `json:"status"`
	StatusLabel string     `json:"-"`
	Error       string     `json:"error,omitempty"`
}

var statusLabels = map[string]string{
	StatusRunning: "运行中",
	StatusOK:      "成功",
	StatusFailed:  "失败",
	StatusSkipped: "已跳过",
}

func viewRun(r *Run) *runView {
	if r == nil {
		return nil
	}
	return &runView{ID: r.ID, Slot: r.Slot, Manual: r.Manual, Instance: r.Instance, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, Status: r.Status, StatusLabel: statusLabels[r.Status], Error: r.Error}
}

func (h *Handler) jobs(c *fiber.Ctx) ([]jobView, error) {
	list, err := h.s.List(c.UserContext())
	if err != nil {
		return nil, err
	}
	out := make([]jobView, 0, len(list))
	for _, j := range list {
		out = append(out, jobView{Name: j.Name, Spec: j.Spec, SpecSource: j.SpecSource,
			TimeoutSeconds: int64(j.Timeout / time.Second), NextRun: j.NextRun, LastRun: viewRun(j.LastRun)})
	}
	return out, nil
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	p, err := web.Pagination(c)
	if err != nil {
		return err
	}
	all, err := h.jobs(c)
	if err != nil {
		return err
	}
	from := min(p.Offset(), len(all))
	to := min(from+p.PerPage, len(all))
	return c.JSON(web.List(all[from:to], len(all)))
}

// apiRun starts the job and answers 202 with the run as started; the client
// follows it through GET /api/v1/jobs.
func (h *Handler) apiRun(c *fiber.Ctx) error {
	run, err := h.s.Trigger(c.UserContext(), c.Params("name"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(viewRun(&run))
}

func (h *Handler) page(c *fiber.Ctx) error {
	notice := ""
	if name := c.Query("started"); name != "" && h.s.job(name) != nil {
		notice = "已开始运行 " + name + "，结果见下表。"
	}
	return h.render(c, notice, "")
}

func (h *Handler) pageRun(c *fiber.Ctx) error {
	name := c.Params("name")
	if _, err := h.s.Trigger(c.UserContext(), name); err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindConflict {
			return err
		}
		// A job already running is not an error page: say so beside the table.
		return h.render(c.Status(fiber.StatusConflict), "", e.Message)
	}
	return web.Redirect(c, "/admin/jobs?started="+name)
}

func (h *Handler) render(c *fiber.Ctx, notice, alert string) error {
	jobs, err := h.jobs(c)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "定时任务", "Jobs": jobs, "Notice": notice, "Alert": alert}
	for _, j := range jobs {
		if j.LastRun != nil && j.LastRun.Status == StatusRunning {
			data["Refresh"] = 5 // follow a running job without JavaScript
			break
		}
	}
	return web.Render(c, "jobs/list", data)
}

package claims

import (
	"encoding/json"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/web"
	"tuoyu/modules/workers"
)

func (h *Handler) noticesPage(c *fiber.Ctx) error {
	items, total, pg, err := h.notices(c)
	if err != nil {
		return err
	}
	return web.Render(c, "claims/notices", fiber.Map{"Title": "补贴发放公示", "Notices": items, "Total": total,
		"Page": pg.Page, "PerPage": pg.PerPage, "Region": c.Query("region")})
}

// offer is one certificate × subsidy on the "我能领什么补贴" page.
type offer struct {
	subsidies.Result
	CertificateID int64
	Label         string
	Claimed       Status
	CanClaim      bool
	SubsidyLabel  string
}

// label pairs a code with its Chinese name for forms.
type label struct{ Code, Label string }

func subsidyLabels() []label {
	out := make([]label, len(subsidies.Subsidies))
	for i, s := range subsidies.Subsidies {
		out[i] = label{s, subsidies.SubsidyName(s)}
	}
	return out
}

func reasonOptions() []label {
	out := make([]label, len(ReasonCodes))
	for i, c := range ReasonCodes {
		out[i] = label{c, ReasonLabel(c)}
	}
	return out
}

func (h *Handler) renderSubsidies(c *fiber.Ctx, workerID int64) error {
	p := accounts.PrincipalOf(c)
	el, err := h.svc.Eligibility(c.UserContext(), p, workerID)
	if err != nil {
		return err
	}
	labels := map[string]string{}
	for _, c := range el.Held {
		l := c.Kind.Label() + " · " + c.Occupation
		if c.Level != nil {
			l += " · " + strconv.Itoa(*c.Level) + "级"
		}
		labels[CertKey(c.ID)] = l + " · " + c.IssuedOn.Format("2006-01-02") + " 发证"
	}
	var offers []offer
	for _, r := range el.Evaluation.Results {
		id, _ := strconv.ParseInt(r.CertificateID, 10, 64)
		st := el.Claimed[r.CertificateID+"/"+r.Subsidy]
		offers = append(offers, offer{Result: r, CertificateID: id, Label: labels[r.CertificateID], Claimed: st,
			SubsidyLabel: subsidies.SubsidyName(r.Subsidy), CanClaim: st == "" && r.Status != subsidies.StatusIneligible && p.Is(accounts.RoleWorker, accounts.RoleHRReviewer)})
	}
	return web.Render(c, "claims/subsidies", fiber.Map{"Title": "我能领什么补贴", "W": el.Worker, "Offers": offers,
		"AsOf": el.Evaluation.AsOf, "Sources": el.Sources, "Error": c.Query("error")})
}

func (h *Handler) mySubsidiesPage(c *fiber.Ctx) error {
	return h.renderSubsidies(c, accounts.PrincipalOf(c).WorkerID)
}

func (h *Handler) subsidiesPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	return h.renderSubsidies(c, id)
}

func (h *Handler) listPage(c *fiber.Ctx) error {
	l, win, f, err := h.browse(c)
	if err != nil {
		return err
	}
	return web.Render(c, "claims/list", fiber.Map{"Title": "补贴申请", "Claims": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate, "Page": win.Page,
		"PerPage": win.PerPage, "Next": l.NextCursor, "Cursor": win.After != "",
		"Status": string(f.Status), "Statuses": Statuses, "Subsidy": f.Subsidy, "Subsidies": subsidyLabels()})
}

func (h *Handler) submitForm(c *fiber.Ctx) error {
	certID, _ := strconv.ParseInt(c.FormValue("certificate_id"), 10, 64)
	cl, _, err := h.svc.Submit(c.UserContext(), accounts.PrincipalOf(c), SubmitInput{CertificateID: certID, Subsidy: c.FormValue("subsidy")})
	if err != nil {
		if e, ok := apperr.As(err); ok && (e.Kind == apperr.KindInvalid || e.Kind == apperr.KindConflict) {
			back := c.FormValue("back")
			if back != "/me/subsidies" && !(len(back) > 9 && back[:9] == "/workers/") {
				back = "/me/subsidies"
			}
			return web.Render(c.Status(statusOf(e)), "claims/refused", fiber.Map{"Title": "未能提交申请", "Message": e.Message,
				"Fields": e.Fields, "Back": back})
		}
		return err
	}
	return web.Redirect(c, "/claims/"+strconv.FormatInt(cl.ID, 10))
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	return h.renderShow(c, id, nil)
}

func (h *Handler) renderShow(c *fiber.Ctx, id int64, formErr error) error {
	p := accounts.PrincipalOf(c)
	cl, err := h.svc.Get(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	var snap Snapshot
	if err := json.Unmarshal(cl.Snapshot, &snap); err != nil {
		return err
	}
	var changes *Changes
	if len(cl.Changes) > 0 {
		changes = new(Changes)
		if err := json.Unmarshal(cl.Changes, changes); err != nil {
			return err
		}
	}
	_, msg := web.FieldMessages(formErr)
	if formErr != nil {
		if e, ok := apperr.As(formErr); ok {
			c.Status(statusOf(e))
		}
	}
	return web.Render(c, "claims/show", fiber.Map{"Title": "补贴申请 #" + strconv.FormatInt(cl.ID, 10), "C": cl, "Snap": snap,
		"Changes": changes, "Error": msg, "IsHR": p.Is(hrRoles...),
		"CanReview":    cl.Status == StatusSubmitted && p.Is(hrRoles...),
		"CanApprove":   cl.Status == StatusReviewed && p.Is(accounts.RoleHRApprover) && cl.ReviewerID != p.UserID,
		"SameReviewer": cl.Status == StatusReviewed && p.Is(accounts.RoleHRApprover) && cl.ReviewerID == p.UserID,
		"CanObject":    cl.Status == StatusNotice && p.Is(hrRoles...), "ReasonCodes": reasonOptions(), "Sources": sourceLabels(snap.Sources)})
}

func (h *Handler) formDecide(c *fiber.Ctx, fn func(p *accounts.Principal, id int64, d Decision) (*Claim, error)) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	d := Decision{Decision: c.FormValue("decision"), Reason: c.FormValue("reason"), ReasonCode: c.FormValue("reason_code")}
	if _, err := fn(accounts.PrincipalOf(c), id, d); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal && e.Kind != apperr.KindNotFound {
			return h.renderShow(c, id, err)
		}
		return err
	}
	return web.Redirect(c, "/claims/"+strconv.FormatInt(id, 10))
}

func (h *Handler) reviewForm(c *fiber.Ctx) error {
	return h.formDecide(c, func(p *accounts.Principal, id int64, d Decision) (*Claim, error) {
		return h.svc.Review(c.UserContext(), p, id, d)
	})
}

func (h *Handler) approveForm(c *fiber.Ctx) error {
	return h.formDecide(c, func(p *accounts.Principal, id int64, d Decision) (*Claim, error) {
		return h.svc.Approve(c.UserContext(), p, id, d)
	})
}

func (h *Handler) objectForm(c *fiber.Ctx) error {
	return h.formDecide(c, func(p *accounts.Principal, id int64, d Decision) (*Claim, error) {
		return h.svc.Object(c.UserContext(), p, id, d.Reason)
	})
}

// statusOf is the HTTP status a form re-rendered with e answers.
func statusOf(e *apperr.Error) int {
	switch e.Kind {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindForbidden:
		return fiber.StatusForbidden
	}
	return fiber.StatusUnprocessableEntity
}

// sourceLabels names who supplied each fact, for reviewers.
func sourceLabels(src map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range src {
		out[k] = workers.FactSource(v).Label()
	}
	return out
}

func (h *Handler) proposalsPage(c *fiber.Ctx) error {
	l, win, err := h.proposals(c)
	if err != nil {
		return err
	}
	return web.Render(c, "claims/proposals", fiber.Map{"Title": "免申即享：待受理的补贴", "Proposals": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate, "Page": win.Page,
		"PerPage": win.PerPage, "Next": l.NextCursor, "Cursor": win.After != "", "SubsidyNames": subsidyNames()})
}

func subsidyNames() map[string]string {
	out := map[string]string{}
	for _, s := range subsidies.Subsidies {
		out[s] = subsidies.SubsidyName(s)
	}
	return out
}

func (h *Handler) acceptForm(c *fiber.Ctx) error {
	var ids []int64
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == "proposal_ids" {
			if id, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	})
	out, err := h.svc.AcceptProposals(c.UserContext(), accounts.PrincipalOf(c), ids)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInvalid {
			return web.Render(c.Status(fiber.StatusUnprocessableEntity), "claims/refused", fiber.Map{"Title": "未能受理",
				"Message": e.Message, "Fields": e.Fields, "Back": "/claims/proposals"})
		}
		return err
	}
	return web.Render(c, "claims/accepted", fiber.Map{"Title": "受理结果", "Results": out})
}

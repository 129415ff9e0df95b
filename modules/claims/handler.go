package claims

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/subsidies"
	"tuoyu/modules/tabular"
	"tuoyu/modules/web"
)

// Handler serves the claims API and pages.
type Handler struct{ svc *Service }

// NewHandler returns the claims handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	readers := accounts.Require(accounts.RoleWorker, accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleAdmin)
	submitters := accounts.Require(accounts.RoleWorker, accounts.RoleHRReviewer)
	hr := accounts.Require(hrRoles...)
	approver := accounts.Require(accounts.RoleHRApprover)
	reviewer := accounts.Require(accounts.RoleHRReviewer)

	api.Get("/workers/:id/eligibility", readers, h.apiEligibility)
	api.Get("/notices", h.apiNotices)
	api.Post("/insurance/import", reviewer, h.apiImportInsurance)
	api.Post("/insurance/import/:id/commit", reviewer, h.apiCommitInsurance)
	// Before /claims/:id, which would take "proposals" for an id.
	api.Get("/claims/proposals", reviewer, h.apiProposals)
	api.Post("/claims/proposals/accept", reviewer, h.apiAccept)
	api.Get("/claims", readers, h.apiList)
	api.Post("/claims", submitters, h.apiSubmit)
	api.Get("/claims/:id", readers, h.apiShow)
	api.Post("/claims/:id/review", hr, h.apiReview)
	api.Post("/claims/:id/approve", approver, h.apiApprove)
	api.Post("/claims/:id/objection", hr, h.apiObject)

	pages.Get("/notices", h.noticesPage)
	pages.Get("/me/subsidies", accounts.Require(accounts.RoleWorker), h.mySubsidiesPage)
	pages.Get("/workers/:id/subsidies", readers, h.subsidiesPage)
	pages.Get("/claims/proposals", reviewer, h.proposalsPage)
	pages.Post("/claims/proposals/accept", reviewer, h.acceptForm)
	pages.Get("/claims", readers, h.listPage)
	pages.Post("/claims", submitters, h.submitForm)
	pages.Get("/claims/:id", readers, h.showPage)
	pages.Post("/claims/:id/review", hr, h.reviewForm)
	pages.Post("/claims/:id/approve", approver, h.approveForm)
	pages.Post("/claims/:id/objection", hr, h.objectForm)
}

// claimJSON is a claim on lists (DESIGN §5.4 fields plus what screens need).
type claimJSON struct {
	ID            int64   `json:"id"`
	WorkerID      int64   `json:"worker_id"`
	CertificateID int64   `json:"certificate_id"`
	Subsidy       string  `json:"subsidy"`
	Status        Status  `json:"status"`
	AmountYuan    int64   `json:"amount_yuan"`
	SubmittedAt   string  `json:"submitted_at"`
	NoticeEndsOn  *string `json:"notice_ends_on"`
	Region        string  `json:"region"`
	EvalStatus    string  `json:"eval_status"`
	OnBehalf      bool    `json:"on_behalf"`
	FromProposal  bool    `json:"from_proposal"`
	RejectCode    string  `json:"reject_code,omitempty"`
	RejectReason  string  `json:"reject_reason,omitempty"`
}

// claimDetail is one claim with its frozen evaluation and what changed.
type claimDetail struct {
	claimJSON
	ReviewerID int64           `json:"reviewer_id,omitempty"`
	ApproverID int64           `json:"approver_id,omitempty"`
	ApprovedOn *string         `json:"approved_on"`
	Snapshot   json.RawMessage `json:"snapshot"`
	Changes    json.RawMessage `json:"changes"`
}

func dateStr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func toJSON(c *Claim, loc *time.Location) claimJSON {
	return claimJSON{ID: c.ID, WorkerID: c.WorkerID, CertificateID: c.CertificateID, Subsidy: c.Subsidy, Status: c.Status,
		AmountYuan: c.AmountYuan, SubmittedAt: c.SubmittedAt.In(loc).Format(time.RFC3339), NoticeEndsOn: dateStr(c.NoticeEndsOn),
		Region: c.RegionCode, EvalStatus: c.EvalStatus, OnBehalf: c.OnBehalf, FromProposal: c.FromProposal,
		RejectCode: c.RejectCode, RejectReason: c.RejectReason}
}

func toDetail(c *Claim, loc *time.Location) claimDetail {
	d := claimDetail{claimJSON: toJSON(c, loc), ReviewerID: c.ReviewerID, ApproverID: c.ApproverID,
		ApprovedOn: dateStr(c.ApprovedOn), Snapshot: c.Snapshot, Changes: c.Changes}
	if len(d.Changes) == 0 {
		d.Changes = json.RawMessage("null")
	}
	return d
}

func (h *Handler) apiEligibility(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	el, err := h.svc.Eligibility(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"worker_id": el.Worker.ID, "as_of": el.Evaluation.AsOf, "policy_version": el.Evaluation.PolicyVersion,
		"fact_sources": el.Sources, "results": el.Evaluation.Results})
}

// browse reads the window of the claims list a request asks for
// (?status=&subsidy=&page=&per_page= or ?after=). Errors: those of
// web.Paging and Service.List, Invalid invalid_cursor.
func (h *Handler) browse(c *fiber.Ctx) (web.Listing[Claim], web.Window, Filter, error) {
	win, err := web.Paging(c)
	if err != nil {
		return web.Listing[Claim]{}, win, Filter{}, err
	}
	f := Filter{Status: Status(c.Query("status")), Subsidy: c.Query("subsidy"), Page: win.Page, PerPage: win.PerPage}
	if win.After != "" {
		if err := win.Key(&f.AfterID); err != nil {
			return web.Listing[Claim]{}, win, f, err
		}
	}
	list, total, estimate, err := h.svc.List(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return web.Listing[Claim]{}, win, f, err
	}
	return web.NewListing(win, list, total, estimate, func(i int) string { return web.Cursor(list[i].ID) }), win, f, nil
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	l, _, _, err := h.browse(c)
	if err != nil {
		return err
	}
	items := make([]claimJSON, len(l.Items))
	for i := range l.Items {
		items[i] = toJSON(&l.Items[i], h.svc.loc)
	}
	return c.JSON(web.Listing[claimJSON]{Items: items, Total: l.Total, TotalIsEstimate: l.TotalIsEstimate, NextCursor: l.NextCursor})
}

type submitForm struct {
	CertificateID int64  `json:"certificate_id"`
	Subsidy       string `json:"subsidy"`
}

func (h *Handler) apiSubmit(c *fiber.Ctx) error {
	var f submitForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	if f.CertificateID <= 0 {
		return apperr.Invalid("validation_failed", "请选择证书", apperr.FieldError{Field: "certificate_id", Code: "required", Message: "请选择证书"})
	}
	cl, created, err := h.svc.Submit(c.UserContext(), accounts.PrincipalOf(c), SubmitInput{CertificateID: f.CertificateID, Subsidy: f.Subsidy})
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(toDetail(cl, h.svc.loc))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cl, err := h.svc.Get(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toDetail(cl, h.svc.loc))
}

type decisionForm struct {
	Decision   string `json:"decision"`
	Reason     string `json:"reason"`
	ReasonCode string `json:"reason_code"`
}

func (h *Handler) apiDecide(c *fiber.Ctx, fn func(p *accounts.Principal, id int64, d Decision) (*Claim, error)) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var f decisionForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	cl, err := fn(accounts.PrincipalOf(c), id, Decision(f))
	if err != nil {
		return err
	}
	return c.JSON(toDetail(cl, h.svc.loc))
}

func (h *Handler) apiReview(c *fiber.Ctx) error {
	return h.apiDecide(c, func(p *accounts.Principal, id int64, d Decision) (*Claim, error) {
		return h.svc.Review(c.UserContext(), p, id, d)
	})
}

func (h *Handler) apiApprove(c *fiber.Ctx) error {
	return h.apiDecide(c, func(p *accounts.Principal, id int64, d Decision) (*Claim, error) {
		return h.svc.Approve(c.UserContext(), p, id, d)
	})
}

func (h *Handler) apiObject(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var f struct {
		Reason string `json:"reason"`
	}
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	cl, err := h.svc.Object(c.UserContext(), accounts.PrincipalOf(c), id, f.Reason)
	if err != nil {
		return err
	}
	return c.JSON(toDetail(cl, h.svc.loc))
}

type noticeJSON struct {
	Notice
	SubsidyName  string `json:"subsidy_name"`
	NoticeEndsOn string `json:"notice_ends_on"`
}

func (h *Handler) notices(c *fiber.Ctx) ([]noticeJSON, int, web.Page, error) {
	pg, err := web.Pagination(c)
	if err != nil {
		return nil, 0, pg, err
	}
	list, total, err := h.svc.Notices(c.UserContext(), c.Query("region"), pg.Page, pg.PerPage)
	if err != nil {
		return nil, 0, pg, err
	}
	out := make([]noticeJSON, len(list))
	for i, n := range list {
		out[i] = noticeJSON{Notice: n, SubsidyName: subsidies.SubsidyName(n.Subsidy), NoticeEndsOn: n.NoticeEndsOn.Format(time.DateOnly)}
	}
	return out, total, pg, nil
}

func (h *Handler) apiNotices(c *fiber.Ctx) error {
	items, total, _, err := h.notices(c)
	if err != nil {
		return err
	}
	return c.JSON(web.List(items, total))
}

// proposals reads the window of the proposals list a request asks for
// (?page=&per_page= or ?after=). Errors: those of web.Paging and
// Service.Proposals, Invalid invalid_cursor.
func (h *Handler) proposals(c *fiber.Ctx) (web.Listing[Proposal], web.Window, error) {
	win, err := web.Paging(c)
	if err != nil {
		return web.Listing[Proposal]{}, win, err
	}
	pw := ProposalWindow{Offset: win.Offset(), Limit: win.Fetch()}
	if win.After != "" {
		if err := win.Key(&pw.AfterID); err != nil {
			return web.Listing[Proposal]{}, win, err
		}
	}
	list, total, estimate, err := h.svc.Proposals(c.UserContext(), accounts.PrincipalOf(c), pw)
	if err != nil {
		return web.Listing[Proposal]{}, win, err
	}
	return web.NewListing(win, list, total, estimate, func(i int) string { return web.Cursor(list[i].ID) }), win, nil
}

func (h *Handler) apiProposals(c *fiber.Ctx) error {
	l, _, err := h.proposals(c)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (h *Handler) apiAccept(c *fiber.Ctx) error {
	var f struct {
		ProposalIDs []int64 `json:"proposal_ids"`
	}
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	out, err := h.svc.AcceptProposals(c.UserContext(), accounts.PrincipalOf(c), f.ProposalIDs)
	if err != nil {
		return err
	}
	n := 0
	for _, a := range out {
		if a.ClaimID != 0 {
			n++
		}
	}
	return c.JSON(fiber.Map{"accepted": n, "results": out})
}

// readUpload reads the multipart file field of an insurance import.
func readUpload(c *fiber.Ctx) (string, []byte, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, apperr.Invalid("file_required", "请选择要上传的社保缴费记录文件",
			apperr.FieldError{Field: "file", Code: "required", Message: "请选择 CSV 或 XLSX 文件（列：身份证号、累计缴费月数、截至日期）"})
	}
	if fh.Size > tabular.MaxBytes {
		return "", nil, apperr.TooLarge(tabular.CodeFileTooLarge, "文件过大，不能超过 20 MB")
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, fmt.Errorf("open uploaded insurance file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, tabular.MaxBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("read uploaded insurance file: %w", err)
	}
	return fh.Filename, data, nil
}

func (h *Handler) apiImportInsurance(c *fiber.Ctx) error {
	name, data, err := readUpload(c)
	if err != nil {
		return err
	}
	imp, err := h.svc.ImportInsurance(c.UserContext(), accounts.PrincipalOf(c), name, data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(imp)
}

func (h *Handler) apiCommitInsurance(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	imp, err := h.svc.CommitInsurance(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(imp)
}

package payouts

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/tabular"
	"tuoyu/modules/web"
)

// batchRoutes registers the payout batch API and pages.
func (h *Handler) batchRoutes(api, pages fiber.Router) {
	reader := accounts.Require(readers...)
	payer := accounts.Require(payers...)

	api.Get("/payout-batches", reader, h.apiBatches)
	api.Post("/payout-batches", payer, h.apiCreate)
	api.Post("/payout-batches/release-returns", payer, h.apiRelease)
	api.Get("/payout-batches/:id", reader, h.apiBatch)
	api.Get("/payout-batches/:id/export.xlsx", payer, h.export)
	api.Post("/payout-batches/:id/claims/:claim_id/remove", payer, h.apiRemove)
	api.Post("/payout-batches/:id/paid", payer, h.apiPaid)
	api.Post("/payout-batches/:id/returns", payer, h.apiReturns)

	pages.Get("/payout-batches", reader, h.listPage)
	pages.Post("/payout-batches", payer, h.createForm)
	pages.Post("/payout-batches/release-returns", payer, h.releaseForm)
	pages.Get("/payout-batches/:id", reader, h.showPage)
	pages.Get("/payout-batches/:id/export.xlsx", payer, h.export)
	pages.Post("/payout-batches/:id/claims/:claim_id/remove", payer, h.removeForm)
	pages.Post("/payout-batches/:id/paid", payer, h.paidForm)
	pages.Post("/payout-batches/:id/returns", payer, h.returnsForm)
}

// batchJSON is a batch in the API. paid_yuan + returned_yuan = total_yuan
// once the batch is paid.
type batchJSON struct {
	ID             int64      `json:"id"`
	Number         string     `json:"number"`
	Region         string     `json:"region"`
	RegionName     string     `json:"region_name"`
	Status         Status     `json:"status"`
	Claims         int        `json:"claims"`
	TotalYuan      int64      `json:"total_yuan"`
	PaidClaims     int        `json:"paid_claims"`
	PaidYuan       int64      `json:"paid_yuan"`
	ReturnedClaims int        `json:"returned_claims"`
	ReturnedYuan   int64      `json:"returned_yuan"`
	CreatedAt      time.Time  `json:"created_at"`
	ExportedAt     *time.Time `json:"exported_at"`
	Exports        int        `json:"exports"`
	PaidOn         *string    `json:"paid_on"`
	BankReference  *string    `json:"bank_reference"`
	PaidAt         *time.Time `json:"paid_at"`
}

func toBatchJSON(b *Batch) batchJSON {
	j := batchJSON{ID: b.ID, Number: b.Number(), Region: b.RegionCode, RegionName: b.RegionName, Status: b.Status,
		Claims: b.Claims, TotalYuan: b.TotalYuan, PaidClaims: b.PaidClaims(), PaidYuan: b.PaidYuan(),
		ReturnedClaims: b.ReturnedClaims, ReturnedYuan: b.ReturnedYuan, CreatedAt: b.CreatedAt,
		ExportedAt: b.ExportedAt, Exports: b.Exports, BankReference: b.BankReference, PaidAt: b.PaidAt}
	if b.PaidOn != nil {
		s := b.PaidOn.Format(time.DateOnly)
		j.PaidOn = &s
	}
	return j
}

// itemJSON is one claim of a batch; the worker's ID number and account only
// masked.
type itemJSON struct {
	ClaimID          int64      `json:"claim_id"`
	WorkerID         int64      `json:"worker_id"`
	Name             string     `json:"name"`
	IDNumberMasked   string     `json:"id_number_masked"`
	AccountMasked    string     `json:"bank_account_masked"`
	HasBankAccount   bool       `json:"has_bank_account"`
	Region           string     `json:"region"`
	Subsidy          string     `json:"subsidy"`
	AmountYuan       int64      `json:"amount_yuan"`
	Status           ItemStatus `json:"status"`
	RemovedReason    *string    `json:"removed_reason,omitempty"`
	ReturnReason     *string    `json:"return_reason,omitempty"`
	ReturnedAt       *time.Time `json:"returned_at,omitempty"`
	PayableAgainAt   *time.Time `json:"payable_again_at,omitempty"`
	BlocksBankExport bool       `json:"blocks_export"`
}

func toItemJSON(v ItemView, b *Batch) itemJSON {
	return itemJSON{ClaimID: v.ClaimID, WorkerID: v.WorkerID, Name: v.WorkerName, IDNumberMasked: v.IDMask,
		AccountMasked: v.AccountMask, HasBankAccount: v.HasAccount, Region: v.RegionCode, Subsidy: v.Subsidy,
		AmountYuan: v.AmountYuan, Status: v.Status, RemovedReason: v.RemovedReason, ReturnReason: v.ReturnReason,
		ReturnedAt: v.ReturnedAt, PayableAgainAt: v.ReleasedAt,
		BlocksBankExport: v.Status == ItemIncluded && !v.HasAccount && b.Status != StatusPaid}
}

func (h *Handler) apiBatches(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	bs, total, err := h.svc.Batches(c.UserContext(), accounts.PrincipalOf(c), c.Query("status"), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	out := make([]batchJSON, len(bs))
	for i := range bs {
		out[i] = toBatchJSON(&bs[i])
	}
	return c.JSON(web.List(out, total))
}

type createForm struct {
	Region string `json:"region"`
}

func (h *Handler) apiCreate(c *fiber.Ctx) error {
	var f createForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	b, err := h.svc.CreateBatch(c.UserContext(), accounts.PrincipalOf(c), f.Region)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/api/v1/payout-batches/%d", b.ID))
	return c.Status(fiber.StatusCreated).JSON(toBatchJSON(b))
}

func (h *Handler) apiBatch(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	if c.Query("per_page") == "" {
		pg.PerPage = web.MaxPerPage
	}
	p := accounts.PrincipalOf(c)
	b, err := h.svc.Batch(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	items, total, err := h.svc.Items(c.UserContext(), p, id, pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	blocking, err := h.svc.Blocking(c.UserContext(), b)
	if err != nil {
		return err
	}
	out := struct {
		batchJSON
		Items      []itemJSON `json:"items"`
		ItemsTotal int        `json:"items_total"`
		Blocking   []itemJSON `json:"blocking"`
	}{batchJSON: toBatchJSON(b), Items: []itemJSON{}, ItemsTotal: total, Blocking: []itemJSON{}}
	for _, v := range items {
		out.Items = append(out.Items, toItemJSON(v, b))
	}
	for _, v := range blocking {
		out.Blocking = append(out.Blocking, toItemJSON(v, b))
	}
	return c.JSON(out)
}

// export answers the bank file. It is never cached, and its content (ID
// numbers, accounts) is never logged: only the audit event says who took it.
func (h *Handler) export(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	b, err := h.svc.Export(c.UserContext(), accounts.PrincipalOf(c), id, &buf)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+b.Number()+`.xlsx"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

type removeForm struct {
	Reason string `json:"reason"`
}

func (h *Handler) remove(c *fiber.Ctx, reason string) (*Batch, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	claimID, err := web.ParamID(c, "claim_id")
	if err != nil {
		return nil, err
	}
	return h.svc.RemoveClaim(c.UserContext(), accounts.PrincipalOf(c), id, claimID, reason)
}

func (h *Handler) apiRemove(c *fiber.Ctx) error {
	var f removeForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	b, err := h.remove(c, f.Reason)
	if err != nil {
		return err
	}
	return c.JSON(toBatchJSON(b))
}

type paidForm struct {
	PaidOn        string `json:"paid_on"`
	BankReference string `json:"bank_reference"`
}

func (h *Handler) apiPaid(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var f paidForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	b, err := h.svc.MarkPaid(c.UserContext(), accounts.PrincipalOf(c), id, PaidInput(f))
	if err != nil {
		return err
	}
	return c.JSON(toBatchJSON(b))
}

// readFile reads the multipart field "file" (at most tabular.MaxBytes).
func readFile(c *fiber.Ctx) ([]byte, string, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, "", apperr.Invalid("file_required", "请选择银行退回文件",
			apperr.FieldError{Field: "file", Code: "required", Message: "请选择银行退回文件（CSV 或 XLSX）"})
	}
	if fh.Size > tabular.MaxBytes {
		return nil, "", apperr.TooLarge(tabular.CodeFileTooLarge, "文件过大，不能超过 20 MB")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("open uploaded return file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, tabular.MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("read uploaded return file: %w", err)
	}
	return data, fh.Filename, nil
}

func (h *Handler) returns(c *fiber.Ctx) (*ReturnResult, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	data, name, err := readFile(c)
	if err != nil {
		return nil, err
	}
	return h.svc.ImportReturns(c.UserContext(), accounts.PrincipalOf(c), id, data, name)
}

func (h *Handler) apiReturns(c *fiber.Ctx) error {
	res, err := h.returns(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"returned": res.Returned, "returned_yuan": res.ReturnedYuan, "batch": toBatchJSON(res.Batch)})
}

func (h *Handler) apiRelease(c *fiber.Ctx) error {
	var f createForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	n, err := h.svc.ReleaseReturns(c.UserContext(), accounts.PrincipalOf(c), f.Region)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"released": n})
}

// Pages.

func (h *Handler) listPage(c *fiber.Ctx) error { return h.renderList(c, "", nil) }

func (h *Handler) renderList(c *fiber.Ctx, notice string, formErr error) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	bs, total, err := h.svc.Batches(c.UserContext(), p, c.Query("status"), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "补贴拨付批次", "Batches": bs, "Total": total, "Page": pg.Page, "PerPage": pg.PerPage,
		"Region": p.Region, "CanPay": p.Is(payers...), "Notice": notice}
	if formErr != nil {
		fields, msg := web.FieldMessages(formErr)
		data["Error"], data["Fields"] = msg, fields
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "payouts/list", data)
}

// statusOf is the HTTP status of a form error shown on a page.
func statusOf(err error) int {
	switch apperr.KindOf(err) {
	case apperr.KindConflict:
		return fiber.StatusConflict
	case apperr.KindInvalid:
		return fiber.StatusUnprocessableEntity
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindUnsupported:
		return fiber.StatusUnsupportedMediaType
	}
	return fiber.StatusBadRequest
}

// pageError reports whether err belongs on the form (a person can fix it)
// rather than on the error page.
func pageError(err error) bool {
	k := apperr.KindOf(err)
	return k == apperr.KindInvalid || k == apperr.KindConflict
}

func (h *Handler) createForm(c *fiber.Ctx) error {
	b, err := h.svc.CreateBatch(c.UserContext(), accounts.PrincipalOf(c), c.FormValue("region"))
	if err != nil {
		if pageError(err) {
			return h.renderList(c, "", err)
		}
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/payout-batches/%d", b.ID))
}

func (h *Handler) releaseForm(c *fiber.Ctx) error {
	n, err := h.svc.ReleaseReturns(c.UserContext(), accounts.PrincipalOf(c), c.FormValue("region"))
	if err != nil {
		if pageError(err) {
			return h.renderList(c, "", err)
		}
		return err
	}
	return h.renderList(c, fmt.Sprintf("已核对银行退回的申请：%d 笔因账户已更正重新列为待拨付。", n), nil)
}

func (h *Handler) showPage(c *fiber.Ctx) error { return h.renderShow(c, "", nil) }

func (h *Handler) renderShow(c *fiber.Ctx, notice string, formErr error) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	if c.Query("per_page") == "" {
		pg.PerPage = 100
	}
	p := accounts.PrincipalOf(c)
	b, err := h.svc.Batch(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	items, total, err := h.svc.Items(c.UserContext(), p, id, pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	blocking, err := h.svc.Blocking(c.UserContext(), b)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "拨付批次 " + b.Number(), "B": b, "Items": items, "ItemsTotal": total, "Blocking": blocking,
		"Page": pg.Page, "PerPage": pg.PerPage, "CanPay": p.Is(payers...), "Notice": notice,
		"Today": h.svc.today().Format(time.DateOnly), "SubsidyLabel": SubsidyLabel}
	if formErr != nil {
		fields, msg := web.FieldMessages(formErr)
		data["Error"], data["Fields"] = msg, fields
		if e, ok := apperr.As(formErr); ok && len(e.Fields) > 0 {
			data["FieldErrors"] = e.Fields
		}
		c.Status(statusOf(formErr))
	}
	return web.Render(c, "payouts/show", data)
}

func (h *Handler) removeForm(c *fiber.Ctx) error {
	if _, err := h.remove(c, c.FormValue("reason")); err != nil {
		if pageError(err) {
			return h.renderShow(c, "", err)
		}
		return err
	}
	return web.Redirect(c, "/payout-batches/"+c.Params("id"))
}

func (h *Handler) paidForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	_, err = h.svc.MarkPaid(c.UserContext(), accounts.PrincipalOf(c), id,
		PaidInput{PaidOn: c.FormValue("paid_on"), BankReference: c.FormValue("bank_reference")})
	if err != nil {
		if pageError(err) {
			return h.renderShow(c, "", err)
		}
		return err
	}
	return web.Redirect(c, "/payout-batches/"+strconv.FormatInt(id, 10))
}

func (h *Handler) returnsForm(c *fiber.Ctx) error {
	res, err := h.returns(c)
	if err != nil {
		if pageError(err) || apperr.KindOf(err) == apperr.KindUnsupported || apperr.KindOf(err) == apperr.KindTooLarge {
			return h.renderShow(c, "", err)
		}
		return err
	}
	return h.renderShow(c, fmt.Sprintf("已登记银行退回 %d 笔，共 %d 元。退回的申请在学员更正银行账户后重新列为待拨付。", res.Returned, res.ReturnedYuan), nil)
}

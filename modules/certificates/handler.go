package certificates

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/ratelimit"
	"tuoyu/modules/web"
)

// DefaultVerifyRate is how many verifications one IP may make per minute
// when TUOYU_VERIFY_RATE is unset.
const DefaultVerifyRate = 60

// Handler serves the certificates API and pages.
type Handler struct {
	svc   *Service
	limit *ratelimit.Limiter
}

// NewHandler returns the certificates handler; limit counts verifications
// (by code or PDF, API and pages together) per IP (nil: no limit).
func NewHandler(svc *Service, limit *ratelimit.Limiter) *Handler {
	return &Handler{svc: svc, limit: limit}
}

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	worker := accounts.Require(accounts.RoleWorker)
	provider := accounts.Require(accounts.RoleProvider)
	admin := accounts.Require(accounts.RoleAdmin)
	readers := accounts.Require(readers...)
	recorders := accounts.Require(accounts.RoleHRReviewer, accounts.RoleAdmin)
	revokers := accounts.Require(accounts.RoleProvider, accounts.RoleAdmin)
	limit := h.limit.Handler(ratelimit.ByIP)

	api.Get("/verify/key", h.apiKey)
	api.Post("/verify/pdf", limit, h.apiVerifyPDF)
	api.Get("/verify/:code", limit, h.apiVerify)
	api.Get("/me/certificates", worker, h.apiMine)
	api.Get("/certificates", readers, h.apiList)
	api.Get("/certificates/:id", readers, h.apiShow)
	api.Get("/certificates/:id/pdf", readers, h.download)
	api.Post("/certificates/:id/revoke", revokers, h.apiRevoke)
	api.Post("/workers/:id/certificates", recorders, h.apiRecord)
	api.Post("/classes/:id/certificates/export", provider, h.apiExport)
	api.Get("/exports/:id", accounts.Require(), h.apiExportStatus)
	api.Get("/exports/:id/download", accounts.Require(), h.exportDownload)
	api.Get("/certificate-templates", admin, h.apiTemplates)
	api.Post("/certificate-templates", admin, h.apiAddTemplate)

	pages.Get("/verify", h.verifyPage)
	pages.Post("/verify", limit, h.verifyForm)
	pages.Get("/verify/:code", limit, h.verifyCodePage)
	pages.Get("/me/certificates", worker, h.minePage)
	pages.Get("/certificates", readers, h.listPage)
	pages.Get("/certificates/:id", readers, h.showPage)
	pages.Post("/certificates/:id/revoke", revokers, h.revokeForm)
	pages.Get("/classes/:id/certificates", provider, h.classPage)
	pages.Post("/classes/:id/certificates/export", provider, h.exportForm)
	pages.Get("/exports/:id", accounts.Require(), h.exportPage)
	pages.Get("/exports/:id/download", accounts.Require(), h.exportDownload)
	pages.Get("/admin/certificate-templates", admin, h.templatesPage)
	pages.Post("/admin/certificate-templates", admin, h.templateForm)
}

// View is a certificate in the API (DESIGN §5.4): no ID number, the
// holder's name only to those who may see the certificate.
type View struct {
	ID           int64   `json:"id"`
	Number       string  `json:"number"`
	Kind         Kind    `json:"kind"`
	Source       Source  `json:"source"`
	WorkerID     int64   `json:"worker_id"`
	HolderName   string  `json:"holder_name"`
	ClassID      *int64  `json:"class_id"`
	PlanCode     string  `json:"plan_code"`
	PlanName     string  `json:"plan_name"`
	Occupation   string  `json:"occupation"`
	Level        *int    `json:"level"`
	Hours        *string `json:"hours"`
	Issuer       string  `json:"issuer"`
	IssuedOn     string  `json:"issued_on"`
	ExpiresOn    *string `json:"expires_on"`
	Status       Status  `json:"status"`
	RevokedOn    *string `json:"revoked_on"`
	RevokeReason *string `json:"revoke_reason"`
	VerifyCode   string  `json:"verify_code"`
	VerifyURL    string  `json:"verify_url,omitempty"`
	HasPDF       bool    `json:"has_pdf"`
	TemplateID   *int64  `json:"template_id"`
}

func dateStr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

func viewOf(c Certificate) View {
	v := View{ID: c.ID, Number: c.Number, Kind: c.Kind, Source: c.Source, WorkerID: c.WorkerID, HolderName: c.HolderName,
		PlanCode: c.PlanCode, PlanName: c.PlanName, Occupation: c.Occupation, Level: c.Level, Issuer: c.IssuerName,
		IssuedOn: c.IssuedOn.Format(time.DateOnly), ExpiresOn: dateStr(c.ExpiresOn), Status: c.Status,
		RevokedOn: dateStr(c.RevokedOn), VerifyCode: c.VerifyCode, VerifyURL: c.VerifyURL, HasPDF: c.HasPDF()}
	if c.ClassID != 0 {
		v.ClassID = &c.ClassID
	}
	if c.TemplateID != 0 {
		v.TemplateID = &c.TemplateID
	}
	if c.Hours != nil {
		h := c.Hours.String()
		v.Hours = &h
	}
	if c.RevokeReason != "" {
		r := c.RevokeReason
		v.RevokeReason = &r
	}
	return v
}

func views(cs []Certificate) []View {
	out := make([]View, len(cs))
	for i, c := range cs {
		out[i] = viewOf(c)
	}
	return out
}

func (h *Handler) apiKey(c *fiber.Ctx) error {
	ks, err := h.svc.Keys(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ks)
}

func (h *Handler) apiVerify(c *fiber.Ctx) error {
	code, _ := url.PathUnescape(c.Params("code"))
	a, err := h.svc.Verify(c.UserContext(), code)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// readPDF reads the multipart field "file" of a verify upload, refusing by
// the declared length what is too large before the form is parsed.
func readPDF(c *fiber.Ctx) ([]byte, error) {
	tooLarge := apperr.TooLarge("file_too_large", "文件过大：证书 PDF 不能超过 10 MB")
	if c.Request().Header.ContentLength() > MaxUpload+64<<10 {
		return nil, tooLarge
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, apperr.Invalid("file_required", "请选择要核验的证书 PDF 文件",
			apperr.FieldError{Field: "file", Code: "required", Message: "请选择要核验的证书 PDF 文件"})
	}
	if fh.Size > MaxUpload {
		return nil, tooLarge
	}
	return readPart(fh)
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxUpload+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(b) > MaxUpload {
		return nil, apperr.TooLarge("file_too_large", "文件过大：证书 PDF 不能超过 10 MB")
	}
	return b, nil
}

func (h *Handler) apiVerifyPDF(c *fiber.Ctx) error {
	data, err := readPDF(c)
	if err != nil {
		return err
	}
	a, err := h.svc.VerifyPDF(c.UserContext(), data)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// filterOf reads a certificate list's filters (class_id, worker_id,
// status) and window (?page=&per_page= or ?after=, see web.Paging); the
// filter reads one row more than the page so the listing knows whether a
// next one exists. Errors: Invalid validation_failed, invalid_pagination,
// page_too_deep, invalid_cursor.
func filterOf(c *fiber.Ctx) (Filter, web.Window, error) {
	win, err := web.Paging(c)
	if err != nil {
		return Filter{}, win, err
	}
	f := Filter{Limit: win.Fetch(), Offset: win.Offset()}
	if win.After != "" {
		var day string
		if err := win.Key(&day, &f.AfterID); err != nil {
			return f, win, err
		}
		if f.AfterIssuedOn, err = time.Parse(time.DateOnly, day); err != nil || f.AfterID <= 0 {
			return f, win, web.InvalidCursor()
		}
	}
	var fields []apperr.FieldError
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"class_id", &f.ClassID}, {"worker_id", &f.WorkerID}} {
		if v := c.Query(q.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				fields = append(fields, apperr.FieldError{Field: q.name, Code: "invalid_id", Message: q.name + " 应为正整数"})
			}
			*q.dst = n
		}
	}
	switch st := Status(c.Query("status")); st {
	case "", StatusValid, StatusRevoked, StatusExpired:
		f.Status = st
	default:
		fields = append(fields, apperr.FieldError{Field: "status", Code: "invalid_status", Message: "状态应为 valid、revoked 或 expired"})
	}
	if len(fields) > 0 {
		return f, win, apperr.Invalid("validation_failed", "查询条件有误", fields...)
	}
	return f, win, nil
}

// browse answers a certificate list request: the page, the total and the
// cursor after the page's last certificate.
func (h *Handler) browse(c *fiber.Ctx, f Filter, win web.Window) (web.Listing[Certificate], error) {
	cs, total, estimate, err := h.svc.Browse(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return web.Listing[Certificate]{}, err
	}
	return web.NewListing(win, cs, total, estimate, func(i int) string {
		return web.Cursor(cs[i].IssuedOn.Format(time.DateOnly), cs[i].ID)
	}), nil
}

func listingJSON(l web.Listing[Certificate]) any {
	return web.Listing[View]{Items: views(l.Items), Total: l.Total, TotalIsEstimate: l.TotalIsEstimate, NextCursor: l.NextCursor}
}

func (h *Handler) apiMine(c *fiber.Ctx) error {
	f, win, err := filterOf(c)
	if err != nil {
		return err
	}
	f.WorkerID = accounts.PrincipalOf(c).WorkerID
	l, err := h.browse(c, f, win)
	if err != nil {
		return err
	}
	return c.JSON(listingJSON(l))
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	f, win, err := filterOf(c)
	if err != nil {
		return err
	}
	l, err := h.browse(c, f, win)
	if err != nil {
		return err
	}
	return c.JSON(listingJSON(l))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	cert, err := h.svc.Get(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewOf(cert))
}

func (h *Handler) download(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	b, cert, err := h.svc.PDF(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+cert.Number+`.pdf"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(b)
}

func (h *Handler) apiRevoke(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in RevokeInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cert, err := h.svc.Revoke(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(viewOf(cert))
}

func (h *Handler) apiRecord(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var in ExternalInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	cert, err := h.svc.RecordExternal(c.UserContext(), accounts.PrincipalOf(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewOf(cert))
}

// exportJSON is an export in the API.
type exportJSON struct {
	ID       int64  `json:"export_id"`
	ClassID  int64  `json:"class_id"`
	Status   string `json:"status"`
	Progress int    `json:"progress"`
	Total    int    `json:"total"`
	Download string `json:"download,omitempty"`
}

func exportView(e Export) exportJSON {
	j := exportJSON{ID: e.ID, ClassID: e.ClassID, Status: e.Status, Progress: e.Progress, Total: e.Total}
	if e.Status == "done" {
		j.Download = "/api/v1/exports/" + strconv.FormatInt(e.ID, 10) + "/download"
	}
	return j
}

func (h *Handler) apiExport(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.StartExport(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderLocation, "/api/v1/exports/"+strconv.FormatInt(e.ID, 10))
	return c.Status(fiber.StatusAccepted).JSON(exportView(e))
}

func (h *Handler) apiExportStatus(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.ExportStatus(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(exportView(e))
}

func (h *Handler) exportDownload(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	path, e, err := h.svc.ExportFile(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="class-%d-certificates.zip"`, e.ClassID))
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendFile(path)
}

// templateJSON is a template version in the API (the seal as a flag).
type templateJSON struct {
	ID         int64     `json:"id"`
	Version    int       `json:"version"`
	Layout     string    `json:"layout"`
	Title      string    `json:"title"`
	IssuerName string    `json:"issuer_name"`
	Signatory  string    `json:"signatory"`
	HasSeal    bool      `json:"has_seal"`
	Note       string    `json:"note"`
	CreatedAt  time.Time `json:"created_at"`
}

func templateView(t Template) templateJSON {
	return templateJSON{ID: t.ID, Version: t.Version, Layout: t.Layout, Title: t.Title, IssuerName: t.IssuerName,
		Signatory: t.Signatory, HasSeal: len(t.SealPNG) > 0, Note: t.Note, CreatedAt: t.CreatedAt}
}

func (h *Handler) apiTemplates(c *fiber.Ctx) error {
	ts, err := h.svc.Templates(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	out := make([]templateJSON, len(ts))
	for i, t := range ts {
		out[i] = templateView(t)
	}
	return c.JSON(web.List(out, len(out)))
}

// templateInput reads an uploaded template: form fields layout, title,
// issuer_name, signatory, note and an optional PNG file "seal".
func templateInput(c *fiber.Ctx) (TemplateInput, error) {
	in := TemplateInput{Layout: c.FormValue("layout"), Title: c.FormValue("title"), IssuerName: c.FormValue("issuer_name"),
		Signatory: c.FormValue("signatory"), Note: c.FormValue("note")}
	if fh, err := c.FormFile("seal"); err == nil && fh.Size > 0 {
		if fh.Size > 1<<20 {
			return in, apperr.TooLarge("file_too_large", "印章图片不能超过 1 MB")
		}
		b, err := readPart(fh)
		if err != nil {
			return in, err
		}
		in.SealPNG = b
	}
	return in, nil
}

func (h *Handler) apiAddTemplate(c *fiber.Ctx) error {
	in, err := templateInput(c)
	if err != nil {
		return err
	}
	t, err := h.svc.AddTemplate(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(templateView(t))
}

package certificates

import (
	"html/template"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// verifyPage is the public page where anyone types a code or uploads a PDF.
func (h *Handler) verifyPage(c *fiber.Ctx) error {
	return web.Render(c, "verify/index", fiber.Map{"Title": "证书核验"})
}

// verifyForm takes a typed code (→ the code's page) or an uploaded PDF
// (answered here).
func (h *Handler) verifyForm(c *fiber.Ctx) error {
	if code := c.FormValue("code"); code != "" {
		norm, ok := NormalizeCode(code)
		if !ok {
			c.Status(fiber.StatusUnprocessableEntity)
			return web.Render(c, "verify/index", fiber.Map{"Title": "证书核验", "Error": errCode().Message, "Code": code})
		}
		return web.Redirect(c, "/verify/"+url.PathEscape(norm))
	}
	data, err := readPDF(c)
	if err == nil {
		var a Answer
		if a, err = h.svc.VerifyPDF(c.UserContext(), data); err == nil {
			return web.Render(c, "verify/show", fiber.Map{"Title": "证书核验结果", "Answer": a, "ByFile": true})
		}
	}
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal {
		return err
	}
	c.Status(statusOf(e))
	return web.Render(c, "verify/index", fiber.Map{"Title": "证书核验", "Error": e.Message})
}

func statusOf(e *apperr.Error) int {
	switch e.Kind {
	case apperr.KindTooLarge:
		return fiber.StatusRequestEntityTooLarge
	case apperr.KindUnsupported:
		return fiber.StatusUnsupportedMediaType
	case apperr.KindNotFound:
		return fiber.StatusNotFound
	case apperr.KindConflict:
		return fiber.StatusConflict
	}
	return fiber.StatusUnprocessableEntity
}

func (h *Handler) verifyCodePage(c *fiber.Ctx) error {
	code, _ := url.PathUnescape(c.Params("code"))
	a, err := h.svc.Verify(c.UserContext(), code)
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.KindInternal {
			return err
		}
		c.Status(statusOf(e))
		return web.Render(c, "verify/index", fiber.Map{"Title": "证书核验", "Error": e.Message, "Code": code})
	}
	return web.Render(c, "verify/show", fiber.Map{"Title": "证书核验结果", "Answer": a})
}

func (h *Handler) minePage(c *fiber.Ctx) error {
	p := accounts.PrincipalOf(c)
	cs, _, err := h.svc.List(c.UserContext(), p, Filter{WorkerID: p.WorkerID, Limit: 200})
	if err != nil {
		return err
	}
	holds, err := h.svc.Holds(c.UserContext(), p, 0, p.WorkerID)
	if err != nil {
		return err
	}
	return web.Render(c, "certificates/mine", fiber.Map{"Title": "我的证书", "Certificates": cs, "Holds": holds})
}

func (h *Handler) listPage(c *fiber.Ctx) error {
	f, win, err := filterOf(c)
	if err != nil {
		return err
	}
	l, err := h.browse(c, f, win)
	if err != nil {
		return err
	}
	v := url.Values{}
	for _, k := range []string{"class_id", "worker_id", "status"} {
		if s := c.Query(k); s != "" {
			v.Set(k, s)
		}
	}
	return web.Render(c, "certificates/list", fiber.Map{"Title": "证书", "Certificates": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate, "Filter": f,
		"Page": win.Page, "PerPage": win.PerPage, "Next": l.NextCursor, "Cursor": win.After != "",
		"Query": template.URL(v.Encode())}) // every value is escaped by Encode
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	return h.renderShow(c, id, nil, RevokeInput{})
}

func (h *Handler) renderShow(c *fiber.Ctx, id int64, formErr error, in RevokeInput) error {
	p := accounts.PrincipalOf(c)
	cert, err := h.svc.Get(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	canRevoke := cert.Status != StatusRevoked && ((p.Role == accounts.RoleProvider && cert.ProviderOrgID == p.OrgID) || p.Role == accounts.RoleAdmin)
	fields, msg := web.FieldMessages(formErr)
	return web.Render(c, "certificates/show", fiber.Map{"Title": "证书 " + cert.Number, "Cert": cert,
		"CanRevoke": canRevoke, "CanDownload": cert.HasPDF() && p.Is(pdfReaders...),
		"Error": msg, "Fields": fields, "Form": in})
}

func (h *Handler) revokeForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	in := RevokeInput{ReasonCategory: c.FormValue("reason_category"), Note: c.FormValue("note")}
	if _, err := h.svc.Revoke(c.UserContext(), accounts.PrincipalOf(c), id, in); err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.KindInternal || e.Kind == apperr.KindNotFound {
			return err
		}
		c.Status(statusOf(e))
		return h.renderShow(c, id, err, in)
	}
	return web.Redirect(c, "/certificates/"+strconv.FormatInt(id, 10))
}

// classPage is a provider's list of one class's certificates, with the ZIP
// export.
func (h *Handler) classPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	class, err := h.svc.Class(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	cs, n, err := h.svc.List(c.UserContext(), p, Filter{ClassID: id, Limit: 200})
	if err != nil {
		return err
	}
	holds, err := h.svc.Holds(c.UserContext(), p, id, 0)
	if err != nil {
		return err
	}
	return web.Render(c, "certificates/class", fiber.Map{"Title": "班级证书：" + class.Name, "Class": class, "Certificates": cs, "Total": n,
		"Holds": holds, "HoldRetryMinutes": int(HoldRetry.Minutes())})
}

func (h *Handler) exportForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.StartExport(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return web.Redirect(c, "/exports/"+strconv.FormatInt(e.ID, 10))
}

func (h *Handler) exportPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	e, err := h.svc.ExportStatus(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "证书打包下载", "Export": e}
	if e.Status == "running" {
		data["Refresh"] = 2
	}
	return web.Render(c, "certificates/export", data)
}

func (h *Handler) templatesPage(c *fiber.Ctx) error {
	return h.renderTemplates(c, nil, TemplateInput{Layout: "classic"})
}

func (h *Handler) renderTemplates(c *fiber.Ctx, formErr error, in TemplateInput) error {
	ts, err := h.svc.Templates(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	fields, msg := web.FieldMessages(formErr)
	return web.Render(c, "certificates/templates", fiber.Map{"Title": "证书模板", "Templates": ts, "Layouts": Layouts,
		"Error": msg, "Fields": fields, "Form": in})
}

func (h *Handler) templateForm(c *fiber.Ctx) error {
	in, err := templateInput(c)
	if err == nil {
		_, err = h.svc.AddTemplate(c.UserContext(), accounts.PrincipalOf(c), in)
	}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.KindInternal {
			return err
		}
		c.Status(statusOf(e))
		return h.renderTemplates(c, err, in)
	}
	return web.Redirect(c, "/admin/certificate-templates")
}

package rosters

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/tabular"
	"tuoyu/modules/web"
)

// Handler serves roster imports: the API colleges (and their systems, by
// API token) call and the pages they use.
type Handler struct {
	svc *Service
}

// NewHandler returns the rosters handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// previewRows is how many rows of each kind the preview page shows.
const previewRows = 50

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	college := accounts.Require(accounts.RoleCollege)
	readers := accounts.Require(accounts.RoleCollege, accounts.RoleAdmin)

	api.Post("/rosters", college, h.apiUpload)
	api.Get("/rosters", readers, h.apiList)
	api.Get("/rosters/template.xlsx", readers, h.template)
	api.Get("/rosters/:id", readers, h.apiShow)
	api.Get("/rosters/:id/rows", readers, h.apiRows)
	api.Get("/rosters/:id/errors.csv", readers, h.errorsCSV)
	api.Post("/rosters/:id/commit", college, h.apiCommit)

	pages.Get("/rosters", readers, h.listPage)
	pages.Get("/rosters/new", college, h.newPage)
	pages.Post("/rosters", college, h.uploadForm)
	pages.Get("/rosters/template.xlsx", readers, h.template)
	pages.Get("/rosters/:id", readers, h.showPage)
	pages.Get("/rosters/:id/errors.csv", readers, h.errorsCSV)
	pages.Post("/rosters/:id/commit", college, h.commitForm)
}

// ImportJSON is an import as the API returns it.
type ImportJSON struct {
	ID             int64      `json:"id"`
	Status         string     `json:"status"`
	Mode           string     `json:"mode"`
	Format         string     `json:"format"`
	Encoding       string     `json:"encoding"`
	FileName       string     `json:"file_name"`
	FileSHA256     string     `json:"file_sha256"`
	FileSize       int64      `json:"file_size"`
	RowsTotal      int        `json:"rows_total"`
	RowsValid      int        `json:"rows_valid"`
	RowsInvalid    int        `json:"rows_invalid"`
	RowsNew        int        `json:"rows_new"`
	RowsChanged    int        `json:"rows_changed"`
	RowsUnchanged  int        `json:"rows_unchanged"`
	RowsEnrolled   int        `json:"rows_enrolled"`
	RowsWaitlisted int        `json:"rows_waitlisted"`
	Progress       int        `json:"progress"`
	Error          *ErrorJSON `json:"error,omitempty"`
	UploadedBy     string     `json:"uploaded_by"`
	CreatedAt      time.Time  `json:"created_at"`
	ValidatedAt    *time.Time `json:"validated_at"`
	CommittedAt    *time.Time `json:"committed_at"`
	CommittedBy    string     `json:"committed_by,omitempty"`
}

// ErrorJSON is why a background validation failed.
type ErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func importJSON(im *Import) ImportJSON {
	j := ImportJSON{ID: im.ID, Status: im.Status, Mode: im.Mode, Format: im.Format, Encoding: im.Encoding,
		FileName: im.FileName, FileSHA256: im.SHA256(), FileSize: im.FileSize, RowsTotal: im.RowsTotal,
		RowsValid: im.RowsValid, RowsInvalid: im.RowsInvalid, RowsNew: im.RowsNew, RowsChanged: im.RowsChanged,
		RowsUnchanged: im.RowsUnchanged, RowsEnrolled: im.RowsEnrolled, RowsWaitlisted: im.RowsWaitlisted,
		Progress: im.Progress, UploadedBy: im.UploadedBy, CreatedAt: im.CreatedAt, ValidatedAt: im.ValidatedAt,
		CommittedAt: im.CommittedAt, CommittedBy: im.CommittedBy}
	if im.ErrorCode != "" {
		j.Error = &ErrorJSON{Code: im.ErrorCode, Message: im.ErrorMessage}
	}
	return j
}

// readUpload reads the multipart field "file" and the optional mode and
// encoding fields.
func readUpload(c *fiber.Ctx) (UploadInput, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return UploadInput{}, apperr.Invalid("file_required", "请选择要上传的花名册文件",
			apperr.FieldError{Field: "file", Code: "required", Message: "请选择要上传的花名册文件"})
	}
	if fh.Size > tabular.MaxBytes {
		return UploadInput{}, apperr.TooLarge(tabular.CodeFileTooLarge, "文件过大，不能超过 20 MB")
	}
	f, err := fh.Open()
	if err != nil {
		return UploadInput{}, fmt.Errorf("open uploaded roster: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, tabular.MaxBytes+1))
	if err != nil {
		return UploadInput{}, fmt.Errorf("read uploaded roster: %w", err)
	}
	return UploadInput{FileName: fh.Filename, Data: data, Mode: c.FormValue("mode"), Encoding: c.FormValue("encoding")}, nil
}

func (h *Handler) apiUpload(c *fiber.Ctx) error {
	in, err := readUpload(c)
	if err != nil {
		return err
	}
	im, err := h.svc.Upload(c.UserContext(), accounts.PrincipalOf(c), in)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/api/v1/rosters/%d", im.ID))
	return c.Status(fiber.StatusCreated).JSON(importJSON(im))
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	list, total, err := h.svc.List(c.UserContext(), accounts.PrincipalOf(c), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	items := make([]ImportJSON, len(list))
	for i := range list {
		items[i] = importJSON(&list[i])
	}
	return c.JSON(web.List(items, total))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	im, err := h.svc.Get(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(importJSON(im))
}

// apiRows lists rows of an import (?outcome=new,changed&page=&per_page= or
// &after=<next_cursor>) with their errors and field-level differences; ID
// numbers and phones are masked.
func (h *Handler) apiRows(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	win, err := web.Paging(c)
	if err != nil {
		return err
	}
	rf := RowFilter{Limit: win.Fetch(), Offset: win.Offset()}
	if win.After != "" {
		if err := win.Key(&rf.AfterRow); err != nil {
			return err
		}
	}
	f := web.NewFilters(c)
	if o := strings.TrimSpace(c.Query("outcome")); o != "" {
		for _, v := range strings.Split(o, ",") {
			if v = f.EnumValue("outcome", v, Outcomes...); v != "" {
				rf.Outcomes = append(rf.Outcomes, v)
			}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	rows, total, estimate, err := h.svc.BrowseRows(c.UserContext(), accounts.PrincipalOf(c), id, rf)
	if err != nil {
		return err
	}
	return c.JSON(web.NewListing(win, rows, total, estimate, func(i int) string { return web.Cursor(rows[i].RowNum) }))
}

func (h *Handler) apiCommit(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	im, err := h.svc.Commit(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(importJSON(im))
}

func (h *Handler) errorsCSV(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	im, err := h.svc.WriteErrorsCSV(c.UserContext(), accounts.PrincipalOf(c), id, &buf)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store") // full ID numbers: not for caches
	attachment(c, fmt.Sprintf("roster-%d-errors.csv", im.ID), strings.TrimSuffix(im.FileName, "."+im.Format)+"-错误.csv")
	return c.Send(buf.Bytes())
}

func (h *Handler) template(c *fiber.Ctx) error {
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	attachment(c, "roster-template.xlsx", "花名册模板.xlsx")
	return c.Send(buf.Bytes())
}

// attachment sets a download name: an ASCII fallback and the Chinese name
// (RFC 6266 filename*).
func attachment(c *fiber.Ctx, ascii, name string) {
	c.Set(fiber.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name)))
}

// Pages.

func (h *Handler) listPage(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	list, total, err := h.svc.List(c.UserContext(), accounts.PrincipalOf(c), pg.PerPage, pg.Offset())
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "花名册导入", "Imports": list, "Total": total, "Page": pg.Page, "PerPage": pg.PerPage}
	for _, im := range list {
		if im.Status == StatusValidating {
			data["Refresh"] = 3
		}
	}
	return web.Render(c, "rosters/list", data)
}

func (h *Handler) newPage(c *fiber.Ctx) error {
	return web.Render(c, "rosters/new", fiber.Map{"Title": "上传花名册", "Mode": ModeUpsert})
}

func (h *Handler) uploadForm(c *fiber.Ctx) error {
	in, err := readUpload(c)
	if err == nil {
		var im *Import
		if im, err = h.svc.Upload(c.UserContext(), accounts.PrincipalOf(c), in); err == nil {
			return web.Redirect(c, fmt.Sprintf("/rosters/%d", im.ID))
		}
	}
	_, msg := web.FieldMessages(err)
	if msg == "" {
		return err
	}
	e, _ := apperr.As(err)
	c.Status(apperr.Status(e))
	return web.Render(c, "rosters/new", fiber.Map{"Title": "上传花名册", "Error": msg, "ErrorCode": e.Code,
		"Fields": e.Fields, "Mode": c.FormValue("mode"), "Encoding": c.FormValue("encoding")})
}

// DiffLine is one differing field on the preview page; Kept: the stored
// value stays.
type DiffLine struct {
	Label, Old, New string
	Kept            bool
}

// PreviewRow is a row as the preview page shows it.
type PreviewRow struct {
	Row
	Changes []DiffLine
}

func previewOf(rows []Row) []PreviewRow {
	out := make([]PreviewRow, len(rows))
	for i, r := range rows {
		out[i].Row = r
		keys := make([]string, 0, len(r.Diff))
		for k := range r.Diff {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool { return fieldOrder(keys[a]) < fieldOrder(keys[b]) })
		for _, k := range keys {
			d := r.Diff[k]
			out[i].Changes = append(out[i].Changes, DiffLine{Label: FieldLabel(k), Old: d.Old, New: d.New, Kept: d.Kept})
		}
	}
	return out
}

func fieldOrder(field string) int {
	for i, f := range templateColumns {
		if f == field {
			return i
		}
	}
	return len(templateColumns)
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	return h.renderShow(c, "")
}

func (h *Handler) renderShow(c *fiber.Ctx, errMsg string) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), accounts.PrincipalOf(c)
	im, err := h.svc.Get(ctx, p, id)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "花名册 " + im.FileName, "Import": im, "Error": errMsg,
		"CanCommit": im.Status == StatusValidated && p.Is(accounts.RoleCollege) && im.RowsValid > 0}
	if data["SameFile"], err = h.svc.SameFile(ctx, p, im); err != nil {
		return err
	}
	if im.Status == StatusValidating {
		data["Refresh"] = 2
		return web.Render(c, "rosters/show", data)
	}
	changed, nChanged, err := h.svc.Differing(ctx, p, id, previewRows, 0)
	if err != nil {
		return err
	}
	added, nNew, err := h.svc.Rows(ctx, p, id, []string{OutcomeNew}, previewRows, 0)
	if err != nil {
		return err
	}
	invalid, nInvalid, err := h.svc.Rows(ctx, p, id, []string{OutcomeInvalid}, previewRows, 0)
	if err != nil {
		return err
	}
	data["Changed"], data["ChangedMore"] = previewOf(changed), nChanged-len(changed)
	data["New"], data["NewMore"] = previewOf(added), nNew-len(added)
	data["Invalid"], data["InvalidMore"] = previewOf(invalid), nInvalid-len(invalid)
	existing, nExisting, err := h.svc.Rows(ctx, p, id, []string{OutcomeExists}, previewRows, 0)
	if err != nil {
		return err
	}
	data["Existing"], data["ExistingMore"] = previewOf(existing), nExisting-len(existing)
	return web.Render(c, "rosters/show", data)
}

func (h *Handler) commitForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.Commit(c.UserContext(), accounts.PrincipalOf(c), id); err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.KindInternal || e.Kind == apperr.KindNotFound {
			return err
		}
		c.Status(apperr.Status(e))
		return h.renderShow(c, e.Message)
	}
	return web.Redirect(c, fmt.Sprintf("/rosters/%d", id))
}

package workers

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves the workers API and pages.
type Handler struct {
	svc *Service
}

// NewHandler returns the workers handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// staff are the roles that look workers up.
var staff = []accounts.Role{accounts.RoleCollege, accounts.RoleProvider, accounts.RoleInstitution,
	accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleRegulator, accounts.RoleAdmin}

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	anyone := accounts.Require()
	worker := accounts.Require(accounts.RoleWorker)
	api.Get("/workers", accounts.Require(staff...), h.apiList)
	api.Post("/workers", accounts.Require(registrars...), h.apiRegister)
	api.Get("/workers/:id", anyone, h.apiShow)
	api.Patch("/workers/:id", anyone, h.apiUpdate)
	api.Get("/me/worker", worker, h.apiMe)

	pages.Get("/workers", accounts.Require(staff...), h.listPage)
	// The search form posts, so a full ID number never sits in a URL
	// (browser history, proxies, the login redirect).
	pages.Post("/workers", accounts.Require(staff...), h.listPage)
	pages.Get("/workers/:id", anyone, h.showPage)
	pages.Post("/workers/:id/reveal", accounts.Require(revealers...), h.revealForm)
	pages.Get("/workers/:id/edit", anyone, h.editPage)
	pages.Post("/workers/:id/edit", anyone, h.editForm)
	pages.Get("/me", worker, h.mePage)
}

// ref names a linked record.
type ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// item is a worker in a list: masked, never decrypted. It carries the age,
// not the birth date: the mask hides the eight birth-date digits of the ID
// number, and the birth date beside it would give them back.
type item struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number_masked"`
	Sex            Sex    `json:"sex"`
	Age            int    `json:"age"`
	PhoneMasked    string `json:"phone_masked"`
	RegionCode     string `json:"region_code"`
	Employer       *ref   `json:"employer"`
	College        *ref   `json:"college"`
	Banned         bool   `json:"banned"`
}

// profile is one worker in full, personal data still masked.
type profile struct {
	item
	Education      Education `json:"education"`
	Major          string    `json:"major"`
	GraduationYear int       `json:"graduation_year,omitempty"`
	Occupations    []string  `json:"occupations"`
	// The facts behind subsidies (employment, insurance, target groups, the
	// payout account) go only to the worker, HR and admins: colleges,
	// providers and institutions have no need of them (data minimisation).
	SubsidyFactsShown   bool       `json:"subsidy_facts_shown"`
	Employment          Employment `json:"employment,omitempty"`
	InsuredMonths       *int       `json:"insured_months,omitempty"`
	InsuredMonthsOn     string     `json:"insured_months_on,omitempty"`
	InsuredMonthsSource string     `json:"insured_months_source,omitempty"`
	TargetGroups        *[]string  `json:"target_groups,omitempty"` // points at nil (null) while never asked
	// Who last set each fact: worker (self-declared), hr_import, hr_reviewer.
	EmploymentSetBy    FactSource `json:"employment_set_by,omitempty"`
	InsuredMonthsSetBy FactSource `json:"insured_months_set_by,omitempty"`
	TargetGroupsSetBy  FactSource `json:"target_groups_set_by,omitempty"`
	BankAccountMasked  string     `json:"bank_account_masked,omitempty"`
	BankName           string     `json:"bank_name,omitempty"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

func toItem(w *Worker) item {
	it := item{ID: w.ID, Name: w.Name, IDNumberMasked: w.IDMask, Sex: w.Sex, Age: AgeAt(w.BirthDate, time.Now()),
		PhoneMasked: w.PhoneMask, RegionCode: w.RegionCode, Banned: w.Banned}
	if w.EmployerInstitutionID != 0 {
		it.Employer = &ref{w.EmployerInstitutionID, w.EmployerName}
	}
	if w.CollegeOrgID != 0 {
		it.College = &ref{w.CollegeOrgID, w.CollegeName}
	}
	return it
}

// SeesSubsidyFacts reports whether p may see a worker's subsidy facts:
// the worker themself, HR (who decide on them) and admins.
func SeesSubsidyFacts(p *accounts.Principal, w *Worker) bool {
	return p.Is(accounts.RoleHRReviewer, accounts.RoleHRApprover, accounts.RoleAdmin) ||
		(p.Is(accounts.RoleWorker) && p.WorkerID == w.ID)
}

func toProfile(p *accounts.Principal, w *Worker) profile {
	out := profile{item: toItem(w), Education: w.Education, Major: w.Major, GraduationYear: w.GraduationYear,
		Occupations: nonNil(w.Occupations), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if !SeesSubsidyFacts(p, w) {
		return out
	}
	out.SubsidyFactsShown = true
	out.Employment, out.InsuredMonths, out.InsuredMonthsSource = w.Employment, w.InsuredMonths, w.InsuredMonthsSource
	groups := w.TargetGroups
	out.TargetGroups, out.BankAccountMasked, out.BankName = &groups, w.BankAccountMask, w.BankName
	out.EmploymentSetBy, out.InsuredMonthsSetBy, out.TargetGroupsSetBy = w.EmploymentSetBy, w.InsuredMonthsSetBy, w.TargetGroupsSetBy
	if w.InsuredMonthsOn != nil {
		out.InsuredMonthsOn = w.InsuredMonthsOn.Format(time.DateOnly)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (h *Handler) apiList(c *fiber.Ctx) error {
	l, err := h.browse(c, c.Query("q"))
	if err != nil {
		return err
	}
	items := make([]item, len(l.Items))
	for i := range l.Items {
		items[i] = toItem(&l.Items[i])
	}
	return c.JSON(web.Listing[item]{Items: items, Total: l.Total, TotalIsEstimate: l.TotalIsEstimate, NextCursor: l.NextCursor})
}

// browse reads the window the request asks for (?page=&per_page= or
// ?after=) of the workers matching q. Errors: those of web.Paging and
// Service.Browse, Invalid invalid_cursor.
func (h *Handler) browse(c *fiber.Ctx, q string) (web.Listing[Worker], error) {
	win, err := web.Paging(c)
	if err != nil {
		return web.Listing[Worker]{}, err
	}
	f := Filter{Q: q, Page: win.Page, PerPage: win.PerPage}
	if win.After != "" {
		if err := win.Key(&f.AfterName, &f.AfterID); err != nil {
			return web.Listing[Worker]{}, err
		}
	}
	ws, total, estimate, err := h.svc.Browse(c.UserContext(), accounts.PrincipalOf(c), f)
	if err != nil {
		return web.Listing[Worker]{}, err
	}
	return web.NewListing(win, ws, total, estimate, func(i int) string { return web.Cursor(ws[i].Name, ws[i].ID) }), nil
}

type registerForm struct {
	Name                  string `json:"name"`
	IDNumber              string `json:"id_number"`
	Phone                 string `json:"phone"`
	Education             string `json:"education"`
	EmployerInstitutionID int64  `json:"employer_institution_id"`
}

func (h *Handler) apiRegister(c *fiber.Ctx) error {
	var f registerForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	w, err := h.svc.Register(c.UserContext(), accounts.PrincipalOf(c), RegisterInput(f))
	if err != nil {
		return err
	}
	w, err = h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), w.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toProfile(accounts.PrincipalOf(c), w))
}

func (h *Handler) apiShow(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	w, err := h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toProfile(accounts.PrincipalOf(c), w))
}

func (h *Handler) apiMe(c *fiber.Ctx) error {
	w, err := h.svc.Me(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return c.JSON(toProfile(accounts.PrincipalOf(c), w))
}

// patchForm is the body of PATCH /workers/{id}: only the fields present
// change; for the subsidy facts, null means "not asked yet" (unknown) and
// differs from leaving the field out (keep) and from [] or 0 (DESIGN §5.4).
// id_number is named so that trying to change it gets a clear answer.
type patchForm struct {
	IDNumber              *string            `json:"id_number"`
	Name                  *string            `json:"name"`
	Phone                 *string            `json:"phone"`
	Education             *string            `json:"education"`
	EmployerInstitutionID *int64             `json:"employer_institution_id"`
	Major                 *string            `json:"major"`
	GraduationYear        *int               `json:"graduation_year"`
	Occupations           *[]string          `json:"occupations"`
	Employment            Nullable[string]   `json:"employment"`
	InsuredMonths         Nullable[int]      `json:"insured_months"`
	TargetGroups          Nullable[[]string] `json:"target_groups"`
	BankAccount           *string            `json:"bank_account"`
	BankName              *string            `json:"bank_name"`
}

func (h *Handler) apiUpdate(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	// Scope first, so that a worker outside it is 404 whatever the body says.
	if _, err := h.svc.ByID(c.UserContext(), p, id); err != nil {
		return err
	}
	var f patchForm
	if err := web.BindJSON(c, &f); err != nil {
		return err
	}
	if f.IDNumber != nil {
		return apperr.Invalid("validation_failed", "身份证号不能修改", apperr.FieldError{
			Field: "id_number", Code: "not_editable", Message: "身份证号登记后不能修改；如有错误请联系人社部门"})
	}
	w, err := h.svc.UpdateProfile(c.UserContext(), p, id, ProfileInput{
		Name: f.Name, Phone: f.Phone, Education: f.Education, EmployerInstitutionID: f.EmployerInstitutionID,
		Major: f.Major, GraduationYear: f.GraduationYear, Occupations: f.Occupations, Employment: f.Employment.OrEmpty(),
		InsuredMonths: f.InsuredMonths.Value, InsuredMonthsUnknown: f.InsuredMonths.Null(),
		TargetGroups: f.TargetGroups.Value, TargetGroupsUnknown: f.TargetGroups.Null(),
		BankAccount: f.BankAccount, BankName: f.BankName,
	})
	if err != nil {
		return err
	}
	return c.JSON(toProfile(accounts.PrincipalOf(c), w))
}

// Nullable is a JSON field that tells "left out" (Set false) from null
// (Set true, Value nil) from a value.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON records that the field was present; encoding/json calls it
// for null too.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(bytes.TrimSpace(b)) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

// Null reports whether the field was given as null.
func (n Nullable[T]) Null() bool { return n.Set && n.Value == nil }

// OrEmpty maps a string field for ProfileInput: nil when left out, "" when null.
func (n Nullable[T]) OrEmpty() *string {
	if !n.Set {
		return nil
	}
	if n.Value == nil {
		e := ""
		return &e
	}
	v, _ := any(*n.Value).(string)
	return &v
}

// Pages.

func (h *Handler) listPage(c *fiber.Ctx) error {
	q := strings.TrimSpace(searchQuery(c))
	win, err := web.Paging(c)
	if err != nil {
		return err
	}
	l, err := h.browse(c, q)
	if err != nil {
		return err
	}
	return web.Render(c, "workers/list", fiber.Map{"Title": "从业人员", "Workers": l.Items, "Total": l.Total,
		"TotalText": web.ApproxCount(l.Total, l.TotalIsEstimate), "Estimate": l.TotalIsEstimate,
		"Page": win.Page, "PerPage": win.PerPage, "Q": q, "Next": l.NextCursor, "Cursor": win.After != ""})
}

func (h *Handler) showPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	w, err := h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return h.renderShow(c, w, "")
}

func (h *Handler) renderShow(c *fiber.Ctx, w *Worker, fullID string) error {
	p := accounts.PrincipalOf(c)
	return web.Render(c, "workers/show", fiber.Map{"Title": w.Name + " - 从业人员档案", "W": w, "FullID": fullID,
		"IsSelf":    p.Is(accounts.RoleWorker) && p.WorkerID == w.ID,
		"SeesFacts": SeesSubsidyFacts(p, w),
		"CanReveal": p.Is(revealers...), "CanEdit": len(EditableFields(p)) > 0,
		"Groups": groupLabels(w.TargetGroups), "Occupations": occupationLabels(w.Occupations)})
}

func (h *Handler) mePage(c *fiber.Ctx) error {
	w, err := h.svc.Me(c.UserContext(), accounts.PrincipalOf(c))
	if err != nil {
		return err
	}
	return h.renderShow(c, w, "")
}

func (h *Handler) revealForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	full, err := h.svc.RevealID(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	w, err := h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	// The whole number must not linger in caches or history.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.renderShow(c, w, full)
}

func (h *Handler) editPage(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	w, err := h.svc.ByID(c.UserContext(), accounts.PrincipalOf(c), id)
	if err != nil {
		return err
	}
	return h.renderEdit(c, w, nil)
}

func (h *Handler) renderEdit(c *fiber.Ctx, w *Worker, formErr error) error {
	fields, msg := web.FieldMessages(formErr)
	if formErr != nil && !web.Redisplay(c, formErr) {
		return formErr
	}
	p := accounts.PrincipalOf(c)
	insts, err := h.svc.InstitutionOptions(c.UserContext())
	if err != nil {
		return err
	}
	return web.Render(c, "workers/edit", fiber.Map{"Title": "编辑档案 - " + w.Name, "W": w, "Institutions": insts,
		"Editable": formFields(p, w), "Educations": Educations, "Employments": Employments,
		"TargetGroups": TargetGroups, "AllOccupations": Occupations, "Error": msg, "Fields": fields})
}

func (h *Handler) editForm(c *fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p := accounts.PrincipalOf(c)
	w, err := h.svc.ByID(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	in, err := profileFromForm(c, formFields(p, w))
	if err == nil {
		_, err = h.svc.UpdateProfile(c.UserContext(), p, id, in)
	}
	if err != nil {
		return h.renderEdit(c, w, err)
	}
	if p.Is(accounts.RoleWorker) {
		return web.Redirect(c, "/me")
	}
	return web.Redirect(c, "/workers/"+strconv.FormatInt(id, 10))
}

// formFields are the fields the edit form offers p: a worker's form leaves
// out the facts HR supplied, which it shows read-only (HR's facts win).
func formFields(p *accounts.Principal, w *Worker) []string {
	out := []string{}
	for _, f := range EditableFields(p) {
		if p.Is(accounts.RoleWorker) && ((f == "employment" && w.EmploymentSetBy.ByHR()) ||
			(f == "insured_months" && w.InsuredMonthsSetBy.ByHR()) || (f == "target_groups" && w.TargetGroupsSetBy.ByHR())) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// profileFromForm reads the edit form: only fields p may edit are taken;
// a blank phone or bank account means "keep", as the form cannot show them.
func profileFromForm(c *fiber.Ctx, editable []string) (ProfileInput, error) {
	var in ProfileInput
	may := func(f string) bool { return slices.Contains(editable, f) }
	str := func(name string) *string { v := c.FormValue(name); return &v }
	if may("name") {
		in.Name = str("name")
	}
	if may("phone") && strings.TrimSpace(c.FormValue("phone")) != "" {
		in.Phone = str("phone")
	}
	if may("bank_account") && strings.TrimSpace(c.FormValue("bank_account")) != "" {
		in.BankAccount = str("bank_account")
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"education", &in.Education}, {"major", &in.Major}, {"employment", &in.Employment}, {"bank_name", &in.BankName}} {
		if may(f.name) {
			*f.dst = str(f.name)
		}
	}
	var fields []apperr.FieldError
	intField := func(name string) *int {
		s := strings.TrimSpace(c.FormValue(name))
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			fields = append(fields, apperr.FieldError{Field: name, Code: "invalid_number", Message: "请填写整数"})
			return nil
		}
		return &n
	}
	if may("graduation_year") {
		y := intField("graduation_year")
		if y == nil {
			y = new(int)
		}
		in.GraduationYear = y
	}
	if may("insured_months") {
		in.InsuredMonths = intField("insured_months")
	}
	if may("employer_institution_id") {
		s := strings.TrimSpace(c.FormValue("employer_institution_id"))
		var v int64
		if s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				fields = append(fields, apperr.FieldError{Field: "employer_institution_id", Code: "invalid_number", Message: "请填写托育机构编号"})
			}
			v = n
		}
		in.EmployerInstitutionID = &v
	}
	if may("occupations") {
		occ := formValues(c, "occupations")
		in.Occupations = &occ
	}
	if may("target_groups") {
		// The form says whether the groups were asked at all: unticked
		// boxes alone cannot tell "none of the six" from "never asked".
		if c.FormValue("target_groups_asked") == "no" {
			in.TargetGroupsUnknown = true
		} else {
			g := formValues(c, "target_groups")
			in.TargetGroups = &g
		}
	}
	if len(fields) > 0 {
		return in, apperr.Invalid("validation_failed", "学员信息有误", fields...)
	}
	return in, nil
}

// formValues returns every value of a repeated form field (checkboxes).
func formValues(c *fiber.Ctx, name string) []string {
	out := []string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	return out
}

// label pairs a code with its Chinese name for pages.
type label struct{ Code, Label string }

func groupLabels(codes []string) []label {
	var out []label
	for _, g := range TargetGroups {
		if slices.Contains(codes, g.Code) {
			out = append(out, label{g.Code, g.Label})
		}
	}
	return out
}

func occupationLabels(codes []string) []label {
	var out []label
	for _, o := range Occupations {
		if slices.Contains(codes, o.Code) {
			out = append(out, label{o.Code, o.Label})
		}
	}
	return out
}

// searchQuery is the search text: posted by the search form, or in the
// query string of a paging link.
func searchQuery(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodPost {
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.FormValue("q")
	}
	return c.Query("q")
}

package accounts

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
	"tuoyu/modules/web"
)

// Handler serves login, logout, the home page and the admin pages for users
// and API tokens.
type Handler struct {
	svc          *Service
	secureCookie bool
}

// NewHandler returns the accounts handler; secureCookie marks the session
// cookie Secure (when the site is served over HTTPS).
func NewHandler(svc *Service, secureCookie bool) *Handler {
	return &Handler{svc: svc, secureCookie: secureCookie}
}

// Routes registers the API and page routes.
func (h *Handler) Routes(api, pages fiber.Router) {
	api.Post("/session", h.apiLogin)
	api.Delete("/session", h.apiLogout)
	api.Get("/session", Require(), h.apiSession)
	api.Put("/session/password", Require(), h.apiChangePassword)
	api.Get("/users", Require(RoleAdmin), h.apiUsers)
	api.Post("/users", Require(RoleAdmin), h.apiCreateUser)
	api.Get("/tokens", Require(RoleAdmin), h.apiTokens)
	api.Post("/tokens", Require(RoleAdmin), h.apiCreateToken)
	api.Delete("/tokens/:id", Require(RoleAdmin), h.apiRevokeToken)

	pages.Get("/", h.home)
	pages.Get("/login", h.loginPage)
	pages.Post("/login", h.loginForm)
	pages.Post("/logout", h.logoutForm)
	pages.Get("/account/password", Require(), h.passwordPage)
	pages.Post("/account/password", Require(), h.passwordForm)
	pages.Get("/admin/users", Require(RoleAdmin), h.usersPage)
	pages.Post("/admin/users", Require(RoleAdmin), h.createUserForm)
	pages.Post("/admin/users/:id/active", Require(RoleAdmin), h.setActiveForm)
	pages.Post("/admin/users/:id/password", Require(RoleAdmin), h.resetPasswordForm)
	pages.Get("/admin/tokens", Require(RoleAdmin), h.tokensPage)
	pages.Post("/admin/tokens", Require(RoleAdmin), h.createTokenForm)
	pages.Post("/admin/tokens/:id/revoke", Require(RoleAdmin), h.revokeTokenForm)
}

func (h *Handler) setCookie(c *fiber.Ctx, sid string) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: sid, Path: "/", HTTPOnly: true, Secure: h.secureCookie,
		SameSite: "Lax", Expires: time.Time{}})
}

func (h *Handler) clearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HTTPOnly: true, Secure: h.secureCookie, SameSite: "Lax"})
}

type loginInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (h *Handler) apiLogin(c *fiber.Ctx) error {
	var in loginInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return apperr.Invalid("invalid_credentials_input", "请输入用户名和密码",
			apperr.FieldError{Field: "username", Code: "required", Message: "请输入用户名和密码"})
	}
	res, err := h.svc.Login(c.UserContext(), in.Username, in.Password, c.IP(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		return err
	}
	h.setCookie(c, res.SessionID)
	return c.JSON(fiber.Map{"user": res.Principal, "csrf_token": res.CSRFToken})
}

func (h *Handler) apiLogout(c *fiber.Ctx) error {
	if sid := c.Cookies(SessionCookie); sid != "" {
		if err := h.svc.Logout(c.UserContext(), sid); err != nil {
			return err
		}
	}
	h.clearCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) apiSession(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"user": PrincipalOf(c)})
}

func (h *Handler) home(c *fiber.Ctx) error {
	p := PrincipalOf(c)
	if p == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Render("accounts/home", fiber.Map{"Title": "首页"}, web.Layout)
}

func (h *Handler) loginPage(c *fiber.Ctx) error {
	if PrincipalOf(c) != nil {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return c.Render("accounts/login", fiber.Map{"Title": "登录", "Next": safeNext(c.Query("next")), "Changed": c.Query("changed") == "1"}, web.Layout)
}

func (h *Handler) loginForm(c *fiber.Ctx) error {
	next := safeNext(c.FormValue("next"))
	username := c.FormValue("username")
	if strings.TrimSpace(username) == "" || c.FormValue("password") == "" {
		// As the API: an empty form is not a failed login (no hash, no lockout count).
		c.Status(fiber.StatusUnprocessableEntity)
		return c.Render("accounts/login", fiber.Map{"Title": "登录", "Next": next, "Username": username, "Error": "请输入用户名和密码"}, web.Layout)
	}
	res, err := h.svc.Login(c.UserContext(), username, c.FormValue("password"), c.IP(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.KindInternal {
			return err
		}
		c.Status(apperr.Status(e))
		return c.Render("accounts/login", fiber.Map{"Title": "登录", "Next": next, "Username": username, "Error": e.Message}, web.Layout)
	}
	h.setCookie(c, res.SessionID)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (h *Handler) logoutForm(c *fiber.Ctx) error {
	if sid := c.Cookies(SessionCookie); sid != "" {
		if err := h.svc.Logout(c.UserContext(), sid); err != nil {
			return err
		}
	}
	h.clearCookie(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	// Browsers drop tabs and newlines and read "\\" as "/", so "/\t/evil" or
	// "/\\evil" would leave the site: allow only plain local paths.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\t\r\n") || strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return "/"
	}
	return next
}

func (h *Handler) apiUsers(c *fiber.Ctx) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	page, per := pg.Page, pg.PerPage
	rows, total, err := h.svc.ListUsers(c.UserContext(), c.Query("q"), page, per)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []UserListRow{}
	}
	return c.JSON(fiber.Map{"items": rows, "total": total})
}

type userInput struct {
	Username     string `json:"username"`
	DisplayName  string `json:"display_name"`
	Role         string `json:"role"`
	Organisation string `json:"organisation"`
	WorkerID     int64  `json:"worker_id"`
	Password     string `json:"password"`
}

func (in userInput) newUser() NewUser {
	return NewUser{Username: in.Username, DisplayName: in.DisplayName, Role: Role(in.Role), OrgCode: in.Organisation,
		WorkerID: in.WorkerID, Password: in.Password}
}

func (h *Handler) apiCreateUser(c *fiber.Ctx) error {
	var in userInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	id, err := h.svc.CreateUser(c.UserContext(), in.newUser())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": id, "username": in.Username, "role": in.Role})
}

func (h *Handler) usersPage(c *fiber.Ctx) error { return h.renderUsers(c, nil, userInput{}) }

func (h *Handler) renderUsers(c *fiber.Ctx, formErr error, form userInput) error {
	pg, err := web.Pagination(c)
	if err != nil {
		return err
	}
	page, per := pg.Page, pg.PerPage
	rows, total, err := h.svc.ListUsers(c.UserContext(), c.Query("q"), page, per)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "用户管理", "Users": rows, "Total": total, "Page": page, "PerPage": per, "Q": c.Query("q"),
		"Roles": Roles, "Form": form, "Notice": c.Query("notice")}
	if formErr != nil {
		e, ok := apperr.As(formErr)
		if !ok || e.Kind == apperr.KindInternal {
			return formErr
		}
		data["Error"], data["Fields"] = e.Message, e.Fields
		c.Status(apperr.Status(e))
	}
	return c.Render("accounts/users", data, web.Layout)
}

func (h *Handler) createUserForm(c *fiber.Ctx) error {
	wid, _ := strconv.ParseInt(c.FormValue("worker_id"), 10, 64)
	in := userInput{Username: c.FormValue("username"), DisplayName: c.FormValue("display_name"), Role: c.FormValue("role"),
		Organisation: c.FormValue("organisation"), WorkerID: wid, Password: c.FormValue("password")}
	if _, err := h.svc.CreateUser(c.UserContext(), in.newUser()); err != nil {
		in.Password = ""
		return h.renderUsers(c, err, in)
	}
	return c.Redirect("/admin/users?notice=created", fiber.StatusSeeOther)
}

func (h *Handler) setActiveForm(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("user_not_found", "用户不存在")
	}
	if err := h.svc.SetActive(c.UserContext(), id, c.FormValue("active") == "true"); err != nil {
		return err
	}
	return c.Redirect("/admin/users?notice=updated", fiber.StatusSeeOther)
}

func (h *Handler) resetPasswordForm(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("user_not_found", "用户不存在")
	}
	if err := h.svc.SetPassword(c.UserContext(), id, c.FormValue("password")); err != nil {
		return h.renderUsers(c, err, userInput{})
	}
	return c.Redirect("/admin/users?notice=password", fiber.StatusSeeOther)
}

func (h *Handler) apiTokens(c *fiber.Ctx) error {
	ts, err := h.svc.ListTokens(c.UserContext())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []APIToken{}
	}
	return c.JSON(fiber.Map{"items": ts, "total": len(ts)})
}

type tokenInput struct {
	Organisation string `json:"organisation"`
	Name         string `json:"name"`
}

func (h *Handler) apiCreateToken(c *fiber.Ctx) error {
	var in tokenInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	raw, t, err := h.svc.CreateToken(c.UserContext(), in.Organisation, in.Name, PrincipalOf(c).UserID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": t.ID, "name": t.Name, "prefix": t.Prefix, "token": raw})
}

func (h *Handler) apiRevokeToken(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("token_not_found", "令牌不存在")
	}
	if err := h.svc.RevokeToken(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) tokensPage(c *fiber.Ctx) error { return h.renderTokens(c, "", nil) }

func (h *Handler) renderTokens(c *fiber.Ctx, newToken string, formErr error) error {
	ts, err := h.svc.ListTokens(c.UserContext())
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "API 令牌", "Tokens": ts, "NewToken": newToken}
	if formErr != nil {
		e, ok := apperr.As(formErr)
		if !ok || e.Kind == apperr.KindInternal {
			return formErr
		}
		data["Error"], data["Fields"] = e.Message, e.Fields
		c.Status(apperr.Status(e))
	}
	return c.Render("accounts/tokens", data, web.Layout)
}

func (h *Handler) createTokenForm(c *fiber.Ctx) error {
	raw, _, err := h.svc.CreateToken(c.UserContext(), c.FormValue("organisation"), c.FormValue("name"), PrincipalOf(c).UserID)
	if err != nil {
		return h.renderTokens(c, "", err)
	}
	// The raw token is shown once, on this response only.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.renderTokens(c, raw, nil)
}

func (h *Handler) revokeTokenForm(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return apperr.NotFound("token_not_found", "令牌不存在")
	}
	if err := h.svc.RevokeToken(c.UserContext(), id); err != nil {
		return err
	}
	return c.Redirect("/admin/tokens", fiber.StatusSeeOther)
}

// A user changes their own password (and must, after an admin's reset).
// Tokens have no password.
type passwordInput struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (h *Handler) changePassword(c *fiber.Ctx, in passwordInput) error {
	p := PrincipalOf(c)
	if p.TokenID != 0 {
		return apperr.Forbidden("forbidden_role", "API 令牌没有密码")
	}
	return h.svc.ChangePassword(c.UserContext(), p.UserID, in.CurrentPassword, in.NewPassword)
}

func (h *Handler) apiChangePassword(c *fiber.Ctx) error {
	var in passwordInput
	if err := web.BindJSON(c, &in); err != nil {
		return err
	}
	if err := h.changePassword(c, in); err != nil {
		return err
	}
	h.clearCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Handler) passwordPage(c *fiber.Ctx) error {
	return c.Render("accounts/password", fiber.Map{"Title": "修改密码", "Forced": PrincipalOf(c).MustChangePassword}, web.Layout)
}

func (h *Handler) passwordForm(c *fiber.Ctx) error {
	in := passwordInput{CurrentPassword: c.FormValue("current_password"), NewPassword: c.FormValue("new_password")}
	if c.FormValue("confirm_password") != in.NewPassword {
		c.Status(fiber.StatusUnprocessableEntity)
		return c.Render("accounts/password", fiber.Map{"Title": "修改密码", "Forced": PrincipalOf(c).MustChangePassword,
			"Error": "两次输入的新密码不一致"}, web.Layout)
	}
	if err := h.changePassword(c, in); err != nil {
		if !web.Redisplay(c, err) {
			return err
		}
		fields, msg := web.FieldMessages(err)
		return c.Render("accounts/password", fiber.Map{"Title": "修改密码", "Forced": PrincipalOf(c).MustChangePassword,
			"Error": msg, "Fields": fields}, web.Layout)
	}
	h.clearCookie(c)
	return c.Redirect("/login?changed=1", fiber.StatusSeeOther)
}

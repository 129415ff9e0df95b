package accounts

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// localsKey is where the authentication middleware puts the *Principal.
const localsKey = "tuoyu.principal"

// SessionCookie is the name of the session cookie.
const SessionCookie = "tuoyu_session"

// PrincipalOf returns the caller of the request, nil when anonymous.
func PrincipalOf(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(localsKey).(*Principal)
	return p
}

// IsAdmin reports whether the caller of the request is an administrator.
func IsAdmin(c *fiber.Ctx) bool {
	p := PrincipalOf(c)
	return p != nil && p.Role == RoleAdmin
}

// SetPrincipal records the caller of the request (authentication middleware
// and tests).
func SetPrincipal(c *fiber.Ctx, p *Principal) { c.Locals(localsKey, p) }

// Require lets the request through only for callers with one of roles (any
// logged-in caller when roles is empty). Anonymous callers get 401 (pages
// redirect to the login page); callers with another role get 403.
func Require(roles ...Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := PrincipalOf(c)
		if p == nil {
			if !strings.HasPrefix(c.Path(), "/api/") && c.Method() == fiber.MethodGet {
				return c.Redirect("/login?next="+urlQueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			return apperr.Unauthorized("unauthenticated", "请先登录")
		}
		if len(roles) > 0 && !p.Is(roles...) {
			return apperr.Forbidden("forbidden_role", "您的角色无权执行此操作")
		}
		return c.Next()
	}
}

func urlQueryEscape(s string) string {
	var b strings.Builder
	for _, r := range []byte(s) {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.IndexByte("-_./", r) >= 0 {
			b.WriteByte(r)
		} else {
			b.WriteString("%")
			b.WriteString(strings.ToUpper(string("0123456789abcdef"[r>>4]) + string("0123456789abcdef"[r&15])))
		}
	}
	return b.String()
}

// PasswordGate holds a user whose password an admin reset at the password
// change: pages redirect to /account/password, everything else but logging
// out answers 403 password_change_required.
func PasswordGate(c *fiber.Ctx) error {
	p := PrincipalOf(c)
	if p == nil || !p.MustChangePassword {
		return c.Next()
	}
	switch path := c.Path(); {
	case path == "/account/password", path == "/api/v1/session/password", path == "/api/v1/session",
		path == "/logout", path == "/login", strings.HasPrefix(path, "/assets/"):
		return c.Next()
	case !strings.HasPrefix(path, "/api/") && c.Method() == fiber.MethodGet:
		return c.Redirect("/account/password", fiber.StatusSeeOther)
	}
	return apperr.Forbidden("password_change_required", "管理员已重置您的密码，请先设置新密码")
}

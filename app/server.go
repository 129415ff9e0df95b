package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/template/html/v2"
	"github.com/uptrace/bun/driver/pgdriver"

	"tuoyu/assets"
	"tuoyu/modules/accounts"
	"tuoyu/modules/apperr"
	"tuoyu/modules/audit"
	"tuoyu/modules/web"
	"tuoyu/templates"
)

// Request body limits: uploads (rosters up to 20 MB plus multipart overhead)
// and everything else.
const (
	maxUploadBody = 21 << 20
	maxJSONBody   = 1 << 20
)

// newFiber builds the fiber app with the view engine, the one error handler
// and the middleware every request passes through.
func newFiber(cfg Config, logger *slog.Logger, acc *accounts.Service, regions *regionNames) *fiber.App {
	engine := html.NewFileSystem(http.FS(templates.FS), ".html")
	engine.AddFuncMap(templateFuncs(cfg.Location, regions))
	fcfg := fiber.Config{
		AppName:               "tuoyu",
		Views:                 engine,
		ErrorHandler:          errorHandler(logger),
		BodyLimit:             maxUploadBody,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          120 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
	}
	if len(cfg.TrustedProxies) > 0 {
		// Behind a load balancer the client address (rate limits, audit IPs)
		// comes from X-Forwarded-For, but only when the balancer sent it.
		fcfg.ProxyHeader = fiber.HeaderXForwardedFor
		fcfg.EnableTrustedProxyCheck = true
		fcfg.TrustedProxies = cfg.TrustedProxies
	}
	app := fiber.New(fcfg)
	app.Use(recoverPanics(logger))
	app.Use(requestID)
	app.Use(accessLog(logger))
	app.Use(securityHeaders)
	app.Use(limitBody)
	app.Use(checkText)
	app.Use(authenticate(acc, strings.HasPrefix(cfg.BaseURL, "https://")))
	app.Use(accounts.PasswordGate)
	app.Use("/assets", filesystem.New(filesystem.Config{Root: http.FS(assets.FS), MaxAge: 3600}))
	return app
}

const requestIDKey = "tuoyu.request_id"

func requestID(c *fiber.Ctx) error {
	id := c.Get("X-Request-ID")
	if len(id) == 0 || len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"") {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals(requestIDKey, id)
	c.Set("X-Request-ID", id)
	return c.Next()
}

func requestIDOf(c *fiber.Ctx) string { s, _ := c.Locals(requestIDKey).(string); return s }

// accessLog writes one JSON line per request. It logs the path without the
// query string, so ID numbers in queries never reach the log.
func accessLog(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		if err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		attrs := []any{"method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(),
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", requestIDOf(c), "ip", c.IP()}
		if p := accounts.PrincipalOf(c); p != nil {
			attrs = append(attrs, "user", p.Username)
		}
		logger.Info("request", attrs...)
		return nil
	}
}

func recoverPanics(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = apperr.Internal(fmt.Errorf("panic: %v", r))
			}
		}()
		return c.Next()
	}
}

func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	return c.Next()
}

// limitBody keeps non-upload bodies small; multipart uploads get the larger
// server-wide limit.
func limitBody(c *fiber.Ctx) error {
	if len(c.Body()) > maxJSONBody && !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		return apperr.TooLarge("body_too_large", "请求体过大（上限 1 MB）")
	}
	return c.Next()
}

// checkText refuses, in one place for every route, text no field of this
// domain may hold: NUL bytes (PostgreSQL cannot store them), invalid UTF-8,
// and invisible format characters (bidirectional overrides, zero-width
// spaces) that make a name or a document number look like something else or
// like nothing. It reads query values, form fields and JSON bodies; uploaded
// files are checked by the modules that read them.
func checkText(c *fiber.Ctx) error {
	var bad string
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if bad == "" && !cleanText(v) {
			bad = string(k)
		}
	})
	ct := c.Get(fiber.HeaderContentType)
	switch {
	case bad != "":
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		c.Context().PostArgs().VisitAll(func(k, v []byte) {
			if bad == "" && !cleanText(v) {
				bad = string(k)
			}
		})
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON):
		body := c.Body()
		// JSON spells a NUL as \u0000 and the format characters as escapes too.
		if !cleanText(body) || jsonEscapedBadText(body) {
			bad = "body"
		}
	}
	if bad != "" {
		return apperr.Invalid("invalid_text", "内容含有不允许的字符（空字符、不可见的格式控制符或非 UTF-8 编码）",
			apperr.FieldError{Field: bad, Code: "invalid_text", Message: "含有不允许的字符，请删除后重试"})
	}
	return c.Next()
}

// cleanText reports whether b is valid UTF-8 without NUL or invisible
// format characters.
func cleanText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r == 0 || isFormatChar(r) {
			return false
		}
	}
	return true
}

func isFormatChar(r rune) bool {
	return (r >= 0x200B && r <= 0x200F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0xFEFF
}

// jsonEscapedBadText finds \u escapes of the characters cleanText refuses.
func jsonEscapedBadText(b []byte) bool {
	for i := 0; i+6 <= len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == '\\' { // an escaped backslash: skip both
			i++
			continue
		}
		if b[i+1] != 'u' {
			continue
		}
		n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
		if err == nil && (n == 0 || isFormatChar(rune(n))) {
			return true
		}
	}
	return false
}

// authenticate resolves the caller from a bearer token or the session cookie,
// enforces CSRF for cookie-authenticated unsafe requests, and puts the caller
// into the request context for the audit trail and the views.
func authenticate(acc *accounts.Service, secureCookie bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		var p *accounts.Principal
		csrf := ""
		if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
			tp, err := acc.AuthenticateToken(ctx, strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")))
			if err != nil {
				return err
			}
			p = &tp
		} else if sid := c.Cookies(accounts.SessionCookie); sid != "" {
			sp, ss, err := acc.Authenticate(ctx, sid)
			switch {
			case err == nil:
				p, csrf = &sp, ss.CSRFToken
				if isUnsafe(c.Method()) {
					got := c.Get("X-CSRF-Token")
					if got == "" {
						got = c.FormValue("_csrf")
					}
					if got != csrf {
						return apperr.Forbidden("csrf_invalid", "安全校验失败（CSRF 令牌缺失或不符），请刷新页面后重试")
					}
				}
			case apperr.KindOf(err) == apperr.KindUnauthorized:
				c.Cookie(&fiber.Cookie{Name: accounts.SessionCookie, Value: "", Path: "/", MaxAge: -1, HTTPOnly: true, Secure: secureCookie, SameSite: "Lax"})
			default:
				return err
			}
		}
		if p != nil {
			accounts.SetPrincipal(c, p)
		}
		r := audit.Request{IP: c.IP(), RequestID: requestIDOf(c)}
		if p != nil {
			r.UserID, r.OrgID, r.Label = p.UserID, p.OrgID, p.Username
		}
		c.SetUserContext(audit.WithRequest(ctx, r))
		_ = c.Bind(fiber.Map{"Principal": p, "CSRF": csrf, "Path": c.Path()})
		return c.Next()
	}
}

func isUnsafe(method string) bool {
	return method != fiber.MethodGet && method != fiber.MethodHead && method != fiber.MethodOptions
}

// fromFiber turns fiber's own errors (unknown route, body over the limit …)
// into application errors.
func fromFiber(fe *fiber.Error) *apperr.Error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return apperr.NotFound("route_not_found", "页面或接口不存在")
	case fiber.StatusMethodNotAllowed:
		e := apperr.NotFound("method_not_allowed", "不支持该请求方法")
		return e
	case fiber.StatusRequestEntityTooLarge:
		// The server refuses such a body before any handler reads it, so
		// the message names the upload limit every upload form states.
		return apperr.TooLarge("body_too_large", "请求体过大：上传的文件不能超过 20 MB")
	case fiber.StatusUnsupportedMediaType:
		return apperr.Unsupported("unsupported_media_type", "不支持的内容类型")
	case fiber.StatusBadRequest, fiber.StatusUnprocessableEntity:
		return apperr.BadRequest("bad_request", "请求格式有误")
	case fiber.StatusTooManyRequests:
		return apperr.RateLimited("rate_limited", "请求过于频繁，请稍后再试")
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return apperr.TooLarge("header_too_large", "请求头或网址过长")
	}
	return apperr.Internal(fe)
}

// errorHandler renders every error: problem+json (RFC 9457) under /api,
// a Chinese HTML page elsewhere. Only 5xx are logged, once, here.
func errorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		e, ok := apperr.As(err)
		if !ok {
			var fe *fiber.Error
			var pgErr pgdriver.Error
			switch {
			case errors.As(err, &fe):
				e = fromFiber(fe)
			case errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Field('C'), "22"):
				// A data exception (a date or number PostgreSQL cannot hold) is
				// bad input that slipped past validation: refuse it, don't crash.
				logger.Warn("data exception reached the database", "path", c.Path(), "request_id", requestIDOf(c), "sqlstate", pgErr.Field('C'))
				e = apperr.Invalid("invalid_value", "输入的日期或数值超出允许范围").Wrap(err)
			default:
				e = apperr.Internal(err)
			}
		}
		status := apperr.Status(e)
		if status >= 500 {
			logger.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", requestIDOf(c), "error", err.Error())
		}
		if web.IsAPI(c) || strings.Contains(c.Get(fiber.HeaderAccept), "application/json") && !strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
			c.Status(status)
			c.Set(fiber.HeaderContentType, "application/problem+json; charset=utf-8")
			return c.JSON(apperr.Problem(e, requestIDOf(c)), "application/problem+json; charset=utf-8")
		}
		if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
			return c.Redirect("/login?next="+template.URLQueryEscaper(c.OriginalURL()), fiber.StatusSeeOther)
		}
		c.Status(status)
		return c.Render("errors/error", fiber.Map{
			"Status": status, "Title": pageTitle(status), "Message": e.Message, "Code": e.Code,
			"Fields": e.Fields, "RequestID": requestIDOf(c),
		}, web.Layout)
	}
}

// pageTitle is the Chinese title of an error page.
func pageTitle(status int) string {
	switch status {
	case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
		return "页面不存在"
	case fiber.StatusForbidden:
		return "无权访问"
	case fiber.StatusUnauthorized:
		return "请先登录"
	case fiber.StatusTooManyRequests:
		return "请求过于频繁"
	case fiber.StatusRequestEntityTooLarge:
		return "文件或请求过大"
	case fiber.StatusConflict:
		return "操作冲突"
	}
	if status >= 500 {
		return "服务器错误"
	}
	return "请求有误"
}

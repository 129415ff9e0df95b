// Package web holds the small helpers every module's handlers share:
// pagination, strict JSON binding, rendering inside the shared layout and
// rate limits. It decides nothing about the domain and sits below every
// module (the caller and role checks are accounts.PrincipalOf and
// accounts.Require).
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"tuoyu/modules/apperr"
)

// MaxPerPage is the largest page size a list accepts.
const MaxPerPage = 200

// IsAPI reports whether the request is for the JSON API.
func IsAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// Page is a requested page of a list.
type Page struct {
	Page    int
	PerPage int
}

// Offset is the number of rows before the page.
func (p Page) Offset() int { return (p.Page - 1) * p.PerPage }

// Pagination reads ?page=&per_page= (defaults 1 and 20; per_page at most
// 200). Errors: Invalid invalid_pagination.
func Pagination(c *fiber.Ctx) (Page, error) {
	p := Page{Page: 1, PerPage: 20}
	var fields []apperr.FieldError
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1_000_000 {
			fields = append(fields, apperr.FieldError{Field: "page", Code: "invalid_page", Message: "page 须为 1–1000000 的整数"})
		}
		p.Page = n
	}
	if s := c.Query("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPerPage {
			fields = append(fields, apperr.FieldError{Field: "per_page", Code: "invalid_per_page", Message: "per_page 须为 1–200 的整数"})
		}
		p.PerPage = n
	}
	if len(fields) > 0 {
		return p, apperr.Invalid("invalid_pagination", "分页参数有误", fields...)
	}
	return p, nil
}

// List is the JSON shape of every list: {"items":[…],"total":N}.
func List[T any](items []T, total int) fiber.Map {
	if items == nil {
		items = []T{}
	}
	return fiber.Map{"items": items, "total": total}
}

// BindJSON decodes the body strictly into v: malformed JSON is 400
// malformed_json; a wrong type or an unknown field is 422 naming the field.
func BindJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return DecodeJSON(bytes.NewReader(body), v)
}

// DecodeJSON is BindJSON on a reader.
func DecodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// A value's own UnmarshalJSON (catalog.Hours) may refuse valid JSON
		// with an *apperr.Error naming the field: that is a 422, not a 400.
		if e, ok := apperr.As(err); ok {
			return e
		}
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return apperr.Invalid("invalid_field", "请求字段类型有误",
				apperr.FieldError{Field: field, Code: "invalid_type", Message: fmt.Sprintf("字段 %s 应为 %s", field, typeName(typeErr.Type.Kind().String()))})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apperr.Invalid("unknown_field", "请求包含未知字段",
				apperr.FieldError{Field: field, Code: "unknown_field", Message: "未知字段 " + field})
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return apperr.BadRequest("malformed_json", "请求体不是合法的 JSON")
		default:
			return apperr.BadRequest("malformed_json", "请求体不是合法的 JSON")
		}
	}
	if dec.More() {
		return apperr.BadRequest("malformed_json", "请求体不是合法的 JSON")
	}
	return nil
}

func typeName(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "int", "int64", "int32", "uint", "float64":
		return "数字"
	case "bool":
		return "布尔值"
	case "slice":
		return "数组"
	case "struct", "map":
		return "对象"
	}
	return kind
}

// Layout is the shared page layout.
const Layout = "layouts/main"

// Render renders templates/<name>.html inside the shared layout. The layout
// reads .Principal, .CSRF and .Path, which the server binds to every request.
func Render(c *fiber.Ctx, name string, data fiber.Map) error {
	if data == nil {
		data = fiber.Map{}
	}
	return c.Render(name, data, Layout)
}

// RateLimit allows max requests per window for each key (by default the
// client IP); beyond it the caller gets 429 rate_limited. The count is kept
// in this process: with several instances each enforces its own share, so
// limits that must hold across instances use package ratelimit.
func RateLimit(max int, window time.Duration, key func(*fiber.Ctx) string) fiber.Handler {
	if key == nil {
		key = func(c *fiber.Ctx) string { return c.IP() }
	}
	return limiter.New(limiter.Config{
		Max:          max,
		Expiration:   window,
		KeyGenerator: key,
		LimitReached: func(c *fiber.Ctx) error {
			return apperr.RateLimited("rate_limited", "请求过于频繁，请稍后再试")
		},
	})
}

// ParamID reads a positive integer route parameter; anything else is 404.
func ParamID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.NotFound("not_found", "记录不存在")
	}
	return id, nil
}

// Redirect answers a page form with 303 See Other to url.
func Redirect(c *fiber.Ctx, url string) error { return c.Redirect(url, fiber.StatusSeeOther) }

// FieldMessages turns an error's field errors into field → message for a form
// re-rendered with its errors; the second result is the message for the top.
func FieldMessages(err error) (map[string]string, string) {
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal {
		return nil, ""
	}
	m := map[string]string{}
	for _, f := range e.Fields {
		m[f.Field] = f.Message
	}
	return m, e.Message
}

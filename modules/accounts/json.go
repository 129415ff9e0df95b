package accounts

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// decodeJSON is the strict decoder of package web, repeated here because web
// builds on accounts.
func decodeJSON(c *fiber.Ctx, v any) error {
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return apperr.Invalid("invalid_field", "请求字段类型有误",
				apperr.FieldError{Field: typeErr.Field, Code: "invalid_type", Message: "字段 " + typeErr.Field + " 类型有误"})
		}
		return apperr.BadRequest("malformed_json", "请求体不是合法的 JSON")
	}
	return nil
}

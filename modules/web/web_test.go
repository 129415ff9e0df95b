package web

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// TestRedisplayKeepsFormErrorsWithTheirStatus: bad input and clashes stay
// on the form with the status of the one mapping; other errors go to the
// error page unless the form names their code.
func TestRedisplayKeepsFormErrorsWithTheirStatus(t *testing.T) {
	cases := []struct {
		err       error
		codes     []string
		redisplay bool
		status    int
	}{
		{apperr.Invalid("validation_failed", "x"), nil, true, 422},
		{apperr.Conflict("already_banned", "x"), nil, true, 409},
		{apperr.Forbidden("four_eyes", "x"), []string{"four_eyes"}, true, 403},
		{apperr.Forbidden("forbidden_role", "x"), []string{"four_eyes"}, false, 200},
		{apperr.NotFound("ban_not_found", "x"), nil, false, 200},
		{errors.New("boom"), nil, false, 200},
		{nil, nil, false, 200},
	}
	for _, tc := range cases {
		app := fiber.New()
		var got bool
		app.Get("/", func(c *fiber.Ctx) error {
			got = Redisplay(c, tc.err, tc.codes...)
			return nil
		})
		resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.redisplay || resp.StatusCode != tc.status {
			t.Errorf("Redisplay(%v, %v) = %v with status %d, want %v with %d", tc.err, tc.codes, got, resp.StatusCode, tc.redisplay, tc.status)
		}
	}
}

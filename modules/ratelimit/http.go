package ratelimit

import (
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tuoyu/modules/apperr"
)

// KeyFunc names the bucket a request counts against.
type KeyFunc func(c *fiber.Ctx) string

// ByIP counts per client IP.
func ByIP(c *fiber.Ctx) string { return c.IP() }

// Handler returns middleware counting each request against key(c) (ByIP
// when nil); beyond the limit it answers 429 rate_limited with Retry-After.
// On a nil Limiter it only passes requests on.
func (l *Limiter) Handler(key KeyFunc) fiber.Handler {
	if l == nil {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	if key == nil {
		key = ByIP
	}
	return func(c *fiber.Ctx) error {
		ok, retry, err := l.Allow(c.UserContext(), key(c))
		if err != nil {
			return err
		}
		if !ok {
			secs := int(math.Ceil(retry.Seconds()))
			if secs < 1 {
				secs = 1
			}
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
			return apperr.RateLimited("rate_limited", "请求过于频繁，请稍后再试")
		}
		return c.Next()
	}
}

package bans

import "github.com/gofiber/fiber/v2"

// A handler may import fiber: clean.
func page(c *fiber.Ctx) error { return c.SendString("ok") }

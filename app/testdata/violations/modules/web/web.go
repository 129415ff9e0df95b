// Package web may import fiber in any file: clean.
package web

import "github.com/gofiber/fiber/v2"

var _ fiber.Handler

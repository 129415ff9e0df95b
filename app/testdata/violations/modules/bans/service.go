// Package bans: a service importing fiber and querying its own table
// outside its store, three planted violations.
package bans

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

func list(ctx context.Context, db *bun.DB, c *fiber.Ctx) error {
	return db.NewSelect().TableExpr("bans AS b").Scan(ctx)
}

// Command bare is the baseline of bench/http.sh: a fiber app with one
// handler answering "ok" and no middleware, so the benchmark shows what the
// app's middleware, sessions and database cost on top of fiber itself.
package main

import (
	"flag"
	"log"

	"github.com/gofiber/fiber/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	log.Fatal(app.Listen(*addr))
}

// Command tuoyu runs the Hubei childcare-worker training and subsidy system:
// the web server by default, and the operator commands (migrate, seed, user,
// jobs, audit). See `tuoyu help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"tuoyu/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

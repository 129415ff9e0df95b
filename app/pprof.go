package app

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveProfiles serves the runtime profiles (CPU, heap, goroutines) on addr,
// apart from the application's listener so they are never reachable through
// it: TUOYU_PPROF_ADDR is meant for 127.0.0.1 while measuring. It returns
// the function that stops it.
func serveProfiles(addr string, logger *slog.Logger) func() {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			logger.Error("pprof listener", "addr", addr, "error", err)
		}
	}()
	logger.Info("serving profiles", "addr", addr)
	return func() { _ = srv.Close() }
}

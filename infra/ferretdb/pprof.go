package main

// Go's CPU and heap profiles of the store, for diagnosis only: with -pprof-addr (off by default) the
// process serves net/http/pprof there, e.g. `go tool pprof -top http://127.0.0.1:6060/debug/pprof/profile?seconds=15`.
// The bench's and tests' infra pass it when STEWARD_FERRETDB_PPROF_ADDR is set.

import (
	"errors"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"time"
)

func servePprof(addr string, l *slog.Logger) {
	if addr == "" {
		return
	}

	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}

	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.Warn("pprof server stopped", slog.String("error", err.Error()))
		}
	}()

	l.Info("serving pprof", slog.String("addr", addr))
}

package main

// FerretDB's SQL layer (internal/util/fsql) calls logger.With(slog.Any("args", args)) around every
// statement, before it asks whether debug lines are wanted. slog's text handler formats and quotes those
// attributes at With time, so every update paid for quoting the whole JSON document it wrote, for a debug
// line that was then dropped: 5.8 % of the store's CPU in the bench at 25 tickets/s (go tool pprof,
// log/slog.(*TextHandler).WithAttrs). lazyHandler keeps With and WithGroup as a list and builds the inner
// handler's only when a record is actually written.

import (
	"context"
	"log/slog"
	"sync"
)

type lazyStep struct {
	attrs []slog.Attr
	group string // applied when attrs is nil
}

type lazyHandler struct {
	base  slog.Handler
	steps []lazyStep

	once  sync.Once
	built slog.Handler
}

func newLazyHandler(base slog.Handler) slog.Handler {
	return &lazyHandler{base: base}
}

func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	h.once.Do(func() {
		built := h.base
		for _, s := range h.steps {
			if s.attrs != nil {
				built = built.WithAttrs(s.attrs)
			} else {
				built = built.WithGroup(s.group)
			}
		}

		h.built = built
	})

	return h.built.Handle(ctx, r)
}

func (h *lazyHandler) with(s lazyStep) *lazyHandler {
	steps := make([]lazyStep, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)

	return &lazyHandler{base: h.base, steps: append(steps, s)}
}

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}

	return h.with(lazyStep{attrs: attrs})
}

func (h *lazyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}

	return h.with(lazyStep{group: name})
}

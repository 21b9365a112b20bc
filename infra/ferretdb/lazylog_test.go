package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The lazy handler writes exactly what the text handler writes, groups and attributes in order, and
// formats nothing for a record below the level.
func TestLazyHandlerWritesWhatTheTextHandlerWrites(t *testing.T) {
	var direct, lazy bytes.Buffer

	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}

		return a
	}}

	for _, l := range []*slog.Logger{
		slog.New(slog.NewTextHandler(&direct, opts)),
		slog.New(newLazyHandler(slog.NewTextHandler(&lazy, opts))),
	} {
		l.With("a", 1).WithGroup("g").With("b", "two words").Info("hello", "c", 3)
		l.With("skipped", "x").Debug("not written")
		l.WithGroup("").With().Warn("plain")
	}

	if direct.String() != lazy.String() {
		t.Fatalf("lazy handler wrote\n%s\ntext handler wrote\n%s", lazy.String(), direct.String())
	}

	if !strings.Contains(lazy.String(), `g.b="two words"`) || strings.Contains(lazy.String(), "not written") {
		t.Fatalf("unexpected output:\n%s", lazy.String())
	}
}

type countingValuer struct{ n *int }

func (c countingValuer) LogValue() slog.Value {
	*c.n++

	return slog.StringValue("formatted")
}

func TestLazyHandlerFormatsNothingForADroppedDebugLine(t *testing.T) {
	var out bytes.Buffer

	formatted := 0
	l := slog.New(newLazyHandler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.With(slog.Any("args", countingValuer{&formatted})).Debug(">>> UPDATE ...")

	if formatted != 0 || out.Len() != 0 {
		t.Fatalf("a dropped debug line formatted its attributes %d times and wrote %q", formatted, out.String())
	}
}

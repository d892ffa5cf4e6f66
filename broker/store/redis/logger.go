package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Logger passes go-redis's own log lines (pool and connection trouble,
// failovers) to a slog.Logger, so they share the broker's format, level
// and destination instead of going to the standard library's log on
// stderr. Install it with redis.SetLogger(redisstore.NewLogger(l)).
//
// go-redis keeps its logger in a package-wide variable: set it once, in
// the process's wiring (cmd/broker serve), never from a library or a test
// that runs beside others.
type Logger struct{ l *slog.Logger }

// NewLogger returns a Logger writing to l at Warn level: go-redis logs
// only what went wrong.
func NewLogger(l *slog.Logger) Logger { return Logger{l: l.With("component", "redis")} }

// Printf implements go-redis's internal.Logging.
func (g Logger) Printf(ctx context.Context, format string, v ...any) {
	g.l.WarnContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}

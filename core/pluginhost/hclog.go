package pluginhost

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// slogHCLog is the hclog.Logger go-plugin logs through. go-plugin parses
// each hclog JSON line a plugin writes to stderr and replays it here, so
// plugin logs land in the host's slog log with the plugin's name.
type slogHCLog struct {
	l    *slog.Logger
	name string
	args []any
}

func newHCLog(l *slog.Logger, plugin string) hclog.Logger {
	return &slogHCLog{l: l.With("plugin", plugin), name: "plugin." + plugin}
}

func (h *slogHCLog) Log(level hclog.Level, msg string, args ...any) {
	var lvl slog.Level
	switch level {
	case hclog.Trace, hclog.Debug:
		lvl = slog.LevelDebug
	case hclog.Warn:
		lvl = slog.LevelWarn
	case hclog.Error:
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	all := append(append([]any(nil), h.args...), args...)
	// go-plugin adds plugin=<path> to its own lines; the logger already
	// carries plugin=<name>, so drop the duplicate key.
	kept := all[:0]
	for i := 0; i+1 < len(all); i += 2 {
		if k, ok := all[i].(string); ok && k == "plugin" {
			continue
		}
		kept = append(kept, all[i], all[i+1])
	}
	h.l.Log(context.Background(), lvl, msg, kept...)
}

func (h *slogHCLog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHCLog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHCLog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHCLog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHCLog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *slogHCLog) enabled(l slog.Level) bool { return h.l.Enabled(context.Background(), l) }
func (h *slogHCLog) IsTrace() bool             { return h.enabled(slog.LevelDebug) }
func (h *slogHCLog) IsDebug() bool             { return h.enabled(slog.LevelDebug) }
func (h *slogHCLog) IsInfo() bool              { return h.enabled(slog.LevelInfo) }
func (h *slogHCLog) IsWarn() bool              { return h.enabled(slog.LevelWarn) }
func (h *slogHCLog) IsError() bool             { return h.enabled(slog.LevelError) }
func (h *slogHCLog) ImpliedArgs() []any        { return h.args }
func (h *slogHCLog) Name() string              { return h.name }
func (h *slogHCLog) GetLevel() hclog.Level {
	if h.IsDebug() {
		return hclog.Debug
	}
	return hclog.Info
}
func (h *slogHCLog) SetLevel(hclog.Level) {}

func (h *slogHCLog) With(args ...any) hclog.Logger {
	n := *h
	n.args = append(append([]any(nil), h.args...), args...)
	return &n
}

// Named keeps the plugin attribute; go-plugin names its sub-loggers after
// the binary, which would only repeat it.
func (h *slogHCLog) Named(string) hclog.Logger      { return h }
func (h *slogHCLog) ResetNamed(string) hclog.Logger { return h }

func (h *slogHCLog) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(h.l.Handler(), slog.LevelInfo)
}

func (h *slogHCLog) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return slog.NewLogLogger(h.l.Handler(), slog.LevelInfo).Writer()
}

package sdk

import (
	"context"
	"log/slog"
	"os"
	"sync"

	"github.com/hashicorp/go-hclog"
)

var (
	hclogOnce sync.Once
	hclogInst hclog.Logger
)

// hclogger is the process-wide hclog logger writing JSON to stderr, which
// go-plugin on the host side parses line by line. It captures the real
// stderr before go-plugin swaps os.Stderr for its stdio pipe.
func hclogger() hclog.Logger {
	hclogOnce.Do(func() {
		hclogInst = hclog.New(&hclog.LoggerOptions{
			Output:     os.Stderr,
			JSONFormat: true,
			Level:      hclog.Debug,
		})
	})
	return hclogInst
}

// Logger returns the plugin's logger. Records go to stderr as hclog JSON;
// the host re-logs them in its own structured log under the plugin's name.
// Never log secrets: instance configs hold credentials.
func Logger() *slog.Logger {
	return slog.New(&hclogHandler{l: hclogger()})
}

// hclogHandler adapts slog to hclog.
type hclogHandler struct {
	l      hclog.Logger
	attrs  []any
	prefix string
}

func (h *hclogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return h.l.IsDebug() || l >= slog.LevelInfo
}

func (h *hclogHandler) Handle(_ context.Context, r slog.Record) error {
	args := append([]any(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args = appendAttr(args, h.prefix, a)
		return true
	})
	var lvl hclog.Level
	switch {
	case r.Level >= slog.LevelError:
		lvl = hclog.Error
	case r.Level >= slog.LevelWarn:
		lvl = hclog.Warn
	case r.Level >= slog.LevelInfo:
		lvl = hclog.Info
	default:
		lvl = hclog.Debug
	}
	h.l.Log(lvl, r.Message, args...)
	return nil
}

func appendAttr(args []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			args = appendAttr(args, prefix+a.Key+".", g)
		}
		return args
	}
	return append(args, prefix+a.Key, v.Any())
}

func (h *hclogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]any(nil), h.attrs...)
	for _, a := range as {
		n.attrs = appendAttr(n.attrs, h.prefix, a)
	}
	return &n
}

func (h *hclogHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

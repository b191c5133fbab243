package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/faultmaven/faultmaven/gateway/internal/config"
	"github.com/spf13/cobra"
)

// loadConfig reads --config (or ./faultmaven.yaml when present, else the
// embedded defaults) with FAULTMAVEN_* overrides.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		if _, err := os.Stat("faultmaven.yaml"); err == nil {
			path = "faultmaven.yaml"
		}
	}
	return config.Load(path, os.Environ())
}

// newLogger builds the hub's logger on stderr.
func newLogger(c config.Log) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(c.Level))); err != nil && c.Level != "" {
		return nil, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "", "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("log.format %q: want json or text", c.Format)
}

package cli

import (
	"github.com/faultmaven/faultmaven/gateway/internal/app"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the hub: plugins, integrations and the HTTP API",
		Long: `Run the hub until SIGTERM or Ctrl-C.

It launches the adapter plugins found in plugin_dir (and those pinned under
plugins:), enables each cluster's integrations, and serves the HTTP API on
listen (loopback by default). On SIGTERM it stops accepting requests, drains
in-flight ones and plugin calls, and stops every plugin process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			logger, err := newLogger(cfg.Log)
			if err != nil {
				return err
			}
			a, err := app.New(cfg, logger)
			if err != nil {
				return err
			}
			return a.Run(cmd.Context(), nil)
		},
	}
}

// Package cli implements the faultmaven command line: one file per verb.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the CLI with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return int(ee)
		}
		fmt.Fprintln(os.Stderr, "faultmaven:", err)
		return 1
	}
	return 0
}

// exitError asks Main for an exit code without printing anything more.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "faultmaven",
		Short:         "FaultMaven hub: find out what is broken and what to do",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.PersistentFlags().String("config", "", "path to faultmaven.yaml (default: ./faultmaven.yaml if present)")
	// One line per verb; each verb lives in its own file.
	root.AddCommand(
		newServeCmd(),
		newAskCmd(),
		newConfigCmd(),
		newVersionCmd(),
		newPluginsCmd(),
		newMigrateCmd(), newIngestCmd(), newStoreCmd(),
		newKBCmd(),
		newLogsCmd(),
	)
	return root
}

package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the release, set at build time:
// -ldflags "-X github.com/faultmaven/faultmaven/gateway/internal/cli.Version=1.2.3".
var Version = "dev"

// versionString is the version, with the VCS revision Go stamped into
// the binary when there is one.
func versionString() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			v += " (" + rev + dirty + ")"
		}
	}
	return v
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hub's version, plugin protocol and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "faultmaven %s\nplugin protocol v%d, sdk %s\n%s %s/%s\n",
				versionString(), sdk.ProtocolVersion, sdk.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/gateway/internal/app"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/spf13/cobra"
)

func newPluginsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List, inspect and check adapter plugins",
	}
	cmd.AddCommand(newPluginsListCmd(), newPluginsInspectCmd(), newPluginsCheckCmd())
	return cmd
}

// startHost launches the named plugins (all when none) with a quiet logger.
func startHost(ctx context.Context, cfg config.Config, names ...string) (*pluginhost.Host, error) {
	h, err := pluginhost.New(app.PluginHostOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil))
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx, names...); err != nil {
		_ = h.Close()
		return nil, err
	}
	return h, nil
}

func newPluginsListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the plugins in plugin_dir and pinned in config, with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			h, err := startHost(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer h.Close()
			ps := h.Plugins()
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), ps)
			}
			if len(ps) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no plugins in %s (build them with `make plugins`)\n", cfg.PluginDir)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tCAPABILITIES\tSTATE\tSHA256\tPATH")
			for _, p := range ps {
				caps := make([]string, len(p.Capabilities))
				for i, c := range p.Capabilities {
					caps[i] = string(c)
				}
				state := string(p.State)
				if p.LastError != "" && p.State != pluginhost.StateRunning {
					state += ": " + p.LastError
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, dash(p.Version), dash(strings.Join(caps, ",")), state, p.SHA256[:12], p.Path)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newPluginsInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME",
		Short: "Launch one plugin and print its metadata and config schema as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			h, err := startHost(cmd.Context(), cfg, args[0])
			if err != nil {
				return err
			}
			defer h.Close()
			p, err := h.Plugin(args[0])
			if err != nil {
				return err
			}
			if err := writeJSON(cmd.OutOrStdout(), p); err != nil {
				return err
			}
			if p.State != pluginhost.StateRunning {
				return fmt.Errorf("plugin %s is %s: %s", p.Name, p.State, p.LastError)
			}
			return nil
		},
	}
}

func newPluginsCheckCmd() *cobra.Command {
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "check CLUSTER/INTEGRATION",
		Short: "Configure one integration from the config, run its health check and a small search",
		Long: `Configure one integration exactly as serve would, run its health check,
then a search of the last --since (5 records at most). Exits non-zero when
any step fails, saying which and why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			clusterName, integName, ok := strings.Cut(args[0], "/")
			if !ok {
				return errors.New("want CLUSTER/INTEGRATION, e.g. local/app-logs")
			}
			ig, err := findIntegration(cfg, clusterName, integName)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			h, err := startHost(ctx, cfg, ig.Plugin)
			if err != nil {
				return err
			}
			defer h.Close()
			out := cmd.OutOrStdout()
			id := config.InstanceID(clusterName, integName)
			raw, err := ig.ResolvedConfig(os.Getenv)
			if err != nil {
				return err
			}
			if err := h.Configure(ctx, id, ig.Plugin, raw); err != nil {
				fmt.Fprintf(out, "configure  FAIL  %v\n", err)
				return exitError(1)
			}
			fmt.Fprintf(out, "configure  ok\n")
			rep, err := h.Health(ctx, id)
			switch {
			case err != nil:
				fmt.Fprintf(out, "health     FAIL  %v\n", err)
				return exitError(1)
			case rep.Status != sdk.HealthOK:
				fmt.Fprintf(out, "health     %s  %s\n", strings.ToUpper(rep.Status.String()), rep.Message)
				return exitError(1)
			}
			fmt.Fprintf(out, "health     ok    %s\n", rep.Latency.Round(time.Millisecond))
			p, _ := h.Plugin(ig.Plugin)
			hasLogs := false
			for _, c := range p.Capabilities {
				hasLogs = hasLogs || c == sdk.CapabilityLogs
			}
			if !hasLogs {
				fmt.Fprintf(out, "search     skipped (plugin %s has no logs capability)\n", ig.Plugin)
				return nil
			}
			q := sdk.LogQuery{Limit: 5}
			if since > 0 {
				q.Start = time.Now().Add(-since)
			}
			n := 0
			start := time.Now()
			err = h.SearchLogs(ctx, id, q, func(b []sdk.Record) error {
				for _, r := range b {
					n++
					fmt.Fprintf(out, "  %s %-5s %s %s\n", r.Timestamp.Format(time.RFC3339), r.Severity, r.Service, firstLineOf(r.Body, 120))
				}
				return nil
			})
			if err != nil {
				fmt.Fprintf(out, "search     FAIL  %v\n", err)
				return exitError(1)
			}
			fmt.Fprintf(out, "search     ok    %d records in %s\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().DurationVar(&since, "since", 0, "search only the last duration (default: the whole source)")
	return cmd
}

func findIntegration(cfg config.Config, cluster, name string) (config.Integration, error) {
	for _, cl := range cfg.Clusters {
		if cl.Name != cluster {
			continue
		}
		for _, ig := range cl.Integrations {
			if ig.Name == name {
				return ig, nil
			}
		}
		return config.Integration{}, fmt.Errorf("cluster %q has no integration %q", cluster, name)
	}
	return config.Integration{}, fmt.Errorf("no cluster %q in the config", cluster)
}

func firstLineOf(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

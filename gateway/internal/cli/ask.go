package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/core/agent"
	"github.com/faultmaven/faultmaven/gateway/internal/app"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

func newAskCmd() *cobra.Command {
	var (
		cluster, output string
		since           time.Duration
		from, to        string
	)
	cmd := &cobra.Command{
		Use:   `ask "QUESTION" [FILE...]`,
		Short: "Ask what is broken: likely cause, evidence, runbooks and next steps",
		Long: `Answer a troubleshooting question from logs. The logs are the FILEs given
("-" reads stdin), and with --cluster the logs of that cluster's
integrations (from the config) over the window: --since, --from/--to, or
by default the hour before the time the question names ("since about
13:41 UTC") up to now. The knowledge base in the data dir (faultmaven kb
ingest) supplies runbooks and past incidents.

The answer is Markdown on stdout (--output json: the whole report).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			req := agent.Request{Question: args[0], Cluster: cluster}
			now := time.Now().UTC()
			switch {
			case since > 0 && from == "" && to == "":
				req.From, req.To = now.Add(-since), now
			case since == 0 && (from != "" || to != ""):
				if req.From, err = parseTimeFlag("--from", from); err != nil {
					return err
				}
				if req.To, err = parseTimeFlag("--to", to); err != nil {
					return err
				}
			case since > 0:
				return errors.New("give either --since or --from/--to, not both")
			}
			for _, name := range args[1:] {
				if name == "-" {
					req.Attachments = append(req.Attachments, agent.Attachment{Name: "stdin", Reader: cmd.InOrStdin()})
					continue
				}
				f, err := os.Open(name)
				if err != nil {
					return err
				}
				defer f.Close()
				req.Attachments = append(req.Attachments, agent.Attachment{Name: filepath.Base(name), Reader: f})
			}

			cfg, err := kbConfig(cmd)
			if err != nil {
				return err
			}
			opts := agent.Options{MaxRecords: cfg.Ask.MaxRecords, Lookback: cfg.Ask.Lookback}
			if hasKnowledge(cfg.DataDir) {
				kb, err := app.OpenKnowledge(cmd.Context(), cfg, nil, nil)
				if err != nil {
					return err
				}
				defer kb.Close()
				opts.Knowledge = kb
			}
			if cluster != "" {
				one, ids, err := onlyCluster(cfg, cluster)
				if err != nil {
					return err
				}
				logger, err := newLogger(cfg.Log)
				if err != nil {
					return err
				}
				src, release, err := openLogSource(cmd.Context(), one, logger)
				if err != nil {
					return err
				}
				defer release()
				opts.Source, opts.Logger = src, logger
				req.Integrations = ids
				if m, ok := src.(agent.MetricSource); ok {
					// Plugins without metrics answer "unsupported" and are skipped.
					opts.Metrics, req.MetricIntegrations = m, ids
				}
			}
			if len(req.Attachments) == 0 && cluster == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "note: no log files and no --cluster: the answer rests on the knowledge base alone")
			}
			if stderr := cmd.ErrOrStderr(); isTerminal(stderr) {
				// A long pull shows how far it got; the line is cleared after.
				req.Progress = func(p agent.Progress) {
					switch {
					case p.Stage == "pull":
						fmt.Fprintf(stderr, "\r\033[K%s: %d records", p.Source, p.Records)
						if p.Done {
							fmt.Fprintln(stderr)
						}
					default:
						fmt.Fprintf(stderr, "\r\033[K%s…", p.Stage)
					}
				}
				defer fmt.Fprint(stderr, "\r\033[K")
			}
			rep, err := agent.New(opts).Ask(cmd.Context(), req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			_, err = fmt.Fprint(w, rep.Answer)
			return err
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "search the logs of this cluster's integrations (from the config)")
	cmd.Flags().DurationVar(&since, "since", 0, "window: the last DURATION (e.g. 30m, 2h)")
	cmd.Flags().StringVar(&from, "from", "", "window start, RFC 3339")
	cmd.Flags().StringVar(&to, "to", "", "window end, RFC 3339")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (Markdown) or json")
	cmd.Flags().String("data-dir", "", "data directory holding the knowledge base (default: data_dir from the config file)")
	return cmd
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, fmt.Errorf("%s: want RFC 3339 (2026-11-25T10:00:00Z): %w", name, err)
	}
	return t, nil
}

// onlyCluster returns cfg narrowed to one cluster, and its integrations'
// instance ids.
func onlyCluster(cfg config.Config, cluster string) (config.Config, []string, error) {
	var known []string
	for _, cl := range cfg.Clusters {
		if cl.Name != cluster {
			known = append(known, cl.Name)
			continue
		}
		out := cfg
		out.Clusters = []config.Cluster{cl}
		var ids []string
		for _, in := range cl.Integrations {
			ids = append(ids, config.InstanceID(cl.Name, in.Name))
		}
		if len(ids) == 0 {
			return cfg, nil, fmt.Errorf("cluster %s has no integrations in the config", cluster)
		}
		return out, ids, nil
	}
	return cfg, nil, fmt.Errorf("cluster %s is not in the config; configured: %v", cluster, known)
}

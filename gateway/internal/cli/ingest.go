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
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/gateway/internal/app"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// openLogSource builds the LogSource an ingest pulls through, for the
// integrations in cfg.Clusters (the ingest command passes only the one it
// pulls). The returned func releases it. The default launches the
// integrations' plugins with core/pluginhost and configures their
// instances; the serve wiring may replace it with the running host, and
// tests with a fake.
var openLogSource = func(ctx context.Context, cfg config.Config, logger *slog.Logger) (jobs.LogSource, func(), error) {
	host, err := pluginhost.New(app.PluginHostOptions(cfg, logger, nil))
	if err != nil {
		return nil, nil, err
	}
	release := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = host.Shutdown(sctx)
	}
	var names []string
	for _, cl := range cfg.Clusters {
		for _, in := range cl.Integrations {
			names = append(names, in.Plugin)
		}
	}
	if err := host.Start(ctx, names...); err != nil {
		release()
		return nil, nil, err
	}
	for _, cl := range cfg.Clusters {
		for _, in := range cl.Integrations {
			raw, err := in.ResolvedConfig(os.Getenv)
			if err == nil {
				err = host.Configure(ctx, config.InstanceID(cl.Name, in.Name), in.Plugin, raw)
			}
			if err != nil {
				release()
				return nil, nil, err
			}
		}
	}
	return host, release, nil
}

// ingestSummary is the JSON line `faultmaven ingest` prints.
type ingestSummary struct {
	JobID             int64     `json:"job_id"`
	Cluster           string    `json:"cluster"`
	Integration       string    `json:"integration"`
	From              time.Time `json:"from"`
	To                time.Time `json:"to"`
	State             string    `json:"state"`
	Attempts          int       `json:"attempts"`
	RecordsRead       int64     `json:"records_read"`
	RecordsStored     int64     `json:"records_stored"`
	DuplicatesSkipped int64     `json:"duplicates_skipped"`
	Findings          int64     `json:"findings"`
}

func newIngestCmd() *cobra.Command {
	var (
		cluster, integration string
		since                time.Duration
		from, to             string
	)
	cmd := &cobra.Command{
		Use:   "ingest --cluster C --integration I (--since 1h | --from T --to T)",
		Short: "Pull a window of logs from one integration, analyze and store them",
		Long: `Enqueue an ingest job for one integration and work it here: the logs of
the window are pulled through the integration's plugin, mined by the
analyzer, and stored (sealed) with their templates and findings. Progress
goes to stderr; the summary is one JSON line on stdout:
records_read, records_stored, duplicates_skipped, findings.

Ingesting the same window again stores nothing new (duplicates_skipped).
Times are RFC 3339 (2026-11-25T10:00:00Z).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cluster == "" || integration == "" {
				return errors.New("--cluster and --integration are required")
			}
			now := time.Now().UTC()
			var wFrom, wTo time.Time
			switch {
			case since > 0 && from == "" && to == "":
				wFrom, wTo = now.Add(-since), now
			case since == 0 && from != "" && to != "":
				var err error
				if wFrom, err = time.Parse(time.RFC3339, from); err != nil {
					return fmt.Errorf("--from: want RFC 3339 (2026-11-25T10:00:00Z): %w", err)
				}
				if wTo, err = time.Parse(time.RFC3339, to); err != nil {
					return fmt.Errorf("--to: want RFC 3339 (2026-11-25T10:00:00Z): %w", err)
				}
				if !wFrom.Before(wTo) {
					return errors.New("--from must be before --to")
				}
			default:
				return errors.New("give either --since (e.g. 1h) or both --from and --to")
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			one, err := onlyIntegration(cfg, cluster, integration)
			if err != nil {
				return err
			}
			logger, err := newLogger(cfg.Log)
			if err != nil {
				return err
			}
			sum, err := runIngest(cmd.Context(), one, logger, cmd.ErrOrStderr(), jobs.IngestRequest{
				Cluster: cluster, Integration: integration, From: wFrom, To: wTo})
			if sum.JobID != 0 {
				if jerr := json.NewEncoder(cmd.OutOrStdout()).Encode(sum); jerr != nil && err == nil {
					err = jerr
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster name (from the config)")
	cmd.Flags().StringVar(&integration, "integration", "", "integration name within the cluster")
	cmd.Flags().DurationVar(&since, "since", 0, "pull the last DURATION (e.g. 15m, 1h)")
	cmd.Flags().StringVar(&from, "from", "", "window start, RFC 3339")
	cmd.Flags().StringVar(&to, "to", "", "window end (exclusive), RFC 3339")
	return cmd
}

// onlyIntegration returns cfg with Clusters narrowed to one integration.
func onlyIntegration(cfg config.Config, cluster, integration string) (config.Config, error) {
	var known []string
	for _, cl := range cfg.Clusters {
		for _, in := range cl.Integrations {
			if cl.Name == cluster && in.Name == integration {
				out := cfg
				out.Clusters = []config.Cluster{{Name: cl.Name, Integrations: []config.Integration{in}}}
				return out, nil
			}
			known = append(known, config.InstanceID(cl.Name, in.Name))
		}
	}
	if len(known) == 0 {
		return cfg, fmt.Errorf("integration %s/%s: the config has no integrations (clusters: in faultmaven.yaml)", cluster, integration)
	}
	return cfg, fmt.Errorf("integration %s/%s is not in the config; configured: %s", cluster, integration, strings.Join(known, ", "))
}

// runIngest opens the store and a log source, works one ingest job in this
// process and waits for it, showing progress on progress.
func runIngest(ctx context.Context, cfg config.Config, logger *slog.Logger, progress io.Writer, req jobs.IngestRequest) (ingestSummary, error) {
	sum := ingestSummary{Cluster: req.Cluster, Integration: req.Integration, From: req.From, To: req.To}
	st, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return sum, err
	}
	defer st.Close()
	src, release, err := openLogSource(ctx, cfg, logger)
	if err != nil {
		return sum, err
	}
	defer release()
	q, err := jobs.New(ctx, jobs.Options{Store: st, Source: src, NewAnalyzer: jobs.NewLogAnalysis(loganalysis.DefaultOptions()),
		Logger: logger, Retention: -1, Workers: 1})
	if err != nil {
		return sum, err
	}
	if err := q.Start(ctx); err != nil {
		return sum, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			logger.Warn("stopping the job queue", "err", err)
		}
	}()
	id, err := q.EnqueueIngest(ctx, req)
	if err != nil {
		return sum, err
	}
	sum.JobID = id
	show := newProgress(progress)
	s, err := q.Wait(ctx, id, show.update)
	show.done()
	sum.State, sum.Attempts = s.State, s.Attempt
	sum.RecordsRead, sum.RecordsStored, sum.DuplicatesSkipped, sum.Findings = s.RecordsRead, s.RecordsStored, s.DuplicatesSkipped, s.Findings
	if !s.From.IsZero() {
		sum.From, sum.To = s.From, s.To
	}
	if err != nil {
		return sum, fmt.Errorf("job %d: %w (it stays queued and will be worked by a running hub)", id, err)
	}
	if !s.Succeeded() {
		last := ""
		if len(s.Errors) > 0 {
			last = ": " + s.Errors[len(s.Errors)-1]
		}
		return sum, fmt.Errorf("job %d %s after %d attempt(s)%s", id, s.State, s.Attempt, last)
	}
	return sum, nil
}

// progress shows records read: a bar on a terminal, a line every few
// seconds otherwise.
type progressView struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last time.Time
	seen int64
}

func newProgress(w io.Writer) *progressView {
	p := &progressView{w: w, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("ingesting"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("records"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progressView) update(s jobs.JobStatus) {
	if p.bar != nil {
		_ = p.bar.Set64(s.RecordsRead)
		p.bar.Describe(fmt.Sprintf("ingesting (%s, attempt %d)", s.State, s.Attempt))
		return
	}
	if time.Since(p.last) >= 5*time.Second && s.RecordsRead != p.seen {
		p.last, p.seen = time.Now(), s.RecordsRead
		fmt.Fprintf(p.w, "ingest: %s, %d records read, %d stored\n", s.State, s.RecordsRead, s.RecordsStored)
	}
}

func (p *progressView) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

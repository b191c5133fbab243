package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/local"
	"github.com/faultmaven/faultmaven/gateway/internal/app"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

func newKBCmd() *cobra.Command {
	kb := &cobra.Command{
		Use:   "kb",
		Short: "Knowledge base: ingest runbooks and search them",
		Long: "The knowledge base holds runbooks, past incidents, analyzer findings and notes.\n" +
			"These commands use the embedded index in the data dir (--data-dir, or data_dir from the config file).",
	}
	kb.PersistentFlags().String("data-dir", "", "data directory (default: data_dir from the config file, ./data)")
	kb.AddCommand(newKBIngestCmd(), newKBSearchCmd())
	return kb
}

// kbConfig loads the config (--config, or ./faultmaven.yaml when
// present, else the defaults) with the data dir made absolute and
// replaced by --data-dir when given.
func kbConfig(cmd *cobra.Command) (config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		if _, err := os.Stat("faultmaven.yaml"); err == nil {
			path = "faultmaven.yaml"
		}
	}
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return cfg, err
	}
	if d, _ := cmd.Flags().GetString("data-dir"); d != "" {
		cfg.DataDir = d
	}
	// A relative data_dir is taken from the working directory, as serve does.
	cfg.DataDir, err = filepath.Abs(cfg.DataDir)
	return cfg, err
}

// hasKnowledge reports whether the data dir holds a knowledge base.
func hasKnowledge(dataDir string) bool {
	_, err := os.Stat(filepath.Join(local.Dir(dataDir), "documents.json"))
	return err == nil
}

func newKBIngestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ingest DIR",
		Short: "Ingest every Markdown runbook (YAML front matter) under DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			cfg, err := kbConfig(cmd)
			if err != nil {
				return err
			}
			dataDir := cfg.DataDir
			docs, loadErr := knowledge.LoadDir(args[0])
			if len(docs) == 0 {
				return loadErr
			}
			svc, err := app.OpenKnowledge(cmd.Context(), cfg, nil, nil)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := svc.Close(); cerr != nil && err == nil {
					err = cerr
				}
			}()
			bar := kbProgressBar(cmd.ErrOrStderr(), len(docs), "ingesting")
			st, err := svc.Ingest(cmd.Context(), docs, func(done int) { _ = bar.Set(done) })
			_ = bar.Finish()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ingested %d documents (%d chunks) into %s\n", st.Documents, st.Chunks, local.Dir(dataDir))
			if loadErr != nil {
				// Good files are in; report the bad ones and fail.
				fmt.Fprintln(cmd.ErrOrStderr(), loadErr)
				return exitError(1)
			}
			return nil
		},
	}
}

func kbProgressBar(w io.Writer, n int, desc string) *progressbar.ProgressBar {
	visible := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		visible = true
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetVisibility(visible),
		progressbar.OptionClearOnFinish(),
	)
}

// kbHit is the JSON shape of a search hit.
type kbHit struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Score   float64 `json:"score"`
	Chunk   string  `json:"chunk"`
	Kind    string  `json:"kind"`
	Heading string  `json:"heading,omitempty"`
	Cluster string  `json:"cluster,omitempty"`
}

func newKBSearchCmd() *cobra.Command {
	var (
		limit   int
		cluster string
		output  string
		kinds   []string
	)
	cmd := &cobra.Command{
		Use:   `search "QUERY"`,
		Short: "Search the knowledge base",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			cfg, err := kbConfig(cmd)
			if err != nil {
				return err
			}
			if !hasKnowledge(cfg.DataDir) {
				return fmt.Errorf("no knowledge base in %s: run `faultmaven kb ingest DIR` first", cfg.DataDir)
			}
			svc, err := app.OpenKnowledge(cmd.Context(), cfg, nil, nil)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := svc.Close(); cerr != nil && err == nil {
					err = cerr
				}
			}()
			q := knowledge.Query{Text: args[0], Cluster: cluster, Limit: limit}
			for _, k := range kinds {
				q.Kinds = append(q.Kinds, knowledge.Kind(k))
			}
			hits, err := svc.Search(cmd.Context(), q)
			if err != nil {
				return err
			}
			out := make([]kbHit, len(hits))
			for i, h := range hits {
				out[i] = kbHit{ID: h.ID, Title: h.Title, Score: h.Score, Chunk: h.Chunk, Kind: string(h.Kind), Heading: h.Heading, Cluster: h.Cluster}
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(out) == 0 {
				fmt.Fprintln(w, "no matches")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SCORE\tID\tTITLE\tSECTION")
			for _, h := range out {
				fmt.Fprintf(tw, "%.3f\t%s\t%s\t%s\n", h.Score, h.ID, h.Title, h.Heading)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "\nbest match, %s:\n%s\n", out[0].ID, kbIndent(out[0].Chunk))
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 5, "number of documents to return (1-100)")
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster scope: that cluster's documents plus global ones (default: global only)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only these kinds (runbook, incident, finding, note)")
	return cmd
}

func kbIndent(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 15 {
		lines = append(lines[:15], "...")
	}
	return "  " + strings.Join(lines, "\n  ")
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/loganalysis/records"
	"github.com/faultmaven/faultmaven/sdk"
)

func newLogsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Parse and analyze log files with no configuration",
	}
	cmd.AddCommand(newLogsParseCmd(), newLogsAnalyzeCmd())
	return cmd
}

type logInputFlags struct {
	format     string
	masks      []string
	multiline  string
	labelToken bool
}

func (f *logInputFlags) register(cmd *cobra.Command, withFormat bool) {
	if withFormat {
		cmd.Flags().StringVar(&f.format, "format", "", `explicit header format, e.g. '<Date> <Time> <Level> <Component>: <Content>' (default: detect)`)
		cmd.Flags().StringArrayVar(&f.masks, "mask", nil, "regular expression whose matches become <*> before mining (repeatable)")
	}
	cmd.Flags().StringVar(&f.multiline, "multiline", "on", "on: stack traces and continuation lines join their record; off: every line is a record")
	cmd.Flags().BoolVar(&f.labelToken, "strip-label", false, "drop the first token of every line (a label column, as in BGL)")
}

func (f *logInputFlags) parseOptions() (loganalysis.ParseOptions, error) {
	o := loganalysis.ParseOptions{Format: f.format, Masks: f.masks, StripFirstToken: f.labelToken}
	switch f.multiline {
	case "on", "true", "":
	case "off", "false":
		o.MultilineOff = true
	default:
		return o, fmt.Errorf("--multiline must be on or off, not %q", f.multiline)
	}
	return o, nil
}

func newLogsParseCmd() *cobra.Command {
	var in logInputFlags
	var output string
	cmd := &cobra.Command{
		Use:   "parse [flags] FILE...|-",
		Short: "Mine templates: one row per record (CSV: LineId,EventId,EventTemplate)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "csv" && output != "json" {
				return fmt.Errorf("--output must be csv or json, not %q", output)
			}
			opts, err := in.parseOptions()
			if err != nil {
				return err
			}
			p, err := loganalysis.NewParser(opts)
			if err != nil {
				return err
			}
			return runParse(cmd.Context(), p, args, output, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	in.register(cmd, true)
	cmd.Flags().StringVarP(&output, "output", "o", "csv", "csv or json (one JSON object per line)")
	return cmd
}

// parsedRow is what parse keeps per record until templates are final.
type parsedRow struct {
	cluster int32
	line    int32
	lines   int32
	trunc   bool
	ts      time.Time
	sev     sdk.Severity
	comp    string
	content string
}

func runParse(ctx context.Context, p *loganalysis.Parser, files []string, output string, stdin io.Reader, stdout, stderr io.Writer) error {
	// The heap stays small (4 bytes per record plus the model), so trade a
	// little memory for far fewer collections.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	// Templates keep generalising while later records arrive, so rows are
	// written once the input is read: every row then carries its final
	// template. CSV keeps 4 bytes per record until then.
	var ids []int32
	var rows []parsedRow
	for _, name := range files {
		err := withInput(ctx, name, stdin, stderr, func(r io.Reader) error {
			return p.Run(ctx, r, func(rec loganalysis.ParsedRecord) error {
				if output == "json" {
					rows = append(rows, parsedRow{cluster: int32(rec.ClusterID), line: int32(rec.Line), lines: int32(rec.Lines), trunc: rec.Truncated, ts: rec.Header.Timestamp, sev: rec.Header.Severity,
						comp: rec.Header.Component, content: rec.Header.Content})
				} else {
					ids = append(ids, int32(rec.ClusterID))
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(stdout, 256<<10)
	cache := map[int32][2]string{}
	tmpl := func(id int32) (string, string) {
		if v, ok := cache[id]; ok {
			return v[0], v[1]
		}
		t := p.Template(int(id))
		v := [2]string{loganalysis.TemplateID(t), t}
		cache[id] = v
		return v[0], v[1]
	}
	if output == "csv" {
		// Each cluster's ",EventId,EventTemplate" is CSV-encoded once.
		suffix := map[int32][]byte{}
		var sb bytes.Buffer
		line := make([]byte, 0, 256)
		if _, err := bw.WriteString("LineId,EventId,EventTemplate\n"); err != nil {
			return fmt.Errorf("writing csv: %w", err)
		}
		for i, id := range ids {
			sfx, ok := suffix[id]
			if !ok {
				eid, t := tmpl(id)
				sb.Reset()
				w := csv.NewWriter(&sb)
				_ = w.Write([]string{"", eid, t})
				w.Flush()
				sfx = append([]byte(nil), sb.Bytes()...)
				suffix[id] = sfx
			}
			line = strconv.AppendInt(line[:0], int64(i+1), 10)
			line = append(line, sfx...)
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("writing csv: %w", err)
			}
		}
	} else {
		enc := json.NewEncoder(bw)
		for i, r := range rows {
			eid, t := tmpl(r.cluster)
			obj := map[string]any{"line_id": i + 1, "event_id": eid, "template": t, "content": r.content, "line": r.line, "lines": r.lines}
			if r.ts.Year() > 0 {
				obj["timestamp"] = r.ts.Format(time.RFC3339Nano)
			}
			if r.sev != 0 {
				obj["severity"] = r.sev.String()
			}
			if r.comp != "" {
				obj["component"] = r.comp
			}
			if r.trunc {
				obj["truncated"] = true
			}
			if err := enc.Encode(obj); err != nil {
				return fmt.Errorf("writing json: %w", err)
			}
		}
	}
	return bw.Flush()
}

func newLogsAnalyzeCmd() *cobra.Command {
	var in logInputFlags
	var output string
	var top int
	cmd := &cobra.Command{
		Use:   "analyze [flags] FILE...|-",
		Short: "Report what stands out: ranked findings, templates and an error timeline",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", output)
			}
			opts, err := in.parseOptions()
			if err != nil {
				return err
			}
			return runAnalyze(cmd.Context(), opts, args, output, top, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	in.register(cmd, false)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	cmd.Flags().IntVar(&top, "top", 10, "how many findings and templates to show")
	return cmd
}

type analyzeReport struct {
	Records   int                   `json:"records"`
	Findings  []loganalysis.Finding `json:"findings"`
	Templates []analyzeTemplate     `json:"templates"`
	Timeline  []timelinePoint       `json:"error_timeline"`
}

type analyzeTemplate struct {
	Source string `json:"source"`
	loganalysis.Template
}

type timelinePoint struct {
	Minute time.Time `json:"minute"`
	Errors int       `json:"errors"`
}

func runAnalyze(ctx context.Context, opts loganalysis.ParseOptions, files []string, output string, top int, stdin io.Reader, stdout, stderr io.Writer) error {
	a, err := loganalysis.New(loganalysis.Options{})
	if err != nil {
		return err
	}
	const cluster = "local"
	perMinute := map[int64]int{}
	n := 0
	source := func(name string) string {
		if name == "-" {
			return "stdin"
		}
		return name
	}
	for _, name := range files {
		key := loganalysis.StreamKey{Cluster: cluster, Source: source(name)}
		ro := records.Options{MultilineOff: opts.MultilineOff, StripFirstToken: opts.StripFirstToken}
		err := withInput(ctx, name, stdin, stderr, func(r io.Reader) error {
			sp := records.NewSplitter(r, ro)
			for {
				rec, err := sp.Next(ctx)
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				sr := sdk.Record{Body: rec.Text}
				o := a.Observe(key, sr)
				n++
				if o.Severity >= sdk.SeverityError {
					perMinute[o.Timestamp.Unix()/60]++
				}
			}
		})
		if err != nil {
			return err
		}
	}
	rep := analyzeReport{Records: n, Findings: a.Findings(cluster)}
	if len(rep.Findings) > top {
		rep.Findings = rep.Findings[:top]
	}
	for _, name := range files {
		for _, t := range a.Templates(loganalysis.StreamKey{Cluster: cluster, Source: source(name)}) {
			rep.Templates = append(rep.Templates, analyzeTemplate{Source: source(name), Template: t})
		}
	}
	sort.SliceStable(rep.Templates, func(i, j int) bool { return rep.Templates[i].Count > rep.Templates[j].Count })
	if len(rep.Templates) > top {
		rep.Templates = rep.Templates[:top]
	}
	rep.Timeline = timeline(perMinute)
	if output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeReport(stdout, rep)
}

// timeline fills the minutes between the first and last error (at most
// 24 hours of them) so gaps show as empty rows.
func timeline(perMinute map[int64]int) []timelinePoint {
	if len(perMinute) == 0 {
		return nil
	}
	lo, hi := int64(1<<62), int64(-1<<62)
	for m := range perMinute {
		lo, hi = min(lo, m), max(hi, m)
	}
	if hi-lo > 24*60 {
		lo = hi - 24*60
	}
	out := make([]timelinePoint, 0, hi-lo+1)
	for m := lo; m <= hi; m++ {
		out = append(out, timelinePoint{Minute: time.Unix(m*60, 0).UTC(), Errors: perMinute[m]})
	}
	return out
}

func writeReport(w io.Writer, rep analyzeReport) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d records\n\nTOP FINDINGS\n", rep.Records)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(bw, "  nothing stands out: no errors, no new templates, no spikes")
	}
	for i, f := range rep.Findings {
		fmt.Fprintf(bw, "%2d. [%s] %s  score %.1f  %s  x%d  %s .. %s\n", i+1, f.Kind, strings.ToUpper(sevOrDash(f.Severity)), f.Score,
			f.Service, f.Count, f.FirstSeen.UTC().Format("01-02 15:04:05"), f.LastSeen.UTC().Format("01-02 15:04:05"))
		fmt.Fprintf(bw, "    %s  %s\n    why: %s\n", f.TemplateID, clip(f.Template, 160), f.Explanation)
		if len(f.Examples) > 0 {
			fmt.Fprintf(bw, "    e.g. %s\n", clip(firstLine(f.Examples[0]), 160))
		}
	}
	fmt.Fprintf(bw, "\nTEMPLATES (top %d by count)\n", len(rep.Templates))
	fmt.Fprintf(bw, "  %-13s %9s  %-5s  %s\n", "ID", "COUNT", "SEV", "TEMPLATE")
	for _, t := range rep.Templates {
		fmt.Fprintf(bw, "  %-13s %9d  %-5s  %s\n", t.ID, t.Count, sevOrDash(t.Severity), clip(t.Template.Template, 120))
	}
	if len(rep.Timeline) > 0 {
		fmt.Fprintln(bw, "\nERRORS OVER TIME (UTC)")
		peak := 0
		for _, p := range rep.Timeline {
			peak = max(peak, p.Errors)
		}
		// At most 60 rows: merge minutes into wider rows on long spans.
		rows := rep.Timeline
		step := (len(rows) + 59) / 60
		if step > 1 {
			var merged []timelinePoint
			for i := 0; i < len(rows); i += step {
				p := timelinePoint{Minute: rows[i].Minute}
				for _, q := range rows[i:min(i+step, len(rows))] {
					p.Errors += q.Errors
				}
				merged = append(merged, p)
			}
			rows = merged
			peak = 0
			for _, p := range rows {
				peak = max(peak, p.Errors)
			}
			fmt.Fprintf(bw, "  (one row per %d minutes)\n", step)
		}
		for _, p := range rows {
			bar := 0
			if peak > 0 {
				bar = (p.Errors*50 + peak - 1) / peak
			}
			fmt.Fprintf(bw, "  %s %6d %s\n", p.Minute.Format("01-02 15:04"), p.Errors, strings.Repeat("#", bar))
		}
	}
	return bw.Flush()
}

func sevOrDash(s sdk.Severity) string {
	if s == sdk.SeverityUnspecified {
		return "-"
	}
	return s.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// withInput opens name ("-" is stdin) and shows progress on stderr when it
// is a terminal and the input is a file.
func withInput(ctx context.Context, name string, stdin io.Reader, stderr io.Writer, fn func(io.Reader) error) error {
	if name == "-" {
		return fn(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if st, err := f.Stat(); err == nil && st.Size() > 8<<20 && isTerminal(stderr) {
		cr := &countingReader{r: f}
		r = cr
		done := make(chan struct{})
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			t := time.NewTicker(300 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					fmt.Fprintf(stderr, "\r%-60s\r", "")
					return
				case <-ctx.Done():
					return
				case <-t.C:
					n := cr.n.Load()
					fmt.Fprintf(stderr, "\r%s: %d/%d MiB (%d%%)", name, n>>20, st.Size()>>20, n*100/st.Size())
				}
			}
		}()
		defer func() { close(done); <-finished }()
	}
	if err := fn(r); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

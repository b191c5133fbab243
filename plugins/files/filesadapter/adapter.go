package filesadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the adapter's own semantic version, reported in Metadata.
const Version = "1.0.0"

// Options configure an [Adapter]. The zero value works.
type Options struct {
	// Logger receives the adapter's warnings (a file that vanished
	// mid-search, a corrupt gzip). Nil discards them. A plugin passes
	// sdk.Logger(), which writes to stderr: never log to stdout.
	Logger *slog.Logger
	// Hostname is the Host of every record. Empty means os.Hostname().
	Hostname string
}

// DefaultOptions returns the options main uses: the SDK's logger.
func DefaultOptions() Options { return Options{Logger: sdk.Logger()} }

// Adapter reads log files on the machine the plugin runs on. It is safe
// for concurrent use: the hub may search several instances at once, and
// reconfigure one while another is being searched.
type Adapter struct {
	log       *slog.Logger
	host      string
	instances sdk.Instances[*config]
}

// The capabilities are optional interfaces the SDK discovers by type
// assertion; these lines make the compiler check the method sets.
var (
	_ sdk.Adapter     = (*Adapter)(nil)
	_ sdk.LogSearcher = (*Adapter)(nil)
)

// New returns an adapter with no instances.
func New(opts Options) *Adapter {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Hostname == "" {
		// The files are local, so the machine's name is the right Host.
		// Failing to get it is not worth refusing to start over.
		opts.Hostname, _ = os.Hostname()
	}
	return &Adapter{log: opts.Logger, host: opts.Hostname}
}

// Metadata describes the plugin. The SDK fills in the SDK version,
// protocol version and capabilities.
func (a *Adapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "files",
		Version:      Version,
		Description:  "Local log files, directories and glob patterns, plain or gzip; substring or /regex/ queries.",
		ConfigSchema: json.RawMessage(configSchema),
	}
}

// Validate checks a config without keeping it.
func (a *Adapter) Validate(_ context.Context, raw json.RawMessage) error {
	_, err := parseConfig(raw)
	return err
}

// Configure creates or replaces an instance. It does not require the files
// to exist yet (see [Adapter.Health]).
func (a *Adapter) Configure(_ context.Context, instance string, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	a.instances.Put(instance, cfg)
	return nil
}

// Remove forgets an instance; removing an unknown one is not an error.
func (a *Adapter) Remove(_ context.Context, instance string) error {
	a.instances.Remove(instance)
	return nil
}

// Health is OK when the paths select at least one file the plugin can
// open. Entries that match nothing or cannot be read are listed in the
// message either way: a glob that silently stopped matching after a
// logging change is exactly what an operator wants to hear about.
func (a *Adapter) Health(_ context.Context, instance string) (sdk.HealthReport, error) {
	cfg, err := a.instances.Get(instance)
	if err != nil {
		return sdk.HealthReport{}, err
	}
	start := time.Now()
	res := resolvePaths(cfg.Paths)
	readable := 0
	for _, f := range res.Files {
		fh, err := os.Open(f.Path)
		if err != nil {
			res.Problems = append(res.Problems, describe(f.Path, err))
			continue
		}
		closeQuietly(fh)
		readable++
	}
	rep := sdk.HealthReport{
		Status:  sdk.HealthOK,
		Latency: time.Since(start),
		Details: map[string]string{"readable_files": strconv.Itoa(readable)},
	}
	if readable == 0 {
		rep.Status = sdk.HealthDown
		rep.Message = "no readable file matches paths"
	} else {
		rep.Message = fmt.Sprintf("%d readable file(s)", readable)
	}
	if len(res.Problems) > 0 {
		rep.Message += ": " + summarize(res.Problems, 3)
		rep.Details["problems"] = strconv.Itoa(len(res.Problems))
	}
	return rep, nil
}

// summarize joins the first n problems and counts the rest, keeping health
// messages readable when a directory holds thousands of unreadable files.
func summarize(problems []string, n int) string {
	if len(problems) <= n {
		return strings.Join(problems, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(problems[:n], "; "), len(problems)-n)
}

// closeQuietly closes a file opened read-only; such a Close cannot lose
// data, so its error is not worth reporting.
func closeQuietly(c io.Closer) { _ = c.Close() }

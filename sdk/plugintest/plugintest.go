package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// Suite describes the plugin under test.
type Suite struct {
	// New returns a fresh adapter for the in-process checks. Required.
	New func() sdk.Adapter
	// Binary is the built plugin executable. When set, every check also
	// runs through go-plugin as the hub launches it. See [BuildPlugin].
	Binary string
	// GoodConfig configures a working instance whose backend holds data.
	GoodConfig json.RawMessage
	// BadConfigs must each be rejected with a field error naming Field.
	BadConfigs []BadConfig
	// UnhealthyConfig is a valid config whose health check must not be OK
	// (wrong credentials, unreachable backend). Nil skips the check.
	UnhealthyConfig json.RawMessage
	// LogQuery selects a window holding at least MinRecords records. Used
	// when the adapter advertises sdk.CapabilityLogs.
	LogQuery   sdk.LogQuery
	MinRecords int
	// MetricQuery must return at least one series. Used with
	// sdk.CapabilityMetrics.
	MetricQuery sdk.MetricQuery
}

// BadConfig is a config that Validate must reject, naming Field.
type BadConfig struct {
	Name   string
	Config json.RawMessage
	Field  string
}

// target is what the checks talk to: the adapter in-process, or a plugin
// process through *sdk.Client. Both have the same method set.
type target interface {
	Metadata(ctx context.Context) (sdk.Metadata, error)
	Validate(ctx context.Context, config json.RawMessage) error
	Configure(ctx context.Context, instance string, config json.RawMessage) error
	Remove(ctx context.Context, instance string) error
	Health(ctx context.Context, instance string) (sdk.HealthReport, error)
	SearchLogs(ctx context.Context, instance string, q sdk.LogQuery, opts sdk.SearchOptions, fn func([]sdk.Record) error) error
	QueryMetrics(ctx context.Context, instance string, q sdk.MetricQuery) ([]sdk.Series, error)
}

// Run runs the conformance checks as subtests: "in-process" and, when
// s.Binary is set, "binary".
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.New == nil || len(s.GoodConfig) == 0 {
		t.Fatal("plugintest: Suite.New and Suite.GoodConfig are required")
	}
	t.Run("in-process", func(t *testing.T) {
		runChecks(t, s, &inProcess{a: s.New()}, false)
	})
	if s.Binary != "" {
		t.Run("binary", func(t *testing.T) {
			runChecks(t, s, Launch(t, s.Binary), true)
		})
	}
}

// BuildPlugin builds the main package in pkgDir into a temporary directory
// and returns the executable's path.
func BuildPlugin(t testing.TB, pkgDir string) string {
	t.Helper()
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	out := filepath.Join(t.TempDir(), "faultmaven-plugin-under-test")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = abs
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plugintest: building %s: %v\n%s", pkgDir, err, b)
	}
	return out
}

// Launch starts the plugin binary the way the hub does and returns its
// client; the process is killed when the test ends.
func Launch(t testing.TB, binary string) *sdk.Client {
	t.Helper()
	sum, err := fileSHA256(binary)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	cmd := exec.Command(binary)
	cmd.Env = allowedEnv()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: testWriter{t}, Level: hclog.Info}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("plugintest: launching %s: %v", binary, err)
	}
	c, err := sdk.Dispense(rpc)
	if err != nil {
		t.Fatalf("plugintest: dispensing: %v", err)
	}
	return c
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// allowedEnv mirrors the hub's allowlist: proxies, CA bundles, TMPDIR.
func allowedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "TMPDIR":
			env = append(env, kv)
		}
	}
	return env
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	versionRE = regexp.MustCompile(`^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$`)
)

const (
	goodInstance = "plugintest/good"
	badInstance  = "plugintest/unhealthy"
)

func runChecks(t *testing.T, s Suite, tg target, overWire bool) {
	ctx := t.Context()
	meta, err := tg.Metadata(ctx)
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	t.Run("metadata", func(t *testing.T) { checkMetadata(t, meta, s.GoodConfig) })
	t.Run("validate", func(t *testing.T) { checkValidate(t, tg, s) })
	t.Run("instances", func(t *testing.T) { checkInstances(t, tg, s) })

	if err := tg.Configure(ctx, goodInstance, s.GoodConfig); err != nil {
		t.Fatalf("Configure(%s, GoodConfig): %v", goodInstance, err)
	}
	t.Cleanup(func() { _ = tg.Remove(context.Background(), goodInstance) })

	t.Run("health", func(t *testing.T) { checkHealth(t, tg, s) })
	if meta.Has(sdk.CapabilityLogs) {
		t.Run("logs", func(t *testing.T) { checkLogs(t, tg, s, overWire) })
	} else {
		t.Run("logs-unsupported", func(t *testing.T) {
			err := tg.SearchLogs(ctx, goodInstance, sdk.LogQuery{}, sdk.SearchOptions{}, func([]sdk.Record) error { return nil })
			if !errors.Is(err, sdk.ErrUnsupported) {
				t.Errorf("SearchLogs without the logs capability: got %v, want sdk.ErrUnsupported", err)
			}
		})
	}
	if meta.Has(sdk.CapabilityMetrics) {
		t.Run("metrics", func(t *testing.T) { checkMetrics(t, tg, s) })
	} else {
		t.Run("metrics-unsupported", func(t *testing.T) {
			_, err := tg.QueryMetrics(ctx, goodInstance, sdk.MetricQuery{Query: "up"})
			if !errors.Is(err, sdk.ErrUnsupported) {
				t.Errorf("QueryMetrics without the metrics capability: got %v, want sdk.ErrUnsupported", err)
			}
		})
	}
}

func checkMetadata(t *testing.T, m sdk.Metadata, good json.RawMessage) {
	if !nameRE.MatchString(m.Name) {
		t.Errorf("Metadata.Name %q: want lower-case letters, digits and -", m.Name)
	}
	if !versionRE.MatchString(m.Version) {
		t.Errorf("Metadata.Version %q: want a semantic version", m.Version)
	}
	if m.SDKVersion == "" || m.ProtocolVersion != sdk.ProtocolVersion {
		t.Errorf("SDK fields: sdk %q protocol %d, want non-empty and %d", m.SDKVersion, m.ProtocolVersion, sdk.ProtocolVersion)
	}
	for _, c := range m.Capabilities {
		if c != sdk.CapabilityLogs && c != sdk.CapabilityMetrics {
			t.Errorf("unknown capability %q", c)
		}
	}
	if err := checkSchema(m.ConfigSchema, good); err != nil {
		t.Errorf("ConfigSchema: %v", err)
	}
}

// checkSchema is the structural schema check described in the package doc.
func checkSchema(schema, good json.RawMessage) error {
	var s struct {
		Type                 string                     `json:"type"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if s.Type != "object" {
		return fmt.Errorf("type %q, want \"object\"", s.Type)
	}
	for name, p := range s.Properties {
		var prop map[string]any
		if err := json.Unmarshal(p, &prop); err != nil {
			return fmt.Errorf("property %q: not a schema object: %w", name, err)
		}
	}
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; !ok {
			return fmt.Errorf("required %q is not a declared property", r)
		}
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(good, &cfg); err != nil {
		return fmt.Errorf("GoodConfig is not a JSON object: %w", err)
	}
	for _, r := range s.Required {
		if _, ok := cfg[r]; !ok {
			return fmt.Errorf("GoodConfig lacks required %q", r)
		}
	}
	if s.AdditionalProperties != nil && !*s.AdditionalProperties {
		for k := range cfg {
			if _, ok := s.Properties[k]; !ok {
				return fmt.Errorf("GoodConfig key %q is not allowed by the schema", k)
			}
		}
	}
	return nil
}

func checkValidate(t *testing.T, tg target, s Suite) {
	ctx := t.Context()
	if err := tg.Validate(ctx, s.GoodConfig); err != nil {
		t.Fatalf("Validate(GoodConfig): %v", err)
	}
	cases := append([]BadConfig{{Name: "not-json", Config: json.RawMessage(`{"unterminated`)}}, s.BadConfigs...)
	for _, bc := range cases {
		t.Run(bc.Name, func(t *testing.T) {
			err := tg.Validate(ctx, bc.Config)
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate(%s): got %v, want a *sdk.ConfigError", bc.Config, err)
			}
			if bc.Field == "" {
				return
			}
			var fields []string
			for _, f := range ce.Fields {
				fields = append(fields, f.Field)
				if f.Field == bc.Field || strings.HasPrefix(f.Field, bc.Field+".") || strings.HasPrefix(f.Field, bc.Field+"[") {
					return
				}
			}
			t.Errorf("Validate(%s): field errors name %v, want %q", bc.Config, fields, bc.Field)
		})
	}
	if len(s.BadConfigs) > 0 {
		err := tg.Configure(ctx, "plugintest/rejected", s.BadConfigs[0].Config)
		if sdk.CodeOf(err) != sdk.CodeBadConfig {
			t.Errorf("Configure(bad config): got %v, want code bad_config", err)
		}
	}
}

func checkInstances(t *testing.T, tg target, s Suite) {
	ctx := t.Context()
	const inst = "plugintest/lifecycle"
	if err := tg.Configure(ctx, inst, s.GoodConfig); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if err := tg.Configure(ctx, inst, s.GoodConfig); err != nil {
		t.Fatalf("Configure again (replace): %v", err)
	}
	if err := tg.Remove(ctx, inst); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := tg.Remove(ctx, inst); err != nil {
		t.Errorf("Remove of an unknown instance: got %v, want nil", err)
	}
	if _, err := tg.Health(ctx, inst); sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Errorf("Health of a removed instance: got %v, want code not_found", err)
	}
}

func checkHealth(t *testing.T, tg target, s Suite) {
	ctx := t.Context()
	rep, err := tg.Health(ctx, goodInstance)
	if err != nil {
		t.Fatalf("Health(good): %v", err)
	}
	if rep.Status != sdk.HealthOK {
		t.Errorf("Health(good): status %s (%s), want ok", rep.Status, rep.Message)
	}
	if s.UnhealthyConfig == nil {
		return
	}
	if err := tg.Configure(ctx, badInstance, s.UnhealthyConfig); err != nil {
		// Refusing a config whose backend cannot be reached is fine as long
		// as the error carries an actionable code.
		if c := sdk.CodeOf(err); c == sdk.CodeInternal {
			t.Errorf("Configure(unhealthy): got %v, want an actionable code", err)
		}
		return
	}
	defer tg.Remove(context.Background(), badInstance)
	rep, err = tg.Health(ctx, badInstance)
	switch {
	case err != nil:
		if sdk.CodeOf(err) == sdk.CodeInternal {
			t.Errorf("Health(unhealthy): got %v, want an actionable code or a report", err)
		}
	case rep.Status == sdk.HealthOK:
		t.Errorf("Health(unhealthy): status ok, want degraded or down")
	case rep.Message == "":
		t.Errorf("Health(unhealthy): status %s with no message; say what is wrong", rep.Status)
	}
}

// collect runs a search and returns every record and the batch sizes.
func collect(ctx context.Context, tg target, q sdk.LogQuery, opts sdk.SearchOptions) ([]sdk.Record, []int, error) {
	var recs []sdk.Record
	var sizes []int
	err := tg.SearchLogs(ctx, goodInstance, q, opts, func(b []sdk.Record) error {
		recs = append(recs, b...)
		sizes = append(sizes, len(b))
		return nil
	})
	return recs, sizes, err
}

func checkLogs(t *testing.T, tg target, s Suite, overWire bool) {
	ctx := t.Context()
	q := s.LogQuery
	all, _, err := collect(ctx, tg, q, sdk.SearchOptions{})
	if err != nil {
		t.Fatalf("SearchLogs: %v", err)
	}
	if len(all) < s.MinRecords {
		t.Fatalf("SearchLogs: %d records, want at least %d", len(all), s.MinRecords)
	}
	if len(all) == 0 {
		t.Fatal("SearchLogs: no records; give a LogQuery window that holds data")
	}
	t.Run("time-range", func(t *testing.T) {
		for i, r := range all {
			if r.Timestamp.IsZero() {
				t.Fatalf("record %d has no timestamp", i)
			}
			if !q.InRange(r.Timestamp) {
				t.Fatalf("record %d at %s is outside [%s, %s)", i, r.Timestamp, q.Start, q.End)
			}
		}
	})
	t.Run("source", func(t *testing.T) {
		for i, r := range all {
			if r.Body == "" {
				t.Fatalf("record %d has an empty body", i)
			}
			if overWire && r.Source.Instance != goodInstance {
				t.Fatalf("record %d: Source.Instance %q, want %q", i, r.Source.Instance, goodInstance)
			}
		}
	})
	t.Run("limit", func(t *testing.T) {
		lq := q
		lq.Limit = 3
		got, _, err := collect(ctx, tg, lq, sdk.SearchOptions{})
		if err != nil {
			t.Fatalf("SearchLogs(limit 3): %v", err)
		}
		if want := min(3, len(all)); len(got) != want {
			t.Errorf("SearchLogs(limit 3): %d records, want %d", len(got), want)
		}
	})
	t.Run("sub-window", func(t *testing.T) {
		first, last := all[0].Timestamp, all[0].Timestamp
		for _, r := range all {
			if r.Timestamp.Before(first) {
				first = r.Timestamp
			}
			if r.Timestamp.After(last) {
				last = r.Timestamp
			}
		}
		if !last.After(first) {
			t.Skip("all records share one timestamp")
		}
		sq := q
		sq.Start, sq.End = first, first.Add(last.Sub(first)/2+1)
		got, _, err := collect(ctx, tg, sq, sdk.SearchOptions{})
		if err != nil {
			t.Fatalf("SearchLogs(sub-window): %v", err)
		}
		want := 0
		for _, r := range all {
			if sq.InRange(r.Timestamp) {
				want++
			}
		}
		if complete := q.Limit == 0 && len(all) < sdk.DefaultLimit; complete && len(got) != want {
			t.Errorf("SearchLogs(sub-window [%s, %s)): %d records, want the %d of the full answer in it", sq.Start, sq.End, len(got), want)
		}
		for _, r := range got {
			if !sq.InRange(r.Timestamp) {
				t.Fatalf("sub-window record at %s is outside it", r.Timestamp)
			}
		}
	})
	t.Run("filters", func(t *testing.T) {
		word := longestWord(all[0].Body)
		if word == "" {
			t.Skip("first record has no word to filter on")
		}
		fq := q
		fq.Filters.Contains = strings.ToUpper(word)
		got, _, err := collect(ctx, tg, fq, sdk.SearchOptions{})
		if err != nil {
			t.Fatalf("SearchLogs(contains %q): %v", word, err)
		}
		if len(got) == 0 {
			t.Fatalf("SearchLogs(contains %q): no records, want at least the one it came from", word)
		}
		for _, r := range got {
			if !strings.Contains(strings.ToLower(r.Body), strings.ToLower(word)) {
				t.Fatalf("SearchLogs(contains %q) returned %q", word, r.Body)
			}
		}
		sq := q
		sq.Filters.MinSeverity = sdk.SeverityError
		got, _, err = collect(ctx, tg, sq, sdk.SearchOptions{})
		if err != nil {
			t.Fatalf("SearchLogs(min severity error): %v", err)
		}
		for _, r := range got {
			if r.Severity < sdk.SeverityError {
				t.Fatalf("SearchLogs(min severity error) returned a %s record", r.Severity)
			}
		}
	})
	t.Run("cancellation", func(t *testing.T) {
		if len(all) < 2 {
			t.Skip("need at least 2 records")
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		err := tg.SearchLogs(cctx, goodInstance, q, sdk.SearchOptions{MaxBatchRecords: 1}, func(b []sdk.Record) error {
			n += len(b)
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SearchLogs cancelled after the first batch: got %v after %d records, want context.Canceled", err, n)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		_, _, err := collect(dctx, tg, q, sdk.SearchOptions{})
		if err == nil {
			t.Fatal("SearchLogs with an expired deadline: got nil, want an error")
		}
		if !errors.Is(err, context.DeadlineExceeded) && sdk.CodeOf(err) != sdk.CodeUnavailable {
			t.Errorf("SearchLogs with an expired deadline: got %v, want context.DeadlineExceeded", err)
		}
	})
	if overWire {
		t.Run("bounded-batches", func(t *testing.T) {
			_, sizes, err := collect(ctx, tg, q, sdk.SearchOptions{MaxBatchRecords: 2})
			if err != nil {
				t.Fatalf("SearchLogs(max 2 per batch): %v", err)
			}
			for i, n := range sizes {
				if n > 2 || n == 0 {
					t.Fatalf("batch %d holds %d records, want 1..2", i, n)
				}
			}
			_, sizes, err = collect(ctx, tg, q, sdk.SearchOptions{MaxBatchBytes: 1})
			if err != nil {
				t.Fatalf("SearchLogs(max 1 byte per batch): %v", err)
			}
			for i, n := range sizes {
				if n != 1 {
					t.Fatalf("byte-bounded batch %d holds %d records, want 1", i, n)
				}
			}
		})
	}
}

func longestWord(s string) string {
	best := ""
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if len(w) > len(best) {
			best = w
		}
	}
	return best
}

func checkMetrics(t *testing.T, tg target, s Suite) {
	ctx := t.Context()
	q := s.MetricQuery
	series, err := tg.QueryMetrics(ctx, goodInstance, q)
	if err != nil {
		t.Fatalf("QueryMetrics(%q): %v", q.Query, err)
	}
	if len(series) == 0 {
		t.Fatalf("QueryMetrics(%q): no series", q.Query)
	}
	for i, sr := range series {
		if sr.Name == "" && len(sr.Labels) == 0 {
			t.Errorf("series %d has neither a name nor labels", i)
		}
		for j, smp := range sr.Samples {
			if j > 0 && smp.Timestamp.Before(sr.Samples[j-1].Timestamp) {
				t.Fatalf("series %d: samples out of order at %d", i, j)
			}
			slack := max(q.Step, time.Second)
			if !q.Start.IsZero() && smp.Timestamp.Before(q.Start.Add(-slack)) || !q.End.IsZero() && smp.Timestamp.After(q.End.Add(slack)) {
				t.Fatalf("series %d: sample at %s outside [%s, %s]", i, smp.Timestamp, q.Start, q.End)
			}
		}
	}
	dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if _, err := tg.QueryMetrics(dctx, goodInstance, q); err == nil {
		t.Error("QueryMetrics with an expired deadline: got nil, want an error")
	}
}

// inProcess adapts an sdk.Adapter to target, mimicking the SDK's server
// side (limit and cancellation through the writer, Unimplemented).
type inProcess struct{ a sdk.Adapter }

func (p *inProcess) Metadata(context.Context) (sdk.Metadata, error) {
	m := p.a.Metadata()
	m.SDKVersion = sdk.Version
	m.ProtocolVersion = sdk.ProtocolVersion
	m.Capabilities = sdk.CapabilitiesOf(p.a)
	return m, nil
}

func (p *inProcess) Validate(ctx context.Context, c json.RawMessage) error {
	return p.a.Validate(ctx, c)
}
func (p *inProcess) Configure(ctx context.Context, i string, c json.RawMessage) error {
	return p.a.Configure(ctx, i, c)
}
func (p *inProcess) Remove(ctx context.Context, i string) error { return p.a.Remove(ctx, i) }
func (p *inProcess) Health(ctx context.Context, i string) (sdk.HealthReport, error) {
	return p.a.Health(ctx, i)
}

func (p *inProcess) SearchLogs(ctx context.Context, inst string, q sdk.LogQuery, opts sdk.SearchOptions, fn func([]sdk.Record) error) error {
	ls, ok := p.a.(sdk.LogSearcher)
	if !ok {
		return sdk.ErrUnsupported
	}
	if q.Limit <= 0 {
		q.Limit = sdk.DefaultLimit
	}
	w := &sliceWriter{ctx: ctx, limit: q.Limit, fn: fn}
	err := ls.SearchLogs(ctx, inst, q, w)
	if errors.Is(err, sdk.ErrLimitReached) {
		err = nil
	}
	return err
}

func (p *inProcess) QueryMetrics(ctx context.Context, inst string, q sdk.MetricQuery) ([]sdk.Series, error) {
	mq, ok := p.a.(sdk.MetricsQuerier)
	if !ok {
		return nil, sdk.ErrUnsupported
	}
	return mq.QueryMetrics(ctx, inst, q)
}

type sliceWriter struct {
	ctx   context.Context
	limit int
	n     int
	fn    func([]sdk.Record) error
}

func (w *sliceWriter) Write(r sdk.Record) error {
	if w.n >= w.limit {
		return sdk.ErrLimitReached
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.n++
	if err := w.fn([]sdk.Record{r}); err != nil {
		return err
	}
	if w.n >= w.limit {
		return sdk.ErrLimitReached
	}
	return nil
}

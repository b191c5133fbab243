package pluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// pluginDir copies the test binary into a fresh dir once per fixture mode.
func pluginDir(t testing.TB, modes ...string) string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		if err := os.WriteFile(filepath.Join(dir, pluginhost.BinaryPrefix+m), self, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// logCapture is an slog handler that keeps records for assertions.
type logCapture struct {
	mu   sync.Mutex
	recs []string
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	c.mu.Lock()
	c.recs = append(c.recs, b.String())
	c.mu.Unlock()
	return nil
}
func (c *logCapture) WithAttrs(as []slog.Attr) slog.Handler { return &attrHandler{c, as} }
func (c *logCapture) WithGroup(string) slog.Handler         { return c }
func (c *logCapture) contains(sub ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		all := true
		for _, s := range sub {
			all = all && strings.Contains(r, s)
		}
		if all {
			return true
		}
	}
	return false
}

type attrHandler struct {
	c  *logCapture
	as []slog.Attr
}

func (h *attrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(h.as...)
	return h.c.Handle(ctx, r)
}
func (h *attrHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{h.c, append(append([]slog.Attr(nil), h.as...), as...)}
}
func (h *attrHandler) WithGroup(string) slog.Handler { return h }

func newHost(t *testing.T, opts pluginhost.Options) *pluginhost.Host {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := pluginhost.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func search(ctx context.Context, h *pluginhost.Host, id string, q sdk.LogQuery) ([]sdk.Record, error) {
	var out []sdk.Record
	err := h.SearchLogs(ctx, id, q, func(b []sdk.Record) error { out = append(out, b...); return nil })
	return out, err
}

func TestHostRunsPluginAndStreams(t *testing.T) {
	logs := &logCapture{}
	reg := prometheus.NewRegistry()
	t.Setenv("FAULTMAVEN_TEST_HOST_SECRET", "s3cret")
	h := newHost(t, pluginhost.Options{PluginDir: pluginDir(t, "mem"), Logger: slog.New(logs), Registerer: reg})
	ctx := t.Context()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Configure(ctx, "local/app", "mem", json.RawMessage(`{"records": 1200}`)); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	rep, err := h.Health(ctx, "local/app")
	if err != nil || rep.Status != sdk.HealthOK {
		t.Fatalf("Health: %+v, %v", rep, err)
	}
	if got := rep.Details["host_secret"]; got != "absent" {
		t.Errorf("plugin saw host env FAULTMAVEN_TEST_HOST_SECRET: %s, want absent (env allowlist)", got)
	}
	recs, err := search(ctx, h, "local/app", sdk.LogQuery{Start: fixtureBase, End: fixtureBase.Add(time.Hour)})
	if err != nil {
		t.Fatalf("SearchLogs: %v", err)
	}
	if len(recs) != 1200 {
		t.Fatalf("SearchLogs: %d records, want 1200", len(recs))
	}
	if recs[0].Source.Instance != "local/app" {
		t.Errorf("Source.Instance = %q", recs[0].Source.Instance)
	}
	st, err := h.Plugin("mem")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != pluginhost.StateRunning || st.Version != "1.2.3" || len(st.Capabilities) != 1 || st.Capabilities[0] != sdk.CapabilityLogs {
		t.Errorf("status: %+v", st)
	}
	if _, err := h.QueryMetrics(ctx, "local/app", sdk.MetricQuery{Query: "up"}); !errors.Is(err, sdk.ErrUnsupported) {
		t.Errorf("QueryMetrics on a logs-only plugin: got %v, want sdk.ErrUnsupported", err)
	}
	if err := h.Configure(ctx, "local/bad", "mem", json.RawMessage(`{"records": -1}`)); err == nil {
		t.Error("Configure(bad): got nil")
	} else {
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != "records" {
			t.Errorf("Configure(bad): got %v, want a field error on records", err)
		}
	}
	if _, err := search(ctx, h, "nope/none", sdk.LogQuery{}); !errors.Is(err, pluginhost.ErrInstanceUnknown) {
		t.Errorf("unknown instance: got %v", err)
	}
	// Plugin stderr (hclog JSON) lands in the host's log under its name.
	deadline := time.Now().Add(5 * time.Second)
	for !logs.contains("configured instance", "plugin=mem", "instance=local/app") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !logs.contains("configured instance", "plugin=mem") {
		t.Errorf("plugin log line not re-logged with the plugin's name; got %q", logs.recs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		seen[mf.GetName()] = true
	}
	for _, want := range []string{"faultmaven_plugin_up", "faultmaven_plugin_call_duration_seconds", "faultmaven_plugin_records_streamed_total", "faultmaven_plugin_bytes_streamed_total"} {
		if !seen[want] {
			t.Errorf("metric %s not exported", want)
		}
	}
}

func TestHostEnforcesQueryOnLyingPlugin(t *testing.T) {
	h := newHost(t, pluginhost.Options{PluginDir: pluginDir(t, "liar")})
	ctx := t.Context()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Configure(ctx, "c/liar", "liar", json.RawMessage(`{"records": 100}`)); err != nil {
		t.Fatal(err)
	}
	q := sdk.LogQuery{Query: "lie", Start: fixtureBase, End: fixtureBase.Add(10 * time.Minute), Limit: 5}
	recs, err := search(ctx, h, "c/liar", q)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Errorf("got %d records, want the limit 5", len(recs))
	}
	q.Limit = 0
	recs, err = search(ctx, h, "c/liar", q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !q.InRange(r.Timestamp) {
			t.Fatalf("record at %s outside the query range got through", r.Timestamp)
		}
	}
	if len(recs) != 10 {
		t.Errorf("got %d records in range, want 10", len(recs))
	}
}

func procAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Field 3 is the state; Z (zombie) counts as gone.
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func waitState(t *testing.T, h *pluginhost.Host, name string, want pluginhost.State) pluginhost.PluginStatus {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := h.Plugin(name)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %s: state %s, want %s (last error %q)", name, st.State, want, st.LastError)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCrashRecoveryAndBreaker(t *testing.T) {
	h := newHost(t, pluginhost.Options{
		PluginDir:         pluginDir(t, "crashy"),
		RestartBackoffMin: 50 * time.Millisecond,
		BreakerThreshold:  3,
		BreakerWindow:     time.Minute,
		BreakerCooldown:   time.Hour,
	})
	ctx := t.Context()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Configure(ctx, "c/app", "crashy", json.RawMessage(`{"records": 10}`)); err != nil {
		t.Fatal(err)
	}
	var pids []int
	first := waitState(t, h, "crashy", pluginhost.StateRunning)
	pids = append(pids, first.PID)

	// 1. The plugin SIGKILLs itself mid-stream.
	crashedAt := time.Now()
	_, err := search(ctx, h, "c/app", sdk.LogQuery{Query: "crash"})
	if err == nil {
		t.Fatal("in-flight call on a crashing plugin: got nil error")
	}
	var pe *pluginhost.PluginError
	if !errors.As(err, &pe) || !pe.Retryable() || pe.Source != pluginhost.SourcePlugin {
		t.Fatalf("in-flight call: got %v, want a retryable *PluginError from the plugin", err)
	}
	// 2. It comes back and the next call succeeds, instance re-applied.
	recs, err := search(ctx, h, "c/app", sdk.LogQuery{})
	if err != nil || len(recs) != 10 {
		t.Fatalf("call after restart: %d records, %v", len(recs), err)
	}
	st := waitState(t, h, "crashy", pluginhost.StateRunning)
	t.Logf("restart latency (crash to next successful call): %s", time.Since(crashedAt))
	if st.Restarts != 1 || st.PID == first.PID {
		t.Errorf("after one crash: restarts %d pid %d (was %d)", st.Restarts, st.PID, first.PID)
	}
	pids = append(pids, st.PID)

	// 3. Repeated crashes open the breaker; health and calls say so.
	for i := 0; i < 2; i++ {
		_, _ = search(ctx, h, "c/app", sdk.LogQuery{Query: "crash"})
		if i == 0 {
			st = waitState(t, h, "crashy", pluginhost.StateRunning)
			pids = append(pids, st.PID)
		}
	}
	st = waitState(t, h, "crashy", pluginhost.StateBreakerOpen)
	if !st.BreakerOpen || st.LastError == "" || st.Restarts != 3 {
		t.Errorf("breaker status: %+v", st)
	}
	_, err = h.Health(ctx, "c/app")
	if !errors.Is(err, pluginhost.ErrBreakerOpen) {
		t.Errorf("call with the breaker open: got %v, want ErrBreakerOpen", err)
	}

	// 4. Shutdown leaves no plugin process behind.
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if pid > 0 && procAlive(pid) {
			t.Errorf("plugin pid %d still alive after shutdown", pid)
		}
	}
	if _, err := h.Health(ctx, "c/app"); !errors.Is(err, pluginhost.ErrClosed) {
		t.Errorf("call after shutdown: got %v, want ErrClosed", err)
	}
}

func TestShutdownKillsRunningPlugins(t *testing.T) {
	h := newHost(t, pluginhost.Options{PluginDir: pluginDir(t, "mem", "other")})
	ctx := t.Context()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range h.Plugins() {
		if p.State != pluginhost.StateRunning || p.PID == 0 {
			t.Fatalf("plugin %s: %+v", p.Name, p)
		}
		pids = append(pids, p.PID)
	}
	if err := h.Configure(ctx, "c/slow", "mem", json.RawMessage(`{"records": 1}`)); err != nil {
		t.Fatal(err)
	}
	// An in-flight call is cut when the drain deadline passes.
	done := make(chan error, 1)
	go func() { _, err := search(context.Background(), h, "c/slow", sdk.LogQuery{Query: "slow"}); done <- err }()
	time.Sleep(100 * time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := h.Shutdown(sctx); err == nil {
		t.Error("Shutdown with a call still running past the deadline: got nil, want the drain error")
	}
	if err := <-done; err == nil {
		t.Error("in-flight call survived shutdown")
	}
	for _, pid := range pids {
		if procAlive(pid) {
			t.Errorf("pid %d alive after shutdown", pid)
		}
	}
	if err := h.Shutdown(ctx); err == nil {
		t.Error("second Shutdown should return the first one's result")
	}
}

func TestRefusedPlugins(t *testing.T) {
	dir := pluginDir(t, "tampered", "stdout", "future", "good")
	h := newHost(t, pluginhost.Options{PluginDir: dir})
	// Tamper with a binary after discovery took its checksum.
	f, err := os.OpenFile(filepath.Join(dir, pluginhost.BinaryPrefix+"tampered"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("injected")
	f.Close()
	ctx := t.Context()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"tampered", []string{"checksum mismatch", "refusing to run it"}},
		{"stdout", []string{"handshake failed", `wrote "hello from a chatty plugin" to stdout before the handshake`}},
		{"future", []string{"incompatible protocol version", "Plugin version: 2", "this hub speaks protocol version 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := waitState(t, h, tc.name, pluginhost.StateFailed)
			for _, w := range tc.want {
				if !strings.Contains(st.LastError, w) {
					t.Errorf("last error %q does not say %q", st.LastError, w)
				}
			}
			err := h.Configure(ctx, "c/"+tc.name, tc.name, json.RawMessage(`{}`))
			if !errors.Is(err, pluginhost.ErrNotRunning) {
				t.Errorf("Configure on a refused plugin: got %v, want ErrNotRunning", err)
			}
		})
	}
	if st, _ := h.Plugin("good"); st.State != pluginhost.StateRunning {
		t.Errorf("a good plugin beside refused ones: %+v", st)
	}
}

func TestPinnedChecksum(t *testing.T) {
	dir := pluginDir(t, "pinned")
	path := filepath.Join(dir, pluginhost.BinaryPrefix+"pinned")
	_, err := pluginhost.New(pluginhost.Options{Pinned: []pluginhost.Pinned{{Name: "pinned", Path: path, SHA256: "abc"}}})
	if err == nil {
		t.Fatal("New with a short pinned sha256: got nil error")
	}
	h := newHost(t, pluginhost.Options{Pinned: []pluginhost.Pinned{{Name: "pinned", Path: path, SHA256: strings.Repeat("0", 64)}}})
	if err := h.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, h, "pinned", pluginhost.StateFailed)
	if !strings.Contains(st.LastError, "checksum mismatch") {
		t.Errorf("wrong pin: %q", st.LastError)
	}
}

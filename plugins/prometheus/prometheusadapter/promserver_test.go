package prometheusadapter_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	"github.com/faultmaven/faultmaven/plugins/prometheus/prometheusadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

// promEnv is a real Prometheus server scraping a metrics endpoint served
// by the test. The endpoint stands in for the hub's own /metrics: a
// prometheus.Registry with counters, a gauge and a histogram named like
// the hub's, moved forward on every scrape so rates are non-zero.
type promEnv struct {
	URL     string // Prometheus base URL
	Target  *httptest.Server
	Started time.Time // just before the first scrape

	cmd     *exec.Cmd
	dir     string
	out     *lockedBuffer
	scrapes prometheus.Counter
}

var (
	promOnce   sync.Once
	promShared *promEnv
	promErr    error
)

// TestMain stops the shared server, then checks no test left a goroutine
// behind. Idle keep-alive connections of the HTTP clients are not leaks.
func TestMain(m *testing.M) {
	code := m.Run()
	if promShared != nil {
		promShared.stop()
	}
	if code == 0 {
		if err := goleak.Find(
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// promServer returns the package's Prometheus server, starting it on first
// use. Without the binary it skips the test, unless CI is set: CI installs
// the Debian package, so there a missing binary is a failure.
func promServer(tb testing.TB) *promEnv {
	tb.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("prometheus binary not found on CI (.ci/run installs the Debian package): %v", err)
		}
		tb.Skip("prometheus binary not found; install the Debian prometheus package to run the real-server tests")
	}
	promOnce.Do(func() { promShared, promErr = startPrometheus(bin) })
	if promErr != nil {
		tb.Fatalf("starting prometheus: %v", promErr)
	}
	return promShared
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startPrometheus(bin string) (*promEnv, error) {
	reg := prometheus.NewRegistry()
	records := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "faultmaven_ingest_records_total", Help: "Records ingested."}, []string{"source"})
	plugins := prometheus.NewGauge(prometheus.GaugeOpts{Name: "faultmaven_plugins_running", Help: "Plugin processes running."})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "faultmaven_search_duration_seconds", Help: "Search latency.", Buckets: prometheus.DefBuckets})
	scrapes := prometheus.NewCounter(prometheus.CounterOpts{Name: "faultmaven_test_scrapes_total", Help: "Scrapes served."})
	reg.MustRegister(records, plugins, latency, scrapes)
	plugins.Set(4)
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scrapes.Inc()
		records.WithLabelValues("opensearch").Add(100)
		records.WithLabelValues("splunk").Add(40)
		latency.Observe(0.2)
		h.ServeHTTP(w, r)
	}))

	port, err := freePort()
	if err != nil {
		target.Close()
		return nil, err
	}
	dir, err := os.MkdirTemp("", "faultmaven-prom-")
	if err != nil {
		target.Close()
		return nil, err
	}
	// One alerting rule that fires as soon as the target is scraped, so
	// the ALERTS series the hub's agent reads exist.
	rules := `groups:
  - name: hub
    rules:
      - alert: PluginsRunningHigh
        expr: faultmaven_plugins_running > 3
        labels: { severity: warning, service: hub }
`
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600); err != nil {
		target.Close()
		return nil, err
	}
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['rules.yml']
scrape_configs:
  - job_name: hub
    scrape_interval: 1s
    static_configs:
      - targets: ['%s']
`, target.Listener.Addr().String())
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o600); err != nil {
		target.Close()
		return nil, err
	}
	env := &promEnv{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Target: target, dir: dir, out: &lockedBuffer{}, scrapes: scrapes, Started: time.Now()}
	env.cmd = exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn")
	env.cmd.Stdout, env.cmd.Stderr = env.out, env.out
	if err := env.cmd.Start(); err != nil {
		env.stop()
		return nil, err
	}
	if err := env.waitReady(25 * time.Second); err != nil {
		out := env.out.String()
		env.stop()
		return nil, fmt.Errorf("%w\nprometheus output:\n%s", err, out)
	}
	return env, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls (bounded) until /-/ready answers 200 and the target has
// been scraped at least five times, so range queries (and rate over 5s)
// have several points.
func (e *promEnv) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if e.cmd.ProcessState != nil {
			return fmt.Errorf("prometheus exited")
		}
		if n, err := e.scrapesSeen(); err == nil && n >= 5 {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("prometheus not ready with 5 scrapes after %s", limit)
}

// scrapesSeen asks Prometheus, over plain HTTP, for the latest scrape count
// it stored.
func (e *promEnv) scrapesSeen() (float64, error) {
	resp, err := http.Get(e.URL + "/-/ready")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("not ready: %d", resp.StatusCode)
	}
	resp, err = http.Get(e.URL + "/api/v1/query?query=faultmaven_test_scrapes_total")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || len(r.Data.Result) == 0 {
		return 0, fmt.Errorf("no scrape yet")
	}
	var n float64
	_, err = fmt.Sscanf(fmt.Sprint(r.Data.Result[0].Value[1]), "%g", &n)
	return n, err
}

func (e *promEnv) stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = e.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = e.cmd.Process.Kill()
			<-done
		}
	}
	e.Target.Close()
	_ = os.RemoveAll(e.dir)
}

// newAdapter returns an adapter with fast retries logging into buf (nil:
// discarded).
func newAdapter(buf io.Writer) *prometheusadapter.Adapter {
	h := slog.Handler(slog.DiscardHandler)
	if buf != nil {
		h = slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	return prometheusadapter.NewWithOptions(prometheusadapter.Options{
		Logger: slog.New(h),
		Retry:  sdk.RetryPolicy{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRetryAfter: 5 * time.Second},
	})
}

func rawConfig(tb testing.TB, m map[string]any) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

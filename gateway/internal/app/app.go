// Package app wires the hub's components from its configuration and runs
// them: the plugin host, the integrations, and the HTTP server. It is the
// one place that knows every component; engines never know each other.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/faultmaven/faultmaven/core/agent"
	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/api"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
	"github.com/faultmaven/faultmaven/gateway/internal/copilot"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// App is a configured hub, not yet running.
type App struct {
	cfg      config.Config
	logger   *slog.Logger
	registry *prometheus.Registry
	host     *pluginhost.Host
	integ    *integrations
	router   *mux.Router
}

// New builds the hub from cfg. It starts nothing.
func New(cfg config.Config, logger *slog.Logger) (*App, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	host, err := pluginhost.New(PluginHostOptions(cfg, logger, reg))
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, registry: reg, host: host}
	a.integ = newIntegrations(host, logger, cfg.Clusters)
	a.router = a.routes()
	return a, nil
}

// PluginHostOptions maps the config's plugin settings onto the host's
// options; serve and the plugins CLI share it.
func PluginHostOptions(cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) pluginhost.Options {
	pinned := make([]pluginhost.Pinned, len(cfg.Plugins))
	for i, p := range cfg.Plugins {
		pinned[i] = pluginhost.Pinned{Name: p.Name, Path: p.Path, SHA256: p.SHA256}
	}
	ph := cfg.PluginHost
	return pluginhost.Options{
		Logger:             logger,
		Registerer:         reg,
		PluginDir:          cfg.PluginDir,
		Pinned:             pinned,
		StartTimeout:       ph.StartTimeout,
		CallTimeout:        ph.CallTimeout,
		MaxConcurrentCalls: ph.MaxConcurrentCalls,
		RestartBackoffMin:  ph.RestartBackoffMin,
		RestartBackoffMax:  ph.RestartBackoffMax,
		BreakerThreshold:   ph.BreakerThreshold,
		BreakerWindow:      ph.BreakerWindow,
		BreakerCooldown:    ph.BreakerCooldown,
		KillGrace:          ph.KillGrace,
		EnvAllowlist:       ph.EnvAllowlist,
	}
}

// IngestOptions adds the config's ingest settings and periodic pulls to o.
func IngestOptions(cfg config.Config, o jobs.Options) jobs.Options {
	in := cfg.Ingest
	o.Workers, o.JobTimeout, o.RescueAfter = in.Workers, in.JobTimeout, in.RescueAfter
	o.InitialLookback, o.Lag = in.InitialLookback, in.Lag
	if in.Retention != 0 {
		o.Retention = in.Retention
	}
	for _, cl := range cfg.Clusters {
		for _, ig := range cl.Integrations {
			if ig.PullEvery > 0 {
				o.Periodic = append(o.Periodic, jobs.PeriodicPull{Cluster: cl.Name, Integration: ig.Name, Interval: ig.PullEvery})
			}
		}
	}
	return o
}

// registerServices adds the routes that need the store, the queue, the
// knowledge base and the agent (Run builds them).
func (a *App) registerServices(queue api.IngestQueue, st store.Store, kb *knowledge.Service, asker *agent.Agent, authn *auth.Service) {
	api.RegisterIngest(a.router, queue, st, nil)
	api.RegisterKnowledge(a.router, kb)
	api.RegisterAsk(a.router, asker, a.integ.LogIntegrations, a.integ.MetricIntegrations)
	o := copilot.Options{Auth: authn, Store: st, Asker: asker, LogIntegrations: a.integ.LogIntegrations,
		MetricIntegrations: a.integ.MetricIntegrations, DefaultCluster: defaultCluster(a.cfg), Logger: a.logger}
	if kb != nil { // a nil *Service in the interface would not compare nil
		o.Knowledge = kb
	}
	copilot.Register(a.router, o)
}

// Handler returns the HTTP handler (for tests).
func (a *App) Handler() http.Handler { return a.router }

func (a *App) routes() *mux.Router {
	r := mux.NewRouter()
	r.Use(a.metricsMiddleware())
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.integ.isReady() {
			api.WriteProblem(w, http.StatusServiceUnavailable, "integrations are still starting")
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry})).Methods(http.MethodGet)
	api.RegisterIntegrations(r, a.integ)
	api.RegisterOpenAPI(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.WriteProblem(w, http.StatusNotFound, "no route for "+r.URL.Path)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.WriteProblem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	return r
}

func (a *App) metricsMiddleware() mux.MiddlewareFunc {
	reqs := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "faultmaven_http_request_duration_seconds",
		Help:    "HTTP requests by route, method and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "code"})
	a.registry.MustRegister(reqs)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route := "unmatched"
			if cr := mux.CurrentRoute(r); cr != nil {
				if t, err := cr.GetPathTemplate(); err == nil {
					route = t
				}
			}
			sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			start := time.Now()
			next.ServeHTTP(sw, r)
			reqs.WithLabelValues(route, r.Method, fmt.Sprint(sw.code)).Observe(time.Since(start).Seconds())
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) { w.code = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Run starts the plugins and the HTTP server and blocks until ctx ends
// (SIGTERM), then shuts down: stop accepting requests, drain them, drain
// plugin calls, kill plugin processes. ready, if non-nil, receives the
// listening address once the server accepts connections.
func (a *App) Run(ctx context.Context, ready func(addr string)) error {
	if unknown := config.UnknownEnv(os.Environ()); len(unknown) > 0 {
		a.logger.Warn("ignoring FAULTMAVEN_* variables that name no config key (typos?)", "variables", unknown)
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// The store (SQLite in the data dir, or FAULTMAVEN_DATABASE_URL), the
	// ingest queue working through the plugin host, and the knowledge base.
	st, err := OpenStore(ctx, a.cfg, a.logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	queue, err := jobs.New(ctx, IngestOptions(a.cfg, jobs.Options{
		Store:       st,
		Source:      a.host,
		NewAnalyzer: jobs.NewLogAnalysis(loganalysis.DefaultOptions()),
		Logger:      a.logger,
		Registerer:  a.registry,
	}))
	if err != nil {
		return err
	}
	kb, err := OpenKnowledge(ctx, a.cfg, a.logger, a.registry)
	if err != nil {
		return err
	}
	defer kb.Close()
	asker := agent.New(agent.Options{Source: a.host, Metrics: a.host, Knowledge: kb, Logger: a.logger, Registerer: a.registry,
		MaxRecords: a.cfg.Ask.MaxRecords, Lookback: a.cfg.Ask.Lookback})
	authn, err := NewAuth(a.cfg, st)
	if err != nil {
		return err
	}
	if authn.Open() {
		a.logger.Warn("auth: no users configured; any name logs in without a password (allowed on a loopback address only)")
	}
	a.router.Use(authn.Middleware(copilot.Public))
	a.registerServices(queue, st, kb, asker, authn)

	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	srv := &http.Server{Handler: a.router, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.logger.Info("faultmaven listening", "addr", ln.Addr().String(), "plugins", len(a.host.Candidates()))
	if ready != nil {
		ready(ln.Addr().String())
	}

	bg, stopBG := context.WithCancel(context.Background())
	if err := queue.Start(bg); err != nil {
		stopBG()
		_ = srv.Close()
		return fmt.Errorf("starting ingest workers: %w", err)
	}
	fsync := &findingSync{st: st, kb: kb, logger: a.logger, seen: map[string]time.Time{}, since: map[string]time.Time{}}
	for _, cl := range a.cfg.Clusters {
		fsync.clusters = append(fsync.clusters, cl.Name)
	}
	syncDone := make(chan struct{})
	go func() { defer close(syncDone); fsync.run(bg, 5*time.Second) }()
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		if err := a.host.Start(bg); err != nil {
			a.logger.Error("starting plugins", "err", err)
		}
		a.integ.configure(bg, a.cfg.Clusters, os.Getenv)
		a.integ.run(bg, 30*time.Second, 10*time.Second)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		a.logger.Info("shutting down")
	case err := <-serveErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.logger.Warn("http shutdown", "err", err)
	}
	if err := queue.Stop(shutdownCtx); err != nil {
		a.logger.Warn("ingest workers shutdown", "err", err)
	}
	stopBG()
	if err := a.host.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("plugin host shutdown", "err", err)
	}
	<-bgDone
	<-syncDone
	a.logger.Info("stopped")
	return runErr
}

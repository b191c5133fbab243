package prometheusadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the adapter's own semantic version.
const Version = "0.1.0"

// Options configures an [Adapter]. The zero value works.
type Options struct {
	// Logger receives the adapter's logs; nil means sdk.Logger(). Nothing
	// logged ever holds a token or password.
	Logger *slog.Logger
	// Transport, when set, replaces the HTTP transport built from the
	// instance config (its TLS settings are then ignored).
	Transport http.RoundTripper
	// Retry bounds retries; zero fields take sdk.DefaultRetryPolicy's.
	Retry sdk.RetryPolicy
}

// DefaultOptions returns the options New uses.
func DefaultOptions() Options { return Options{Retry: sdk.DefaultRetryPolicy()} }

// Adapter is the Prometheus adapter. It is safe for concurrent use.
type Adapter struct {
	opts      Options
	log       *slog.Logger
	instances sdk.Instances[*instance]
}

type instance struct {
	cfg   *config
	api   v1.API
	http  *http.Client // for /-/ready, outside the API
	log   *slog.Logger
	retry sdk.RetryPolicy
}

var (
	_ sdk.Adapter        = (*Adapter)(nil)
	_ sdk.MetricsQuerier = (*Adapter)(nil)
)

// New returns an adapter with DefaultOptions.
func New() *Adapter { return NewWithOptions(DefaultOptions()) }

// NewWithOptions returns an adapter using opts.
func NewWithOptions(opts Options) *Adapter {
	opts.Retry = opts.Retry.WithDefaults()
	log := opts.Logger
	if log == nil {
		log = sdk.Logger()
	}
	return &Adapter{opts: opts, log: log}
}

// Metadata describes the plugin. It has the metrics capability only.
func (a *Adapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "prometheus",
		Version:      Version,
		Description:  "Queries Prometheus (and servers of its HTTP API): range queries, and instant queries when start equals end.",
		ConfigSchema: json.RawMessage(configSchema),
	}
}

// Validate checks an instance config.
func (a *Adapter) Validate(_ context.Context, raw json.RawMessage) error {
	_, err := parseConfig(raw)
	return err
}

// Configure creates or replaces an instance without contacting the server.
func (a *Adapter) Configure(_ context.Context, name string, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	rt := newTransport(cfg, a.opts.Transport)
	cl, err := api.NewClient(api.Config{Address: cfg.URL.String(), RoundTripper: rt})
	if err != nil {
		return sdk.Errorf(sdk.CodeBadConfig, "prometheus client: %v", redact(err.Error(), cfg.secrets()))
	}
	in := &instance{cfg: cfg, api: v1.NewAPI(cl), http: &http.Client{Transport: rt}, log: a.log.With("instance", name), retry: a.opts.Retry}
	if old, ok := a.instances.Put(name, in); ok {
		old.http.CloseIdleConnections()
	}
	in.log.Info("instance configured", "url", cfg.URL.Redacted(), "auth", authKind(cfg))
	return nil
}

func authKind(c *config) string {
	switch {
	case c.BearerToken != "":
		return "bearer"
	case c.Username != "":
		return "basic"
	}
	return "none"
}

// Remove forgets an instance and closes its idle connections.
func (a *Adapter) Remove(_ context.Context, name string) error {
	if in, ok := a.instances.Remove(name); ok {
		in.http.CloseIdleConnections()
	}
	return nil
}

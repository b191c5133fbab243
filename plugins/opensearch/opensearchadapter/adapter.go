package opensearchadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/opensearch-project/opensearch-go/v4"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the adapter's own semantic version.
const Version = "0.1.0"

// Options configures an [Adapter]. The zero value works.
type Options struct {
	// Logger receives the adapter's logs; nil means sdk.Logger(). Nothing
	// logged ever holds a password, key or token.
	Logger *slog.Logger
	// Transport, when set, replaces the HTTP transport built from the
	// instance config (its TLS settings are then ignored). Tests use it.
	Transport http.RoundTripper
	// Retry bounds retries; zero fields take sdk.DefaultRetryPolicy's.
	Retry sdk.RetryPolicy
}

// DefaultOptions returns the options New uses.
func DefaultOptions() Options {
	return Options{Retry: sdk.DefaultRetryPolicy()}
}

// Adapter is the OpenSearch adapter. It is safe for concurrent use.
type Adapter struct {
	opts      Options
	log       *slog.Logger
	instances sdk.Instances[*instance]
}

type instance struct {
	name   string
	cfg    *config
	client *opensearch.Client
	log    *slog.Logger
	retry  sdk.RetryPolicy
}

var (
	_ sdk.Adapter     = (*Adapter)(nil)
	_ sdk.LogSearcher = (*Adapter)(nil)
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

// Metadata describes the plugin.
func (a *Adapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "opensearch",
		Version:      Version,
		Description:  "Searches logs in OpenSearch and Amazon OpenSearch Service (point-in-time + search_after paging, query_string or DSL).",
		ConfigSchema: json.RawMessage(configSchema),
	}
}

// Validate checks an instance config.
func (a *Adapter) Validate(_ context.Context, raw json.RawMessage) error {
	_, err := parseConfig(raw)
	return err
}

// Configure creates or replaces an instance. It does not contact the
// cluster: Health does, so a cluster that is down at configuration time
// can still be configured.
func (a *Adapter) Configure(_ context.Context, name string, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	cl, err := newClient(cfg, a.opts.Transport)
	if err != nil {
		return sdk.Errorf(sdk.CodeBadConfig, "opensearch client: %v", err)
	}
	in := &instance{name: name, cfg: cfg, client: cl, log: a.log.With("instance", name), retry: a.opts.Retry}
	if old, ok := a.instances.Put(name, in); ok {
		_ = old.client.Close()
	}
	in.log.Info("instance configured", "url", cfg.URL.Redacted(), "index", cfg.Indices, "auth", authKind(cfg))
	return nil
}

func authKind(c *config) string {
	switch {
	case c.AWS != nil:
		return "aws_sigv4"
	case c.Username != "":
		return "basic"
	}
	return "none"
}

// Remove forgets an instance and releases its connections.
func (a *Adapter) Remove(_ context.Context, name string) error {
	if in, ok := a.instances.Remove(name); ok {
		_ = in.client.Close()
	}
	return nil
}

// Close removes every instance. Serve never calls it; tests do.
func (a *Adapter) Close() error {
	for _, in := range a.instances.RemoveAll() {
		_ = in.client.Close()
	}
	return nil
}

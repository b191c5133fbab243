package splunkadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Options tune an Adapter. The zero value works.
type Options struct {
	// Logger receives the adapter's logs; nil means sdk.Logger() (stderr).
	Logger *slog.Logger
	// Sleep waits between retries; nil means a timer honouring ctx. Tests
	// pass a recorder so retries do not wait.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retry sets the backoff between retries; zero fields take
	// sdk.DefaultRetryPolicy's. Its MaxRetryAfter is replaced by each
	// instance's max_retry_wait_seconds.
	Retry sdk.RetryPolicy
}

// DefaultOptions returns the options New uses for zero fields.
func DefaultOptions() Options {
	return Options{Logger: sdk.Logger(), Sleep: sleepCtx, Retry: sdk.DefaultRetryPolicy()}
}

// Adapter is the Splunk adapter. It is safe for concurrent use.
type Adapter struct {
	opts      Options
	instances sdk.Instances[*client]
}

var (
	_ sdk.Adapter     = (*Adapter)(nil)
	_ sdk.LogSearcher = (*Adapter)(nil)
)

// New returns an adapter with no instance.
func New(opts Options) *Adapter {
	d := DefaultOptions()
	if opts.Logger == nil {
		opts.Logger = d.Logger
	}
	if opts.Sleep == nil {
		opts.Sleep = d.Sleep
	}
	opts.Retry = opts.Retry.WithDefaults()
	return &Adapter{opts: opts}
}

// Metadata describes the plugin.
func (a *Adapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "splunk",
		Version:      Version,
		Description:  "Log search in Splunk Enterprise and Splunk Cloud over the REST API (streaming export, SPL).",
		ConfigSchema: json.RawMessage(configSchema),
	}
}

// Validate checks an instance config without keeping it.
func (a *Adapter) Validate(_ context.Context, config json.RawMessage) error {
	_, err := parseConfig(config)
	return err
}

// Configure creates or replaces an instance. It does not contact Splunk;
// Health does.
func (a *Adapter) Configure(_ context.Context, instance string, config json.RawMessage) error {
	s, err := parseConfig(config)
	if err != nil {
		return err
	}
	c, err := newClient(s, a.opts.Logger.With("instance", instance), a.opts.Sleep, a.opts.Retry)
	if err != nil {
		return err
	}
	if old, ok := a.instances.Put(instance, c); ok {
		old.close()
	}
	a.opts.Logger.Debug("splunk instance configured", "instance", instance, "auth", authKind(s))
	return nil
}

func authKind(s *settings) string {
	if s.token != "" {
		return "token"
	}
	return "session"
}

// Remove forgets an instance.
func (a *Adapter) Remove(_ context.Context, instance string) error {
	if c, ok := a.instances.Remove(instance); ok {
		c.close()
	}
	return nil
}

// Health asks /services/server/info, which needs working credentials.
func (a *Adapter) Health(ctx context.Context, instance string) (sdk.HealthReport, error) {
	c, err := a.instances.Get(instance)
	if err != nil {
		return sdk.HealthReport{}, err
	}
	start := time.Now()
	resp, err := c.do(ctx, "splunk server info", request{method: http.MethodGet, path: "/services/server/info", form: map[string][]string{"output_mode": {"json"}}})
	lat := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return sdk.HealthReport{}, ctx.Err()
		}
		err = asSDK(err)
		return sdk.HealthReport{Status: sdk.HealthDown, Message: err.Error(), Latency: lat,
			Details: map[string]string{"code": sdk.CodeOf(err).String()}}, nil
	}
	defer resp.Body.Close()
	var info struct {
		Entry []struct {
			Content struct {
				Version    string `json:"version"`
				Build      string `json:"build"`
				ServerName string `json:"serverName"`
				HealthInfo string `json:"health_info"`
			} `json:"content"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || len(info.Entry) == 0 {
		return sdk.HealthReport{Status: sdk.HealthDown, Latency: lat,
			Message: "server/info answered 200 with an unexpected body: is url the management port (8089)?"}, nil
	}
	ct := info.Entry[0].Content
	rep := sdk.HealthReport{Status: sdk.HealthOK, Latency: lat, Message: "Splunk " + ct.Version + " on " + ct.ServerName,
		Details: map[string]string{"version": ct.Version, "build": ct.Build, "server_name": ct.ServerName, "health": ct.HealthInfo}}
	if ct.HealthInfo == "red" || ct.HealthInfo == "yellow" {
		rep.Status = sdk.HealthDegraded
		rep.Message += " reports health " + ct.HealthInfo
	}
	return rep, nil
}

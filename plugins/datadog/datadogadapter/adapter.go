package datadogadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV2"

	"github.com/faultmaven/faultmaven/sdk"
)

// Version is the plugin's own version.
const Version = "0.1.0"

// Options tune an Adapter. The zero value works.
type Options struct {
	// Logger receives the adapter's logs; nil means sdk.Logger() (stderr).
	Logger *slog.Logger
	// Sleep waits between retries; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Transport carries the HTTP calls; nil means a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// Retry sets the backoff between retries; zero fields take
	// sdk.DefaultRetryPolicy's. Its MaxRetryAfter is replaced by each
	// instance's max_retry_wait_seconds.
	Retry sdk.RetryPolicy
}

// DefaultOptions returns the options New uses for zero fields.
func DefaultOptions() Options {
	return Options{Logger: sdk.Logger(), Sleep: sleepCtx, Retry: sdk.DefaultRetryPolicy()}
}

// Adapter is the Datadog adapter. It is safe for concurrent use.
type Adapter struct {
	opts      Options
	instances sdk.Instances[*instance]
}

var (
	_ sdk.Adapter        = (*Adapter)(nil)
	_ sdk.LogSearcher    = (*Adapter)(nil)
	_ sdk.MetricsQuerier = (*Adapter)(nil)
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

// instance is one configured Datadog organisation.
type instance struct {
	s       *settings
	log     *slog.Logger
	sleep   func(context.Context, time.Duration) error
	retry   sdk.RetryPolicy // MaxRetryAfter is the instance's max_retry_wait_seconds
	hc      *http.Client
	logs    *datadogV2.LogsApi
	metrics *datadogV1.MetricsApi
	auth    *datadogV1.AuthenticationApi
}

func (a *Adapter) newInstance(name string, s *settings) *instance {
	tr := a.opts.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	hc := &http.Client{Transport: tr, Timeout: s.timeout}
	cfg := datadog.NewConfiguration()
	cfg.HTTPClient = hc
	cfg.RetryConfiguration.EnableRetry = false // retried here, with the SDK's codes
	cfg.Debug = false                          // the client's debug dump would print the keys
	cl := datadog.NewAPIClient(cfg)
	// Set after WithDefaults: max_retry_wait_seconds 0 means "never wait
	// for a reset", not "the default".
	retry := a.opts.Retry
	retry.MaxRetryAfter = s.maxRetryWait
	return &instance{
		s: s, log: a.opts.Logger.With("instance", name), sleep: a.opts.Sleep, retry: retry, hc: hc,
		logs: datadogV2.NewLogsApi(cl), metrics: datadogV1.NewMetricsApi(cl), auth: datadogV1.NewAuthenticationApi(cl),
	}
}

// ctx adds the keys and the server selection the client reads from the
// context.
func (in *instance) ctx(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, map[string]datadog.APIKey{
		"apiKeyAuth": {Key: in.s.apiKey},
		"appKeyAuth": {Key: in.s.appKey},
	})
	if in.s.base != nil {
		ctx = context.WithValue(ctx, datadog.ContextServerIndex, 1)
		return context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{
			"protocol": in.s.base.Scheme, "name": in.s.base.Host + in.s.base.Path,
		})
	}
	return context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{"site": in.s.site})
}

// Metadata describes the plugin.
func (a *Adapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "datadog",
		Version:      Version,
		Description:  "Log search (Logs Search v2) and metric queries (v1 timeseries) in Datadog.",
		ConfigSchema: json.RawMessage(configSchema),
	}
}

// Validate checks an instance config without keeping it.
func (a *Adapter) Validate(_ context.Context, config json.RawMessage) error {
	_, err := parseConfig(config)
	return err
}

// Configure creates or replaces an instance without contacting Datadog.
func (a *Adapter) Configure(_ context.Context, name string, config json.RawMessage) error {
	s, err := parseConfig(config)
	if err != nil {
		return err
	}
	in := a.newInstance(name, s)
	if old, ok := a.instances.Put(name, in); ok {
		old.hc.CloseIdleConnections()
	}
	a.opts.Logger.Debug("datadog instance configured", "instance", name, "site", s.site, "base_url_override", s.base != nil)
	return nil
}

// Remove forgets an instance.
func (a *Adapter) Remove(_ context.Context, name string) error {
	if in, ok := a.instances.Remove(name); ok {
		in.hc.CloseIdleConnections()
	}
	return nil
}

// Health validates the API key (GET /api/v1/validate), then runs a
// one-record log search, which needs the application key too.
func (a *Adapter) Health(ctx context.Context, name string) (sdk.HealthReport, error) {
	in, err := a.instances.Get(name)
	if err != nil {
		return sdk.HealthReport{}, err
	}
	start := time.Now()
	down := func(err error) (sdk.HealthReport, error) {
		if ctx.Err() != nil {
			return sdk.HealthReport{}, ctx.Err()
		}
		return sdk.HealthReport{Status: sdk.HealthDown, Message: err.Error(), Latency: time.Since(start),
			Details: map[string]string{"code": sdk.CodeOf(err).String(), "site": in.s.site}}, nil
	}
	var valid datadogV1.AuthenticationValidationResponse
	err = in.call(ctx, "datadog validate", func(ctx context.Context) (*http.Response, error) {
		var resp *http.Response
		var err error
		valid, resp, err = in.auth.Validate(ctx)
		return resp, err
	})
	if err != nil {
		return down(err)
	}
	if v, ok := valid.GetValidOk(); !ok || !*v {
		return down(sdk.Errorf(sdk.CodeAuth, "datadog validate: the API key is not valid"))
	}
	now := time.Now()
	body := in.listRequest(now.Add(-time.Minute), now, "*", 1, "")
	err = in.call(ctx, "datadog logs search (application key check)", func(ctx context.Context) (*http.Response, error) {
		_, resp, err := in.logs.ListLogs(ctx, *datadogV2.NewListLogsOptionalParameters().WithBody(body))
		return resp, err
	})
	if err != nil {
		return down(err)
	}
	return sdk.HealthReport{Status: sdk.HealthOK, Latency: time.Since(start), Message: "Datadog keys valid on " + in.s.site,
		Details: map[string]string{"site": in.s.site}}, nil
}

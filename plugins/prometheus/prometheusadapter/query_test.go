package prometheusadapter_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// TestConformance runs the SDK's conformance kit against the real
// Prometheus server, in process and through the built plugin binary. The
// logs service must answer Unimplemented (metrics capability only).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary and starts prometheus")
	}
	env := promServer(t)
	now := time.Now()
	plugintest.Run(t, plugintest.Suite{
		New:        func() sdk.Adapter { return newAdapter(nil) },
		Binary:     plugintest.BuildPlugin(t, ".."),
		GoodConfig: rawConfig(t, map[string]any{"url": env.URL}),
		BadConfigs: []plugintest.BadConfig{
			{Name: "no url", Config: json.RawMessage(`{}`), Field: "url"},
			{Name: "api path", Config: json.RawMessage(`{"url":"http://x/api/v1"}`), Field: "url"},
			{Name: "two auths", Config: json.RawMessage(`{"url":"http://x","bearer_token":"t","username":"u","password":"p"}`), Field: "bearer_token"},
		},
		UnhealthyConfig: rawConfig(t, map[string]any{"url": "http://127.0.0.1:1", "max_retries": 0}),
		MetricQuery:     sdk.MetricQuery{Query: "rate(faultmaven_ingest_records_total[5s])", Start: env.Started, End: now, Step: time.Second},
	})
}

func TestQueries(t *testing.T) {
	env := promServer(t)
	a := newAdapter(nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "p", rawConfig(t, map[string]any{"url": env.URL})); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	start := env.Started.Truncate(time.Second)
	tests := []struct {
		name    string
		q       sdk.MetricQuery
		series  int // exact number of series wanted
		check   func(t *testing.T, s []sdk.Series)
		code    sdk.Code
		wantErr bool
	}{
		{name: "range, two series by label", q: sdk.MetricQuery{Query: "faultmaven_ingest_records_total", Start: start, End: now, Step: time.Second}, series: 2,
			check: func(t *testing.T, s []sdk.Series) {
				if s[0].Name != "faultmaven_ingest_records_total" || s[0].Labels["source"] != "opensearch" || s[1].Labels["source"] != "splunk" || s[0].Labels["job"] != "hub" {
					t.Fatalf("series %+v: want opensearch then splunk, job hub", s)
				}
				if len(s[0].Samples) < 2 {
					t.Fatalf("%d samples, want a range", len(s[0].Samples))
				}
				for i := 1; i < len(s[0].Samples); i++ {
					if s[0].Samples[i].Value < s[0].Samples[i-1].Value {
						t.Fatalf("counter went down: %v", s[0].Samples)
					}
				}
			}},
		{name: "instant (start == end)", q: sdk.MetricQuery{Query: `faultmaven_plugins_running{job="hub"}`, Start: now, End: now}, series: 1,
			check: func(t *testing.T, s []sdk.Series) {
				if len(s[0].Samples) != 1 || s[0].Samples[0].Value != 4 || !s[0].Samples[0].Timestamp.Equal(now) {
					t.Fatalf("samples %+v, want one sample 4 at %s", s[0].Samples, now)
				}
			}},
		{name: "instant now (zero times)", q: sdk.MetricQuery{Query: `up{job="hub"}`}, series: 1,
			check: func(t *testing.T, s []sdk.Series) {
				if s[0].Samples[0].Value != 1 {
					t.Fatalf("up = %v, want 1", s[0].Samples[0].Value)
				}
			}},
		{name: "aggregation without labels", q: sdk.MetricQuery{Query: "sum(rate(faultmaven_ingest_records_total[5s]))", Start: start, End: now}, series: 1,
			check: func(t *testing.T, s []sdk.Series) {
				if s[0].Name == "" && len(s[0].Labels) == 0 {
					t.Fatal("series with neither name nor labels")
				}
			}},
		{name: "scalar", q: sdk.MetricQuery{Query: "scalar(faultmaven_plugins_running) * 2", Start: now, End: now}, series: 1,
			check: func(t *testing.T, s []sdk.Series) {
				if s[0].Name != "scalar" || s[0].Samples[0].Value != 8 {
					t.Fatalf("got %+v, want scalar 8", s[0])
				}
			}},
		{name: "histogram quantile", q: sdk.MetricQuery{Query: "histogram_quantile(0.9, rate(faultmaven_search_duration_seconds_bucket[5s]))", Start: start, End: time.Now(), Step: time.Second}, series: 1},
		{name: "no match", q: sdk.MetricQuery{Query: "no_such_metric", Start: start, End: now}, series: 0},
		{name: "parse error", q: sdk.MetricQuery{Query: "rate(x[", Start: start, End: now}, code: sdk.CodeBadQuery, wantErr: true},
		{name: "string result", q: sdk.MetricQuery{Query: `"hello"`, Start: now, End: now}, code: sdk.CodeBadQuery, wantErr: true},
		{name: "end before start", q: sdk.MetricQuery{Query: "up", Start: now, End: now.Add(-time.Minute)}, code: sdk.CodeBadQuery, wantErr: true},
		{name: "empty query", q: sdk.MetricQuery{}, code: sdk.CodeBadQuery, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := a.QueryMetrics(ctx, "p", tc.q)
			if tc.wantErr {
				if sdk.CodeOf(err) != tc.code {
					t.Fatalf("got %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("QueryMetrics(%q): %v", tc.q.Query, err)
			}
			if len(s) != tc.series {
				t.Fatalf("QueryMetrics(%q): %d series, want %d: %+v", tc.q.Query, len(s), tc.series, s)
			}
			for _, sr := range s {
				for i := 1; i < len(sr.Samples); i++ {
					if sr.Samples[i].Timestamp.Before(sr.Samples[i-1].Timestamp) {
						t.Fatalf("samples out of order")
					}
				}
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

// TestStepBounds asks for a week at a 1s step: far past Prometheus's
// 11,000 points per series. The adapter raises the step instead of failing.
// The hub's agent asks every metrics integration which alerts fired:
// Prometheus's ALERTS series, with the alert's labels.
func TestFiringAlerts(t *testing.T) {
	env := promServer(t)
	a := newAdapter(nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "p", rawConfig(t, map[string]any{"url": env.URL})); err != nil {
		t.Fatal(err)
	}
	var found *sdk.Series
	deadline := time.Now().Add(20 * time.Second)
	for found == nil && time.Now().Before(deadline) {
		series, err := a.QueryMetrics(ctx, "p", sdk.MetricQuery{Query: `ALERTS{alertstate="firing"}`,
			Start: env.Started, End: time.Now(), Step: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range series {
			if s.Labels["alertname"] == "PluginsRunningHigh" {
				found = &series[i]
			}
		}
		if found == nil {
			time.Sleep(500 * time.Millisecond) // the rule fires on its first evaluation after a scrape
		}
	}
	if found == nil {
		t.Fatal("the firing alert never appeared in ALERTS")
	}
	if found.Name != "ALERTS" || found.Labels["severity"] != "warning" || found.Labels["service"] != "hub" || len(found.Samples) == 0 || found.Samples[0].Value != 1 {
		t.Errorf("alert series = %+v", found)
	}
}

func TestStepBounds(t *testing.T) {
	env := promServer(t)
	a := newAdapter(nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "p", rawConfig(t, map[string]any{"url": env.URL})); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// End lies a little ahead so the last evaluation point (on a ~55s grid)
	// falls after the first scrape, within the 5-minute lookback.
	s, err := a.QueryMetrics(ctx, "p", sdk.MetricQuery{Query: "up", Start: now.Add(-7 * 24 * time.Hour), End: now.Add(2 * time.Minute), Step: time.Second})
	if err != nil {
		t.Fatalf("QueryMetrics over a week at 1s: %v", err)
	}
	if len(s) != 1 || len(s[0].Samples) == 0 || len(s[0].Samples) > 11000 {
		t.Fatalf("got %+v", s)
	}
}

func TestHealth(t *testing.T) {
	env := promServer(t)
	a := newAdapter(nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "p", rawConfig(t, map[string]any{"url": env.URL})); err != nil {
		t.Fatal(err)
	}
	rep, err := a.Health(ctx, "p")
	if err != nil || rep.Status != sdk.HealthOK || rep.Details["version"] == "" {
		t.Fatalf("Health: %+v %v, want ok with a version", rep, err)
	}
	px := newProxy(t, env.URL, "")
	if err := a.Configure(ctx, "starting", rawConfig(t, map[string]any{"url": px.srv.URL, "max_retries": 1})); err != nil {
		t.Fatal(err)
	}
	px.set(fault{kind: faultStatus, status: 503})
	rep, err = a.Health(ctx, "starting")
	if err != nil || rep.Status != sdk.HealthDown || rep.Details["error_code"] != "unavailable" {
		t.Fatalf("not ready: %+v %v, want down/unavailable", rep, err)
	}
	if _, err := a.Health(ctx, "nope"); sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("unknown instance: %v", err)
	}
}

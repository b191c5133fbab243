package datadogadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/datadog/datadogadapter"
	"github.com/faultmaven/faultmaven/plugins/datadog/datadogstandin"
	"github.com/faultmaven/faultmaven/plugins/internal/adaptertest"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

const (
	testAPIKey = "api-SECRET-0a1b2c3d4e5f"
	testAppKey = "app-SECRET-9f8e7d6c5b4a"
)

var t0 = time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC)

var statuses = []string{"info", "debug", "warn", "error", "info"}

func seed(s *datadogstandin.Server, n int) {
	logs := make([]datadogstandin.Log, n)
	for i := range logs {
		svc := fmt.Sprintf("svc-%d", i%3)
		logs[i] = datadogstandin.Log{
			Time:       t0.Add(time.Duration(i) * 10 * time.Second),
			Message:    fmt.Sprintf("request %d handled by %s in %dms", i, svc, i%97),
			Service:    svc,
			Host:       fmt.Sprintf("i-%04d", i%5),
			Status:     statuses[i%len(statuses)],
			Source:     "go",
			Tags:       []string{"env:prod", "service:" + svc},
			Attributes: map[string]any{"http": map[string]any{"status_code": 200 + i%2*300}, "duration": i},
		}
	}
	s.Add(logs...)
	s.AddSeries(datadogstandin.Series{Metric: "system.cpu.user", Tags: []string{"host:i-0001"},
		Points: []datadogstandin.Point{{Time: t0, Value: 10}, {Time: t0.Add(time.Minute), Value: 20}, {Time: t0.Add(2 * time.Minute), Value: 30}}})
}

type env struct {
	srv    *datadogstandin.Server
	ad     *datadogadapter.Adapter
	logs   *adaptertest.SyncBuffer
	sleeps *adaptertest.SleepRecorder
}

func newEnv(t testing.TB, n int) *env {
	t.Helper()
	srv := datadogstandin.Start(t, datadogstandin.Options{APIKey: testAPIKey, AppKey: testAppKey})
	seed(srv, n)
	logs, rec := &adaptertest.SyncBuffer{}, &adaptertest.SleepRecorder{}
	ad := datadogadapter.New(datadogadapter.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:  rec.Sleep,
	})
	return &env{srv: srv, ad: ad, logs: logs, sleeps: rec}
}

func (e *env) config(t testing.TB, extra map[string]any) json.RawMessage {
	t.Helper()
	c := map[string]any{"site": "datadoghq.eu", "base_url": e.srv.URL, "api_key": testAPIKey, "app_key": testAppKey, "page_size": 50}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) configure(t testing.TB, name string, extra map[string]any) {
	t.Helper()
	if err := e.ad.Configure(t.Context(), name, e.config(t, extra)); err != nil {
		t.Fatalf("Configure(%s): %v", name, err)
	}
}

type collector struct {
	recs  []sdk.Record
	limit int
}

func (c *collector) Write(r sdk.Record) error {
	if c.limit > 0 && len(c.recs) >= c.limit {
		return sdk.ErrLimitReached
	}
	c.recs = append(c.recs, r)
	return nil
}

func search(ctx context.Context, a *datadogadapter.Adapter, inst string, q sdk.LogQuery) ([]sdk.Record, error) {
	c := &collector{limit: q.Limit}
	err := a.SearchLogs(ctx, inst, q, c)
	return c.recs, err
}

func TestConformance(t *testing.T) {
	e := newEnv(t, 300)
	plugintest.Run(t, plugintest.Suite{
		New: func() sdk.Adapter {
			return datadogadapter.New(datadogadapter.Options{Logger: slog.New(slog.DiscardHandler)})
		},
		Binary:     plugintest.BuildPlugin(t, ".."),
		GoodConfig: e.config(t, nil),
		BadConfigs: []plugintest.BadConfig{
			{Name: "unknown site", Config: e.config(t, map[string]any{"site": "datadoghq.moon"}), Field: "site"},
			{Name: "no api key", Config: e.config(t, map[string]any{"api_key": nil}), Field: "api_key"},
			{Name: "page size above 1000", Config: e.config(t, map[string]any{"page_size": 5000}), Field: "page_size"},
		},
		UnhealthyConfig: e.config(t, map[string]any{"app_key": "wrong"}),
		LogQuery:        sdk.LogQuery{Start: t0, End: t0.Add(40 * time.Minute)},
		MinRecords:      200,
		MetricQuery:     sdk.MetricQuery{Query: "avg:system.cpu.user{*}", Start: t0, End: t0.Add(time.Hour), Step: time.Minute},
	})
}

func TestValidate(t *testing.T) {
	e := newEnv(t, 0)
	cases := []struct {
		name  string
		extra map[string]any
		field string
	}{
		{"good", nil, ""},
		{"every site", map[string]any{"site": "us2.ddog-gov.com"}, ""},
		{"default site", map[string]any{"site": nil, "base_url": nil}, ""},
		{"bad site", map[string]any{"site": "datadog.com"}, "site"},
		{"no app key", map[string]any{"app_key": ""}, "app_key"},
		{"bad base url", map[string]any{"base_url": "localhost"}, "base_url"},
		{"storage tier", map[string]any{"storage_tier": "cold"}, "storage_tier"},
		{"retries", map[string]any{"max_retries": 11}, "max_retries"},
		{"wrong type", map[string]any{"page_size": "ten"}, "page_size"},
		{"unknown", map[string]any{"region": "eu"}, "region"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := e.ad.Validate(t.Context(), e.config(t, c.extra))
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate: %v, want a ConfigError", err)
			}
			for _, f := range ce.Fields {
				if f.Field == c.field {
					return
				}
			}
			t.Fatalf("Validate: %v, want a problem with %q", err, c.field)
		})
	}
	for _, site := range datadogadapter.Sites {
		if err := e.ad.Validate(t.Context(), e.config(t, map[string]any{"site": site, "base_url": nil})); err != nil {
			t.Errorf("site %s: %v", site, err)
		}
	}
}

func TestPaginationAndMapping(t *testing.T) {
	e := newEnv(t, 230)
	e.configure(t, "a", nil)
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 230 {
		t.Fatalf("got %d records, want 230", len(recs))
	}
	if n := e.srv.Requests("/api/v2/logs/events/search"); n != 5 {
		t.Fatalf("%d search requests, want 5 pages of 50", n)
	}
	seen := map[string]bool{}
	for i, r := range recs {
		if seen[r.Source.NativeID] {
			t.Fatalf("record %s twice", r.Source.NativeID)
		}
		seen[r.Source.NativeID] = true
		if i > 0 && r.Timestamp.Before(recs[i-1].Timestamp) {
			t.Fatalf("records not oldest first at %d", i)
		}
	}
	r := recs[3]
	if r.Service != "svc-0" || r.Host != "i-0003" || r.Severity != sdk.SeverityError || r.Body != "request 3 handled by svc-0 in 3ms" {
		t.Fatalf("record = %+v", r)
	}
	if r.Attributes["http.status_code"] != "500" || r.Attributes["tags"] != "env:prod,service:svc-0" || r.Attributes["source"] != "go" {
		t.Fatalf("attributes = %v", r.Attributes)
	}
	if !strings.HasPrefix(r.Source.Link, "https://app.datadoghq.eu/logs?event=") {
		t.Fatalf("link = %s", r.Source.Link)
	}
	// Limit: stops paging early.
	before := e.srv.Requests("/api/v2/logs/events/search")
	recs, err = search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour), Limit: 70})
	if err != nil || len(recs) != 70 {
		t.Fatalf("limit 70: %d records, %v", len(recs), err)
	}
	if n := e.srv.Requests("/api/v2/logs/events/search") - before; n != 2 {
		t.Fatalf("limit 70 took %d pages, want 2", n)
	}
}

func TestFilterQuery(t *testing.T) {
	cases := []struct {
		q    sdk.LogQuery
		want string
	}{
		{sdk.LogQuery{}, "*"},
		{sdk.LogQuery{Query: "env:prod"}, "(env:prod)"},
		{sdk.LogQuery{Filters: sdk.LogFilters{Services: []string{"a", `b" OR service:*`}}}, `service:("a" OR "b\" OR service:*")`},
		{sdk.LogQuery{Filters: sdk.LogFilters{MinSeverity: sdk.SeverityError}}, "status:(error OR critical OR alert OR emergency OR fatal)"},
		{sdk.LogQuery{Filters: sdk.LogFilters{Contains: `a\"b`}}, `"a\\\"b"`},
	}
	for _, c := range cases {
		got := datadogadapter.BuildQuery(c.q)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("BuildQuery(%+v) = %s, want %s...", c.q, got, c.want)
		}
	}
	e := newEnv(t, 60)
	e.configure(t, "a", nil)
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour),
		Filters: sdk.LogFilters{Services: []string{"svc-1", `svc-0" OR service:*`}, MinSeverity: sdk.SeverityWarn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Service != "svc-1" || r.Severity < sdk.SeverityWarn {
			t.Fatalf("filtered search returned %+v", r)
		}
	}
	if len(recs) != 8 {
		t.Fatalf("got %d records, want 8 (svc-1 warn/error)", len(recs))
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, 0)
	e.configure(t, "a", nil)
	series, err := e.ad.QueryMetrics(t.Context(), "a", sdk.MetricQuery{Query: "avg:system.cpu.user{host:i-0001}", Start: t0, End: t0.Add(90 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || series[0].Labels["host"] != "i-0001" || len(series[0].Samples) != 2 || series[0].Samples[1].Value != 20 {
		t.Fatalf("series = %+v", series)
	}
	_, err = e.ad.QueryMetrics(t.Context(), "a", sdk.MetricQuery{Query: "avg(((", Start: t0, End: t0.Add(time.Hour)})
	if sdk.CodeOf(err) != sdk.CodeBadQuery {
		t.Fatalf("bad query: %v, want bad_query", err)
	}
}

func TestFailures(t *testing.T) {
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	cases := []struct {
		name      string
		fault     datadogstandin.Fault
		extra     map[string]any
		timeout   time.Duration
		code      sdk.Code
		wantRecs  int
		wantWaits []time.Duration // exact: rate-limit reset waits
		backoffs  int             // waits that are the retry policy's jittered backoff
		check     func(t *testing.T, err error, e *env)
	}{
		{name: "bad api key", extra: map[string]any{"api_key": "nope"}, code: sdk.CodeAuth},
		{name: "bad app key", extra: map[string]any{"app_key": "nope"}, code: sdk.CodeAuth},
		{name: "429 beyond the retry wait", fault: datadogstandin.Fault{RateLimit: 1, Reset: 90 * time.Second}, code: sdk.CodeRateLimited,
			check: func(t *testing.T, err error, _ *env) {
				var se *sdk.Error
				if !errors.As(err, &se) || se.RetryAfter != 90*time.Second {
					t.Fatalf("retry-after = %v, want 90s", err)
				}
			}},
		{name: "429 retried after reset", fault: datadogstandin.Fault{RateLimit: 2, Reset: 3 * time.Second}, wantRecs: 120,
			wantWaits: []time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "429 until retries run out", fault: datadogstandin.Fault{RateLimit: 10, Reset: time.Second}, code: sdk.CodeRateLimited,
			wantWaits: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "429 with no retry wait allowed", fault: datadogstandin.Fault{RateLimit: 1, Reset: time.Second}, extra: map[string]any{"max_retry_wait_seconds": 0},
			code: sdk.CodeRateLimited, wantWaits: []time.Duration{}},
		{name: "5xx burst recovered", fault: datadogstandin.Fault{Unavailable: 2}, wantRecs: 120, backoffs: 2},
		{name: "5xx burst too long", fault: datadogstandin.Fault{Unavailable: 10}, code: sdk.CodeUnavailable,
			check: func(t *testing.T, err error, e *env) {
				if n := e.srv.Requests("/api/v2/logs/events/search"); n != 4 {
					t.Fatalf("%d requests, want 4", n)
				}
			}},
		{name: "cut off mid-body, page retried", fault: datadogstandin.Fault{CutPage: 2}, wantRecs: 120, backoffs: 1},
		{name: "cut off mid-body", fault: datadogstandin.Fault{CutPage: 2}, extra: map[string]any{"max_retries": 0}, code: sdk.CodeUnavailable,
			check: func(t *testing.T, err error, _ *env) {
				if !strings.Contains(err.Error(), "cut off") {
					t.Fatalf("error %v does not say the answer was cut off", err)
				}
			}},
		{name: "timeout inside 200", fault: datadogstandin.Fault{TimeoutPage: 2}, code: sdk.CodeUnavailable},
		{name: "malformed log", fault: datadogstandin.Fault{BadType: true}, code: sdk.CodeUnavailable},
		{name: "slow past the deadline", fault: datadogstandin.Fault{Delay: 10 * time.Second}, timeout: 200 * time.Millisecond, code: sdk.CodeUnavailable},
		{name: "slow past the call timeout", fault: datadogstandin.Fault{Delay: 10 * time.Second}, extra: map[string]any{"timeout_seconds": 0.2, "max_retries": 1}, code: sdk.CodeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 120)
			e.configure(t, "a", c.extra)
			e.srv.SetFault(c.fault)
			ctx := t.Context()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			recs, err := search(ctx, e.ad, "a", q)
			if c.code == 0 {
				if err != nil || len(recs) != c.wantRecs {
					t.Fatalf("got %d records, %v; want %d", len(recs), err, c.wantRecs)
				}
			} else if got := sdk.CodeOf(err); got != c.code {
				t.Fatalf("got %v (code %s), want %s", err, got, c.code)
			}
			if c.wantWaits != nil {
				got := e.sleeps.Waits()
				if fmt.Sprint(got) != fmt.Sprint(c.wantWaits) {
					t.Fatalf("waits = %v, want %v", got, c.wantWaits)
				}
			}
			if c.backoffs > 0 {
				adaptertest.CheckBackoffs(t, e.sleeps.Waits(), c.backoffs)
			}
			if c.check != nil {
				c.check(t, err, e)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, 0)
	e.configure(t, "good", nil)
	e.configure(t, "badapi", map[string]any{"api_key": "x"})
	e.configure(t, "badapp", map[string]any{"app_key": "x"})
	if rep, err := e.ad.Health(t.Context(), "good"); err != nil || rep.Status != sdk.HealthOK {
		t.Fatalf("Health(good) = %+v, %v", rep, err)
	}
	for _, inst := range []string{"badapi", "badapp"} {
		rep, err := e.ad.Health(t.Context(), inst)
		if err != nil || rep.Status != sdk.HealthDown || rep.Details["code"] != "auth" {
			t.Fatalf("Health(%s) = %+v, %v", inst, rep, err)
		}
	}
	if n := e.srv.Requests("/api/v1/validate"); n != 3 {
		t.Fatalf("validate called %d times, want 3", n)
	}
}

func TestSecretsStayOut(t *testing.T) {
	e := newEnv(t, 40)
	var msgs []string
	note := func(err error) {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	e.configure(t, "good", nil)
	e.configure(t, "badapi", map[string]any{"api_key": testAPIKey + "x"})
	e.configure(t, "badapp", map[string]any{"app_key": testAppKey + "x"})
	note(e.ad.Validate(t.Context(), e.config(t, map[string]any{"site": "nowhere", "api_key": testAPIKey + " x"})))
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	for _, inst := range []string{"good", "badapi", "badapp"} {
		_, err := search(t.Context(), e.ad, inst, q)
		note(err)
		rep, err := e.ad.Health(t.Context(), inst)
		note(err)
		msgs = append(msgs, rep.Message)
		_, err = e.ad.QueryMetrics(t.Context(), inst, sdk.MetricQuery{Query: "system.cpu.user", Start: t0, End: t0.Add(time.Hour)})
		note(err)
	}
	for _, f := range []datadogstandin.Fault{{Unavailable: 5}, {CutPage: 1}, {BadType: true}, {RateLimit: 1, Reset: time.Hour}} {
		e.srv.SetFault(f)
		_, err := search(t.Context(), e.ad, "good", q)
		note(err)
	}
	if len(msgs) < 8 {
		t.Fatalf("only %d messages collected", len(msgs))
	}
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("no log output captured")
	}
	for _, secret := range []string{testAPIKey, testAppKey, "SECRET"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log output holds a secret:\n%s", logs)
		}
		for _, m := range msgs {
			if strings.Contains(m, secret) {
				t.Fatalf("message holds a secret: %s", m)
			}
		}
	}
}

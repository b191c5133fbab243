package splunkadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/adaptertest"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkadapter"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

const (
	testToken    = "tok-3f9a-SECRET-b71c"
	testUser     = "svc_faultmaven"
	testPassword = "pw-SECRET-91d2e"
)

var t0 = time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC)

var levels = []string{"INFO", "DEBUG", "WARN", "ERROR", "INFO"}

// seed indexes n events, one every 10 s from t0, over three hosts.
func seed(s *splunkstandin.Server, n int) {
	evs := make([]splunkstandin.Event, n)
	for i := range evs {
		host := fmt.Sprintf("web-%d", i%3)
		lvl := levels[i%len(levels)]
		evs[i] = splunkstandin.Event{
			Time:       t0.Add(time.Duration(i) * 10 * time.Second),
			Raw:        fmt.Sprintf("%s %s [main] request %d handled by %s in %dms", t0.Add(time.Duration(i)*10*time.Second).Format(time.RFC3339), lvl, i, host, i%97),
			Index:      "prod_web",
			Sourcetype: "app:log",
			Source:     "/var/log/app.log",
			Host:       host,
			Fields:     map[string]string{"request_id": fmt.Sprintf("r-%04d", i)},
		}
	}
	s.Add(evs...)
}

type env struct {
	srv    *splunkstandin.Server
	ad     *splunkadapter.Adapter
	caFile string
	logs   *adaptertest.SyncBuffer
	sleeps *adaptertest.SleepRecorder
}

func newEnv(t testing.TB, opts splunkstandin.Options, events int) *env {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Username == "" {
		opts.Username, opts.Password = testUser, testPassword
	}
	srv := splunkstandin.Start(t, opts)
	seed(srv, events)
	ca, err := srv.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs := &adaptertest.SyncBuffer{}
	rec := &adaptertest.SleepRecorder{}
	ad := splunkadapter.New(splunkadapter.Options{
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:  rec.Sleep,
	})
	return &env{srv: srv, ad: ad, caFile: ca, logs: logs, sleeps: rec}
}

// config returns an instance config; extra keys override.
func (e *env) config(t testing.TB, extra map[string]any) json.RawMessage {
	t.Helper()
	c := map[string]any{"url": e.srv.URL, "token": testToken, "ca_file": e.caFile, "web_url": "https://splunk.example.com:8000"}
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

func search(ctx context.Context, a *splunkadapter.Adapter, inst string, q sdk.LogQuery) ([]sdk.Record, error) {
	c := &collector{limit: q.Limit}
	err := a.SearchLogs(ctx, inst, q, c)
	return c.recs, err
}

package opensearchadapter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// TestFailuresOverWire launches the plugin binary as the hub does and
// checks the failure codes survive the process boundary (with the
// Retry-After of a rate limit), and that after every failure the plugin
// process is still serving: a good search and a health check succeed.
func TestFailuresOverWire(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	s, srv := startStandin(t, 500, opensearchstandin.Options{})
	c := plugintest.Launch(t, plugintest.BuildPlugin(t, ".."))
	ctx := t.Context()
	if err := c.Configure(ctx, "good", cfg(t, srv.URL, map[string]any{"page_size": 100, "max_retries": 2})); err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(ctx, "badcreds", cfg(t, srv.URL, map[string]any{"password": "wrong-password"})); err != nil {
		t.Fatal(err)
	}
	search := []opensearchstandin.Endpoint{opensearchstandin.EndpointSearch}
	q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	tests := []struct {
		name     string
		instance string
		fault    opensearchstandin.Fault
		deadline time.Duration
		want     sdk.Code
		wantRA   time.Duration
	}{
		{name: "bad credentials", instance: "badcreds", want: sdk.CodeAuth},
		{name: "429 with retry-after", instance: "good", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultRateLimit, RetryAfter: "45"}, want: sdk.CodeRateLimited, wantRA: 45 * time.Second},
		{name: "5xx burst", instance: "good", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultStatus, Status: 503, Endpoints: search}, want: sdk.CodeUnavailable},
		{name: "cut off", instance: "good", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultCutOff, Endpoints: search}, want: sdk.CodeUnavailable},
		{name: "slow past the deadline", instance: "good", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultSlow, Delay: 5 * time.Second, Endpoints: search},
			deadline: 500 * time.Millisecond, want: sdk.CodeUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.SetFault(tc.fault)
			defer s.SetFault(opensearchstandin.Fault{})
			cctx := ctx
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			err := c.SearchLogs(cctx, tc.instance, q, sdk.SearchOptions{}, func([]sdk.Record) error { return nil })
			got := sdk.CodeOf(err)
			if tc.deadline > 0 && errors.Is(err, context.DeadlineExceeded) {
				got = sdk.CodeUnavailable // the host's own deadline fired first: same meaning
			}
			if got != tc.want {
				t.Fatalf("got %v (code %s), want %s", err, got, tc.want)
			}
			var se *sdk.Error
			if tc.wantRA > 0 && (!errors.As(err, &se) || se.RetryAfter != tc.wantRA) {
				t.Errorf("RetryAfter: got %v, want %s", err, tc.wantRA)
			}
			// The plugin is still serving.
			s.SetFault(opensearchstandin.Fault{})
			n := 0
			if err := c.SearchLogs(ctx, "good", q, sdk.SearchOptions{}, func(b []sdk.Record) error { n += len(b); return nil }); err != nil || n != 500 {
				t.Fatalf("search after the failure: %d records, %v; want 500", n, err)
			}
			if rep, err := c.Health(ctx, "good"); err != nil || rep.Status != sdk.HealthOK {
				t.Fatalf("health after the failure: %+v %v", rep, err)
			}
		})
	}
	waitNoOpenPIT(t, s)
}

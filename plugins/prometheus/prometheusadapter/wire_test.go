package prometheusadapter_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// TestFailuresOverWire launches the plugin binary as the hub does, in front
// of the failure proxy and the real server, and checks the codes survive
// the process boundary and the plugin keeps serving after each failure.
func TestFailuresOverWire(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	env := promServer(t)
	px := newProxy(t, env.URL, proxyToken)
	c := plugintest.Launch(t, plugintest.BuildPlugin(t, ".."))
	ctx := t.Context()
	if err := c.Configure(ctx, "good", rawConfig(t, map[string]any{"url": px.srv.URL, "bearer_token": proxyToken, "max_retries": 2})); err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(ctx, "badcreds", rawConfig(t, map[string]any{"url": px.srv.URL, "bearer_token": "nope-nope"})); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		instance string
		f        fault
		deadline time.Duration
		want     sdk.Code
		wantRA   time.Duration
	}{
		{name: "bad credentials", instance: "badcreds", want: sdk.CodeAuth},
		{name: "429 with retry-after", instance: "good", f: fault{kind: faultRateLimit, retryAfter: "45"}, want: sdk.CodeRateLimited, wantRA: 45 * time.Second},
		{name: "5xx burst", instance: "good", f: fault{kind: faultStatus, status: 503}, want: sdk.CodeUnavailable},
		{name: "cut off", instance: "good", f: fault{kind: faultCutOff}, want: sdk.CodeUnavailable},
		{name: "slow past the deadline", instance: "good", f: fault{kind: faultSlow, delay: 5 * time.Second}, deadline: 500 * time.Millisecond, want: sdk.CodeUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			px.set(tc.f)
			defer px.set(fault{})
			cctx := ctx
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			_, err := c.QueryMetrics(cctx, tc.instance, sdk.MetricQuery{Query: "up", Start: env.Started, End: time.Now()})
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
			px.set(fault{})
			if s, err := c.QueryMetrics(ctx, "good", sdk.MetricQuery{Query: "up", Start: env.Started, End: time.Now()}); err != nil || len(s) != 1 {
				t.Fatalf("query after the failure: %v %v", s, err)
			}
			if rep, err := c.Health(ctx, "good"); err != nil || rep.Status != sdk.HealthOK {
				t.Fatalf("health after the failure: %+v %v", rep, err)
			}
		})
	}
}

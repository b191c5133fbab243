package prometheusadapter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

const proxyToken = "prom-T0ken-5ecret-xyz"

// TestFailures puts a proxy in front of the real server and checks each
// injected failure ends in the right code, or in success after bounded
// retries.
func TestFailures(t *testing.T) {
	env := promServer(t)
	px := newProxy(t, env.URL, proxyToken)
	tests := []struct {
		name      string
		token     string // "" = the right one
		f         fault
		deadline  time.Duration
		wantCode  sdk.Code // -1 = success
		wantRA    time.Duration
		wantInMsg string
		minSeen   int
	}{
		{name: "bad credentials", token: "wrong-token", wantCode: sdk.CodeAuth, wantInMsg: "401"},
		{name: "429 then success", f: fault{kind: faultRateLimit, count: 2, retryAfter: "0"}, wantCode: -1, minSeen: 3},
		{name: "429 persisting", f: fault{kind: faultRateLimit, retryAfter: "1"}, wantCode: sdk.CodeRateLimited, wantRA: time.Second, minSeen: 4},
		{name: "429 asking too long", f: fault{kind: faultRateLimit, retryAfter: "90"}, wantCode: sdk.CodeRateLimited, wantRA: 90 * time.Second, minSeen: 1},
		{name: "5xx burst then success", f: fault{kind: faultStatus, status: 503, count: 3}, wantCode: -1, minSeen: 4},
		{name: "5xx persisting", f: fault{kind: faultStatus, status: 502}, wantCode: sdk.CodeUnavailable, wantInMsg: "HTTP 502", minSeen: 4},
		{name: "cut off once then success", f: fault{kind: faultCutOff, count: 1}, wantCode: -1, minSeen: 2},
		{name: "cut off persisting", f: fault{kind: faultCutOff}, wantCode: sdk.CodeUnavailable, wantInMsg: "cut off", minSeen: 4},
		{name: "slow backend past the deadline", f: fault{kind: faultSlow, delay: 5 * time.Second}, deadline: 300 * time.Millisecond,
			wantCode: sdk.CodeUnavailable, wantInMsg: "deadline"},
		{name: "malformed 200", f: fault{kind: faultMalformed}, wantCode: sdk.CodeInternal, wantInMsg: "malformed response"},
		{name: "status error inside 200", f: fault{kind: faultErrorIn200}, wantCode: sdk.CodeUnavailable, wantInMsg: "query timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdapter(nil)
			ctx := t.Context()
			token := proxyToken
			if tc.token != "" {
				token = tc.token
			}
			if err := a.Configure(ctx, "p", rawConfig(t, map[string]any{"url": px.srv.URL, "bearer_token": token})); err != nil {
				t.Fatal(err)
			}
			px.set(tc.f)
			defer px.set(fault{})
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			now := time.Now()
			s, err := a.QueryMetrics(ctx, "p", sdk.MetricQuery{Query: "faultmaven_ingest_records_total", Start: env.Started, End: now, Step: time.Second})
			if tc.wantCode == -1 {
				if err != nil || len(s) != 2 {
					t.Fatalf("got %d series, %v; want the 2 series after retries", len(s), err)
				}
			} else {
				if got := sdk.CodeOf(err); got != tc.wantCode {
					t.Fatalf("got %v (code %s), want code %s", err, got, tc.wantCode)
				}
				if tc.wantInMsg != "" && !strings.Contains(err.Error(), tc.wantInMsg) {
					t.Errorf("error %q does not say %q", err, tc.wantInMsg)
				}
				var se *sdk.Error
				if tc.wantRA > 0 && (!errors.As(err, &se) || se.RetryAfter != tc.wantRA) {
					t.Errorf("RetryAfter: got %v, want %s", err, tc.wantRA)
				}
			}
			if got := px.seen(); got < tc.minSeen {
				t.Errorf("proxy saw %d requests, want at least %d (retries)", got, tc.minSeen)
			}
		})
	}
}

func TestUnknownInstance(t *testing.T) {
	_, err := newAdapter(nil).QueryMetrics(t.Context(), "nope", sdk.MetricQuery{Query: "up"})
	if sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("got %v, want not_found", err)
	}
}

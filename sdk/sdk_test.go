package sdk_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// TestMain doubles as the plugin: when go-plugin launches this test binary
// (the magic cookie is set), it serves memAdapter instead of running tests.
func TestMain(m *testing.M) {
	if os.Getenv(sdk.Handshake.MagicCookieKey) == sdk.Handshake.MagicCookieValue {
		sdk.Serve(newMem())
		return
	}
	if os.Getenv("FAULTMAVEN_SDK_TEST_ROLE") == "host" {
		runAsHost()
		return
	}
	os.Exit(m.Run())
}

func TestConformanceMemAdapter(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		New:             func() sdk.Adapter { return newMem() },
		Binary:          os.Args[0],
		GoodConfig:      json.RawMessage(`{"records": 50}`),
		UnhealthyConfig: json.RawMessage(`{"records": 5, "fail_health": true}`),
		BadConfigs: []plugintest.BadConfig{
			{Name: "zero-records", Config: json.RawMessage(`{"records": 0}`), Field: "records"},
			{Name: "unknown-field", Config: json.RawMessage(`{"records": 1, "nope": 1}`)},
		},
		LogQuery:   sdk.LogQuery{Start: memBase, End: memBase.Add(time.Hour)},
		MinRecords: 50,
	})
}

func TestErrorsCrossTheWire(t *testing.T) {
	c := plugintest.Launch(t, os.Args[0])
	ctx := t.Context()
	if err := c.Configure(ctx, "c/x", json.RawMessage(`{"records": 0}`)); err == nil {
		t.Fatal("Configure(bad): got nil")
	} else {
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "records" {
			t.Fatalf("Configure(bad): got %#v, want a ConfigError naming records", err)
		}
	}
	if err := c.Configure(ctx, "c/x", json.RawMessage(`{"records": 3}`)); err != nil {
		t.Fatal(err)
	}
	err := c.SearchLogs(ctx, "c/x", sdk.LogQuery{Query: "bad: ("}, sdk.SearchOptions{}, func([]sdk.Record) error { return nil })
	if sdk.CodeOf(err) != sdk.CodeBadQuery {
		t.Fatalf("bad query: got %v (code %s), want bad_query", err, sdk.CodeOf(err))
	}
	_, err = c.Health(ctx, "c/missing")
	if sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("unknown instance: got %v, want not_found", err)
	}
}

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want sdk.Severity
	}{
		{"WARNING", sdk.SeverityWarn}, {"err", sdk.SeverityError}, {"CRITICAL", sdk.SeverityFatal},
		{"info", sdk.SeverityInfo}, {"dbg", sdk.SeverityDebug}, {"verbose-ish", sdk.SeverityUnspecified},
	} {
		if got := sdk.ParseSeverity(tc.in); got != tc.want {
			t.Errorf("ParseSeverity(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	e := sdk.RateLimited(3*time.Second, "slow down")
	if !e.Code.Retryable() || e.RetryAfter != 3*time.Second {
		t.Fatalf("RateLimited: %+v", e)
	}
	wrapped := errors.Join(errors.New("outer"), e)
	if sdk.CodeOf(wrapped) != sdk.CodeRateLimited {
		t.Fatalf("CodeOf(wrapped) = %s", sdk.CodeOf(wrapped))
	}
	if sdk.CodeOf(errors.New("x")) != sdk.CodeInternal {
		t.Fatal("plain error should be internal")
	}
}

func TestRetryAfterCrossesTheWireOnce(t *testing.T) {
	c := plugintest.Launch(t, os.Args[0])
	ctx := t.Context()
	if err := c.Configure(ctx, "c/x", json.RawMessage(`{"records": 3}`)); err != nil {
		t.Fatal(err)
	}
	err := c.SearchLogs(ctx, "c/x", sdk.LogQuery{Query: "ratelimit:"}, sdk.SearchOptions{}, func([]sdk.Record) error { return nil })
	var se *sdk.Error
	if !errors.As(err, &se) || se.Code != sdk.CodeRateLimited || se.RetryAfter != 45*time.Second {
		t.Fatalf("got %#v, want rate_limited with retry-after 45s", err)
	}
	if n := strings.Count(err.Error(), "retry after"); n != 1 {
		t.Errorf("%q mentions the retry-after %d times, want once", err.Error(), n)
	}
}

func TestRetryPolicyBackoffBounds(t *testing.T) {
	p := sdk.RetryPolicy{BaseBackoff: 100 * time.Millisecond}.WithDefaults()
	for attempt := 0; attempt < 40; attempt++ {
		want := min(p.BaseBackoff<<min(attempt, 16), p.MaxBackoff)
		if got := p.Backoff(attempt); got < want/2 || got > want {
			t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", attempt, got, want/2, want)
		}
	}
	if p.MaxBackoff != 5*time.Second || p.MaxRetryAfter != 30*time.Second {
		t.Errorf("defaults not filled: %+v", p)
	}
}

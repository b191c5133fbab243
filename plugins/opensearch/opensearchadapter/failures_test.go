package opensearchadapter_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestFailures injects each documented failure into the stand-in and
// checks the search's outcome: the error code the host acts on, or a
// success after bounded retries.
func TestFailures(t *testing.T) {
	search := []opensearchstandin.Endpoint{opensearchstandin.EndpointSearch}
	tests := []struct {
		name      string
		password  string // "" = the right one
		fault     opensearchstandin.Fault
		deadline  time.Duration // 0 = none
		wantCode  sdk.Code      // -1 = success
		wantRA    time.Duration // for rate limits
		wantInMsg string
		minSearch int // search requests the stand-in must have seen (retries)
	}{
		{name: "bad credentials", password: "wrong-password", wantCode: sdk.CodeAuth, wantInMsg: "401"},
		{name: "429 then success", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultRateLimit, Count: 2, RetryAfter: "0", Endpoints: search},
			wantCode: -1, minSearch: 3},
		{name: "429 persisting", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultRateLimit, RetryAfter: "1", Endpoints: search},
			wantCode: sdk.CodeRateLimited, wantRA: time.Second, wantInMsg: "es_rejected_execution_exception", minSearch: 4},
		{name: "429 asking longer than the policy allows", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultRateLimit, RetryAfter: "120"},
			wantCode: sdk.CodeRateLimited, wantRA: 120 * time.Second},
		{name: "5xx burst then success", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultStatus, Status: 503, Count: 3},
			wantCode: -1},
		{name: "5xx persisting", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultStatus, Status: 502, Endpoints: search},
			wantCode: sdk.CodeUnavailable, wantInMsg: "HTTP 502", minSearch: 4},
		{name: "cut off once then success", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultCutOff, Count: 1, Endpoints: search},
			wantCode: -1, minSearch: 2},
		{name: "cut off persisting", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultCutOff, Endpoints: search},
			wantCode: sdk.CodeUnavailable, wantInMsg: "cut off", minSearch: 4},
		{name: "slow backend past the deadline", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultSlow, Delay: 5 * time.Second, Endpoints: search},
			deadline: 300 * time.Millisecond, wantCode: sdk.CodeUnavailable, wantInMsg: "deadline"},
		{name: "shard failures inside 200", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultShardFailure, Endpoints: search},
			wantCode: sdk.CodeUnavailable, wantInMsg: "1 of 2 shards failed"},
		{name: "timed_out inside 200", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultTimedOut, Endpoints: search},
			wantCode: sdk.CodeUnavailable, wantInMsg: "timed out"},
		{name: "malformed 200", fault: opensearchstandin.Fault{Kind: opensearchstandin.FaultMalformed, Endpoints: search},
			wantCode: sdk.CodeInternal, wantInMsg: "malformed response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := startStandin(t, 300, opensearchstandin.Options{})
			a := newAdapter(t, nil)
			ctx := t.Context()
			extra := map[string]any{"page_size": 100}
			if tc.password != "" {
				extra["password"] = tc.password
			}
			if err := a.Configure(ctx, "c", cfg(t, srv.URL, extra)); err != nil {
				t.Fatal(err)
			}
			s.SetFault(tc.fault)
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			w := &collector{}
			began := time.Now()
			err := a.SearchLogs(ctx, "c", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}, w)
			t.Logf("SearchLogs returned after %s: %v", time.Since(began), err)
			st := s.Stats()
			if tc.wantCode == -1 {
				if err != nil {
					t.Fatalf("SearchLogs: %v, want success after retries", err)
				}
				if len(w.recs) != 300 {
					t.Fatalf("got %d records, want 300", len(w.recs))
				}
			} else {
				if got := sdk.CodeOf(err); got != tc.wantCode {
					t.Fatalf("SearchLogs: %v (code %s), want code %s", err, got, tc.wantCode)
				}
				if tc.wantInMsg != "" && !strings.Contains(err.Error(), tc.wantInMsg) {
					t.Errorf("error %q does not say %q", err, tc.wantInMsg)
				}
				var se *sdk.Error
				if tc.wantRA > 0 && (!errors.As(err, &se) || se.RetryAfter != tc.wantRA) {
					t.Errorf("RetryAfter: got %v, want %s", err, tc.wantRA)
				}
			}
			if got := st.Requests[opensearchstandin.EndpointSearch]; got < tc.minSearch {
				t.Errorf("stand-in saw %d search requests, want at least %d (retries)", got, tc.minSearch)
			}
			// Whatever happened, no point in time is left open (the slow
			// case's PIT is deleted after its search is abandoned).
			waitNoOpenPIT(t, s)
		})
	}
}

// waitNoOpenPIT polls (bounded) until the stand-in holds no open PIT: the
// delete of an abandoned search may land just after SearchLogs returns.
func waitNoOpenPIT(t *testing.T, s *opensearchstandin.Standin) {
	t.Helper()
	for range 100 {
		if s.Stats().OpenPITs == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("%d PITs left open, want 0", s.Stats().OpenPITs)
}

// TestPITDeletedOnCancel cancels a search mid-way (the writer stops it) and
// checks the PIT is deleted anyway.
func TestPITDeletedOnCancel(t *testing.T) {
	s, srv := startStandin(t, 2000, opensearchstandin.Options{})
	a := newAdapter(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := a.Configure(ctx, "c", cfg(t, srv.URL, map[string]any{"page_size": 100})); err != nil {
		t.Fatal(err)
	}
	n := 0
	w := writerFunc(func(sdk.Record) error {
		if n++; n == 150 {
			cancel()
			return context.Canceled
		}
		return nil
	})
	err := a.SearchLogs(ctx, "c", sdk.LogQuery{}, w)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	waitNoOpenPIT(t, s)
}

type writerFunc func(sdk.Record) error

func (f writerFunc) Write(r sdk.Record) error { return f(r) }

func TestIndexNotFound(t *testing.T) {
	_, srv := startStandin(t, 10, opensearchstandin.Options{})
	a := newAdapter(t, nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "c", cfg(t, srv.URL, map[string]any{"index": "no-such-index"})); err != nil {
		t.Fatal(err)
	}
	err := a.SearchLogs(ctx, "c", sdk.LogQuery{}, &collector{})
	if sdk.CodeOf(err) != sdk.CodeNotFound || !strings.Contains(err.Error(), "no such index [no-such-index]") {
		t.Fatalf("got %v, want not_found naming the index", err)
	}
}

func TestUnreachable(t *testing.T) {
	_, srv := startStandin(t, 1, opensearchstandin.Options{})
	url := srv.URL
	srv.Close()
	a := newAdapter(t, nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "c", cfg(t, url, map[string]any{"max_retries": 1})); err != nil {
		t.Fatal(err)
	}
	err := a.SearchLogs(ctx, "c", sdk.LogQuery{}, &collector{})
	if sdk.CodeOf(err) != sdk.CodeUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
}

package opensearchadapter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

// TestSearchPastResultWindow reads more documents than the 10,000-hit
// from+size window allows, through PIT + search_after, and checks every
// document arrives exactly once, oldest first, with the PIT deleted.
func TestSearchPastResultWindow(t *testing.T) {
	const n = 12500
	for _, tc := range []struct {
		name  string
		noPIT bool
	}{{"point-in-time", false}, {"search-after-only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := startStandin(t, n, opensearchstandin.Options{NoPIT: tc.noPIT})
			a := newAdapter(t, nil)
			ctx := t.Context()
			if err := a.Configure(ctx, "c", cfg(t, srv.URL, map[string]any{"page_size": 1000})); err != nil {
				t.Fatal(err)
			}
			w := &collector{}
			q := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour), Limit: n + 10}
			if err := a.SearchLogs(ctx, "c", q, w); err != nil {
				t.Fatalf("SearchLogs: %v", err)
			}
			if len(w.recs) != n {
				t.Fatalf("got %d records, want %d", len(w.recs), n)
			}
			seen := map[string]bool{}
			for i, r := range w.recs {
				if seen[r.Source.NativeID] {
					t.Fatalf("record %s arrived twice", r.Source.NativeID)
				}
				seen[r.Source.NativeID] = true
				if i > 0 && r.Timestamp.Before(w.recs[i-1].Timestamp) {
					t.Fatalf("record %d at %s is older than the one before it", i, r.Timestamp)
				}
			}
			st := s.Stats()
			if st.OpenPITs != 0 {
				t.Errorf("%d PITs left open, want 0", st.OpenPITs)
			}
			if !tc.noPIT && (st.PITsCreated != 1 || st.PITsDeleted != 1) {
				t.Errorf("PITs created %d deleted %d, want 1 and 1", st.PITsCreated, st.PITsDeleted)
			}
			if st.MaxSize > 1000 {
				t.Errorf("largest page asked %d, want <= page_size 1000", st.MaxSize)
			}
			if got := st.Requests[opensearchstandin.EndpointSearch]; got < n/1000 {
				t.Errorf("%d search requests, want at least %d pages", got, n/1000)
			}
		})
	}
}

func TestSearchQueries(t *testing.T) {
	_, srv := startStandin(t, 2000, opensearchstandin.Options{})
	a := newAdapter(t, nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "c", cfg(t, srv.URL, map[string]any{"page_size": 300})); err != nil {
		t.Fatal(err)
	}
	window := sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}
	tests := []struct {
		name  string
		query string
		want  func(r sdk.Record) bool
		min   int
		code  sdk.Code // != 0: the search must fail with this code
	}{
		{name: "query_string term", query: "exhausted", want: func(r sdk.Record) bool { return strings.Contains(r.Body, "exhausted") }, min: 280},
		{name: "query_string field and boolean", query: `service.name:checkout AND NOT exhausted`, want: func(r sdk.Record) bool {
			return r.Service == "checkout-api" && !strings.Contains(r.Body, "exhausted")
		}, min: 500},
		{name: "DSL clause", query: `{"term":{"log.level":"ERROR"}}`, want: func(r sdk.Record) bool { return r.Attributes != nil && r.Severity == sdk.SeverityError }, min: 200},
		{name: "DSL body with only query", query: `{"query":{"match_phrase":{"message":"pool exhausted"}}}`, want: func(r sdk.Record) bool {
			return strings.Contains(r.Body, "pool exhausted")
		}, min: 280},
		{name: "DSL with sort is refused", query: `{"query":{"match_all":{}},"sort":["_doc"]}`, code: sdk.CodeBadQuery},
		{name: "DSL not JSON", query: `{"term":`, code: sdk.CodeBadQuery},
		{name: "query_string syntax error", query: `message:(unclosed OR`, code: sdk.CodeBadQuery},
		{name: "unknown DSL query", query: `{"fuzzy_thing":{"message":"x"}}`, code: sdk.CodeBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := window
			q.Query = tc.query
			w := &collector{}
			err := a.SearchLogs(ctx, "c", q, w)
			if tc.code != 0 {
				if sdk.CodeOf(err) != tc.code {
					t.Fatalf("got %v, want code %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("SearchLogs(%q): %v", tc.query, err)
			}
			if len(w.recs) < tc.min {
				t.Fatalf("SearchLogs(%q): %d records, want at least %d", tc.query, len(w.recs), tc.min)
			}
			for _, r := range w.recs {
				if !tc.want(r) {
					t.Fatalf("SearchLogs(%q) returned %+v", tc.query, r)
				}
			}
		})
	}
}

func TestSearchRangeFiltersAndLimit(t *testing.T) {
	_, srv := startStandin(t, 1000, opensearchstandin.Options{})
	a := newAdapter(t, nil)
	ctx := t.Context()
	if err := a.Configure(ctx, "c", cfg(t, srv.URL, map[string]any{"page_size": 64})); err != nil {
		t.Fatal(err)
	}
	// [t0+10.05s, t0+20s): starts between two documents (sub-millisecond
	// bound) and excludes the document exactly at the end.
	start := t0.Add(10*time.Second + 50*time.Millisecond + 300*time.Microsecond)
	end := t0.Add(20 * time.Second)
	tests := []struct {
		name    string
		q       sdk.LogQuery
		want    int
		checkFn func(t *testing.T, r sdk.Record)
	}{
		{name: "half-open range", q: sdk.LogQuery{Start: start, End: end}, want: 99},
		{name: "limit", q: sdk.LogQuery{Start: start, End: end, Limit: 7}, want: 7},
		{name: "service filter", q: sdk.LogQuery{Start: start, End: end, Filters: sdk.LogFilters{Services: []string{"orders-api"}}}, want: count(101, 199, func(i int) bool { return i%3 == 0 }),
			checkFn: func(t *testing.T, r sdk.Record) {
				if r.Service != "orders-api" {
					t.Fatalf("service %q", r.Service)
				}
			}},
		{name: "severity filter", q: sdk.LogQuery{Start: start, End: end, Filters: sdk.LogFilters{MinSeverity: sdk.SeverityError}}, want: count(101, 199, func(i int) bool { return sdk.ParseSeverity(levels[i%len(levels)]) >= sdk.SeverityError }),
			checkFn: func(t *testing.T, r sdk.Record) {
				if r.Severity < sdk.SeverityError {
					t.Fatalf("severity %s", r.Severity)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &collector{limit: tc.q.Limit}
			if err := a.SearchLogs(ctx, "c", tc.q, w); err != nil {
				t.Fatal(err)
			}
			if len(w.recs) != tc.want {
				t.Fatalf("got %d records, want %d", len(w.recs), tc.want)
			}
			for _, r := range w.recs {
				if !tc.q.InRange(r.Timestamp) {
					t.Fatalf("record at %s outside [%s, %s)", r.Timestamp, tc.q.Start, tc.q.End)
				}
				if tc.checkFn != nil {
					tc.checkFn(t, r)
				}
			}
		})
	}
}

func TestRecordMapping(t *testing.T) {
	s := opensearchstandin.New(opensearchstandin.Options{})
	s.AddDateField("ts")
	if err := s.Index("app-1", opensearchstandin.Doc{ID: "abc'!1", Source: map[string]any{
		"ts":         "2024-03-05T13:00:01.250Z",
		"msg":        "upstream timed out",
		"kubernetes": map[string]any{"labels": map[string]any{"app": "orders-api"}},
		"lvl":        "warning",
		"node":       "ip-10-0-0-1",
		"http":       map[string]any{"status": 504, "path": "/checkout"},
		"tags":       []any{"a", "b"},
	}}); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, s)
	a := newAdapter(t, nil)
	ctx := t.Context()
	conf := cfg(t, srv.URL, map[string]any{
		"username": nil, "password": nil, "index": "app-*",
		"fields":         map[string]any{"timestamp": "ts", "message": "msg", "service": "kubernetes.labels.app", "level": "lvl", "host": "node"},
		"dashboards_url": "https://dashboards.example.com/",
	})
	if err := a.Configure(ctx, "c", conf); err != nil {
		t.Fatal(err)
	}
	w := &collector{}
	if err := a.SearchLogs(ctx, "c", sdk.LogQuery{}, w); err != nil {
		t.Fatal(err)
	}
	if len(w.recs) != 1 {
		t.Fatalf("got %d records, want 1", len(w.recs))
	}
	r := w.recs[0]
	checks := []struct{ name, got, want string }{
		{"timestamp", r.Timestamp.Format(time.RFC3339Nano), "2024-03-05T13:00:01.25Z"},
		{"body", r.Body, "upstream timed out"},
		{"service", r.Service, "orders-api"},
		{"host", r.Host, "ip-10-0-0-1"},
		{"severity", r.Severity.String(), "warn"},
		{"native id", r.Source.NativeID, "app-1/abc'!1"},
		{"attribute http.status", r.Attributes["http.status"], "504"},
		{"attribute http.path", r.Attributes["http.path"], "/checkout"},
		{"attribute tags", r.Attributes["tags"], `["a","b"]`},
		{"attribute index", r.Attributes["opensearch.index"], "app-1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	for _, mapped := range []string{"ts", "msg", "kubernetes.labels.app", "lvl", "node"} {
		if _, ok := r.Attributes[mapped]; ok {
			t.Errorf("mapped field %q repeated as an attribute", mapped)
		}
	}
	if !strings.HasPrefix(r.Source.Link, "https://dashboards.example.com/app/data-explorer/discover#?_g=") ||
		!strings.Contains(r.Source.Link, "abc") {
		t.Errorf("link %q: want a Discover URL naming the document", r.Source.Link)
	}

	// With an index pattern id the link is the single-document view.
	conf = cfg(t, srv.URL, map[string]any{
		"username": nil, "password": nil, "index": "app-*",
		"fields":         map[string]any{"timestamp": "ts", "message": "msg"},
		"dashboards_url": "https://dashboards.example.com", "dashboards_index_pattern": "ip-1",
	})
	if err := a.Configure(ctx, "c", conf); err != nil {
		t.Fatal(err)
	}
	w = &collector{}
	if err := a.SearchLogs(ctx, "c", sdk.LogQuery{}, w); err != nil {
		t.Fatal(err)
	}
	if want := "https://dashboards.example.com/app/discover#/doc/ip-1/app-1?id=abc%27%211"; len(w.recs) != 1 || w.recs[0].Source.Link != want {
		t.Errorf("doc link: got %+v, want %q", w.recs, want)
	}
}

func TestSearchUnknownInstance(t *testing.T) {
	a := newAdapter(t, nil)
	err := a.SearchLogs(t.Context(), "nope", sdk.LogQuery{}, &collector{})
	if sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Fatalf("got %v, want not_found", err)
	}
}

// count counts the synthetic documents i in [lo, hi] for which keep holds.
func count(lo, hi int, keep func(i int) bool) int {
	n := 0
	for i := lo; i <= hi; i++ {
		if keep(i) {
			n++
		}
	}
	return n
}

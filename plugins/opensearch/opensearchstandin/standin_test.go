package opensearchstandin_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
)

// client returns the official typed client pointed at srv, with its
// retries off so each call is one request.
func client(t *testing.T, srv *httptest.Server, user, pass string) *opensearchapi.Client {
	t.Helper()
	no := false
	c, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses: []string{srv.URL}, Username: user, Password: pass, DisableRetry: true,
		HealthCheckMaxRetries: -1, DiscoverNodesOnStart: &no,
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Client.Close() })
	return c
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, opts opensearchstandin.Options, n int) (*opensearchstandin.Standin, *httptest.Server) {
	t.Helper()
	s := opensearchstandin.New(opts)
	base := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	docs := make([]opensearchstandin.Doc, n)
	for i := range docs {
		docs[i] = opensearchstandin.Doc{ID: fmt.Sprintf("d%05d", i), Source: map[string]any{
			"@timestamp": base.Add(time.Duration(i/2) * time.Second).Format(time.RFC3339), // pairs share a timestamp
			"message":    fmt.Sprintf("event %d level %s", i, []string{"info", "error"}[i%2]),
			"service":    map[string]any{"name": []string{"web", "db"}[i%2]},
		}}
	}
	if err := s.Index("logs-a", docs...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func TestResultWindow(t *testing.T) {
	_, srv := start(t, opensearchstandin.Options{}, 20)
	c := client(t, srv, "", "")
	_, err := c.Search(t.Context(), &opensearchapi.SearchReq{Indices: []string{"logs-*"}, Body: strings.NewReader(`{"from":9995,"size":10}`)})
	var se *opensearch.StructError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *opensearch.StructError", err)
	}
	if se.Status != 400 || se.Err.Type != "search_phase_execution_exception" || len(se.Err.RootCause) != 1 ||
		se.Err.RootCause[0].Type != "illegal_argument_exception" || !strings.Contains(se.Err.RootCause[0].Reason, "[10000] but was [10005]") {
		t.Fatalf("got %+v, want the result-window error", se)
	}
}

func TestSearchWireShape(t *testing.T) {
	_, srv := start(t, opensearchstandin.Options{}, 30)
	c := client(t, srv, "", "")
	ctx := t.Context()
	tests := []struct {
		name    string
		index   []string
		body    string
		total   int
		hits    int
		firstID string
		status  int // != 0: the error status
		errType string
	}{
		{name: "default total", index: []string{"logs-a"}, body: `{"size":5,"sort":[{"@timestamp":"asc"},{"_id":"asc"}]}`, total: 30, hits: 5, firstID: "d00000"},
		{name: "query_string", index: []string{"logs-*"}, body: `{"query":{"query_string":{"query":"error AND service.name:db","default_field":"message"}},"size":100}`, total: 15, hits: 15},
		{name: "range epoch_millis", index: []string{"_all"}, body: fmt.Sprintf(`{"query":{"range":{"@timestamp":{"gte":%d,"lt":%d,"format":"epoch_millis"}}},"size":100}`,
			time.Date(2024, 1, 15, 10, 0, 5, 0, time.UTC).UnixMilli(), time.Date(2024, 1, 15, 10, 0, 10, 0, time.UTC).UnixMilli()), total: 10, hits: 10},
		{name: "search_after past a tie", index: []string{"logs-a"}, body: `{"size":3,"sort":[{"@timestamp":"asc"},{"_id":"asc"}],"search_after":[1705312801000,"d00002"]}`,
			total: 30, hits: 3, firstID: "d00003"},
		{name: "missing index", index: []string{"nope"}, body: `{}`, status: 404, errType: "index_not_found_exception"},
		{name: "unknown body key", index: []string{"logs-a"}, body: `{"sise":3}`, status: 400, errType: "parsing_exception"},
		{name: "unknown query", index: []string{"logs-a"}, body: `{"query":{"fuzzy_thing":{}}}`, status: 400, errType: "parsing_exception"},
		{name: "query_string syntax", index: []string{"logs-a"}, body: `{"query":{"query_string":{"query":"(a OR"}}}`, status: 400, errType: "search_phase_execution_exception"},
		{name: "search_after length", index: []string{"logs-a"}, body: `{"sort":["_id"],"search_after":[1,"x"]}`, status: 400, errType: "illegal_argument_exception"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Search(ctx, &opensearchapi.SearchReq{Indices: tc.index, Body: strings.NewReader(tc.body)})
			if tc.status != 0 {
				var se *opensearch.StructError
				if !errors.As(err, &se) || se.Status != tc.status || se.Err.Type != tc.errType {
					t.Fatalf("got %v, want %d %s", err, tc.status, tc.errType)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Hits.Total.Value != tc.total || resp.Hits.Total.Relation != "eq" || len(resp.Hits.Hits) != tc.hits {
				t.Fatalf("total %+v, %d hits; want %d eq, %d hits", resp.Hits.Total, len(resp.Hits.Hits), tc.total, tc.hits)
			}
			if tc.firstID != "" && resp.Hits.Hits[0].ID != tc.firstID {
				t.Fatalf("first hit %s, want %s", resp.Hits.Hits[0].ID, tc.firstID)
			}
		})
	}
}

func TestPointInTime(t *testing.T) {
	clk := &clock{t: time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)}
	s, srv := start(t, opensearchstandin.Options{Now: clk.now}, 10)
	c := client(t, srv, "", "")
	ctx := t.Context()
	pit, err := c.PointInTime.Create(ctx, opensearchapi.PointInTimeCreateReq{Indices: []string{"logs-*"},
		Params: opensearchapi.PointInTimeCreateParams{KeepAlive: time.Minute}})
	if err != nil || pit.PitID == "" {
		t.Fatalf("create: %v", err)
	}
	// Documents indexed later are not in the snapshot.
	if err := s.Index("logs-a", opensearchstandin.Doc{Source: map[string]any{"@timestamp": "2024-01-15T11:00:00Z", "message": "late"}}); err != nil {
		t.Fatal(err)
	}
	body := `{"size":100,"pit":{"id":"` + pit.PitID + `","keep_alive":"60000ms"},"sort":[{"@timestamp":"asc"}]}`
	resp, err := c.Search(ctx, &opensearchapi.SearchReq{Body: strings.NewReader(body)})
	if err != nil || len(resp.Hits.Hits) != 10 {
		t.Fatalf("PIT search: %v, want the 10 documents of the snapshot", err)
	}
	// A PIT search naming an index is refused.
	if _, err := c.Search(ctx, &opensearchapi.SearchReq{Indices: []string{"logs-a"}, Body: strings.NewReader(body)}); err == nil {
		t.Fatal("PIT search with an index: got success, want 400")
	}
	// Expiry.
	clk.add(2 * time.Minute)
	_, err = c.Search(ctx, &opensearchapi.SearchReq{Body: strings.NewReader(body)})
	var se *opensearch.StructError
	if !errors.As(err, &se) || se.Status != 404 || se.Err.RootCause[0].Type != "search_context_missing_exception" {
		t.Fatalf("expired PIT: got %v, want 404 search_context_missing_exception", err)
	}
	// Delete.
	pit2, err := c.PointInTime.Create(ctx, opensearchapi.PointInTimeCreateReq{Indices: []string{"logs-a"},
		Params: opensearchapi.PointInTimeCreateParams{KeepAlive: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	del, err := c.PointInTime.Delete(ctx, opensearchapi.PointInTimeDeleteReq{PitID: []string{pit2.PitID}})
	if err != nil || len(del.Pits) != 1 || !del.Pits[0].Successful {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	if st := s.Stats(); st.OpenPITs != 0 || st.PITsCreated != 2 || st.PITsDeleted != 1 {
		t.Fatalf("stats %+v: want 0 open, 2 created, 1 deleted", st)
	}
}

func TestBasicAuthAndHealth(t *testing.T) {
	s, srv := start(t, opensearchstandin.Options{Username: "u", Password: "p"}, 1)
	ctx := t.Context()
	if _, err := client(t, srv, "u", "wrong").Info(ctx, nil); err == nil {
		t.Fatal("wrong password: got success")
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "OpenSearch Security") {
		t.Fatalf("no credentials: %d %v, want 401 with the security realm", resp.StatusCode, resp.Header)
	}
	c := client(t, srv, "u", "p")
	info, err := c.Info(ctx, nil)
	if err != nil || info.Version.Number == "" || info.ClusterName == "" {
		t.Fatalf("info: %+v %v", info, err)
	}
	s.SetClusterStatus("red")
	h, err := c.Cluster.Health(ctx, nil)
	if err != nil || h.Status != "red" {
		t.Fatalf("health: %+v %v, want red with 200", h, err)
	}
	if st := s.Stats(); st.AuthFailed != 2 {
		t.Errorf("auth failures %d, want 2", st.AuthFailed)
	}
}

func TestFaults(t *testing.T) {
	s, srv := start(t, opensearchstandin.Options{}, 5)
	get := func() (*http.Response, error) {
		return http.Post(srv.URL+"/logs-a/_search", "application/json", strings.NewReader(`{}`))
	}
	s.SetFault(opensearchstandin.Fault{Kind: opensearchstandin.FaultRateLimit, Count: 1, RetryAfter: "7"})
	resp, err := get()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("got %d Retry-After %q, want 429 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, err = get(); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the burst: %v, want 200", err)
	}
	resp.Body.Close()
	s.SetFault(opensearchstandin.Fault{Kind: opensearchstandin.FaultCutOff})
	resp, err = get()
	if err == nil {
		_, err = readAll(resp)
	}
	if err == nil {
		t.Fatal("cut-off response read whole, want an unexpected EOF")
	}
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

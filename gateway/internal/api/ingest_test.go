package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
	"github.com/faultmaven/faultmaven/gateway/internal/api"
	"github.com/faultmaven/faultmaven/sdk"
)

var ingestT0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// oneRecordPerSecond is a deterministic source: one record per second of
// any window, every 10th an error.
var oneRecordPerSecond = jobs.LogSourceFunc(func(ctx context.Context, id string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	var batch []sdk.Record
	for ts := q.Start.Truncate(time.Second); ts.Before(q.End); ts = ts.Add(time.Second) {
		if !q.InRange(ts) {
			continue
		}
		n := ts.Unix()
		r := sdk.Record{Timestamp: ts, Service: "api", Severity: sdk.SeverityInfo, Body: fmt.Sprintf("served /items/%d in %d ms", n%100, n%37),
			Source: sdk.SourceRef{Instance: id, NativeID: fmt.Sprint(n)}}
		if n%10 == 0 {
			r.Severity, r.Body = sdk.SeverityError, fmt.Sprintf("connection to db-%d refused", n%3)
		}
		batch = append(batch, r)
	}
	return fn(batch)
})

func newIngestServer(t *testing.T) (*httptest.Server, store.Store) {
	t.Helper()
	u, dir := storetest.SQLitePath(t)
	st := storetest.Open(t, store.Options{URL: u, DataDir: dir}, storetest.NewKeyring(t))
	require.NoError(t, st.UpsertIntegration(t.Context(), store.Integration{Cluster: "prod", Name: "files", Plugin: "files"}))
	q, err := jobs.New(t.Context(), jobs.Options{Store: st, Source: oneRecordPerSecond, NewAnalyzer: jobs.NewLogAnalysis(loganalysis.DefaultOptions()),
		Retention: -1, PollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, q.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	r := mux.NewRouter()
	api.RegisterIngest(r, q, st, func() time.Time { return ingestT0.Add(time.Hour) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, st
}

func doJSON(t *testing.T, method, url string, body any, out any) *http.Response {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		if s, ok := body.(string); ok {
			rd.WriteString(s)
		} else {
			require.NoError(t, json.NewEncoder(&rd).Encode(body))
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, &rd)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp
}

func TestIngestAPI(t *testing.T) {
	srv, st := newIngestServer(t)

	var acc api.IngestAccepted
	resp := doJSON(t, http.MethodPost, srv.URL+"/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "files", "since": "30m"}, &acc)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Positive(t, acc.JobID)
	require.Equal(t, acc.StatusURL, resp.Header.Get("Location"))

	var job jobs.JobStatus
	require.Eventually(t, func() bool {
		resp := doJSON(t, http.MethodGet, srv.URL+acc.StatusURL, nil, &job)
		return resp.StatusCode == http.StatusOK && job.Done()
	}, 60*time.Second, 100*time.Millisecond)
	require.Equal(t, "completed", job.State)
	require.EqualValues(t, 1800, job.RecordsStored)
	require.True(t, job.From.Equal(ingestT0.Add(30*time.Minute)), "window start %v", job.From)

	var tpl struct{ Templates []api.TemplateJSON }
	resp = doJSON(t, http.MethodGet, srv.URL+"/api/v1/templates?cluster=prod&integration=files", nil, &tpl)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, tpl.Templates)
	var total int64
	for _, x := range tpl.Templates {
		total += x.Count
		require.NotEmpty(t, x.Template)
	}
	require.EqualValues(t, 1800, total)

	require.NoError(t, st.ReplaceFindings(t.Context(), 999, "prod", "files", []store.Finding{{Kind: "error_spike", TemplateID: "x",
		Template: "connection to <*> refused", Severity: sdk.SeverityError, LastSeen: ingestT0.Add(50 * time.Minute), Count: 180,
		Score: 99, Examples: []string{"connection to db-1 refused"}}}))
	var fs struct{ Findings []api.FindingJSON }
	resp = doJSON(t, http.MethodGet, srv.URL+"/api/v1/findings?cluster=prod&since=15m", nil, &fs)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, fs.Findings)
	require.Equal(t, "error_spike", fs.Findings[0].Kind)
	require.Equal(t, "error", fs.Findings[0].Severity)
	require.Equal(t, []string{"connection to db-1 refused"}, fs.Findings[0].Examples)
	resp = doJSON(t, http.MethodGet, srv.URL+"/api/v1/findings?cluster=prod&since="+ingestT0.Add(55*time.Minute).Format(time.RFC3339), nil, &fs)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, f := range fs.Findings {
		require.False(t, f.LastSeen.Before(ingestT0.Add(55*time.Minute)), "finding last seen %v before since", f.LastSeen)
	}

	t.Run("bad requests", func(t *testing.T) {
		tests := []struct {
			name, method, path string
			body               any
			status             int
		}{
			{"no cluster", http.MethodPost, "/api/v1/ingest", map[string]any{"integration": "files", "since": "1h"}, 400},
			{"no window", http.MethodPost, "/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "files"}, 400},
			{"both windows", http.MethodPost, "/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "files", "since": "1h", "from": ingestT0, "to": ingestT0.Add(time.Hour)}, 400},
			{"bad since", http.MethodPost, "/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "files", "since": "soon"}, 400},
			{"reversed window", http.MethodPost, "/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "files", "from": ingestT0, "to": ingestT0.Add(-time.Hour)}, 400},
			{"unknown field", http.MethodPost, "/api/v1/ingest", `{"cluster":"prod","integration":"files","since":"1h","x":1}`, 400},
			{"not JSON", http.MethodPost, "/api/v1/ingest", `{`, 400},
			{"unknown integration", http.MethodPost, "/api/v1/ingest", map[string]any{"cluster": "prod", "integration": "nope", "since": "1h"}, 404},
			{"bad job id", http.MethodGet, "/api/v1/jobs/abc", nil, 400},
			{"unknown job", http.MethodGet, "/api/v1/jobs/987654", nil, 404},
			{"findings without cluster", http.MethodGet, "/api/v1/findings", nil, 400},
			{"findings bad since", http.MethodGet, "/api/v1/findings?cluster=prod&since=yesterday", nil, 400},
			{"templates without cluster", http.MethodGet, "/api/v1/templates", nil, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var p api.Problem
				resp := doJSON(t, tt.method, srv.URL+tt.path, tt.body, &p)
				require.Equal(t, tt.status, resp.StatusCode, "problem: %+v", p)
				require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
				require.Equal(t, tt.status, p.Status)
			})
		}
	})
}

package opensearchadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/faultmaven/faultmaven/sdk"
)

// SearchLogs pages through the matching documents oldest first. It opens a
// point in time (PIT) on the index patterns and pages with search_after on
// (timestamp, tiebreaker), so it reads past the 10,000-hit from+size
// window and sees one consistent snapshot; the PIT is deleted at the end,
// whatever the outcome. A cluster without PIT support (before 2.4, or
// Serverless) is paged with search_after alone.
//
// The common filters (services, minimum severity, text) are applied to
// each mapped record rather than pushed down, because their fields' types
// (text or keyword) vary between clusters and a wrong guess would silently
// match nothing.
func (a *Adapter) SearchLogs(ctx context.Context, name string, q sdk.LogQuery, w sdk.RecordWriter) error {
	in, err := a.instances.Get(name)
	if err != nil {
		return err
	}
	query, err := buildQuery(in.cfg, q)
	if err != nil {
		return err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	size := in.cfg.PageSize
	if noFilters(q.Filters) && limit < size {
		size = limit
	}

	pitID, err := in.openPIT(ctx)
	if err != nil {
		return err
	}
	if pitID != "" {
		defer func() { in.closePIT(pitID) }()
	}

	var (
		after   []json.RawMessage
		written int
		skipped int
		pages   int
		started = time.Now()
	)
	for {
		body := searchBody{Size: size, Query: query, Sort: in.sortSpec(), SearchAfter: after, TrackTotalHits: false}
		req := &opensearchapi.SearchReq{Indices: in.cfg.Indices}
		if pitID != "" {
			body.PIT = &pitSpec{ID: pitID, KeepAlive: keepAlive(in.cfg.KeepAlive)}
			req.Indices = nil // a PIT search names no index
		}
		raw, err := json.Marshal(body)
		if err != nil {
			return sdk.Errorf(sdk.CodeInternal, "opensearch: encoding search: %v", err)
		}
		req.Body = bytes.NewReader(raw)
		resp, err := in.search(ctx, req, raw)
		if err != nil {
			return err
		}
		pages++
		if resp.PitID != "" {
			pitID = resp.PitID // the cluster may hand back a new id
		}
		for i := range resp.Hits.Hits {
			h := &resp.Hits.Hits[i]
			rec, ok := in.record(h)
			if !ok {
				skipped++
				continue
			}
			if !q.InRange(rec.Timestamp) || !q.Filters.Match(&rec) {
				continue
			}
			if err := w.Write(rec); err != nil {
				if errors.Is(err, sdk.ErrLimitReached) {
					return nil
				}
				return err
			}
			if written++; written >= limit {
				return nil
			}
		}
		if len(resp.Hits.Hits) < size {
			break
		}
		last := resp.Hits.Hits[len(resp.Hits.Hits)-1]
		if len(last.Sort) == 0 {
			return sdk.Errorf(sdk.CodeInternal, "opensearch: malformed response: hit %q has no sort values, cannot page further", last.ID)
		}
		after = last.Sort
		if err := ctx.Err(); err != nil {
			return ctxError("search", err, nil)
		}
	}
	if skipped > 0 {
		in.log.Warn("documents skipped: no usable timestamp", "field", in.cfg.Fields.Timestamp, "count", skipped)
	}
	in.log.Debug("search done", "records", written, "pages", pages, "pit", pitID != "", "took", time.Since(started).String())
	return nil
}

func noFilters(f sdk.LogFilters) bool {
	return len(f.Services) == 0 && f.MinSeverity == sdk.SeverityUnspecified && f.Contains == ""
}

// searchBody is the _search request body.
type searchBody struct {
	Size           int               `json:"size"`
	Query          json.RawMessage   `json:"query"`
	Sort           []map[string]any  `json:"sort"`
	SearchAfter    []json.RawMessage `json:"search_after,omitempty"`
	PIT            *pitSpec          `json:"pit,omitempty"`
	TrackTotalHits bool              `json:"track_total_hits"`
}

type pitSpec struct {
	ID        string `json:"id"`
	KeepAlive string `json:"keep_alive"`
}

// keepAlive writes d the way opensearch-go does: milliseconds.
func keepAlive(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

func (in *instance) sortSpec() []map[string]any {
	return []map[string]any{
		{in.cfg.Fields.Timestamp: map[string]any{"order": "asc", "unmapped_type": "date"}},
		{in.cfg.Fields.Tiebreaker: map[string]any{"order": "asc"}},
	}
}

// buildQuery returns the query clause: a bool filter of the time range and
// the user's query. A query starting with "{" is OpenSearch query DSL (a
// query clause, or a body holding only "query"); anything else is Lucene
// query_string syntax over the message field.
func buildQuery(c *config, q sdk.LogQuery) (json.RawMessage, error) {
	var filters []any
	rng := map[string]any{"format": "epoch_millis"}
	if !q.Start.IsZero() {
		rng["gte"] = q.Start.UnixMilli() // floor: sub-millisecond starts are re-checked per record
	}
	if !q.End.IsZero() {
		end := q.End.UnixMilli()
		if q.End.Sub(time.UnixMilli(end)) > 0 {
			end++ // ceil, for the same reason
		}
		rng["lt"] = end
	}
	if len(rng) > 1 {
		filters = append(filters, map[string]any{"range": map[string]any{c.Fields.Timestamp: rng}})
	}
	text := strings.TrimSpace(q.Query)
	switch {
	case text == "" || text == "*":
	case strings.HasPrefix(text, "{"):
		clause, err := dslClause(text)
		if err != nil {
			return nil, err
		}
		filters = append(filters, clause)
	default:
		filters = append(filters, map[string]any{"query_string": map[string]any{
			"query": text, "default_field": c.Fields.Message, "analyze_wildcard": true,
		}})
	}
	if len(filters) == 0 {
		return json.RawMessage(`{"match_all":{}}`), nil
	}
	b, err := json.Marshal(map[string]any{"bool": map[string]any{"filter": filters}})
	if err != nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "opensearch: encoding query: %v", err)
	}
	return b, nil
}

func dslClause(text string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&obj); err != nil {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "opensearch: query starts with '{' but is not a JSON object of query DSL: %v", err)
	}
	if dec.More() {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "opensearch: query DSL has trailing data after the JSON object")
	}
	if len(obj) == 0 {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "opensearch: query DSL is an empty object")
	}
	if inner, ok := obj["query"]; ok {
		if len(obj) > 1 {
			return nil, sdk.Errorf(sdk.CodeBadQuery, "opensearch: only the \"query\" clause of a search body is passed through; size, sort, pit and search_after are set by the adapter")
		}
		return inner, nil
	}
	return json.RawMessage(text), nil
}

// searchResponse is the part of a _search answer the adapter reads. It is
// decoded here rather than through opensearchapi.SearchResp to keep sort
// values exact (a date_nanos or long tiebreaker loses digits as float64)
// and to read the PIT id the typed response drops.
type searchResponse struct {
	PitID    string `json:"pit_id"`
	TimedOut bool   `json:"timed_out"`
	Shards   *struct {
		Total      int            `json:"total"`
		Successful int            `json:"successful"`
		Failed     int            `json:"failed"`
		Failures   []shardFailure `json:"failures"`
	} `json:"_shards"`
	Hits *struct {
		Hits []hit `json:"hits"`
	} `json:"hits"`
}

type shardFailure struct {
	Shard  int    `json:"shard"`
	Index  string `json:"index"`
	Reason struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"reason"`
}

type hit struct {
	Index  string            `json:"_index"`
	ID     string            `json:"_id"`
	Source json.RawMessage   `json:"_source"`
	Sort   []json.RawMessage `json:"sort"`
}

// search runs one page and checks the answer for the failures OpenSearch
// reports inside a 200: shard failures and a backend timeout. Both mean the
// page may miss documents, and an SRE must not mistake a partial answer for
// "no errors logged", so they fail the search.
func (in *instance) search(ctx context.Context, req *opensearchapi.SearchReq, raw []byte) (*searchResponse, error) {
	// A retried attempt must resend the body: give GetRequest a fresh reader.
	rr := requestFunc(func(method string) (*http.Request, error) {
		req.Body = bytes.NewReader(raw)
		return req.GetRequest(method)
	})
	body, err := in.do(ctx, "search", http.MethodPost, rr)
	if err != nil {
		return nil, err
	}
	return in.decodePage(body)
}

// decodePage decodes one _search answer and checks it for the failures
// reported inside a 200.
func (in *instance) decodePage(body []byte) (*searchResponse, error) {
	var resp searchResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, malformed("search", body, err)
	}
	if resp.Hits == nil || resp.Shards == nil {
		return nil, sdk.Errorf(sdk.CodeInternal, "opensearch search: malformed response: no hits or _shards section (is url an OpenSearch REST endpoint?): %s", cut(string(body), 200))
	}
	if s := resp.Shards; s.Failed > 0 {
		var reasons []string
		code := sdk.CodeUnavailable
		for _, f := range s.Failures {
			reasons = append(reasons, fmt.Sprintf("[%s][%d] %s: %s", f.Index, f.Shard, f.Reason.Type, f.Reason.Reason))
			if isQueryError(f.Reason.Type) {
				code = sdk.CodeBadQuery
			}
		}
		return nil, sdk.Errorf(code, "opensearch search: %d of %d shards failed, results would be incomplete: %s",
			s.Failed, s.Total, cut(redact(strings.Join(reasons, "; "), in.cfg.secrets()), 800))
	}
	if resp.TimedOut {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "opensearch search: the cluster timed out and returned partial results; narrow the time range or query")
	}
	return &resp, nil
}

func isQueryError(typ string) bool {
	switch typ {
	case "query_shard_exception", "parsing_exception", "illegal_argument_exception", "number_format_exception", "x_content_parse_exception":
		return true
	}
	return false
}

// malformed reports a 2xx body that does not decode. A body that ends
// early was cut off (retrying may help); anything else is not what the API
// documents.
func malformed(op string, body []byte, err error) error {
	// encoding/json has no sentinel for a short input; its text is stable.
	if strings.Contains(err.Error(), "unexpected end of JSON input") {
		return sdk.Errorf(sdk.CodeUnavailable, "opensearch %s: response truncated after %d bytes: %v", op, len(body), err)
	}
	return sdk.Errorf(sdk.CodeInternal, "opensearch %s: malformed response (%v): %s", op, err, cut(string(body), 200))
}

type requestFunc func(method string) (*http.Request, error)

func (f requestFunc) GetRequest(method string) (*http.Request, error) { return f(method) }

// openPIT creates a point in time on the index patterns. It returns "" when
// the cluster does not support PITs or the role may not create them, in
// which case the search pages with search_after alone (consistent enough
// for logs, which are append-only).
func (in *instance) openPIT(ctx context.Context) (string, error) {
	req := opensearchapi.PointInTimeCreateReq{Indices: in.cfg.Indices, Params: opensearchapi.PointInTimeCreateParams{KeepAlive: in.cfg.KeepAlive}}
	body, err := in.do(ctx, "create point in time", http.MethodPost, req)
	if err != nil {
		var se *sdk.Error
		// 400/404 without a missing index: no PIT API (before 2.4, or
		// Serverless). 403: a role allowed to search but not to create
		// PITs; if it may not search either, the search says so.
		if errors.As(err, &se) && (se.Code == sdk.CodeBadQuery || (se.Code == sdk.CodeNotFound && !strings.Contains(se.Message, "index_not_found")) ||
			(se.Code == sdk.CodeAuth && strings.Contains(se.Message, "HTTP 403"))) {
			in.log.Info("point in time not supported by the cluster; paging with search_after only", "reason", se.Message)
			return "", nil
		}
		return "", err
	}
	var resp struct {
		PitID string `json:"pit_id"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return "", malformed("create point in time", body, err)
	}
	if resp.PitID == "" {
		return "", sdk.Errorf(sdk.CodeInternal, "opensearch create point in time: response has no pit_id")
	}
	return resp.PitID, nil
}

// closePIT deletes the PIT even when the search was cancelled: open PITs
// are capped per cluster (search.max_open_pit_context, 300 by default) and
// hold segments until they expire.
func (in *instance) closePIT(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), min(in.cfg.RequestTimeout, 10*time.Second))
	defer cancel()
	req := opensearchapi.PointInTimeDeleteReq{PitID: []string{id}}
	// One attempt: a failure is logged, and the PIT expires after its
	// keep-alive anyway.
	if _, ae := in.attempt(ctx, "delete point in time", http.MethodDelete, req); ae != nil {
		in.log.Warn("deleting point in time failed; it expires after its keep-alive", "error", ae.err.Message, "keep_alive", in.cfg.KeepAlive.String())
	}
}

package datadogstandin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
)

// Log is one indexed log.
type Log struct {
	ID         string
	Time       time.Time
	Message    string
	Service    string
	Host       string
	Status     string // info, warn, error...; "" = info
	Source     string
	Index      string // "" = main
	Tags       []string
	Attributes map[string]any
}

// Series is one metric series.
type Series struct {
	Metric string
	Tags   []string // "key:value"
	Points []Point
}

// Point is one metric sample.
type Point struct {
	Time  time.Time
	Value float64
}

// Options configure a Server.
type Options struct {
	APIKey string // the accepted DD-API-KEY
	AppKey string // the accepted DD-APPLICATION-KEY
	// RateLimit is the X-RateLimit-Limit advertised; 0 = 300.
	RateLimit int
}

// Fault makes the next requests misbehave; counts decrement per request.
type Fault struct {
	RateLimit   int           // answer this many requests 429 ...
	Reset       time.Duration // ... with this X-RateLimit-Reset (whole seconds)
	Unavailable int           // answer this many requests 502/503 (alternating)
	TimeoutPage int           // >0: this search page (1-based, counted per request) comes back with meta.status "timeout"
	CutPage     int           // >0: this search page is cut off mid-body
	BadType     bool          // search answers carry a log of type "logs" (decodes into UnparsedObject)
	Delay       time.Duration // wait this long (or until the client leaves) before answering
}

// Server is a running stand-in.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	logs     []*Log // oldest first
	series   []Series
	fault    Fault
	pages    int
	requests map[string]int
	queries  []string
}

// New starts a stand-in over plain HTTP (point base_url at it). Close it
// when done.
func New(opts Options) *Server {
	if opts.RateLimit == 0 {
		opts.RateLimit = 300
	}
	s := &Server{opts: opts, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/validate", s.validate)
	mux.HandleFunc("/api/v2/logs/events/search", s.guard(s.search))
	mux.HandleFunc("/api/v1/query", s.guard(s.query))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErrors(w, http.StatusNotFound, "Not found")
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	return s
}

// Start starts a stand-in closed at the end of the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// Add indexes logs; a log without ID gets one.
func (s *Server) Add(logs ...Log) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range logs {
		l := logs[i]
		l.Time = l.Time.UTC()
		if l.Status == "" {
			l.Status = "info"
		}
		if l.Index == "" {
			l.Index = "main"
		}
		if l.ID == "" {
			h := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%d", l.Time.UnixNano(), l.Service, l.Message, len(s.logs)))
			l.ID = "AQAAAY" + base64.RawURLEncoding.EncodeToString(h[:18])
		}
		s.logs = append(s.logs, &l)
	}
	sort.SliceStable(s.logs, func(i, j int) bool { return s.logs[i].Time.Before(s.logs[j].Time) })
}

// AddSeries adds metric series.
func (s *Server) AddSeries(series ...Series) {
	s.mu.Lock()
	s.series = append(s.series, series...)
	s.mu.Unlock()
}

var levelRe = regexp.MustCompile(`(?i)(?:^|[\s\[\]|":=(])(trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|panic|emerg|alert|severe)(?:$|[\s\[\]|":,)])`)

// statusOf plays Datadog's status remapper: the first level word of the
// message, else info.
func statusOf(msg string) string {
	head := msg
	if len(head) > 256 {
		head = head[:256]
	}
	m := levelRe.FindStringSubmatch(head)
	if m == nil {
		return "info"
	}
	switch w := strings.ToLower(m[1]); w {
	case "warning":
		return "warn"
	case "err", "severe":
		return "error"
	case "crit", "fatal", "panic":
		return "critical"
	case "emerg":
		return "emergency"
	default:
		return w
	}
}

// LoadScenario indexes the scenario's Datadog sources and its metrics, and
// returns how many logs it added.
func (s *Server) LoadScenario(sc *scenariodata.Scenario) int {
	n := 0
	for _, src := range sc.BySource(scenariodata.BackendDatadog) {
		t := src.Datadog
		if t == nil {
			t = &scenariodata.DatadogTarget{Service: src.Service}
		}
		logs := make([]Log, len(src.Events))
		for i, e := range src.Events {
			logs[i] = Log{Time: e.Time, Message: e.Raw, Service: t.Service, Source: t.Source, Host: t.Service,
				Status: statusOf(e.Raw), Tags: append([]string{"service:" + t.Service, "source:" + t.Source}, t.Tags...)}
		}
		s.Add(logs...)
		n += len(logs)
	}
	for _, m := range sc.Metrics {
		sr := Series{Metric: m.Name}
		keys := make([]string, 0, len(m.Labels))
		for k := range m.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sr.Tags = append(sr.Tags, k+":"+m.Labels[k])
		}
		for _, p := range m.Points {
			sr.Points = append(sr.Points, Point{Time: p.Time, Value: p.Value})
		}
		s.AddSeries(sr)
	}
	return n
}

// SetFault replaces the current fault and restarts the page count.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault, s.pages = f, 0
	s.mu.Unlock()
}

// Requests returns how many requests reached path.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Queries returns filter.query of every search request.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string]any{"errors": msgs})
}

func (s *Server) rateHeaders(w http.ResponseWriter, name string, remaining int, reset time.Duration) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Period", "3600")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(max(1, int(reset/time.Second))))
	h.Set("X-RateLimit-Name", name)
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("DD-API-KEY") != s.opts.APIKey || s.opts.APIKey == "" {
		writeErrors(w, http.StatusForbidden, "Forbidden")
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
}

// guard checks both keys and applies the pending fault.
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.APIKey == "" || r.Header.Get("DD-API-KEY") != s.opts.APIKey || r.Header.Get("DD-APPLICATION-KEY") != s.opts.AppKey {
			writeErrors(w, http.StatusForbidden, "Forbidden")
			return
		}
		// Read the body now: net/http only notices a client that hangs up
		// (while a fault delays the answer) once the body is consumed.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "cannot read the body")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		s.mu.Lock()
		f := &s.fault
		delay := f.Delay
		var status int
		reset := f.Reset
		switch {
		case f.RateLimit > 0:
			f.RateLimit--
			status = http.StatusTooManyRequests
		case f.Unavailable > 0:
			status = http.StatusBadGateway + f.Unavailable%2
			f.Unavailable--
		}
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		name := "logs_list"
		if strings.HasPrefix(r.URL.Path, "/api/v1/query") {
			name = "query"
		}
		switch status {
		case http.StatusTooManyRequests:
			s.rateHeaders(w, name, 0, reset)
			writeErrors(w, status, "Too many requests")
			return
		case http.StatusBadGateway, http.StatusServiceUnavailable:
			writeJSON(w, status, map[string]any{"status": "error", "code": status, "errors": []string{http.StatusText(status)}, "statuspage": "http://status.datadoghq.com"})
			return
		}
		s.rateHeaders(w, name, s.opts.RateLimit-1, time.Hour)
		h(w, r)
	}
}

type searchRequest struct {
	Filter struct {
		Query       *string  `json:"query"`
		From        *string  `json:"from"`
		To          *string  `json:"to"`
		Indexes     []string `json:"indexes"`
		StorageTier string   `json:"storage_tier"`
	} `json:"filter"`
	Page struct {
		Limit  *int   `json:"limit"`
		Cursor string `json:"cursor"`
	} `json:"page"`
	Sort string `json:"sort"`
}

var dateMathRe = regexp.MustCompile(`^now(?:-(\d+)([smhdw]))?$`)

func parseTime(v string, now time.Time) (time.Time, error) {
	if m := dateMathRe.FindStringSubmatch(v); m != nil {
		if m[1] == "" {
			return now, nil
		}
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		return now.Add(-time.Duration(n) * unit), nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

type cursor struct {
	Offset int    `json:"o"`
	Filter string `json:"f"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErrors(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	var req searchRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeErrors(w, http.StatusBadRequest, "Invalid JSON body: "+err.Error())
			return
		}
	}
	q, from, to := "*", "now-15m", "now"
	if req.Filter.Query != nil {
		q = *req.Filter.Query
	}
	if req.Filter.From != nil {
		from = *req.Filter.From
	}
	if req.Filter.To != nil {
		to = *req.Filter.To
	}
	limit := 10
	if req.Page.Limit != nil {
		limit = *req.Page.Limit
	}
	if limit < 1 || limit > 1000 {
		writeErrors(w, http.StatusBadRequest, "page[limit] must be between 1 and 1000")
		return
	}
	now := time.Now().UTC()
	ft, err1 := parseTime(from, now)
	tt, err2 := parseTime(to, now)
	if err1 != nil || err2 != nil {
		writeErrors(w, http.StatusBadRequest, "Invalid time in filter[from] or filter[to]")
		return
	}
	m, err := parseQuery(q)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "Invalid query: "+err.Error())
		return
	}
	filterKey := fmt.Sprintf("%s|%s|%s|%v|%s", q, from, to, req.Filter.Indexes, req.Sort)
	sum := sha256.Sum256([]byte(filterKey))
	fk := hex.EncodeToString(sum[:8])
	offset := 0
	if req.Page.Cursor != "" {
		var c cursor
		raw, err := base64.RawURLEncoding.DecodeString(req.Page.Cursor)
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Filter != fk {
			writeErrors(w, http.StatusBadRequest, "Invalid cursor: it does not belong to this query")
			return
		}
		offset = c.Offset
	}
	indexes := map[string]bool{}
	for _, ix := range req.Filter.Indexes {
		indexes[ix] = true
	}
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.pages++
	page := s.pages
	fault := s.fault
	logs := s.logs
	s.mu.Unlock()

	var hits []*Log
	for _, l := range logs {
		if l.Time.Before(ft) || !l.Time.Before(tt) {
			continue
		}
		if len(indexes) > 0 && !indexes["*"] && !indexes[l.Index] {
			continue
		}
		if m(l) {
			hits = append(hits, l)
		}
	}
	if req.Sort == "-timestamp" {
		rev := make([]*Log, len(hits))
		for i, l := range hits {
			rev[len(hits)-1-i] = l
		}
		hits = rev
	}
	end := min(offset+limit, len(hits))
	if offset > len(hits) {
		offset = end
	}
	data := make([]map[string]any, 0, end-offset)
	for i, l := range hits[offset:end] {
		typ := "log"
		if fault.BadType && i == 0 {
			typ = "logs"
		}
		attrs := map[string]any{"timestamp": l.Time.Format("2006-01-02T15:04:05.000Z"), "host": l.Host, "service": l.Service,
			"status": l.Status, "message": l.Message, "tags": l.Tags}
		inner := map[string]any{}
		for k, v := range l.Attributes {
			inner[k] = v
		}
		inner["source"] = l.Source
		attrs["attributes"] = inner
		data = append(data, map[string]any{"id": l.ID, "type": typ, "attributes": attrs})
	}
	status := "done"
	if page == fault.TimeoutPage {
		status = "timeout"
	}
	meta := map[string]any{"elapsed": 12, "request_id": fmt.Sprintf("pddv1ChZ%06d", page), "status": status}
	resp := map[string]any{"data": data, "meta": meta}
	if end < len(hits) {
		raw, _ := json.Marshal(cursor{Offset: end, Filter: fk})
		after := base64.RawURLEncoding.EncodeToString(raw)
		meta["page"] = map[string]string{"after": after}
		resp["links"] = map[string]string{"next": "http://" + r.Host + "/api/v2/logs/events?page%5Bcursor%5D=" + after}
	}
	body, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	if page == fault.CutPage {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	_, _ = w.Write(body)
}

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErrors(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	q := r.URL.Query().Get("query")
	if err1 != nil || err2 != nil || q == "" {
		writeErrors(w, http.StatusBadRequest, "Missing or invalid from, to or query")
		return
	}
	metric, filters, err := parseMetricQuery(q)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "Error parsing query: "+err.Error())
		return
	}
	s.mu.Lock()
	all := s.series
	s.mu.Unlock()
	series := []map[string]any{}
	for _, sr := range all {
		if sr.Metric != metric || !hasTags(sr.Tags, filters) {
			continue
		}
		var pts [][]*float64
		var first, last int64
		for _, p := range sr.Points {
			if p.Time.Unix() < from || p.Time.Unix() > to {
				continue
			}
			ms, v := float64(p.Time.UnixMilli()), p.Value
			pts = append(pts, []*float64{&ms, &v})
			if first == 0 {
				first = p.Time.UnixMilli()
			}
			last = p.Time.UnixMilli()
		}
		if len(pts) == 0 {
			continue
		}
		scope := strings.Join(sr.Tags, ",")
		series = append(series, map[string]any{
			"metric": sr.Metric, "display_name": sr.Metric, "expression": q, "scope": scope, "tag_set": sr.Tags,
			"aggr": "avg", "interval": 30, "length": len(pts), "query_index": 0, "start": first, "end": last, "pointlist": pts,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "res_type": "time_series", "query": q, "message": "",
		"from_date": from * 1000, "to_date": to * 1000, "group_by": []string{}, "series": series})
}

var metricQueryRe = regexp.MustCompile(`^(?:(?:avg|sum|min|max):)?([A-Za-z0-9_.]+)(?:\{([^}]*)\})?(?:\s+by\s+\{[^}]*\})?$`)

// parseMetricQuery reads "[aggr:]metric{tag:value,...} [by {...}]".
func parseMetricQuery(q string) (string, []string, error) {
	m := metricQueryRe.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return "", nil, fmt.Errorf("unsupported query %q", q)
	}
	var filters []string
	if m[2] != "" && m[2] != "*" {
		for _, f := range strings.Split(m[2], ",") {
			filters = append(filters, strings.TrimSpace(f))
		}
	}
	return m[1], filters, nil
}

func hasTags(tags, want []string) bool {
	for _, w := range want {
		found := false
		for _, t := range tags {
			if t == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

package opensearchstandin

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a Standin. The zero value is an open cluster (no
// auth) named "standin".
type Options struct {
	// Username and Password, when Username is set, are required as HTTP
	// basic auth on every request.
	Username, Password string
	// AWSAccessKeyID, when set, requires SigV4-signed requests whose scope
	// names this key, AWSRegion and AWSService ("es" when empty).
	AWSAccessKeyID, AWSRegion, AWSService string
	// MaxResultWindow is index.max_result_window; 0 means 10,000.
	MaxResultWindow int
	// ClusterName and Version are reported by GET /; defaults "standin"
	// and "2.11.0".
	ClusterName, Version string
	// NoPIT makes the point-in-time API answer as a cluster older than
	// 2.4 does (no handler).
	NoPIT bool
	// DateFields are treated as date fields (range and sort in epoch
	// millis); "@timestamp" always is.
	DateFields []string
	// Now is the clock for PIT expiry; nil means time.Now.
	Now func() time.Time
}

// FaultKind names a failure to inject.
type FaultKind int

// Fault kinds.
const (
	FaultNone FaultKind = iota
	// FaultStatus answers Status (default 503) with an OpenSearch error body.
	FaultStatus
	// FaultRateLimit answers 429 with Retry-After (default "1") and an
	// es_rejected_execution_exception body.
	FaultRateLimit
	// FaultCutOff sends the headers and part of a real answer's body,
	// promising the full Content-Length, then closes the connection.
	FaultCutOff
	// FaultSlow waits Delay before answering (or until the client leaves).
	FaultSlow
	// FaultShardFailure answers searches 200 with _shards.failed > 0 and
	// a failure (Reason, default a circuit_breaking_exception), and no hits.
	FaultShardFailure
	// FaultTimedOut answers searches 200 with "timed_out": true and no hits.
	FaultTimedOut
	// FaultMalformed answers 200 with an HTML page, as a misrouted proxy does.
	FaultMalformed
)

// Fault is an injected failure. It applies to the next Count requests
// whose endpoint is in Endpoints (all endpoints when empty); Count 0 means
// every request until the fault is cleared with SetFault(Fault{}).
type Fault struct {
	Kind       FaultKind
	Count      int
	Status     int
	RetryAfter string
	Delay      time.Duration
	Reason     string
	Endpoints  []Endpoint
}

// Endpoint names an API endpoint, for request counts and fault targeting.
type Endpoint string

// Endpoints.
const (
	EndpointInfo          Endpoint = "info"
	EndpointClusterHealth Endpoint = "cluster_health"
	EndpointSearch        Endpoint = "search"
	EndpointPITCreate     Endpoint = "pit_create"
	EndpointPITDelete     Endpoint = "pit_delete"
	EndpointOther         Endpoint = "other"
)

// Stats counts what the stand-in served.
type Stats struct {
	Requests    map[Endpoint]int // by endpoint, faults included
	AuthFailed  int
	PITsCreated int
	PITsDeleted int
	OpenPITs    int
	// MaxSize is the largest search page size asked for.
	MaxSize int
}

// Standin is the stand-in cluster; it is an http.Handler.
type Standin struct {
	opts Options
	now  func() time.Time

	mu            sync.Mutex
	indices       map[string][]*doc
	seq           int64
	pits          map[string]*pit
	fault         Fault
	faultLeft     int
	clusterStatus string
	dateFields    map[string]bool
	stats         Stats
}

type pit struct {
	docs    []*doc
	expires time.Time
	rows    map[string][]sorted // by query and sort: see cached
}

// New returns a stand-in; serve it with httptest.NewServer or
// httptest.NewTLSServer.
func New(opts Options) *Standin {
	s := &Standin{
		opts: opts, now: opts.Now,
		indices: map[string][]*doc{}, pits: map[string]*pit{},
		clusterStatus: "green", dateFields: map[string]bool{"@timestamp": true},
		stats: Stats{Requests: map[Endpoint]int{}},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.MaxResultWindow <= 0 {
		s.opts.MaxResultWindow = 10000
	}
	if s.opts.ClusterName == "" {
		s.opts.ClusterName = "standin"
	}
	if s.opts.Version == "" {
		s.opts.Version = "2.11.0"
	}
	if s.opts.AWSService == "" {
		s.opts.AWSService = "es"
	}
	for _, f := range opts.DateFields {
		s.dateFields[f] = true
	}
	return s
}

// Start is New plus httptest.NewServer; close the server when done.
func Start(opts Options) (*Standin, *httptest.Server) {
	s := New(opts)
	return s, httptest.NewServer(s)
}

// AddDateField marks a field as a date field.
func (s *Standin) AddDateField(name string) {
	s.mu.Lock()
	s.dateFields[name] = true
	s.mu.Unlock()
}

// SetFault replaces the injected fault; Fault{} clears it.
func (s *Standin) SetFault(f Fault) {
	s.mu.Lock()
	s.fault, s.faultLeft = f, f.Count
	s.mu.Unlock()
}

// SetClusterStatus sets what /_cluster/health reports: green, yellow or red.
func (s *Standin) SetClusterStatus(status string) {
	s.mu.Lock()
	s.clusterStatus = status
	s.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Standin) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = map[Endpoint]int{}
	for k, v := range s.stats.Requests {
		st.Requests[k] = v
	}
	s.expirePITs()
	st.OpenPITs = len(s.pits)
	return st
}

// Count returns how many documents an index pattern matches.
func (s *Standin) Count(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	docs, _ := s.resolve(pattern, true)
	return len(docs)
}

// ServeHTTP implements the REST API.
func (s *Standin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, route := s.route(r)
	s.mu.Lock()
	s.stats.Requests[ep]++
	s.mu.Unlock()

	if !s.authorized(w, r) {
		return
	}
	if f, ok := s.takeFault(ep); ok {
		if s.inject(w, r, f, ep, route) {
			return
		}
	}
	route(w, r)
}

type handler func(http.ResponseWriter, *http.Request)

func (s *Standin) route(r *http.Request) (Endpoint, handler) {
	p := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	switch {
	case p == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		return EndpointInfo, s.info
	case p == "_cluster/health":
		return EndpointClusterHealth, s.clusterHealth
	case p == "_search/point_in_time" && r.Method == http.MethodDelete:
		return EndpointPITDelete, s.deletePIT
	case p == "_search/point_in_time/_all" && r.Method == http.MethodDelete:
		return EndpointPITDelete, s.deleteAllPITs
	case len(parts) == 3 && parts[1] == "_search" && parts[2] == "point_in_time" && r.Method == http.MethodPost:
		return EndpointPITCreate, func(w http.ResponseWriter, r *http.Request) { s.createPIT(w, r, parts[0]) }
	case p == "_search" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		return EndpointSearch, func(w http.ResponseWriter, r *http.Request) { s.search(w, r, "") }
	case len(parts) == 2 && parts[1] == "_search" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		return EndpointSearch, func(w http.ResponseWriter, r *http.Request) { s.search(w, r, parts[0]) }
	}
	return EndpointOther, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.Path, r.Method), nil)
	}
}

func (s *Standin) authorized(w http.ResponseWriter, r *http.Request) bool {
	fail := func(status int, write func()) bool {
		s.mu.Lock()
		s.stats.AuthFailed++
		s.mu.Unlock()
		write()
		return false
	}
	if s.opts.AWSAccessKeyID != "" {
		if msg := s.checkSigV4(r); msg != "" {
			return fail(http.StatusForbidden, func() {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
			})
		}
		return true
	}
	if s.opts.Username == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	if ok && subtle.ConstantTimeCompare([]byte(u), []byte(s.opts.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(p), []byte(s.opts.Password)) == 1 {
		return true
	}
	return fail(http.StatusUnauthorized, func() {
		w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch Security"`)
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "Unauthorized")
	})
}

// checkSigV4 checks the scope of a SigV4 Authorization header, not the
// signature itself.
func (s *Standin) checkSigV4(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "Missing Authentication Token"
	}
	const alg = "AWS4-HMAC-SHA256 Credential="
	if !strings.HasPrefix(h, alg) {
		return "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter."
	}
	cred, _, _ := strings.Cut(h[len(alg):], ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "Credential should be scoped to a valid region."
	}
	switch {
	case parts[0] != s.opts.AWSAccessKeyID:
		return "The security token included in the request is invalid."
	case parts[2] != s.opts.AWSRegion:
		return fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", parts[2])
	case parts[3] != s.opts.AWSService:
		return fmt.Sprintf("Credential should be scoped to correct service: '%s'.", s.opts.AWSService)
	case r.Header.Get("X-Amz-Date") == "":
		return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	case r.Header.Get("X-Amz-Content-Sha256") == "":
		return "The request signature we calculated does not match the signature you provided."
	case !strings.Contains(h, "Signature="):
		return "Authorization header requires 'Signature' parameter."
	}
	return ""
}

func (s *Standin) takeFault(ep Endpoint) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f.Kind == FaultNone {
		return f, false
	}
	if len(f.Endpoints) > 0 && !slices.Contains(f.Endpoints, ep) {
		return f, false
	}
	if f.Count > 0 {
		if s.faultLeft <= 0 {
			return f, false
		}
		s.faultLeft--
	}
	return f, true
}

// inject applies a fault. It returns false when the request should still
// be served normally (after a delay).
func (s *Standin) inject(w http.ResponseWriter, r *http.Request, f Fault, ep Endpoint, route handler) bool {
	switch f.Kind {
	case FaultStatus:
		st := f.Status
		if st == 0 {
			st = http.StatusServiceUnavailable
		}
		typ, reason := "status_exception", or(f.Reason, http.StatusText(st))
		if st == http.StatusServiceUnavailable {
			typ, reason = "cluster_manager_not_discovered_exception", or(f.Reason, "no cluster-manager node")
		}
		writeError(w, st, typ, reason, nil)
	case FaultRateLimit:
		w.Header().Set("Retry-After", or(f.RetryAfter, "1"))
		writeError(w, http.StatusTooManyRequests, "es_rejected_execution_exception",
			or(f.Reason, "rejected execution of coordinating operation [search]: search thread pool queue is full"), nil)
	case FaultCutOff:
		rec := httptest.NewRecorder()
		route(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Returning with fewer bytes than Content-Length makes net/http
		// close the connection: the client reads an unexpected EOF.
		panic(http.ErrAbortHandler)
	case FaultSlow:
		// Read the body first: net/http only notices a client that hangs
		// up (and cancels r.Context()) once the body is consumed.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return true
		case <-t.C:
		}
		return false
	case FaultShardFailure, FaultTimedOut:
		if ep != EndpointSearch {
			return false
		}
		resp := map[string]any{
			"took": 3, "timed_out": f.Kind == FaultTimedOut,
			"_shards": map[string]any{"total": 2, "successful": 2, "skipped": 0, "failed": 0},
			"hits":    map[string]any{"max_score": nil, "hits": []any{}},
		}
		if f.Kind == FaultShardFailure {
			reason := or(f.Reason, "[parent] Data too large, data for [<reused_arrays>] would be larger than limit")
			resp["_shards"] = map[string]any{"total": 2, "successful": 1, "skipped": 0, "failed": 1,
				"failures": []any{map[string]any{"shard": 1, "index": "logs", "node": "n1",
					"reason": map[string]any{"type": "circuit_breaking_exception", "reason": reason}}}}
		}
		writeJSON(w, http.StatusOK, resp)
	case FaultMalformed:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><body><h1>Sign in</h1></body></html>")
	default:
		return false
	}
	return true
}

func (s *Standin) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "standin-node-1", "cluster_name": s.opts.ClusterName, "cluster_uuid": "c0ffee00standin",
		"version": map[string]any{
			"distribution": "opensearch", "number": s.opts.Version, "build_type": "tar", "build_hash": "standin",
			"build_date": "2024-01-01T00:00:00Z", "build_snapshot": false, "lucene_version": "9.7.0",
			"minimum_wire_compatibility_version": "7.10.0", "minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "The OpenSearch Project: https://opensearch.org/",
	})
}

func (s *Standin) clusterHealth(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	st := s.clusterStatus
	n := len(s.indices)
	s.mu.Unlock()
	unassigned := 0
	switch st {
	case "yellow":
		unassigned = n
	case "red":
		unassigned = 2 * n
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"cluster_name": s.opts.ClusterName, "status": st, "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1, "discovered_master": true, "discovered_cluster_manager": true,
		"active_primary_shards": n, "active_shards": n, "relocating_shards": 0, "initializing_shards": 0,
		"unassigned_shards": unassigned, "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
		"number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0, "active_shards_percent_as_number": 100.0,
	})
}

// resolve returns the documents of an index expression (comma list,
// wildcards, _all), in insertion order. A missing concrete index is an
// error unless ignoreUnavailable. Callers hold s.mu.
func (s *Standin) resolve(expr string, ignoreUnavailable bool) ([]*doc, string) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range strings.Split(expr, ",") {
		p = strings.TrimSpace(p)
		if strings.ContainsAny(p, "*?") {
			for name := range s.indices {
				if globMatch(p, name) && !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
			continue
		}
		if _, ok := s.indices[p]; !ok {
			if ignoreUnavailable {
				continue
			}
			return nil, p
		}
		if !seen[p] {
			seen[p] = true
			names = append(names, p)
		}
	}
	var docs []*doc
	for _, n := range names {
		docs = append(docs, s.indices[n]...)
	}
	slices.SortFunc(docs, func(a, b *doc) int { return int(a.seq - b.seq) })
	return docs, ""
}

func (s *Standin) createPIT(w http.ResponseWriter, r *http.Request, index string) {
	if s.opts.NoPIT {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.Path, r.Method), nil)
		return
	}
	if bad := unknownParams(r, "keep_alive", "preference", "routing", "expand_wildcards", "allow_partial_pit_creation"); bad != "" {
		writeUnrecognized(w, r, bad)
		return
	}
	ka := r.URL.Query().Get("keep_alive")
	if ka == "" {
		writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: keep alive not specified;", nil)
		return
	}
	d, err := parseKeepAlive(ka)
	if err != nil {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error(), nil)
		return
	}
	s.mu.Lock()
	docs, missing := s.resolve(index, false)
	if missing != "" {
		s.mu.Unlock()
		writeIndexNotFound(w, missing)
		return
	}
	id := newPITID()
	s.pits[id] = &pit{docs: docs, expires: s.now().Add(d)}
	s.stats.PITsCreated++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"pit_id": id, "_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"creation_time": s.now().UnixMilli(),
	})
}

func newPITID() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Standin) deletePIT(w http.ResponseWriter, r *http.Request) {
	var body struct {
		PitID []string `json:"pit_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.PitID) == 0 {
		writeError(w, http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: pit_id is missing;", nil)
		return
	}
	s.mu.Lock()
	var out []any
	for _, id := range body.PitID {
		_, ok := s.pits[id]
		if ok {
			delete(s.pits, id)
			s.stats.PITsDeleted++
		}
		out = append(out, map[string]any{"pit_id": id, "successful": ok})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"pits": out})
}

func (s *Standin) deleteAllPITs(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	var out []any
	for id := range s.pits {
		out = append(out, map[string]any{"pit_id": id, "successful": true})
		s.stats.PITsDeleted++
	}
	s.pits = map[string]*pit{}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"pits": out})
}

// expirePITs drops PITs past their keep-alive. Callers hold s.mu.
func (s *Standin) expirePITs() {
	now := s.now()
	for id, p := range s.pits {
		if now.After(p.expires) {
			delete(s.pits, id)
		}
	}
}

// parseKeepAlive reads an OpenSearch time value: 60000ms, 1m, 30s, 2h, 1d.
func parseKeepAlive(v string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"micros", time.Microsecond}, {"nanos", time.Nanosecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			if x, err := strconv.ParseInt(n, 10, 64); err == nil && x >= 0 {
				return time.Duration(x) * u.unit, nil
			}
		}
	}
	return 0, fmt.Errorf("failed to parse setting [keep_alive] with value [%s] as a time value: unit is missing or unrecognized", v)
}

func unknownParams(r *http.Request, allowed ...string) string {
	common := []string{"pretty", "human", "error_trace", "filter_path", "format"}
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) && !slices.Contains(common, k) {
			return k
		}
	}
	return ""
}

func writeUnrecognized(w http.ResponseWriter, r *http.Request, param string) {
	writeError(w, http.StatusBadRequest, "illegal_argument_exception",
		fmt.Sprintf("request [%s] contains unrecognized parameter: [%s]", r.URL.Path, param), nil)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"standin encoding failed","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// rootCause is one entry of an error's root_cause list.
type rootCause struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Index  string `json:"index,omitempty"`
}

// writeError writes the OpenSearch error envelope. With a root cause
// different from the error itself, the shape is that of a failed search
// phase.
func writeError(w http.ResponseWriter, status int, typ, reason string, root *rootCause) {
	rc := rootCause{Type: typ, Reason: reason}
	if root != nil {
		rc = *root
	}
	writeJSON(w, status, map[string]any{
		"error":  map[string]any{"root_cause": []rootCause{rc}, "type": typ, "reason": reason},
		"status": status,
	})
}

func writeIndexNotFound(w http.ResponseWriter, index string) {
	reason := fmt.Sprintf("no such index [%s]", index)
	writeJSON(w, http.StatusNotFound, map[string]any{
		"error": map[string]any{
			"root_cause": []any{map[string]any{"type": "index_not_found_exception", "reason": reason, "index": index,
				"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_"}},
			"type": "index_not_found_exception", "reason": reason, "index": index,
			"resource.type": "index_or_alias", "resource.id": index, "index_uuid": "_na_",
		},
		"status": 404,
	})
}

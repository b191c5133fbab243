package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	"github.com/gorilla/mux"
)

// IntegrationHealth is the last health check of an integration.
type IntegrationHealth struct {
	Status    string    `json:"status"` // ok, degraded, down, unknown, error
	Message   string    `json:"message,omitempty"`
	LatencyMS float64   `json:"latency_ms,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// IntegrationStatus is one enabled integration as the API shows it.
type IntegrationStatus struct {
	Cluster      string            `json:"cluster"`
	Name         string            `json:"name"`
	Plugin       string            `json:"plugin"`
	Version      string            `json:"version,omitempty"`
	Capabilities []string          `json:"capabilities"`
	State        string            `json:"state"` // the plugin process: running, restarting, breaker_open, failed...
	Health       IntegrationHealth `json:"health"`
	Restarts     int               `json:"restarts"`
	Breaker      string            `json:"breaker"` // closed or open
	Error        string            `json:"error,omitempty"`
}

// Integrations is what the integration routes need from the hub.
type Integrations interface {
	List() []IntegrationStatus
	Lookup(cluster, name string) (IntegrationStatus, bool)
	SearchLogs(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error
}

// MaxLogLimit caps the limit a caller may ask of the logs route.
const MaxLogLimit = 100000

// RegisterIntegrations adds GET /api/v1/integrations and the NDJSON logs
// stream GET /api/v1/integrations/{cluster}/{name}/logs.
func RegisterIntegrations(r *mux.Router, in Integrations) {
	r.HandleFunc("/api/v1/integrations", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{"integrations": in.List()})
	}).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/integrations/{cluster}/{name}/logs", func(w http.ResponseWriter, r *http.Request) {
		streamLogs(w, r, in)
	}).Methods(http.MethodGet)
}

// LogRecord is the NDJSON shape of one record.
type LogRecord struct {
	Timestamp  time.Time         `json:"timestamp"`
	Body       string            `json:"body"`
	Severity   string            `json:"severity,omitempty"`
	Service    string            `json:"service,omitempty"`
	Host       string            `json:"host,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Source     LogSource         `json:"source"`
}

// LogSource points back at the record in its tool.
type LogSource struct {
	Instance string `json:"instance"`
	NativeID string `json:"native_id,omitempty"`
	Link     string `json:"link,omitempty"`
}

func streamLogs(w http.ResponseWriter, r *http.Request, in Integrations) {
	vars := mux.Vars(r)
	st, ok := in.Lookup(vars["cluster"], vars["name"])
	if !ok {
		WriteProblem(w, http.StatusNotFound, fmt.Sprintf("no integration %q in cluster %q", vars["name"], vars["cluster"]))
		return
	}
	q, fields := parseLogQuery(r, time.Now())
	if len(fields) > 0 {
		WriteProblem(w, http.StatusBadRequest, "invalid query parameters", fields...)
		return
	}
	started := false
	var enc *json.Encoder
	var bw *bufio.Writer
	flusher, _ := w.(http.Flusher)
	err := in.SearchLogs(r.Context(), st.Cluster+"/"+st.Name, q, func(batch []sdk.Record) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
			bw = bufio.NewWriterSize(w, 64<<10)
			enc = json.NewEncoder(bw)
		}
		for i := range batch {
			rec := &batch[i]
			if err := enc.Encode(LogRecord{
				Timestamp: rec.Timestamp, Body: rec.Body, Severity: rec.Severity.String(), Service: rec.Service,
				Host: rec.Host, Attributes: rec.Attributes,
				Source: LogSource{Instance: rec.Source.Instance, NativeID: rec.Source.NativeID, Link: rec.Source.Link},
			}); err != nil {
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	if !started {
		if err != nil {
			writeCallError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil && r.Context().Err() == nil {
		// Headers are gone: the error becomes the stream's last line.
		_ = enc.Encode(map[string]any{"error": map[string]any{"code": sdk.CodeOf(err).String(), "message": err.Error()}})
		_ = bw.Flush()
	}
}

// writeCallError maps a plugin call error to an HTTP problem.
func writeCallError(w http.ResponseWriter, err error) {
	var se *sdk.Error
	status := http.StatusBadGateway
	switch sdk.CodeOf(err) {
	case sdk.CodeBadQuery, sdk.CodeBadConfig:
		status = http.StatusBadRequest
	case sdk.CodeNotFound:
		status = http.StatusNotFound
	case sdk.CodeRateLimited:
		status = http.StatusTooManyRequests
		if errors.As(err, &se) && se.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int((se.RetryAfter+time.Second-1)/time.Second)))
		}
	case sdk.CodeUnavailable:
		status = http.StatusServiceUnavailable
	case sdk.CodeAuth:
		status = http.StatusBadGateway // the hub's credentials for the tool, not the caller's
	}
	if errors.Is(err, sdk.ErrUnsupported) {
		status = http.StatusNotImplemented
	}
	WriteProblem(w, status, err.Error())
}

// parseLogQuery reads query, from, to (RFC 3339 or a duration ago such as
// "15m"), limit, service (repeatable or comma-separated), severity, contains.
func parseLogQuery(r *http.Request, now time.Time) (sdk.LogQuery, []FieldProblem) {
	v := r.URL.Query()
	var q sdk.LogQuery
	var fields []FieldProblem
	q.Query = v.Get("query")
	parseT := func(name string) time.Time {
		s := v.Get(name)
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
		if d, err := time.ParseDuration(strings.TrimPrefix(s, "-")); err == nil && d >= 0 {
			return now.Add(-d)
		}
		fields = append(fields, FieldProblem{Field: name, Message: "want an RFC 3339 time or a duration ago such as 15m"})
		return time.Time{}
	}
	q.Start, q.End = parseT("from"), parseT("to")
	if !q.Start.IsZero() && !q.End.IsZero() && !q.End.After(q.Start) {
		fields = append(fields, FieldProblem{Field: "to", Message: "must be after from"})
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLogLimit {
			fields = append(fields, FieldProblem{Field: "limit", Message: fmt.Sprintf("want an integer from 1 to %d", MaxLogLimit)})
		}
		q.Limit = n
	} else {
		q.Limit = 1000
	}
	for _, s := range v["service"] {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				q.Filters.Services = append(q.Filters.Services, p)
			}
		}
	}
	if s := v.Get("severity"); s != "" {
		q.Filters.MinSeverity = sdk.ParseSeverity(s)
		if q.Filters.MinSeverity == sdk.SeverityUnspecified {
			fields = append(fields, FieldProblem{Field: "severity", Message: "want trace, debug, info, warn, error or fatal"})
		}
	}
	q.Filters.Contains = v.Get("contains")
	return q, fields
}

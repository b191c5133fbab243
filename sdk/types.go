package sdk

import (
	"encoding/json"
	"strings"
	"time"
)

// Capability names an optional service a plugin provides.
type Capability string

// Capabilities defined by protocol v1.
const (
	CapabilityLogs    Capability = "logs"
	CapabilityMetrics Capability = "metrics"
)

// Metadata describes a plugin.
type Metadata struct {
	Name        string // short, lower-case, e.g. "splunk"
	Version     string // the plugin's own semantic version
	Description string
	// ConfigSchema is the JSON Schema (draft 2020-12) of an instance config.
	ConfigSchema json.RawMessage

	// Filled by the SDK; authors leave these empty.
	SDKVersion      string
	ProtocolVersion int
	Capabilities    []Capability
}

// Has reports whether the plugin advertises capability c.
func (m Metadata) Has(c Capability) bool {
	for _, x := range m.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Severity is a normalised log severity.
type Severity int

// Severities, ordered.
const (
	SeverityUnspecified Severity = iota
	SeverityTrace
	SeverityDebug
	SeverityInfo
	SeverityWarn
	SeverityError
	SeverityFatal
)

var severityNames = [...]string{"", "trace", "debug", "info", "warn", "error", "fatal"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return ""
	}
	return severityNames[s]
}

// ParseSeverity maps the usual spellings of a level ("WARNING", "err",
// "critical", "I", syslog numbers 0-7) to a Severity. Unknown text gives
// SeverityUnspecified.
func ParseSeverity(text string) Severity {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "trace", "finest", "finer", "t", "7x":
		return SeverityTrace
	case "debug", "dbug", "dbg", "fine", "d", "7":
		return SeverityDebug
	case "info", "information", "informational", "notice", "i", "6", "5":
		return SeverityInfo
	case "warn", "warning", "w", "4":
		return SeverityWarn
	case "error", "err", "e", "severe", "3":
		return SeverityError
	case "fatal", "critical", "crit", "alert", "emerg", "emergency", "panic", "f", "c", "2", "1", "0":
		return SeverityFatal
	}
	return SeverityUnspecified
}

// SourceRef points back at a record in the tool it came from.
type SourceRef struct {
	Instance string // the instance that produced the record (set by the SDK)
	NativeID string // the backend's own id for the record, when it has one
	Link     string // a URL to the record in the backend's UI, when it has one
}

// Record is one log record.
type Record struct {
	Timestamp  time.Time
	Body       string
	Severity   Severity
	Service    string
	Host       string
	Attributes map[string]string
	Source     SourceRef
}

// Size is an estimate of the record's wire size, used to bound batches.
func (r *Record) Size() int {
	n := 32 + len(r.Body) + len(r.Service) + len(r.Host) +
		len(r.Source.Instance) + len(r.Source.NativeID) + len(r.Source.Link)
	for k, v := range r.Attributes {
		n += len(k) + len(v) + 4
	}
	return n
}

// LogFilters are the filters every log source understands, applied on top of
// the native query.
type LogFilters struct {
	Services    []string // any of; empty = all
	MinSeverity Severity // at or above; unspecified = all
	Contains    string   // case-insensitive substring of the body
}

// Match reports whether r passes the filters. Adapters that cannot push a
// filter down to their backend call Match on each record.
func (f LogFilters) Match(r *Record) bool {
	if len(f.Services) > 0 {
		ok := false
		for _, s := range f.Services {
			if s == r.Service {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if f.MinSeverity != SeverityUnspecified && r.Severity < f.MinSeverity {
		return false
	}
	if f.Contains != "" && !containsFold(r.Body, f.Contains) {
		return false
	}
	return true
}

func containsFold(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	// Fast path for ASCII; strings.ToLower allocates.
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// LogQuery is one log search.
type LogQuery struct {
	Start, End time.Time // half-open [Start, End); zero = unbounded
	Query      string    // the backend's native query language
	Filters    LogFilters
	Limit      int // maximum records in the whole answer; 0 = DefaultLimit
}

// InRange reports whether t lies in the query's half-open time range.
func (q LogQuery) InRange(t time.Time) bool {
	if !q.Start.IsZero() && t.Before(q.Start) {
		return false
	}
	if !q.End.IsZero() && !t.Before(q.End) {
		return false
	}
	return true
}

// DefaultLimit is the record limit when a query names none.
const DefaultLimit = 10000

// MetricQuery is one range query.
type MetricQuery struct {
	Query      string
	Start, End time.Time
	Step       time.Duration
}

// Sample is one point of a series.
type Sample struct {
	Timestamp time.Time
	Value     float64
}

// Series is one labelled time series.
type Series struct {
	Name    string
	Labels  map[string]string
	Samples []Sample
}

// HealthStatus is the outcome of a health check.
type HealthStatus int

// Health statuses.
const (
	HealthUnknown HealthStatus = iota
	HealthOK
	HealthDegraded
	HealthDown
)

func (s HealthStatus) String() string {
	switch s {
	case HealthOK:
		return "ok"
	case HealthDegraded:
		return "degraded"
	case HealthDown:
		return "down"
	}
	return "unknown"
}

// HealthReport is the result of [Adapter.Health].
type HealthReport struct {
	Status  HealthStatus
	Message string // what is wrong, for the operator; never a secret
	Latency time.Duration
	Details map[string]string
}

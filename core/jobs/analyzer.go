package jobs

import (
	"context"
	"io"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// LogSource pulls records from an integration. instanceID is
// "cluster/integration". SearchLogs calls fn with each batch in order and
// stops with fn's error. core/pluginhost.Host satisfies it.
type LogSource interface {
	SearchLogs(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error
}

// LogSourceFunc adapts a function to LogSource.
type LogSourceFunc func(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error

// SearchLogs calls f.
func (f LogSourceFunc) SearchLogs(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	return f(ctx, instanceID, q, fn)
}

// Analyzer is what an ingest job needs of the log analyzer
// (core/loganalysis); see LogAnalysis for the adapter. An ingest job uses
// one Analyzer at a time, from one goroutine.
type Analyzer interface {
	// Observe mines one record of a cluster's source.
	Observe(cluster, source string, rec sdk.Record) Observation
	// Templates lists the templates of one source.
	Templates(cluster, source string) []Template
	// Findings lists the cluster's current findings.
	Findings(cluster string) []Finding
	Snapshot(w io.Writer) error
	Restore(r io.Reader) error
}

// NewAnalyzerFunc makes a fresh analyzer; an ingest job makes one per run
// and restores the integration's saved state into it.
type NewAnalyzerFunc func() (Analyzer, error)

// Observation is the analyzer's verdict on one record.
type Observation struct {
	TemplateID string
	Template   string
	Params     []string
	Severity   sdk.Severity
	Timestamp  time.Time
}

// Template is one mined template.
type Template struct {
	ID        string
	Template  string
	Count     int64
	Severity  sdk.Severity
	FirstSeen time.Time
	LastSeen  time.Time
}

// Finding is one analyzer finding.
type Finding struct {
	Kind        string
	TemplateID  string
	Template    string
	Severity    sdk.Severity
	Service     string
	FirstSeen   time.Time
	LastSeen    time.Time
	Count       int64
	Examples    []string
	Score       float64
	Explanation string
}

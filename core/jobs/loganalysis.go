package jobs

import (
	"fmt"
	"io"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/sdk"
)

// NewLogAnalysis returns a NewAnalyzerFunc making core/loganalysis
// analyzers with opts.
func NewLogAnalysis(opts loganalysis.Options) NewAnalyzerFunc {
	return func() (Analyzer, error) {
		a, err := loganalysis.New(opts)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		return logAnalysis{a}, nil
	}
}

// logAnalysis adapts *loganalysis.Analyzer to Analyzer.
type logAnalysis struct{ a *loganalysis.Analyzer }

func (l logAnalysis) Observe(cluster, source string, rec sdk.Record) Observation {
	o := l.a.Observe(loganalysis.StreamKey{Cluster: cluster, Source: source}, rec)
	return Observation{TemplateID: o.TemplateID, Template: o.Template, Params: o.Params, Severity: o.Severity, Timestamp: o.Timestamp}
}

func (l logAnalysis) Templates(cluster, source string) []Template {
	ts := l.a.Templates(loganalysis.StreamKey{Cluster: cluster, Source: source})
	out := make([]Template, len(ts))
	for i, t := range ts {
		out[i] = Template{ID: t.ID, Template: t.Template, Count: t.Count, Severity: t.Severity, FirstSeen: t.FirstSeen, LastSeen: t.LastSeen}
	}
	return out
}

func (l logAnalysis) Findings(cluster string) []Finding {
	fs := l.a.Findings(cluster)
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = Finding{Kind: f.Kind, TemplateID: f.TemplateID, Template: f.Template, Severity: f.Severity, Service: f.Service,
			FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Count: f.Count, Examples: f.Examples, Score: f.Score, Explanation: f.Explanation}
	}
	return out
}

func (l logAnalysis) Snapshot(w io.Writer) error { return l.a.Snapshot(w) }
func (l logAnalysis) Restore(r io.Reader) error  { return l.a.Restore(r) }

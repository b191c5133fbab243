package loganalysis

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/faultmaven/faultmaven/core/loganalysis/drain"
	"github.com/faultmaven/faultmaven/sdk"
)

// Finding kinds, strongest first.
const (
	KindNewError    = "new_error"    // an error template absent from the baseline
	KindErrorSpike  = "error_spike"  // an error template far above its baseline rate
	KindRateSpike   = "rate_spike"   // any template far above its baseline rate
	KindNewTemplate = "new_template" // a template absent from the baseline
	KindError       = "error"        // an error template present all along
)

var kindWeight = map[string]float64{KindNewError: 3, KindErrorSpike: 2.5, KindRateSpike: 1.5, KindNewTemplate: 1.2, KindError: 1}

// Finding is one ranked observation about a cluster's logs.
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

func sevWeight(s sdk.Severity) float64 {
	switch {
	case s >= sdk.SeverityFatal:
		return 5
	case s >= sdk.SeverityError:
		return 4
	case s >= sdk.SeverityWarn:
		return 2
	case s == sdk.SeverityDebug || s == sdk.SeverityTrace:
		return 0.5
	}
	return 1
}

// FindingOptions tune one Findings call. The zero value gives Findings.
type FindingOptions struct {
	// BaselineEnd, when set, ends the baseline at this moment for every
	// stream of the cluster, instead of at BaselineFraction of each
	// stream's own span: what first appears after it is new, and a stream
	// that starts after it (a process started during the incident) is new
	// throughout. Callers that know when trouble began (a question saying
	// "since 13:41") set it a margin before that.
	BaselineEnd time.Time
}

// Findings ranks what stands out in the cluster's streams, best first: new
// templates and rate spikes against a baseline (the first BaselineFraction
// of each stream's time span), error templates, and which service's errors
// started first.
func (a *Analyzer) Findings(cluster string) []Finding {
	return a.FindingsWith(cluster, FindingOptions{})
}

// FindingsWith is Findings with options.
func (a *Analyzer) FindingsWith(cluster string, o FindingOptions) []Finding {
	first, last := a.Span(cluster)
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Finding
	for key, s := range a.streams {
		if key.Cluster != cluster {
			continue
		}
		w := a.streamWindow(s)
		if !o.BaselineEnd.IsZero() && o.BaselineEnd.After(first) && o.BaselineEnd.Before(last) {
			w = baseWindow{start: first, baseEnd: o.BaselineEnd, end: last}
		}
		out = append(out, a.streamFindings(s, w)...)
	}
	markFirstErrors(out)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].FirstSeen.Before(out[j].FirstSeen)
	})
	return out
}

// baseWindow splits time into a baseline [start, baseEnd) and the window
// under study [baseEnd, end]. A zero baseEnd means there is no baseline.
type baseWindow struct{ start, baseEnd, end time.Time }

// streamWindow is the default split: the first BaselineFraction of the
// stream's own span.
func (a *Analyzer) streamWindow(s *stream) baseWindow {
	span := s.last.Sub(s.first)
	if span < 2*a.opts.BucketWidth {
		// Too short to hold a baseline and a later window (or records
		// without timestamps, all stamped on arrival): errors only.
		return baseWindow{start: s.first, end: s.last}
	}
	return baseWindow{start: s.first, baseEnd: s.first.Add(time.Duration(float64(span) * a.opts.BaselineFraction)), end: s.last}
}

func (a *Analyzer) streamFindings(s *stream, w baseWindow) []Finding {
	hasBase := !w.baseEnd.IsZero()
	baseEnd := w.baseEnd
	width := int64(a.opts.BucketWidth / time.Second)
	var out []Finding
	for _, c := range s.miner.Clusters() {
		st := s.stats[c.ID]
		if st == nil {
			continue
		}
		novel := hasBase && st.first.After(baseEnd)
		var win int64
		for _, b := range st.buckets {
			if b.Start*width >= baseEnd.Unix() {
				win += int64(b.N)
			}
		}
		base := st.count - win
		baseDur, winDur := baseEnd.Sub(w.start), w.end.Sub(baseEnd)
		expected := 0.0
		if baseDur > 0 {
			expected = float64(base) * winDur.Seconds() / baseDur.Seconds()
		}
		z := (float64(win) - expected) / math.Sqrt(expected+1)
		spike := !novel && hasBase && win >= 5 && float64(win) > 3*(expected+1) && z >= 3
		isErr := st.sev >= sdk.SeverityError
		kind := ""
		switch {
		case isErr && novel:
			kind = KindNewError
		case isErr && spike:
			kind = KindErrorSpike
		case spike:
			kind = KindRateSpike
		case novel:
			kind = KindNewTemplate
		case isErr:
			kind = KindError
		default:
			continue
		}
		tmpl := c.Template()
		f := Finding{
			Kind: kind, TemplateID: drain.ID(tmpl), Template: tmpl, Severity: st.sev, Service: st.service,
			FirstSeen: st.first, LastSeen: st.last, Count: st.count, Examples: append([]string(nil), st.examples...),
		}
		f.Score = kindWeight[kind] * sevWeight(st.sev) * (1 + math.Log10(1+float64(st.count)))
		if spike {
			f.Score += math.Min(z, 20) / 4
		}
		f.Score = math.Round(f.Score*100) / 100
		switch kind {
		case KindNewError, KindNewTemplate:
			f.Explanation = fmt.Sprintf("%s template first seen %s, after the baseline (%s to %s); %s since",
				sevName(st.sev), stamp(st.first), stamp(w.start), stamp(baseEnd), nRecords(st.count))
		case KindErrorSpike, KindRateSpike:
			f.Explanation = fmt.Sprintf("%s after %s where the baseline rate predicts %.1f (z=%.1f)",
				nRecords(win), stamp(baseEnd), expected, z)
		case KindError:
			f.Explanation = fmt.Sprintf("%s template seen in %s from %s to %s, already in the baseline",
				sevName(st.sev), nRecords(st.count), stamp(st.first), stamp(st.last))
		}
		out = append(out, f)
	}
	return out
}

// markFirstErrors notes, when errors come from several services, which
// service's errors started first, and gives that finding a small boost.
func markFirstErrors(fs []Finding) {
	first := map[string]time.Time{}
	for _, f := range fs {
		if f.Severity < sdk.SeverityError {
			continue
		}
		if t, ok := first[f.Service]; !ok || f.FirstSeen.Before(t) {
			first[f.Service] = f.FirstSeen
		}
	}
	if len(first) < 2 {
		return
	}
	var earliest string
	for svc, t := range first {
		if earliest == "" || t.Before(first[earliest]) || t.Equal(first[earliest]) && svc < earliest {
			earliest = svc
		}
	}
	for i := range fs {
		f := &fs[i]
		if f.Service == earliest && f.Severity >= sdk.SeverityError && f.FirstSeen.Equal(first[earliest]) {
			f.Score = math.Round(f.Score*1.2*100) / 100
			f.Explanation += fmt.Sprintf("; %s's errors started first among %d services", earliest, len(first))
		}
	}
}

func sevName(s sdk.Severity) string {
	if n := s.String(); n != "" {
		return n
	}
	return "unspecified"
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func nRecords(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

// Span returns the times of the cluster's first and last record (zero
// when the cluster has none).
func (a *Analyzer) Span(cluster string) (first, last time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for key, s := range a.streams {
		if key.Cluster != cluster {
			continue
		}
		if first.IsZero() || s.first.Before(first) {
			first = s.first
		}
		if s.last.After(last) {
			last = s.last
		}
	}
	return first, last
}

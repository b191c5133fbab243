package loganalysis

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/core/loganalysis/drain"
	"github.com/faultmaven/faultmaven/core/loganalysis/header"
	"github.com/faultmaven/faultmaven/sdk"
)

// StreamKey names one stream of records: a cluster (an environment the
// user troubleshoots) and a source within it (an adapter instance, a file).
type StreamKey struct{ Cluster, Source string }

// Options tune an Analyzer. The zero value works; DefaultOptions shows the
// values it stands for.
type Options struct {
	// SimThreshold is the miner's similarity threshold (0 = 0.5).
	SimThreshold float64
	// MaxTemplates caps templates per stream; the least recently used are
	// evicted with their statistics (0 = 5,000).
	MaxTemplates int
	// MaxStreams caps streams; the least recently fed is dropped (0 = 1,000).
	MaxStreams int
	// BucketWidth is the width of the per-template count buckets (0 = 1m).
	BucketWidth time.Duration
	// MaxBuckets is how many buckets each template keeps (0 = 240).
	MaxBuckets int
	// BaselineFraction is the share of a stream's time span, from its
	// first record, that serves as the baseline (0 = 0.5).
	BaselineFraction float64
	// MaxExamples is how many example records each template keeps (0 = 3).
	MaxExamples int
	// Now is the clock used for records without a timestamp (nil = time.Now).
	Now func() time.Time
	// Logger receives debug messages (nil = discard).
	Logger *slog.Logger
}

// maxMinedBytes bounds the text of one record that is mined, as the raw
// path's records.Options.MaxLineBytes does for files.
const maxMinedBytes = 64 << 10

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{
		SimThreshold:     0.5,
		MaxTemplates:     5000,
		MaxStreams:       1000,
		BucketWidth:      time.Minute,
		MaxBuckets:       240,
		BaselineFraction: 0.5,
		MaxExamples:      3,
		Now:              time.Now,
		Logger:           slog.New(slog.DiscardHandler),
	}
}

func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.SimThreshold == 0 {
		o.SimThreshold = d.SimThreshold
	}
	if o.MaxTemplates == 0 {
		o.MaxTemplates = d.MaxTemplates
	}
	if o.MaxStreams == 0 {
		o.MaxStreams = d.MaxStreams
	}
	if o.BucketWidth == 0 {
		o.BucketWidth = d.BucketWidth
	}
	if o.MaxBuckets == 0 {
		o.MaxBuckets = d.MaxBuckets
	}
	if o.BaselineFraction == 0 {
		o.BaselineFraction = d.BaselineFraction
	}
	if o.MaxExamples == 0 {
		o.MaxExamples = d.MaxExamples
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	switch {
	case o.SimThreshold < 0 || o.SimThreshold > 1:
		return o, fmt.Errorf("%w: SimThreshold %v not in [0,1]", ErrBadOption, o.SimThreshold)
	case o.MaxTemplates < 0 || o.MaxStreams < 0 || o.MaxBuckets < 0 || o.MaxExamples < 0:
		return o, fmt.Errorf("%w: negative cap", ErrBadOption)
	case o.BucketWidth < time.Second:
		return o, fmt.Errorf("%w: BucketWidth %v below 1s", ErrBadOption, o.BucketWidth)
	case o.BaselineFraction < 0 || o.BaselineFraction >= 1:
		return o, fmt.Errorf("%w: BaselineFraction %v not in [0,1)", ErrBadOption, o.BaselineFraction)
	}
	return o, nil
}

// Observation is what the analyzer made of one record.
type Observation struct {
	TemplateID string
	Template   string
	Params     []string
	Severity   sdk.Severity
	Timestamp  time.Time
	// NewTemplate is true when this record opened a template.
	NewTemplate bool
	// Anomalous marks a record of error severity or worse whose text names
	// a failure (error, failed, exception, timeout, refused, ...).
	Anomalous bool
}

// Template is a mined template of one stream.
type Template struct {
	ID        string
	Template  string
	Count     int64
	Severity  sdk.Severity // the worst severity seen
	FirstSeen time.Time
	LastSeen  time.Time
}

// Analyzer mines templates per stream and ranks findings per cluster. It is
// safe for concurrent use: one lock guards all streams, and Observe costs a
// few microseconds.
type Analyzer struct {
	opts    Options
	mu      sync.Mutex
	streams map[StreamKey]*stream
	tick    uint64
}

type stream struct {
	key   StreamKey
	det   *header.Detector
	miner *drain.Miner
	stats map[int]*tstats
	first time.Time
	last  time.Time
	// prev is the timestamp of the record fed last; a record without a
	// timestamp (a panic's goroutine dump, a bare continuation) belongs
	// next to it, not at the time it happens to be analyzed.
	prev    time.Time
	used    uint64
	tok     drain.Tokenizer
	orig    []string
	masked  []string
	service string
}

type tstats struct {
	tmpl     string // the template text and id, cached until it changes
	id       string
	count    int64
	sev      sdk.Severity
	first    time.Time
	last     time.Time
	examples []string
	buckets  []bucket
	service  string
}

type bucket struct {
	Start int64 `json:"s"` // unix seconds / bucket width
	N     int32 `json:"n"`
}

// New returns an Analyzer with no streams.
func New(opts Options) (*Analyzer, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Analyzer{opts: o, streams: map[StreamKey]*stream{}}, nil
}

func (a *Analyzer) newStream(key StreamKey) *stream {
	s := &stream{key: key, det: header.NewDetector(), stats: map[int]*tstats{}}
	s.miner = drain.New(drain.Config{SimThreshold: a.opts.SimThreshold, MaxClusters: a.opts.MaxTemplates})
	s.miner.OnEvict = func(c *drain.Cluster) { delete(s.stats, c.ID) }
	s.miner.OnMerge = func(from, to *drain.Cluster) {
		f := s.stats[from.ID]
		delete(s.stats, from.ID)
		if f == nil {
			return
		}
		t := s.stats[to.ID]
		if t == nil {
			s.stats[to.ID] = f
			f.tmpl = ""
			return
		}
		t.merge(f, a.opts.MaxExamples, a.opts.MaxBuckets)
	}
	return s
}

// stream returns the stream for key, creating it (and dropping the least
// recently fed stream beyond MaxStreams). Caller holds a.mu.
func (a *Analyzer) stream(key StreamKey) *stream {
	a.tick++
	s := a.streams[key]
	if s == nil {
		if len(a.streams) >= a.opts.MaxStreams {
			var oldest *stream
			for _, x := range a.streams {
				if oldest == nil || x.used < oldest.used {
					oldest = x
				}
			}
			delete(a.streams, oldest.key)
			a.opts.Logger.Debug("loganalysis: stream dropped", "cluster", oldest.key.Cluster, "source", oldest.key.Source)
		}
		s = a.newStream(key)
		a.streams[key] = s
	}
	s.used = a.tick
	return s
}

// Observe mines one record that an adapter already split. When the adapter
// left the timestamp, severity or service empty, the record's header fills
// them; the header is stripped from the text that is mined.
func (a *Analyzer) Observe(key StreamKey, rec sdk.Record) Observation {
	first, _, _ := strings.Cut(rec.Body, "\n")
	first = strings.TrimRight(first, "\r")
	if len(first) > maxMinedBytes {
		first = strings.ToValidUTF8(first[:maxMinedBytes], "")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stream(key)
	hp := s.det.Parse(first)
	ts := rec.Timestamp
	if ts.IsZero() && hp.Timestamp.Year() > 0 {
		ts = hp.Timestamp
	}
	if ts.IsZero() {
		ts = s.prev
	}
	if ts.IsZero() {
		ts = a.opts.Now()
	}
	s.prev = ts
	sev := rec.Severity
	if sev == sdk.SeverityUnspecified {
		sev = hp.Severity
	}
	if sev == sdk.SeverityUnspecified && failureText(hp.Content) {
		sev = sdk.SeverityError
	}
	service := rec.Service
	if service == "" {
		service = key.Source
	}
	s.orig, s.masked = s.tok.Tokenize(hp.Content, s.orig, s.masked)
	c, changed := s.miner.Add(s.masked)
	st := s.stats[c.ID]
	isNew := st == nil
	if isNew {
		st = &tstats{first: ts, service: service}
		s.stats[c.ID] = st
	}
	if changed || st.tmpl == "" {
		st.tmpl = c.Template()
		st.id = drain.ID(st.tmpl)
	}
	st.count++
	if sev > st.sev {
		st.sev = sev
	}
	if ts.Before(st.first) {
		st.first = ts
	}
	if ts.After(st.last) {
		st.last = ts
	}
	if len(st.examples) < a.opts.MaxExamples {
		st.examples = append(st.examples, truncate(rec.Body, 2048))
	}
	st.add(ts, a.opts.BucketWidth, a.opts.MaxBuckets)
	if s.first.IsZero() || ts.Before(s.first) {
		s.first = ts
	}
	if ts.After(s.last) {
		s.last = ts
	}
	return Observation{
		TemplateID:  st.id,
		Template:    st.tmpl,
		Params:      drain.Params(c.Tokens, s.orig),
		Severity:    sev,
		Timestamp:   ts,
		NewTemplate: isNew,
		Anomalous:   sev >= sdk.SeverityError && failureText(hp.Content),
	}
}

// merge folds the statistics of a merged template into st.
func (st *tstats) merge(o *tstats, maxExamples, maxBuckets int) {
	st.count += o.count
	st.sev = max(st.sev, o.sev)
	if o.first.Before(st.first) {
		st.first, st.service = o.first, o.service
	}
	if o.last.After(st.last) {
		st.last = o.last
	}
	for _, e := range o.examples {
		if len(st.examples) < maxExamples {
			st.examples = append(st.examples, e)
		}
	}
	all := append(append([]bucket(nil), st.buckets...), o.buckets...)
	sort.Slice(all, func(i, j int) bool { return all[i].Start < all[j].Start })
	merged := all[:0]
	for _, b := range all {
		if n := len(merged); n > 0 && merged[n-1].Start == b.Start {
			merged[n-1].N += b.N
		} else {
			merged = append(merged, b)
		}
	}
	if len(merged) > maxBuckets {
		merged = merged[len(merged)-maxBuckets:]
	}
	st.buckets = merged
	st.tmpl = "" // recomputed on next use
}

func (st *tstats) add(ts time.Time, width time.Duration, max int) {
	b := ts.Unix() / int64(width/time.Second)
	n := len(st.buckets)
	if n > 0 && st.buckets[n-1].Start == b {
		st.buckets[n-1].N++
		return
	}
	if n == 0 || st.buckets[n-1].Start < b {
		st.buckets = append(st.buckets, bucket{Start: b, N: 1})
	} else {
		i := sort.Search(n, func(i int) bool { return st.buckets[i].Start >= b })
		if i < n && st.buckets[i].Start == b {
			st.buckets[i].N++
		} else {
			st.buckets = append(st.buckets, bucket{})
			copy(st.buckets[i+1:], st.buckets[i:])
			st.buckets[i] = bucket{Start: b, N: 1}
		}
	}
	if len(st.buckets) > max {
		st.buckets = append(st.buckets[:0], st.buckets[len(st.buckets)-max:]...)
	}
}

// Templates returns a stream's templates, most frequent first.
func (a *Analyzer) Templates(key StreamKey) []Template {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.streams[key]
	if s == nil {
		return nil
	}
	out := make([]Template, 0, len(s.stats))
	for _, c := range s.miner.Clusters() {
		st := s.stats[c.ID]
		if st == nil {
			continue
		}
		t := c.Template()
		out = append(out, Template{ID: drain.ID(t), Template: t, Count: st.count, Severity: st.sev, FirstSeen: st.first, LastSeen: st.last})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// failureWords are generic signs of failure in a message, matched as word
// prefixes, case-insensitively. Not tuned to any dataset.
var failureWords = []string{"error", "err:", "exception", "fail", "fatal", "panic", "abort", "terminat", "timeout", "timed out", "refused", "denied", "unreachable", "corrupt", "crash", "killed", "segfault", "out of memory", "oom", "lost", "cannot", "can't", "unable", "unavailable", "interrupt"}

// FailureText reports whether a message names a failure (error, failed,
// timeout, refused, ...), whatever level it was logged at.
func FailureText(s string) bool { return failureText(s) }

func failureText(s string) bool {
	if s == "" {
		return false
	}
	l := strings.ToLower(s)
	for _, w := range failureWords {
		for from := 0; ; {
			i := strings.Index(l[from:], w)
			if i < 0 {
				break
			}
			i += from
			if i == 0 || !isWordByte(l[i-1]) {
				return true
			}
			from = i + 1
		}
	}
	return false
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

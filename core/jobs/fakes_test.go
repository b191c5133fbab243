package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
	"github.com/faultmaven/faultmaven/sdk"
)

// fakeSource serves a fixed, deterministic list of records, filtered by
// the query window, in batches.
type fakeSource struct {
	recs      []sdk.Record
	batch     int
	delay     time.Duration // per batch
	failAfter atomic.Int64  // fail after this many batches of one call when > 0
	failures  atomic.Int64  // how many calls still fail (-1 = always)
	inFlight  atomic.Int64
	maxFlight atomic.Int64
	calls     atomic.Int64
}

// genRecords makes n records from start, step apart, cycling through a
// few shapes; every 10th is an error. native adds native ids. A few
// records repeat exactly (same time and content) to exercise ordinals.
func genRecords(start time.Time, step time.Duration, n int, native bool) []sdk.Record {
	out := make([]sdk.Record, 0, n)
	for i := range n {
		ts := start.Add(time.Duration(i) * step)
		r := sdk.Record{Timestamp: ts, Service: "api", Host: "node-1", Severity: sdk.SeverityInfo,
			Body: fmt.Sprintf("GET /orders/%d answered in %d ms", i, i%250)}
		if i%10 == 0 {
			r.Severity = sdk.SeverityError
			r.Body = fmt.Sprintf("db connection to 10.0.0.%d refused", i%7)
		}
		if i%97 == 5 && i > 0 && !native {
			prev := out[len(out)-1]
			r = prev // an exact repeat of the previous record
		}
		if native {
			r.Source.NativeID = fmt.Sprintf("rec-%06d", i)
		}
		out = append(out, r)
	}
	return out
}

func (s *fakeSource) count(from, to time.Time) int {
	q := sdk.LogQuery{Start: from, End: to}
	n := 0
	for i := range s.recs {
		if q.InRange(s.recs[i].Timestamp) {
			n++
		}
	}
	return n
}

func (s *fakeSource) SearchLogs(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	s.calls.Add(1)
	cur := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxFlight.Load()
		if cur <= m || s.maxFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	fail := false
	if f := s.failures.Load(); f < 0 || (f > 0 && s.failures.CompareAndSwap(f, f-1)) {
		fail = true
	}
	size := s.batch
	if size <= 0 {
		size = 500
	}
	var batch []sdk.Record
	sent, batches := 0, int64(0)
	emit := func() error {
		if len(batch) == 0 {
			return nil
		}
		if fail && batches >= s.failAfter.Load() {
			return fmt.Errorf("fake source: backend unavailable")
		}
		if s.delay > 0 {
			select {
			case <-time.After(s.delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		batches++
		err := fn(batch)
		batch = nil
		return err
	}
	for _, r := range s.recs {
		if !q.InRange(r.Timestamp) {
			continue
		}
		if q.Limit > 0 && sent >= q.Limit {
			break
		}
		r.Source.Instance = instanceID
		batch = append(batch, r)
		sent++
		if len(batch) == size {
			if err := emit(); err != nil {
				return err
			}
		}
	}
	if err := emit(); err != nil {
		return err
	}
	if fail {
		return fmt.Errorf("fake source: backend unavailable")
	}
	return nil
}

// fakeAnalyzer mines templates by masking numbers; error templates become
// findings. It is deterministic and snapshots to JSON.
type fakeAnalyzer struct {
	mu    sync.Mutex
	State struct {
		Templates map[string]*jobs.Template // by id
		Sources   map[string][]string       // cluster/source -> ids
	}
}

var numRE = regexp.MustCompile(`\d+(\.\d+)*`)

func newFakeAnalyzer() (jobs.Analyzer, error) {
	a := &fakeAnalyzer{}
	a.State.Templates = map[string]*jobs.Template{}
	a.State.Sources = map[string][]string{}
	return a, nil
}

func (a *fakeAnalyzer) Observe(cluster, source string, rec sdk.Record) jobs.Observation {
	a.mu.Lock()
	defer a.mu.Unlock()
	text := numRE.ReplaceAllString(rec.Body, "<*>")
	sum := sha256.Sum256([]byte(cluster + "\x00" + source + "\x00" + text))
	id := hex.EncodeToString(sum[:6])
	t := a.State.Templates[id]
	if t == nil {
		t = &jobs.Template{ID: id, Template: text, Severity: rec.Severity, FirstSeen: rec.Timestamp}
		a.State.Templates[id] = t
		k := cluster + "/" + source
		a.State.Sources[k] = append(a.State.Sources[k], id)
	}
	t.Count++
	if rec.Timestamp.After(t.LastSeen) {
		t.LastSeen = rec.Timestamp
	}
	return jobs.Observation{TemplateID: id, Template: text, Severity: rec.Severity, Timestamp: rec.Timestamp}
}

func (a *fakeAnalyzer) Templates(cluster, source string) []jobs.Template {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []jobs.Template
	for _, id := range a.State.Sources[cluster+"/"+source] {
		out = append(out, *a.State.Templates[id])
	}
	return out
}

func (a *fakeAnalyzer) Findings(cluster string) []jobs.Finding {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []jobs.Finding
	for _, t := range a.State.Templates {
		if t.Severity >= sdk.SeverityError {
			out = append(out, jobs.Finding{Kind: "error_template", TemplateID: t.ID, Template: t.Template, Severity: t.Severity,
				FirstSeen: t.FirstSeen, LastSeen: t.LastSeen, Count: t.Count, Score: float64(t.Count),
				Examples: []string{"example of " + t.Template}})
		}
	}
	return out
}

func (a *fakeAnalyzer) Snapshot(w io.Writer) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return json.NewEncoder(w).Encode(&a.State)
}

func (a *fakeAnalyzer) Restore(r io.Reader) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return json.NewDecoder(r).Decode(&a.State)
}

// templateCounts returns the analyzer's total count over a snapshot.
func analyzerTotal(tb testing.TB, st store.Store, cluster, integration string) int64 {
	tb.Helper()
	s, err := st.GetAnalyzerState(context.Background(), cluster, integration)
	if err != nil {
		tb.Fatalf("analyzer state: %v", err)
	}
	a, _ := newFakeAnalyzer()
	if err := a.Restore(bytesReader(s.Data[8:])); err != nil {
		tb.Fatalf("restore: %v", err)
	}
	var n int64
	for _, t := range a.(*fakeAnalyzer).State.Templates {
		n += t.Count
	}
	return n
}

// openStore opens a fresh store of backend b with one integration.
func openStore(tb testing.TB, b storetest.Backend, cluster, integration string) (store.Store, store.Options) {
	tb.Helper()
	opts := b.Fresh(tb)
	st := storetest.Open(tb, opts, storetest.NewKeyring(tb))
	if err := st.UpsertIntegration(context.Background(), store.Integration{Cluster: cluster, Name: integration, Plugin: "files"}); err != nil {
		tb.Fatal(err)
	}
	return st, opts
}

// startQueue builds and starts a queue, stopped at the end of the test.
func startQueue(tb testing.TB, o jobs.Options) *jobs.Queue {
	tb.Helper()
	if o.NewAnalyzer == nil {
		o.NewAnalyzer = newFakeAnalyzer
	}
	if o.PollInterval == 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.RetryDelay == nil {
		o.RetryDelay = func(int) time.Duration { return 100 * time.Millisecond }
	}
	o.Retention = -1
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	q, err := jobs.New(context.Background(), o)
	if err != nil {
		tb.Fatalf("jobs.New: %v", err)
	}
	if err := q.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			tb.Logf("stop: %v", err)
		}
	})
	return q
}

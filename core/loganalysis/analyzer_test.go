package loganalysis_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/sdk"
)

func newAnalyzer(tb testing.TB, opts loganalysis.Options) *loganalysis.Analyzer {
	tb.Helper()
	a, err := loganalysis.New(opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

func TestOptions(t *testing.T) {
	if _, err := loganalysis.New(loganalysis.Options{}); err != nil {
		t.Fatalf("zero Options: %v", err)
	}
	if _, err := loganalysis.New(loganalysis.DefaultOptions()); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	bad := []loganalysis.Options{
		{SimThreshold: 1.5},
		{MaxTemplates: -1},
		{BucketWidth: time.Millisecond},
		{BaselineFraction: 1},
	}
	for i, o := range bad {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if _, err := loganalysis.New(o); !errors.Is(err, loganalysis.ErrBadOption) {
				t.Errorf("New(%+v) = %v; want ErrBadOption", o, err)
			}
		})
	}
	if _, err := loganalysis.NewParser(loganalysis.ParseOptions{Masks: []string{"("}}); !errors.Is(err, loganalysis.ErrBadOption) {
		t.Errorf("NewParser with a bad mask = %v; want ErrBadOption", err)
	}
}

func TestObserve(t *testing.T) {
	a := newAnalyzer(t, loganalysis.Options{})
	key := loganalysis.StreamKey{Cluster: "prod", Source: "api"}
	var last loganalysis.Observation
	for i := 0; i < 5; i++ {
		last = a.Observe(key, sdk.Record{Body: fmt.Sprintf("2024-01-02 03:04:0%d,000 ERROR [main] db.Pool: connection to 10.0.0.%d:5432 refused after %dms", i, i, 100*i)})
	}
	if last.Template != "connection to <*>:<*> refused after <*>" {
		t.Errorf("template %q", last.Template)
	}
	if last.Severity != sdk.SeverityError || !last.Anomalous || last.NewTemplate {
		t.Errorf("severity %v anomalous %v new %v; want error, true, false", last.Severity, last.Anomalous, last.NewTemplate)
	}
	if want := time.Date(2024, 1, 2, 3, 4, 4, 0, time.UTC); !last.Timestamp.Equal(want) {
		t.Errorf("timestamp %v; want %v", last.Timestamp, want)
	}
	if got := strings.Join(last.Params, " "); got != "10.0.0.4 5432 400ms" {
		t.Errorf("params %q", got)
	}
	ts := a.Templates(key)
	if len(ts) != 1 || ts[0].Count != 5 || ts[0].ID != last.TemplateID || ts[0].ID != loganalysis.TemplateID(last.Template) {
		t.Errorf("Templates = %+v", ts)
	}
	// An adapter's own fields win over the header.
	o := a.Observe(key, sdk.Record{Body: "plain text from an adapter", Severity: sdk.SeverityWarn, Timestamp: time.Unix(1700000000, 0)})
	if o.Severity != sdk.SeverityWarn || o.Timestamp.Unix() != 1700000000 {
		t.Errorf("adapter fields lost: %+v", o)
	}
	if a.Templates(loganalysis.StreamKey{Cluster: "none"}) != nil {
		t.Error("Templates of an unknown stream is not nil")
	}
}

func TestSnapshotRestore(t *testing.T) {
	a := newAnalyzer(t, loganalysis.Options{})
	key := loganalysis.StreamKey{Cluster: "c", Source: "s"}
	before := a.Observe(key, sdk.Record{Body: "user 1 logged in from 10.0.0.1"})
	a.Observe(key, sdk.Record{Body: "user 2 logged in from 10.0.0.2"})
	var buf bytes.Buffer
	if err := a.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	b := newAnalyzer(t, loganalysis.Options{})
	if err := b.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	after := b.Observe(key, sdk.Record{Body: "user 3 logged in from 10.0.0.3"})
	if after.TemplateID != before.TemplateID || after.NewTemplate {
		t.Errorf("after restore: id %s new %v; want %s, false", after.TemplateID, after.NewTemplate, before.TemplateID)
	}
	if ts := b.Templates(key); len(ts) != 1 || ts[0].Count != 3 {
		t.Errorf("restored templates %+v; want one with count 3", ts)
	}
	for _, bad := range []string{"", "{", `{"version":99}`, `{"version":1,"streams":[{"templates":[{"id":0}]}]}`} {
		if err := b.Restore(strings.NewReader(bad)); err == nil {
			t.Errorf("Restore(%q) succeeded", bad)
		}
	}
}

func TestFindings(t *testing.T) {
	a := newAnalyzer(t, loganalysis.Options{})
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	api := loganalysis.StreamKey{Cluster: "prod", Source: "api"}
	db := loganalysis.StreamKey{Cluster: "prod", Source: "db"}
	obs := func(key loganalysis.StreamKey, at time.Duration, sev sdk.Severity, body string) {
		a.Observe(key, sdk.Record{Timestamp: t0.Add(at), Severity: sev, Body: body, Service: key.Source})
	}
	// An hour of calm in both services, then db fails first and api follows.
	for m := 0; m < 60; m++ {
		obs(api, time.Duration(m)*time.Minute, sdk.SeverityInfo, fmt.Sprintf("GET /health 200 in %dms", m))
		obs(db, time.Duration(m)*time.Minute, sdk.SeverityInfo, fmt.Sprintf("checkpoint complete: wrote %d buffers", m))
	}
	for m := 60; m < 70; m++ {
		obs(db, time.Duration(m)*time.Minute, sdk.SeverityError, fmt.Sprintf("could not write block %d: No space left on device", m))
		for k := 0; k < 5; k++ {
			obs(api, time.Duration(m)*time.Minute+time.Second, sdk.SeverityError, fmt.Sprintf("query failed: connection reset by peer after %dms", k))
		}
		obs(api, time.Duration(m)*time.Minute, sdk.SeverityInfo, fmt.Sprintf("GET /health 200 in %dms", m))
	}
	fs := a.Findings("prod")
	if len(fs) < 2 {
		t.Fatalf("got %d findings; want at least 2", len(fs))
	}
	kinds := map[string]string{}
	for _, f := range fs {
		kinds[f.Service] += f.Kind + " "
		if f.Explanation == "" || f.TemplateID == "" || len(f.Examples) == 0 || f.Score <= 0 {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	for _, svc := range []string{"api", "db"} {
		if !strings.Contains(kinds[svc], loganalysis.KindNewError) {
			t.Errorf("%s findings %q lack %s", svc, kinds[svc], loganalysis.KindNewError)
		}
	}
	if fs[0].Kind != loganalysis.KindNewError {
		t.Errorf("top finding %s; want %s", fs[0].Kind, loganalysis.KindNewError)
	}
	var dbFirst bool
	for _, f := range fs {
		if f.Service == "db" && strings.Contains(f.Explanation, "db's errors started first") {
			dbFirst = true
		}
	}
	if !dbFirst {
		t.Errorf("no finding says db's errors started first: %+v", fs)
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Score > fs[i-1].Score {
			t.Errorf("findings not ranked: %v before %v", fs[i-1].Score, fs[i].Score)
		}
	}
	if got := a.Findings("other"); len(got) != 0 {
		t.Errorf("findings of an unknown cluster: %+v", got)
	}
}

func TestConcurrentObserve(t *testing.T) {
	a := newAnalyzer(t, loganalysis.Options{})
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			key := loganalysis.StreamKey{Cluster: "c", Source: strconv.Itoa(g % 2)}
			for i := 0; i < 500; i++ {
				a.Observe(key, sdk.Record{Body: fmt.Sprintf("worker %d finished job %d", g, i)})
				if i%100 == 0 {
					a.Findings("c")
					a.Templates(key)
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	for _, s := range []string{"0", "1"} {
		if ts := a.Templates(loganalysis.StreamKey{Cluster: "c", Source: s}); len(ts) != 1 || ts[0].Count != 1000 {
			t.Errorf("stream %s templates %+v; want one with count 1000", s, ts)
		}
	}
}

// TestBoundedMemory feeds a stream of mostly unique lines (the worst case
// for a miner) and checks that templates and heap stay under their caps.
// FAULTMAVEN_LOG_LINES=10000000 runs the 10M-line version (about a minute).
func TestBoundedMemory(t *testing.T) {
	n := 200_000
	if s := os.Getenv("FAULTMAVEN_LOG_LINES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("FAULTMAVEN_LOG_LINES: %v", err)
		}
		n = v
	}
	const maxTemplates = 2000
	a := newAnalyzer(t, loganalysis.Options{MaxTemplates: maxTemplates, MaxStreams: 4})
	words := []string{"alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta"}
	var peak uint64
	var ms runtime.MemStats
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	for i := 0; i < n; i++ {
		// Unique word pairs make new templates all the time.
		w := words[i%8] + strconv.Itoa(i%997) // digits mask away
		body := fmt.Sprintf("%s %s%c%c request %d served", w, words[(i/8)%8], 'a'+byte(i/64%26), 'a'+byte(i/1664%26), i)
		src := strconv.Itoa(i % 3)
		if i%1000 == 999 {
			src = "rare-" + strconv.Itoa(i) // streams beyond MaxStreams get dropped
		}
		a.Observe(loganalysis.StreamKey{Cluster: "c", Source: src}, sdk.Record{Body: body, Timestamp: t0.Add(time.Duration(i) * time.Millisecond)})
		if i%(n/10+1) == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapAlloc)
	total := 0
	for s := 0; s < 3; s++ {
		total += len(a.Templates(loganalysis.StreamKey{Cluster: "c", Source: strconv.Itoa(s)}))
	}
	if total > 3*maxTemplates || total < maxTemplates {
		t.Errorf("%d templates live in 3 streams; want between %d and %d (the cap per stream)", total, maxTemplates, 3*maxTemplates)
	}
	// 4 streams x 2000 templates x (tokens + 240 buckets + 3 examples)
	// stays well under 256 MiB; an unbounded miner passes it within ~1M lines.
	if peak > 256<<20 {
		t.Errorf("peak heap %d MiB; want under 256 MiB", peak>>20)
	}
	t.Logf("%d lines, %d live templates, peak heap %.1f MiB, %.0f lines/s", n, total, float64(peak)/(1<<20), float64(n)/time.Since(start).Seconds())
}

func TestObserveMergesWordVariables(t *testing.T) {
	a := newAnalyzer(t, loganalysis.Options{})
	key := loganalysis.StreamKey{Cluster: "c", Source: "sshd"}
	users := []string{"admin", "oracle", "guest", "webmaster", "postgres", "nagios", "tomcat", "ubuntu"}
	var last loganalysis.Observation
	for i, u := range users {
		last = a.Observe(key, sdk.Record{Body: fmt.Sprintf("Dec 10 06:55:%02d LabSZ sshd[%d]: Invalid user %s from 10.0.0.%d", i, 24200+i, u, i)})
	}
	ts := a.Templates(key)
	if len(ts) != 1 || ts[0].Count != int64(len(users)) || ts[0].Template != "Invalid user <*> from <*>" {
		t.Fatalf("Templates = %+v; want one template of %d records", ts, len(users))
	}
	if last.TemplateID != ts[0].ID || strings.Join(last.Params, " ") != "ubuntu 10.0.0.7" {
		t.Errorf("last observation %+v", last)
	}
	var buf bytes.Buffer
	if err := a.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	b := newAnalyzer(t, loganalysis.Options{})
	if err := b.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	o := b.Observe(key, sdk.Record{Body: "Dec 10 06:56:00 LabSZ sshd[25000]: Invalid user zabbix from 10.0.0.99"})
	if o.TemplateID != ts[0].ID || o.NewTemplate {
		t.Errorf("after restore: %+v; want template %s, not new", o, ts[0].ID)
	}
}

func TestFindingsWithoutTimeSpan(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newAnalyzer(t, loganalysis.Options{Now: func() time.Time { now = now.Add(time.Millisecond); return now }})
	key := loganalysis.StreamKey{Cluster: "c", Source: "s"}
	for i := 0; i < 50; i++ {
		a.Observe(key, sdk.Record{Body: fmt.Sprintf("job %d done", i)})
	}
	a.Observe(key, sdk.Record{Body: "worker crashed: out of memory"})
	a.Observe(key, sdk.Record{Body: "cache warmed"})
	fs := a.Findings("c")
	if len(fs) != 1 || fs[0].Kind != loganalysis.KindError {
		t.Errorf("findings %+v; want only the error (no baseline in 52 ms)", fs)
	}
}

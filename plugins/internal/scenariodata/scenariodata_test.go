package scenariodata_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
)

func TestTimestampParser(t *testing.T) {
	cases := []struct {
		name, layout, in string
		year             int
		want             time.Time
		wantErr          bool
	}{
		{"unix float", scenariodata.LayoutUnixFloat, "1709645527.250", 0, time.Date(2024, 3, 5, 13, 32, 7, 250e6, time.UTC), false},
		{"unix float no fraction", scenariodata.LayoutUnixFloat, "1709645527", 0, time.Date(2024, 3, 5, 13, 32, 7, 0, time.UTC), false},
		{"unix ms", scenariodata.LayoutUnixMS, "1709645527250", 0, time.Date(2024, 3, 5, 13, 32, 7, 250e6, time.UTC), false},
		{"zone offset to utc", "02/Jan/2006:15:04:05 -0700", "05/Mar/2024:14:32:07 +0100", 0, time.Date(2024, 3, 5, 13, 32, 7, 0, time.UTC), false},
		{"comma millis", "2006-01-02 15:04:05,000", "2024-03-05 13:32:07,125", 0, time.Date(2024, 3, 5, 13, 32, 7, 125e6, time.UTC), false},
		{"year-less takes window year", "Jan _2 15:04:05", "Mar  5 13:32:07", 2024, time.Date(2024, 3, 5, 13, 32, 7, 0, time.UTC), false},
		{"garbage", "2006-01-02", "yesterday", 0, time.Time{}, true},
		{"garbage unix", scenariodata.LayoutUnixMS, "12.5", 0, time.Time{}, true},
		{"no layout", "", "2024", 0, time.Time{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := scenariodata.TimestampParser{Layout: c.layout, Year: c.year}.Parse(c.in)
			if c.wantErr {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", c.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.in, err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Fatalf("Parse(%q) = %v, want %v (UTC)", c.in, got, c.want)
			}
		})
	}
}

func writeScenario(t testing.TB, sources, log string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sources.yaml"), []byte(sources), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "app.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const javaSources = `scenario: 'x01'
time_window: {start: '2024-03-05T13:20:00Z', end: '2024-03-05T14:05:00Z'}
sources:
  - file: 'logs/app.log'
    service: 'orders-api'
    backend: 'datadog'
    format: 'spring'
    multiline: true
    event_start_regex: '^\d{4}-\d{2}-\d{2} '
    timestamp_regex: '^(\S+ \S+)'
    timestamp_layout: '2006-01-02 15:04:05.000'
    datadog: {service: 'orders-api', source: 'java', tags: ['env:prod']}
`

func TestLoadJoinsMultiLineEvents(t *testing.T) {
	log := "2024-03-05 13:30:00.000 INFO started\n" +
		"2024-03-05 13:32:07.500 ERROR boom\n" +
		"java.lang.IllegalStateException: leak\n" +
		"\n" +
		"\tat a.b.C(C.java:1)\n" +
		"2024-03-05 13:33:00.000 WARN after\n\n"
	sc, err := scenariodata.Load(writeScenario(t, javaSources, log))
	if err != nil {
		t.Fatal(err)
	}
	if sc.ID != "x01" || !sc.Start.Equal(time.Date(2024, 3, 5, 13, 20, 0, 0, time.UTC)) {
		t.Fatalf("scenario = %s %v", sc.ID, sc.Start)
	}
	src := sc.Sources[0]
	if src.Datadog == nil || src.Datadog.Service != "orders-api" || len(src.Datadog.Tags) != 1 {
		t.Fatalf("datadog target = %+v", src.Datadog)
	}
	if len(src.Events) != 3 {
		t.Fatalf("got %d events, want 3: %+v", len(src.Events), src.Events)
	}
	e := src.Events[1]
	wantRaw := "2024-03-05 13:32:07.500 ERROR boom\njava.lang.IllegalStateException: leak\n\n\tat a.b.C(C.java:1)"
	if e.Raw != wantRaw || e.Line != 2 || e.Lines() != 4 {
		t.Fatalf("event = %q line %d, want %q line 2", e.Raw, e.Line, wantRaw)
	}
	if !e.Time.Equal(time.Date(2024, 3, 5, 13, 32, 7, 500e6, time.UTC)) {
		t.Fatalf("time = %v", e.Time)
	}
	if got := len(sc.BySource(scenariodata.BackendDatadog)); got != 1 {
		t.Fatalf("BySource(datadog) = %d sources", got)
	}
	if got := len(sc.BySource(scenariodata.BackendSplunk)); got != 0 {
		t.Fatalf("BySource(splunk) = %d sources", got)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, sources, log, want string
	}{
		{"bad timestamp", javaSources, "2024-03-05 xx:30:00.000 INFO started\n", "app.log:1"},
		{"bad regex", strings.Replace(javaSources, `'^\d{4}-\d{2}-\d{2} '`, `'^(unclosed'`, 1), "x\n", "event_start_regex"},
		{"no capture group", strings.Replace(javaSources, `'^(\S+ \S+)'`, `'^\S+'`, 1), "x\n", "capture group"},
		{"bad window", strings.Replace(javaSources, "2024-03-05T13:20:00Z", "soon", 1), "x\n", "time_window.start"},
		{"missing file", strings.Replace(javaSources, "logs/app.log", "logs/none.log", 1), "x\n", "none.log"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenariodata.Load(writeScenario(t, c.sources, c.log))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// corpusDir is the shared scenario corpus next to the checkout; the
// FAULTMAVEN_SCENARIOS variable points elsewhere.
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FAULTMAVEN_SCENARIOS"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../../../shared/scenarios/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("scenario corpus not found at %s (set FAULTMAVEN_SCENARIOS)", d)
	}
	return d
}

// TestLoadCorpus loads every scenario and checks that no line is lost or
// invented: the events of a file hold exactly its non-blank lines.
func TestLoadCorpus(t *testing.T) {
	root := corpusDir(t)
	dirs, err := filepath.Glob(filepath.Join(root, "*", "sources.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenario under %s: %v", root, err)
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			sc, err := scenariodata.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Metrics) == 0 || len(sc.Metrics[0].Points) == 0 || sc.Metrics[0].Points[0].Time.Year() != sc.Start.Year() {
				t.Fatalf("metrics = %d series, want the series of metrics.json", len(sc.Metrics))
			}
			for _, src := range sc.Sources {
				want := countNonBlank(t, filepath.Join(dir, src.File))
				got := 0
				for _, e := range src.Events {
					for _, l := range strings.Split(e.Raw, "\n") {
						if strings.TrimSpace(l) != "" {
							got++
						}
					}
					if e.Time.IsZero() {
						t.Fatalf("%s:%d: zero time", src.File, e.Line)
					}
					if e.Time.Before(sc.Start.Add(-24*time.Hour)) || e.Time.After(sc.End.Add(24*time.Hour)) {
						t.Fatalf("%s:%d: time %v far outside the window %v..%v", src.File, e.Line, e.Time, sc.Start, sc.End)
					}
				}
				if got != want {
					t.Fatalf("%s: events hold %d lines, file has %d", src.File, got, want)
				}
				if !src.Multiline && len(src.Events) != want {
					t.Fatalf("%s: single-line source gave %d events for %d lines", src.File, len(src.Events), want)
				}
				switch src.Backend {
				case scenariodata.BackendSplunk:
					if src.Splunk == nil || src.Splunk.Index == "" {
						t.Fatalf("%s: splunk source without index", src.File)
					}
				case scenariodata.BackendDatadog:
					if src.Datadog == nil || src.Datadog.Service == "" {
						t.Fatalf("%s: datadog source without service", src.File)
					}
				case scenariodata.BackendOpenSearch:
					if src.OpenSearch == nil || src.OpenSearch.Index == "" {
						t.Fatalf("%s: opensearch source without index", src.File)
					}
				default:
					t.Fatalf("%s: unknown backend %q", src.File, src.Backend)
				}
			}
		})
	}
}

func countNonBlank(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16*1024*1024)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n
}

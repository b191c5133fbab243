package filesadapter_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
	"github.com/faultmaven/faultmaven/sdk"
)

const javaTrace = `2026-11-24 14:05:00.000 ERROR [exec-1] c.f.Order - checkout failed
org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to obtain JDBC Connection
	at org.springframework.jdbc.datasource.DataSourceUtils.getConnection(DataSourceUtils.java:84)
	at com.acme.orders.OrderService.place(OrderService.java:42)
Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
	at com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
	... 87 more
2026-11-24 14:05:01.000 WARN  [leak] c.z.h.p.ProxyLeakTask - Connection leak detection triggered, stack trace follows
java.lang.Exception: Apparent connection leak detected
	at com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:127)
2026-11-24 14:05:02.000 INFO  [main] c.f.App - retrying
java.lang.NullPointerException
at com.acme.App.main(App.java:3)
Exception in thread "worker-3" java.lang.IllegalStateException: queue closed
	at com.acme.Worker.run(Worker.java:10)
2026-11-24 14:05:03.000 INFO  [main] c.f.App - recovered
`

const pythonTraceback = `2024-04-08 10:14:10,278 CRITICAL [worker.main] Fatal error during startup
Traceback (most recent call last):
  File "/app/worker/config.py", line 42, in from_env
    key = os.environ["SENDGRID_API_KEY"]
  File "<frozen os>", line 714, in __getitem__
KeyError: 'SENDGRID_API_KEY'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/worker/main.py", line 88, in <module>
    main()
RuntimeError: missing configuration
2024-04-08 10:14:11,001 INFO [worker.main] exiting
`

// goPanic is what a zap-logging Go service writes when it panics: the
// runtime's trace is not a log line, so it starts a record of its own.
const goPanic = `{"level":"info","ts":1714635875.791534,"msg":"zone lookup"}
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x28 pc=0x1a2f3c4]

goroutine 115 [running]:
github.com/acme/geo/internal/zones.(*Refresher).rebuildIndex(0xc000214a80, {0xc0009c6000, 0x732, 0x800})
	/src/internal/zones/refresher.go:142 +0x1c4
created by main.main in goroutine 1
	/src/cmd/geo/main.go:118 +0x9a5

goroutine 1 [select]:
main.main()
	/src/cmd/geo/main.go:130 +0x2d1
exit status 2
{"level":"info","ts":1714635879.947098,"msg":"zone lookup"}
`

const jsonLines = `{"ts":"2026-11-24T10:00:00Z","level":"error","msg":"boom","stack":"goroutine 1 [running]:\nmain.main()"}
{"level":"warn","msg":"no time field"}
{"ts":"2026-11-24T10:00:01Z","level":"info","msg":"ok"}
  {"ts":"2026-11-24T10:00:02Z","level":"info","msg":"indented"}
{"ts":"2026-11-24T10:00:03Z","level":"info","msg":"last"}
`

// rec is what TestMultiline checks of a record: its first line, how many
// lines it spans, and its severity.
type rec struct {
	line, lines int
	sev         sdk.Severity
}

func TestMultiline(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		multiline string
		want      []rec
	}{
		{"java stack traces", javaTrace, "", []rec{
			{1, 7, sdk.SeverityError},
			{8, 3, sdk.SeverityWarn}, // "java.lang.Exception: ..." after a timestamped line
			{11, 3, sdk.SeverityInfo},
			{14, 2, sdk.SeverityError}, // the JVM's own "Exception in thread"
			{16, 1, sdk.SeverityInfo},
		}},
		{"python traceback with a chained exception", pythonTraceback, "", []rec{
			{1, 13, sdk.SeverityFatal},
			{14, 1, sdk.SeverityInfo},
		}},
		{"go panic and goroutine dump", goPanic, "", []rec{
			{1, 1, sdk.SeverityInfo},
			{2, 13, sdk.SeverityFatal},
			{15, 1, sdk.SeverityInfo},
		}},
		{"json lines are never joined", jsonLines, "", []rec{
			{1, 1, sdk.SeverityError},
			{2, 1, sdk.SeverityWarn},
			{3, 1, sdk.SeverityInfo},
			{4, 1, sdk.SeverityInfo},
			{5, 1, sdk.SeverityInfo},
		}},
		{"off", goPanic, "off", []rec{
			{1, 1, sdk.SeverityInfo},
			{2, 1, sdk.SeverityFatal},
			{3, 1, sdk.SeverityInfo},
			{5, 1, sdk.SeverityInfo},
			{6, 1, sdk.SeverityInfo},
			{7, 1, sdk.SeverityInfo},
			{8, 1, sdk.SeverityInfo},
			{9, 1, sdk.SeverityInfo},
			{11, 1, sdk.SeverityInfo},
			{12, 1, sdk.SeverityInfo},
			{13, 1, sdk.SeverityInfo},
			{14, 1, sdk.SeverityInfo},
			{15, 1, sdk.SeverityInfo},
		}},
		{"crlf line ends", strings.ReplaceAll(javaTrace, "\n", "\r\n"), "on", []rec{
			{1, 7, sdk.SeverityError}, {8, 3, sdk.SeverityWarn}, {11, 3, sdk.SeverityInfo}, {14, 2, sdk.SeverityError}, {16, 1, sdk.SeverityInfo},
		}},
		{"a file starting mid-trace", "\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n2026-11-24T10:00:00Z INFO next\n", "", []rec{
			{1, 2, sdk.SeverityUnspecified}, {3, 1, sdk.SeverityInfo},
		}},
		{"no timestamps: plain lines stay apart", "starting\nconfig.yaml: loaded\nready\n  detail of ready\n", "", []rec{
			{1, 1, sdk.SeverityUnspecified}, {2, 1, sdk.SeverityUnspecified}, {3, 2, sdk.SeverityUnspecified},
		}},
		{"text after a blank line ends a trace", "2026-11-24T10:00:00Z ERROR x\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\nRestarting service\n", "", []rec{
			{1, 1, sdk.SeverityError}, {2, 4, sdk.SeverityFatal}, {7, 1, sdk.SeverityError},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "app.log", []byte(tt.content), time.Time{})
			cfg := map[string]any{"paths": []string{path}, "timezone": "UTC"}
			if tt.multiline != "" {
				cfg["multiline"] = tt.multiline
			}
			recs, err := search(t, cfg, sdk.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var got []rec
			for _, r := range recs {
				n, _ := strconv.Atoi(r.Attributes["line"])
				lines := strings.Count(r.Body, "\n") + 1
				if want := r.Attributes["lines"]; (lines > 1 || want != "") && want != strconv.Itoa(lines) {
					t.Errorf("record at line %d: lines attribute %q, body has %d lines", n, want, lines)
				}
				got = append(got, rec{n, lines, r.Severity})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("records (line, lines, severity):\n got  %v\n want %v\nbodies %q", got, tt.want, bodies(recs))
			}
		})
	}
}

// TestMultilineBodies checks joined bodies keep every line as written,
// blank lines inside a record included, and that a runtime trace takes the
// timestamp of the line before it.
func TestMultilineBodies(t *testing.T) {
	dir := t.TempDir()
	py := writeFile(t, dir, "worker.log", []byte(pythonTraceback), time.Time{})
	recs, err := search(t, map[string]any{"paths": []string{py}, "timezone": "UTC"}, sdk.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(pythonTraceback, "\n")
	if want := strings.Join(lines[:13], "\n"); len(recs) != 2 || recs[0].Body != want {
		t.Fatalf("got %q, want the traceback whole as the first record: %q", bodies(recs), want)
	}
	if !recs[0].Timestamp.Equal(time.Date(2024, 4, 8, 10, 14, 10, 278e6, time.UTC)) {
		t.Errorf("timestamp %v, want the first line's", recs[0].Timestamp)
	}

	gp := writeFile(t, dir, "geo.log", []byte(goPanic), time.Time{})
	recs, err = search(t, map[string]any{"paths": []string{gp}}, sdk.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !strings.HasPrefix(recs[1].Body, "panic: runtime error") || !strings.HasSuffix(recs[1].Body, "\nexit status 2") ||
		!recs[1].Timestamp.Equal(recs[0].Timestamp) {
		t.Errorf("got %q, want the panic whole, at the time of the line before it", bodies(recs))
	}
	recs, err = search(t, map[string]any{"paths": []string{gp}}, sdk.LogQuery{Query: "rebuildIndex"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Attributes["line"] != "2" {
		t.Errorf("query for a frame: got %q, want the panic record", bodies(recs))
	}
}

func TestMultilineLimit(t *testing.T) {
	path := writeFile(t, t.TempDir(), "app.log", []byte(javaTrace), time.Time{})
	recs, err := search(t, map[string]any{"paths": []string{path}}, sdk.LogQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || strings.Count(recs[0].Body, "\n") != 6 {
		t.Errorf("limit 1: got %q, want the first record with its 7 lines", bodies(recs))
	}
}

// TestMultilineBounds checks that endless continuation lines are cut into
// records of at most 500 lines and 256 KiB, losing no line, and that the
// records after a cut keep joining.
func TestMultilineBounds(t *testing.T) {
	var lines, frames, wide strings.Builder
	lines.WriteString("2026-11-24T10:00:00Z ERROR dump follows\n")
	for i := range 1200 {
		fmt.Fprintf(&lines, "\tline %d\n", i)
	}
	frames.WriteString("panic: deep recursion\n")
	for i := range 600 {
		fmt.Fprintf(&frames, "main.f(0x%x, {0x1, 0x2})\n", i)
	}
	wide.WriteString("2026-11-24T10:00:00Z ERROR wide\n")
	for range 7 {
		wide.WriteString("\t" + strings.Repeat("w", 100<<10) + "\n")
	}
	tests := []struct {
		name    string
		content string
		want    []int // lines per record
	}{
		{"lines", lines.String(), []int{500, 500, 201}},
		{"unindented frames keep joining after a cut", frames.String(), []int{500, 101}},
		{"bytes", wide.String(), []int{3, 2, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "dump.log", []byte(tt.content), time.Time{})
			recs, err := search(t, map[string]any{"paths": []string{path}}, sdk.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			first := 1
			for _, r := range recs {
				n := strings.Count(r.Body, "\n") + 1
				got = append(got, n)
				if len(r.Body) > 256<<10 {
					t.Errorf("record at line %s: %d bytes, want at most 256 KiB", r.Attributes["line"], len(r.Body))
				}
				if r.Attributes["line"] != strconv.Itoa(first) || r.Severity != recs[0].Severity || !r.Timestamp.Equal(recs[0].Timestamp) {
					t.Errorf("record at line %s (%v, %v), want line %d with the first record's time and severity", r.Attributes["line"], r.Timestamp, r.Severity, first)
				}
				first += n
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("lines per record %v, want %v", got, tt.want)
			}
			if joined := strings.Join(bodies(recs), "\n") + "\n"; joined != tt.content {
				t.Errorf("the records do not add up to the file")
			}
		})
	}
}

// scenarioRoot returns the folder of the evaluation corpus's scenarios,
// skipping the test when the corpus is absent.
func scenarioRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("FAULTMAVEN_SCENARIOS")
	if root == "" {
		root, _ = filepath.Abs("../../../../shared/scenarios/scenarios")
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("scenario corpus not found at %s (set FAULTMAVEN_SCENARIOS)", root)
	}
	return root
}

// scenarioDir returns one scenario folder, skipping the test when it is
// absent.
func scenarioDir(t *testing.T, id string) string {
	t.Helper()
	dir := filepath.Join(scenarioRoot(t), id)
	if _, err := os.Stat(filepath.Join(dir, "sources.yaml")); err != nil {
		t.Skipf("scenario %s not found (set FAULTMAVEN_SCENARIOS)", dir)
	}
	return dir
}

// TestScenarioEvents reads every log file of a scenario and checks that
// the adapter finds the events its sources.yaml delimits with
// event_start_regex: same count, same first lines, same text. s01's
// orders-api log holds Java stack traces; its other files are nginx,
// JSON lines and PostgreSQL logs with indented detail lines.
func TestScenarioEvents(t *testing.T) {
	sc, err := scenariodata.Load(scenarioDir(t, "s01-orders-hikari-pool-leak"))
	if err != nil {
		t.Fatal(err)
	}
	blank := regexp.MustCompile(`\n\s*\n`)
	for _, src := range sc.Sources {
		t.Run(src.File, func(t *testing.T) {
			path := filepath.Join(sc.Dir, src.File)
			recs, err := search(t, map[string]any{"paths": []string{path}, "timezone": "UTC"}, sdk.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(src.Events) {
				t.Errorf("%d records, want the %d events of event_start_regex %q", len(recs), len(src.Events), src.EventStartRegex)
			}
			for i := range min(len(recs), len(src.Events)) {
				r, ev := recs[i], src.Events[i]
				// The corpus keeps blank lines inside an event; the
				// adapter does too, but its lines may end in spaces.
				if r.Attributes["line"] != strconv.Itoa(ev.Line) || blank.ReplaceAllString(r.Body, "\n") != blank.ReplaceAllString(ev.Raw, "\n") {
					t.Fatalf("record %d at line %s:\n%q\nwant the event at line %d:\n%q", i, r.Attributes["line"], r.Body, ev.Line, ev.Raw)
				}
				if !r.Timestamp.Equal(ev.Time) {
					t.Fatalf("record %d at line %d: timestamp %v, want %v", i, ev.Line, r.Timestamp, ev.Time)
				}
			}
		})
	}
}

// TestScenarioEventBoundaries checks, over every log file of every
// scenario, that records start where event_start_regex starts events. The
// one difference is deliberate: a Go panic that the corpus appends to the
// JSON line before it is a record of its own here (see multiline.go).
func TestScenarioEventBoundaries(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(scenarioRoot(t), "*", "sources.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Skipf("no scenario found: %v", err)
	}
	for _, f := range dirs {
		sc, err := scenariodata.Load(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range sc.Sources {
			t.Run(sc.ID+"/"+src.File, func(t *testing.T) {
				recs, err := search(t, map[string]any{"paths": []string{filepath.Join(sc.Dir, src.File)}, "timezone": "UTC"}, sdk.LogQuery{})
				if err != nil {
					t.Fatal(err)
				}
				var got, want []int
				for _, r := range recs {
					if !strings.HasPrefix(r.Body, "panic: ") {
						n, _ := strconv.Atoi(r.Attributes["line"])
						got = append(got, n)
					}
				}
				for _, ev := range src.Events {
					want = append(want, ev.Line)
				}
				if !slices.Equal(got, want) {
					i := 0
					for i < min(len(got), len(want)) && got[i] == want[i] {
						i++
					}
					t.Errorf("%d records, want %d events (event_start_regex %q); first difference at record %d", len(got), len(want), src.EventStartRegex, i)
				}
			})
		}
	}
}

// The exported recognisers are exercised on their own here, so that a
// change to one rule shows up as a small, named failure.
func TestContinues(t *testing.T) {
	tests := []struct {
		line                  string
		headed, trace, afterB bool
		want                  bool
	}{
		{"\tat a.B.c(B.java:1)", false, false, false, true},
		{"    main()", false, false, true, true},
		{"Caused by: x.Y: z", false, false, false, true},
		{"... 12 more", false, false, false, true},
		{"goroutine 7 [chan receive]:", false, false, true, true},
		{"at a.B.c(B.java:1)", false, false, false, true},
		{"at noon we deploy", true, false, false, false},
		{"java.sql.SQLException: boom", true, false, false, true},
		{"java.sql.SQLException: boom", false, false, false, false},
		{"java.lang.NullPointerException", true, false, false, true},
		{"KeyError: 'x'", false, true, false, true},
		{"decimal.InvalidOperation: [<class 'decimal.InvalidOperation'>]", false, true, false, true},
		{"Done.", true, false, false, false},
		{"ERROR: relation does not exist", true, false, false, false},
		{"main.main()", false, true, false, true},
		{"main.main()", false, true, true, false},
		{"panic: boom", true, true, false, false},
		{"Exception in thread \"main\" java.lang.Error", true, true, false, false},
		{`{"msg":"x"}`, true, true, false, false},
	}
	for _, tt := range tests {
		if got := filesadapter.Continues(tt.line, tt.headed, tt.trace, tt.afterB); got != tt.want {
			t.Errorf("Continues(%q, headed=%v, inTrace=%v, afterBlank=%v) = %v, want %v", tt.line, tt.headed, tt.trace, tt.afterB, got, tt.want)
		}
	}
}

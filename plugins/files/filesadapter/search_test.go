package filesadapter_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

// recorder is an sdk.RecordWriter that keeps what it is given and enforces
// a limit the way the SDK's writer does.
type recorder struct {
	recs  []sdk.Record
	limit int
	// onWrite, when set, runs after each record is kept.
	onWrite func(n int)
}

func (r *recorder) Write(rec sdk.Record) error {
	if r.limit > 0 && len(r.recs) >= r.limit {
		return sdk.ErrLimitReached
	}
	r.recs = append(r.recs, rec)
	if r.onWrite != nil {
		r.onWrite(len(r.recs))
	}
	if r.limit > 0 && len(r.recs) >= r.limit {
		return sdk.ErrLimitReached
	}
	return nil
}

// search configures a fresh adapter with cfg and runs q on it.
func search(t testing.TB, cfg map[string]any, q sdk.LogQuery) ([]sdk.Record, error) {
	t.Helper()
	a := filesadapter.New(filesadapter.Options{Hostname: "testhost"})
	configure(t, a, "test", cfg)
	w := &recorder{limit: q.Limit}
	err := a.SearchLogs(t.Context(), "test", q, w)
	return w.recs, err
}

func configure(t testing.TB, a *filesadapter.Adapter, instance string, cfg map[string]any) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Configure(t.Context(), instance, raw); err != nil {
		t.Fatalf("Configure(%s): %v", raw, err)
	}
}

// writeFile writes data at dir/name with the given modification time
// (zero: leave it) and returns the path.
func writeFile(t testing.TB, dir, name string, data []byte, mtime time.Time) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bodies(recs []sdk.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Body
	}
	return out
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const javaLog = `2026-11-24 14:00:00.000 INFO  [main] c.f.App - started
2026-11-24 14:05:00.000 ERROR [exec-1] c.f.Order - checkout failed
java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available
	at com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)

2026-11-24 14:10:00.000 WARN  [exec-2] c.f.Order - slow request
2026-11-24 14:15:00.000 INFO  [exec-3] c.f.Order - order placed
`

func TestSearchRecords(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "checkout.log", []byte(javaLog), time.Time{})
	recs, err := search(t, map[string]any{"paths": []string{path}, "timezone": "UTC"}, sdk.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("got %d records %q, want 4 (the stack trace joined, the blank line skipped)", len(recs), bodies(recs))
	}
	trace := recs[1]
	wantBody := "2026-11-24 14:05:00.000 ERROR [exec-1] c.f.Order - checkout failed\n" +
		"java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\n" +
		"\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)"
	if trace.Body != wantBody || !trace.Timestamp.Equal(at("2026-11-24T14:05:00Z")) || trace.Severity != sdk.SeverityError ||
		trace.Attributes["line"] != "2" || trace.Attributes["lines"] != "3" || trace.Source.NativeID != path+":2" {
		t.Errorf("stack trace record: %+v\nwant body %q at 14:05 error, line 2, lines 3", trace, wantBody)
	}
	want := sdk.Record{
		Timestamp:  at("2026-11-24T14:10:00Z"),
		Body:       "2026-11-24 14:10:00.000 WARN  [exec-2] c.f.Order - slow request",
		Severity:   sdk.SeverityWarn,
		Service:    "checkout",
		Host:       "testhost",
		Attributes: map[string]string{"file": path, "line": "6"},
		Source:     sdk.SourceRef{NativeID: path + ":6"},
	}
	got := recs[2]
	if !got.Timestamp.Equal(want.Timestamp) || got.Body != want.Body || got.Severity != want.Severity ||
		got.Service != want.Service || got.Host != want.Host || got.Source != want.Source ||
		len(got.Attributes) != 2 || got.Attributes["file"] != path || got.Attributes["line"] != "6" {
		t.Errorf("record:\n got  %+v\n want %+v", got, want)
	}
}

func TestSearchRecordsMultilineOff(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "checkout.log", []byte(javaLog), time.Time{})
	for _, off := range []any{"off", false} {
		recs, err := search(t, map[string]any{"paths": []string{path}, "timezone": "UTC", "multiline": off}, sdk.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 6 {
			t.Fatalf("multiline %v: got %d records %q, want 6, one a line (the blank line skipped)", off, len(recs), bodies(recs))
		}
		frame := recs[3]
		if frame.Body != "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)" ||
			!frame.Timestamp.Equal(at("2026-11-24T14:05:00Z")) || frame.Severity != sdk.SeverityError || frame.Attributes["lines"] != "" {
			t.Errorf("multiline %v: stack frame %+v, want it alone with the timestamp and severity of the ERROR line before it", off, frame)
		}
	}
}

func TestSearchTimeRange(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "checkout.log", []byte(javaLog), time.Time{})
	tests := []struct {
		name       string
		start, end string
		want       []int // first line numbers, multiline on
		wantOff    []int // multiline off
	}{
		{"unbounded", "", "", []int{1, 2, 6, 7}, []int{1, 2, 3, 4, 6, 7}},
		{"start is inclusive", "2026-11-24T14:05:00Z", "", []int{2, 6, 7}, []int{2, 3, 4, 6, 7}},
		{"end is exclusive", "", "2026-11-24T14:10:00Z", []int{1, 2}, []int{1, 2, 3, 4}},
		{"stack trace stays with its record", "2026-11-24T14:04:00Z", "2026-11-24T14:06:00Z", []int{2}, []int{2, 3, 4}},
		{"empty window", "2026-11-24T14:06:00Z", "2026-11-24T14:07:00Z", nil, nil},
	}
	for _, tt := range tests {
		for _, multiline := range []string{"on", "off"} {
			t.Run(tt.name+"/multiline "+multiline, func(t *testing.T) {
				var q sdk.LogQuery
				if tt.start != "" {
					q.Start = at(tt.start)
				}
				if tt.end != "" {
					q.End = at(tt.end)
				}
				cfg := map[string]any{"paths": []string{path}, "timezone": "UTC", "multiline": multiline}
				recs, err := search(t, cfg, q)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want
				if multiline == "off" {
					want = tt.wantOff
				}
				if got := firstLines(recs); !slices.Equal(got, want) {
					t.Errorf("lines %v, want %v", got, want)
				}
			})
		}
	}
}

// firstLines returns the line attribute of each record: its first line.
func firstLines(recs []sdk.Record) []int {
	var lines []int
	for _, r := range recs {
		n, _ := strconv.Atoi(r.Attributes["line"])
		lines = append(lines, n)
	}
	return lines
}

func TestSearchFileWithoutTimestampsUsesMtime(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	path := writeFile(t, dir, "plain.txt", []byte("starting\nready\n"), mtime)
	recs, err := search(t, map[string]any{"paths": []string{path}}, sdk.LogQuery{Start: mtime, End: mtime.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %q, want both lines", bodies(recs))
	}
	for _, r := range recs {
		if !r.Timestamp.Equal(mtime) {
			t.Errorf("%q at %v, want the file's mtime %v", r.Body, r.Timestamp, mtime)
		}
	}
}

func TestSearchGzipByContent(t *testing.T) {
	dir := t.TempDir()
	// A compressed file whose name says nothing, and a plain file whose
	// name lies: both must read as text.
	writeFile(t, dir, "app.log.1", gzipped(t, "2026-11-24T10:00:00Z INFO from gzip\n"), time.Time{})
	writeFile(t, dir, "liar.log.gz", []byte("2026-11-24T11:00:00Z INFO plain text\n"), time.Time{})
	// Two concatenated gzip members, as `cat a.gz b.gz` or logrotate's
	// delaycompress can produce.
	two := append(gzipped(t, "2026-11-24T12:00:00Z INFO member one\n"), gzipped(t, "2026-11-24T12:00:01Z INFO member two\n")...)
	writeFile(t, dir, "multi.gz", two, time.Time{})

	recs, err := search(t, map[string]any{"paths": []string{dir}}, sdk.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	got := bodies(recs)
	slices.Sort(got)
	want := []string{
		"2026-11-24T10:00:00Z INFO from gzip",
		"2026-11-24T11:00:00Z INFO plain text",
		"2026-11-24T12:00:00Z INFO member one",
		"2026-11-24T12:00:01Z INFO member two",
	}
	if !slices.Equal(got, want) {
		t.Errorf("bodies %q, want %q", got, want)
	}
}

func TestSearchTruncatedGzipKeepsWhatItRead(t *testing.T) {
	dir := t.TempDir()
	var text strings.Builder
	for i := range 2000 {
		text.WriteString("2026-11-24T10:00:00Z INFO line " + strconv.Itoa(i) + " of a file still being compressed\n")
	}
	z := gzipped(t, text.String())
	writeFile(t, dir, "a-broken.gz", z[:len(z)/2], time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	writeFile(t, dir, "b-fine.log", []byte("2026-11-24T11:00:00Z INFO fine\n"), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))

	var logs bytes.Buffer
	a := filesadapter.New(filesadapter.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	configure(t, a, "test", map[string]any{"paths": []string{dir}})
	w := &recorder{}
	if err := a.SearchLogs(t.Context(), "test", sdk.LogQuery{}, w); err != nil {
		t.Fatalf("a damaged file must not fail the search: %v", err)
	}
	recs := w.recs
	if !strings.Contains(logs.String(), "a-broken.gz: unreadable after line") {
		t.Errorf("log %q, want a warning naming the damaged file", logs.String())
	}
	if len(recs) < 2 || recs[len(recs)-1].Body != "2026-11-24T11:00:00Z INFO fine" {
		t.Fatalf("got %d records, want the readable part of the broken file and then the fine file", len(recs))
	}
	if recs[0].Body != "2026-11-24T10:00:00Z INFO line 0 of a file still being compressed" {
		t.Errorf("first record %q, want line 0 of the broken file", recs[0].Body)
	}
}

func TestSearchPaths(t *testing.T) {
	dir := t.TempDir()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := old.Add(time.Hour)
	writeFile(t, dir, "logs/app.log", []byte("app\n"), newer)
	writeFile(t, dir, "logs/app.log.1", []byte("app rotated\n"), old)
	writeFile(t, dir, "logs/worker.txt", []byte("worker\n"), newer)
	writeFile(t, dir, "logs/nested/deep.log", []byte("too deep\n"), newer)
	writeFile(t, dir, "other/db.log", []byte("db\n"), newer)
	logs, other := filepath.Join(dir, "logs"), filepath.Join(dir, "other")

	tests := []struct {
		name  string
		paths []string
		want  []string // bodies, in reading order
	}{
		{"directory is not recursive, oldest file first", []string{logs}, []string{"app rotated", "app", "worker"}},
		{"glob", []string{filepath.Join(logs, "*.log")}, []string{"app"}},
		{"glob over directories", []string{filepath.Join(dir, "*")}, []string{"app rotated", "app", "worker", "db"}},
		{"question mark and class", []string{filepath.Join(logs, "app.log.?"), filepath.Join(other, "[a-d]b.log")}, []string{"app rotated", "db"}},
		{"a file selected twice is read once", []string{logs, filepath.Join(logs, "app.log")}, []string{"app rotated", "app", "worker"}},
		{"missing entries are skipped", []string{filepath.Join(dir, "nope.log"), filepath.Join(other, "db.log")}, []string{"db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := search(t, map[string]any{"paths": tt.paths}, sdk.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if got := bodies(recs); !slices.Equal(got, tt.want) {
				t.Errorf("bodies %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("relative path", func(t *testing.T) {
		t.Chdir(dir)
		recs, err := search(t, map[string]any{"paths": []string{"other/db.log"}}, sdk.LogQuery{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("got %q, %v; want the one line of other/db.log", bodies(recs), err)
		}
	})
	t.Run("nothing readable is unavailable", func(t *testing.T) {
		_, err := search(t, map[string]any{"paths": []string{filepath.Join(dir, "*.nope")}}, sdk.LogQuery{})
		if sdk.CodeOf(err) != sdk.CodeUnavailable || !strings.Contains(err.Error(), "no file matches") {
			t.Errorf("got %v, want code unavailable saying no file matches", err)
		}
	})
}

func TestSearchQueryAndFilters(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "checkout.log", []byte(javaLog), time.Time{})
	tests := []struct {
		name      string
		service   string
		multiline string
		q         sdk.LogQuery
		want      []int // first line numbers
	}{
		{"substring ignores case", "", "", sdk.LogQuery{Query: "HIKARIPOOL"}, []int{2}},
		{"substring ignores case, multiline off", "", "off", sdk.LogQuery{Query: "HIKARIPOOL"}, []int{3, 4}},
		{"regex", "", "", sdk.LogQuery{Query: `/Order - (slow|order)/`}, []int{6, 7}},
		{"regex is case-sensitive", "", "", sdk.LogQuery{Query: `/hikaripool/`}, nil},
		{"regex sees the joined record", "", "", sdk.LogQuery{Query: `/checkout failed\njava\.sql/`}, []int{2}},
		{"min severity keeps the stack trace", "", "", sdk.LogQuery{Filters: sdk.LogFilters{MinSeverity: sdk.SeverityWarn}}, []int{2, 6}},
		{"min severity keeps the stack trace, multiline off", "", "off", sdk.LogQuery{Filters: sdk.LogFilters{MinSeverity: sdk.SeverityWarn}}, []int{2, 3, 4, 6}},
		{"contains filter", "", "", sdk.LogQuery{Filters: sdk.LogFilters{Contains: "REQUEST"}}, []int{6}},
		{"contains filter sees a frame", "", "", sdk.LogQuery{Filters: sdk.LogFilters{Contains: "HikariPool.java"}}, []int{2}},
		{"service filter from the file name", "", "", sdk.LogQuery{Filters: sdk.LogFilters{Services: []string{"checkout"}}}, []int{1, 2, 6, 7}},
		{"service filter excludes", "", "", sdk.LogQuery{Filters: sdk.LogFilters{Services: []string{"payments"}}}, nil},
		{"configured service", "shop", "", sdk.LogQuery{Filters: sdk.LogFilters{Services: []string{"shop"}}, Query: "started"}, []int{1}},
		{"query and filters combine", "", "", sdk.LogQuery{Query: "order", Filters: sdk.LogFilters{MinSeverity: sdk.SeverityError}}, []int{2}},
		{"query and a frame's text combine", "", "", sdk.LogQuery{Query: "getConnection", Filters: sdk.LogFilters{MinSeverity: sdk.SeverityError}}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := map[string]any{"paths": []string{path}}
			if tt.service != "" {
				cfg["service"] = tt.service
			}
			if tt.multiline != "" {
				cfg["multiline"] = tt.multiline
			}
			recs, err := search(t, cfg, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if tt.service != "" && r.Service != tt.service {
					t.Errorf("service %q, want %q", r.Service, tt.service)
				}
			}
			if got := firstLines(recs); !slices.Equal(got, tt.want) {
				t.Errorf("lines %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("bad regex", func(t *testing.T) {
		_, err := search(t, map[string]any{"paths": []string{path}}, sdk.LogQuery{Query: "/a(b/"})
		if sdk.CodeOf(err) != sdk.CodeBadQuery {
			t.Errorf("got %v, want code bad_query", err)
		}
	})
}

// manyLines is a file of n timestamped lines.
func manyLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.WriteString("2026-11-24T10:00:00Z INFO request " + strconv.Itoa(i) + "\n")
	}
	return b.Bytes()
}

func TestSearchLimitAndCancel(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "many.log", manyLines(5000), time.Time{})
	cfg := map[string]any{"paths": []string{path}}

	t.Run("limit stops the scan", func(t *testing.T) {
		recs, err := search(t, cfg, sdk.LogQuery{Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 7 || recs[6].Body != "2026-11-24T10:00:00Z INFO request 6" {
			t.Errorf("got %d records, want the first 7", len(recs))
		}
	})
	t.Run("cancellation", func(t *testing.T) {
		a := filesadapter.New(filesadapter.Options{})
		configure(t, a, "test", cfg)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w := &recorder{onWrite: func(n int) {
			if n == 10 {
				cancel()
			}
		}}
		err := a.SearchLogs(ctx, "test", sdk.LogQuery{}, w)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if len(w.recs) >= 5000 {
			t.Errorf("read all %d lines after cancellation", len(w.recs))
		}
	})
	t.Run("cancellation while no line matches", func(t *testing.T) {
		a := filesadapter.New(filesadapter.Options{})
		configure(t, a, "test", cfg)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := a.SearchLogs(ctx, "test", sdk.LogQuery{Query: "no such text"}, &recorder{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("unknown instance", func(t *testing.T) {
		a := filesadapter.New(filesadapter.Options{})
		err := a.SearchLogs(t.Context(), "nope", sdk.LogQuery{}, &recorder{})
		if sdk.CodeOf(err) != sdk.CodeNotFound {
			t.Errorf("got %v, want code not_found", err)
		}
	})
}

func TestSearchBadInput(t *testing.T) {
	dir := t.TempDir()
	huge := strings.Repeat("x", 600<<10) // longer than the read buffer
	var content bytes.Buffer
	content.WriteString("2026-11-24T10:00:00Z ERROR " + huge + "\n")
	content.WriteString("2026-11-24T10:00:01Z INFO after the huge line\r\n")
	content.WriteString("2026-11-24T10:00:02Z WARN latin-1 caf\xe9 and a NUL \x00 byte\n")
	content.WriteString("2026-11-24T10:00:03Z INFO " + strings.Repeat("é", 400) + "\n") // cut mid-character at 512 bytes
	content.WriteString("2026-11-24T10:00:04Z INFO no newline at the end")
	path := writeFile(t, dir, "bad.log", content.Bytes(), time.Time{})

	recs, err := search(t, map[string]any{"paths": []string{path}, "max_line_bytes": 512}, sdk.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	for i, r := range recs {
		if !utf8.ValidString(r.Body) {
			t.Errorf("record %d: body is not valid UTF-8: %q", i, r.Body)
		}
		if len(r.Body) > 512 {
			t.Errorf("record %d: body of %d bytes, want at most max_line_bytes 512", i, len(r.Body))
		}
	}
	if recs[0].Attributes["truncated"] != "true" || !strings.HasPrefix(recs[0].Body, "2026-11-24T10:00:00Z ERROR xxx") {
		t.Errorf("huge line: attributes %v body %.40q..., want a truncated prefix", recs[0].Attributes, recs[0].Body)
	}
	if recs[1].Body != "2026-11-24T10:00:01Z INFO after the huge line" || recs[1].Attributes["truncated"] != "" {
		t.Errorf("line after the huge one: %q %v, want it whole, CR trimmed, not truncated", recs[1].Body, recs[1].Attributes)
	}
	if want := "2026-11-24T10:00:02Z WARN latin-1 caf\uFFFD and a NUL \x00 byte"; recs[2].Body != want {
		t.Errorf("invalid UTF-8: %q, want %q", recs[2].Body, want)
	}
	if recs[3].Attributes["truncated"] != "true" || strings.ContainsRune(recs[3].Body, utf8.RuneError) {
		t.Errorf("multi-byte cut: %v, want truncated on a character boundary", recs[3].Attributes)
	}
	if recs[4].Body != "2026-11-24T10:00:04Z INFO no newline at the end" {
		t.Errorf("last line: %q", recs[4].Body)
	}
	if recs[4].Attributes["line"] != "5" {
		t.Errorf("line numbers count every line: got %q, want 5", recs[4].Attributes["line"])
	}
}

func TestHealth(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "app.log", []byte("x\n"), time.Time{})
	a := filesadapter.New(filesadapter.Options{})
	tests := []struct {
		name   string
		paths  []string
		status sdk.HealthStatus
		msg    string
	}{
		{"readable file", []string{good}, sdk.HealthOK, "1 readable file(s)"},
		{"some missing", []string{good, filepath.Join(dir, "gone.log")}, sdk.HealthOK, "gone.log: does not exist"},
		{"glob matches nothing", []string{filepath.Join(dir, "*.gz")}, sdk.HealthDown, "no file matches"},
		{"empty directory", []string{t.TempDir()}, sdk.HealthDown, "no regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configure(t, a, tt.name, map[string]any{"paths": tt.paths})
			rep, err := a.Health(t.Context(), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tt.status || !strings.Contains(rep.Message, tt.msg) {
				t.Errorf("Health: %s %q, want %s containing %q", rep.Status, rep.Message, tt.status, tt.msg)
			}
		})
	}
	if _, err := a.Health(t.Context(), "unknown"); sdk.CodeOf(err) != sdk.CodeNotFound {
		t.Errorf("Health(unknown): got %v, want code not_found", err)
	}
}

// TestConcurrentUse searches an instance while it is being reconfigured
// and another is removed; run with -race.
func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "many.log", manyLines(2000), time.Time{})
	a := filesadapter.New(filesadapter.Options{})
	cfg := map[string]any{"paths": []string{path}}
	configure(t, a, "shared", cfg)
	done := make(chan error, 4)
	for range 3 {
		go func() {
			w := &recorder{}
			err := a.SearchLogs(t.Context(), "shared", sdk.LogQuery{Query: "request 1"}, w)
			if err == nil && len(w.recs) != 1111 {
				err = errors.New("got " + strconv.Itoa(len(w.recs)) + " records, want 1111")
			}
			done <- err
		}()
	}
	go func() {
		raw, _ := json.Marshal(cfg)
		for i := range 50 {
			if err := a.Configure(t.Context(), "shared", raw); err != nil {
				done <- err
				return
			}
			_ = a.Configure(t.Context(), "other-"+strconv.Itoa(i), raw)
			_ = a.Remove(t.Context(), "other-"+strconv.Itoa(i))
			if _, err := a.Health(t.Context(), "shared"); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

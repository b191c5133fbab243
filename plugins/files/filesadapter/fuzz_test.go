package filesadapter_test

import (
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

// FuzzParseTimestamp checks that the hand-written recognisers never panic
// or read out of bounds, whatever the line.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2026-03-05T14:07:09.123456789+02:00 x",
		"2026/03/05 14:07:09,5 -0700",
		"<34>Jan  2 08:00:00 web1 su: failed",
		`10.0.0.1 - - [05/Mar/2026:14:07:09 +0000] "GET /"`,
		`{"ts":1772719629250,"level":50}`,
		`{"time":"2026-03-05T14:07:09Z"}`,
		"level=ERROR msg=x [warn]",
		"2026-03-05T14:07:09+",
		"Mar  5 14:07:0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		filesadapter.ParseTimestamp(line, time.UTC, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if sev := filesadapter.SeverityOf(line); sev < sdk.SeverityUnspecified || sev > sdk.SeverityFatal {
			t.Fatalf("SeverityOf(%q) = %d, out of range", line, sev)
		}
	})
}

// FuzzSearch checks the invariants of a search over arbitrary file
// content: it succeeds, bodies are valid UTF-8 within max_line_bytes (a
// joined record: within the record bound), and line numbers increase.
func FuzzSearch(f *testing.F) {
	f.Add([]byte("2026-11-24T10:00:00Z INFO a\n\tat frame\r\n\n"), false)
	f.Add([]byte("caf\xe9\x00\xff\n"+string(make([]byte, 600))), false)
	f.Add([]byte("2026-11-24T10:00:00Z INFO gz\n"), true)
	f.Add([]byte("panic: x\n\ngoroutine 1 [running]:\nmain.main()\n\tmain.go:1\n{\"ts\":1}\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			data = gzipped(t, string(data))
		}
		path := writeFile(t, t.TempDir(), "fuzz.log", data, time.Time{})
		recs, err := search(t, map[string]any{"paths": []string{path}, "max_line_bytes": 256}, sdk.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		last := 0
		for _, r := range recs {
			limit := 256
			if r.Attributes["lines"] != "" {
				limit = 256 << 10
			}
			if !utf8.ValidString(r.Body) || len(r.Body) > limit || r.Body == "" {
				t.Fatalf("body %q: want non-empty valid UTF-8 of at most %d bytes", r.Body, limit)
			}
			n, err := strconv.Atoi(r.Attributes["line"])
			if err != nil || n <= last {
				t.Fatalf("line %q after %d", r.Attributes["line"], last)
			}
			last = n
		}
	})
}

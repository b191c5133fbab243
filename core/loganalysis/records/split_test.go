package records_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/core/loganalysis/records"
)

func readAll(tb testing.TB, in []byte, opts records.Options) []records.Record {
	tb.Helper()
	sp := records.NewSplitter(bytes.NewReader(in), opts)
	var out []records.Record
	for {
		r, err := sp.Next(tb.Context())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("Next: %v", err)
		}
		out = append(out, r)
	}
}

func TestSplitter(t *testing.T) {
	javaTrace := `2024-01-02 03:04:05,000 INFO [main] a.B: start
2024-01-02 03:04:06,000 ERROR [main] a.B: request failed
java.lang.IllegalStateException: boom
	at a.B.run(B.java:10)
	at a.Main.main(Main.java:3)
Caused by: java.io.IOException: disk
	... 2 more
2024-01-02 03:04:07,000 INFO [main] a.B: recovered
`
	pyTrace := `2024-01-02 03:04:05,000 ERROR app: handler crashed
Traceback (most recent call last):
  File "app.py", line 3, in <module>
    main()
ValueError: bad input
2024-01-02 03:04:06,000 INFO app: next
`
	goPanic := `panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.main()
	/src/main.go:12 +0x1d
exit status 2
`
	tests := []struct {
		name      string
		in        string
		opts      records.Options
		wantLines []int // Lines of each record
		wantFirst []string
	}{
		{"java", javaTrace, records.Options{}, []int{1, 6, 1}, []string{"2024-01-02 03:04:05,000 INFO [main] a.B: start", "2024-01-02 03:04:06,000 ERROR [main] a.B: request failed", "2024-01-02 03:04:07,000 INFO [main] a.B: recovered"}},
		{"java multiline off", javaTrace, records.Options{MultilineOff: true}, []int{1, 1, 1, 1, 1, 1, 1, 1}, nil},
		{"python", pyTrace, records.Options{}, []int{5, 1}, nil},
		{"go panic without headers", goPanic, records.Options{}, []int{6}, []string{"panic: runtime error: index out of range [3] with length 3"}},
		{"crlf and no final newline", "a one\r\nb two\r\nc three", records.Options{}, []int{1, 1, 1}, []string{"a one", "b two", "c three"}},
		{"label column", "- 2024-01-02 03:04:05 INFO x\nALERT 2024-01-02 03:04:06 FATAL y\n", records.Options{StripFirstToken: true}, []int{1, 1}, []string{"2024-01-02 03:04:05 INFO x", "2024-01-02 03:04:06 FATAL y"}},
		{"empty", "", records.Options{}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, []byte(tt.in), tt.opts)
			var lines []int
			for _, r := range got {
				lines = append(lines, r.Lines)
			}
			if len(lines) != len(tt.wantLines) {
				t.Fatalf("records spanning %v lines; want %v", lines, tt.wantLines)
			}
			for i := range lines {
				if lines[i] != tt.wantLines[i] {
					t.Fatalf("records spanning %v lines; want %v", lines, tt.wantLines)
				}
				if tt.wantFirst != nil && got[i].First != tt.wantFirst[i] {
					t.Errorf("record %d first line %q; want %q", i, got[i].First, tt.wantFirst[i])
				}
			}
		})
	}
	t.Run("header parsed", func(t *testing.T) {
		got := readAll(t, []byte(javaTrace), records.Options{})
		if h := got[1].Header; h.Content != "request failed" || h.Component != "a.B" || h.Timestamp.Second() != 6 {
			t.Errorf("header = %+v", h)
		}
		if !strings.Contains(got[1].Text, "Caused by: java.io.IOException: disk") {
			t.Errorf("Text lacks the cause: %q", got[1].Text)
		}
	})
}

func TestSplitterDirtyInput(t *testing.T) {
	long := strings.Repeat("x", 5000)
	in := []byte("ok line\nnul\x00byte\nbad \xff\xfe utf8\n" + long + "\nlast\n")
	got := readAll(t, in, records.Options{MaxLineBytes: 1000, MultilineOff: true})
	if len(got) != 5 {
		t.Fatalf("got %d records, want 5", len(got))
	}
	if got[1].First != "nul byte" {
		t.Errorf("NUL not replaced: %q", got[1].First)
	}
	if !utf8.ValidString(got[2].First) || !strings.Contains(got[2].First, "\uFFFD") {
		t.Errorf("invalid UTF-8 not replaced: %q", got[2].First)
	}
	if !got[3].Truncated || len(got[3].First) != 1000 {
		t.Errorf("long line: truncated=%v len=%d; want true, 1000", got[3].Truncated, len(got[3].First))
	}
	if got[4].First != "last" || got[4].Line != 5 {
		t.Errorf("after a long line: %q at %d; want \"last\" at 5", got[4].First, got[4].Line)
	}
}

func TestSplitterHugeLine(t *testing.T) {
	// Longer than the read buffer (256 KiB) and the default cut (64 KiB).
	in := []byte("first\n" + strings.Repeat("y", 600<<10) + "\nlast")
	got := readAll(t, in, records.Options{MultilineOff: true})
	if len(got) != 3 || !got[1].Truncated || len(got[1].First) != 64<<10 || got[2].First != "last" || got[2].Line != 3 {
		t.Fatalf("got %d records; middle truncated=%v len=%d", len(got), len(got) > 1 && got[1].Truncated, len(got[1].First))
	}
}

func TestSplitterCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sp := records.NewSplitter(strings.NewReader("a\nb\n"), records.Options{})
	if _, err := sp.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next on a cancelled context = %v; want context.Canceled", err)
	}
}

// FuzzSplitter: every input line lands in exactly one record, in order,
// and records come out as valid UTF-8 without NUL bytes.
func FuzzSplitter(f *testing.F) {
	f.Add([]byte("2024-01-02 03:04:05 INFO a: x\n\tat y\nCaused by: z\n2024-01-02 03:04:06 INFO b\n"), false)
	f.Add([]byte("panic: x\n\ngoroutine 1 [running]:\nmain.main()\n"), false)
	f.Add([]byte("\r\n\x00\xff\n{\"msg\":1}\nlevel=info msg=x\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, off bool) {
		got := readAll(t, in, records.Options{MultilineOff: off, MaxLineBytes: 256})
		want := bytes.Count(in, []byte("\n"))
		if len(in) > 0 && in[len(in)-1] != '\n' {
			want++
		}
		next := 1
		for _, r := range got {
			if r.Line != next {
				t.Fatalf("record starts at line %d; want %d", r.Line, next)
			}
			if r.Lines < 1 {
				t.Fatalf("record of %d lines", r.Lines)
			}
			next += r.Lines
			if !utf8.ValidString(r.Text) || strings.IndexByte(r.Text, 0) >= 0 {
				t.Fatalf("record text %q is not clean", r.Text)
			}
			if strings.Count(r.Text, "\n") != r.Lines-1 {
				t.Fatalf("record text has %d newlines for %d lines", strings.Count(r.Text, "\n"), r.Lines)
			}
		}
		if next-1 != want {
			t.Fatalf("records cover %d lines; input has %d", next-1, want)
		}
	})
}

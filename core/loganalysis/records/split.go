package records

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/core/loganalysis/header"
)

// Record is one log record: a first line and the continuation lines
// (stack frames, tracebacks, goroutine dumps) that belong to it.
type Record struct {
	Line      int    // 1-based number of the record's first line in the input
	Lines     int    // how many input lines it spans
	First     string // the first line, cleaned
	Text      string // all its lines joined by "\n" (First when Lines == 1)
	Truncated bool   // a line or the record was cut at a size limit
	Header    header.Parsed
}

// Options tune a Splitter. The zero value works.
type Options struct {
	// Multiline off makes every line a record.
	MultilineOff bool
	// MaxLineBytes cuts longer lines (marking the record truncated).
	// 0 means 64 KiB.
	MaxLineBytes int
	// MaxRecordLines starts a new record after this many lines. 0 means 500.
	MaxRecordLines int
	// SampleLines is how many lines are read ahead to learn the header
	// layout. 0 means 512.
	SampleLines int
	// StripFirstToken drops the first whitespace-separated token of every
	// line before anything else (label columns such as BGL's alert tag).
	StripFirstToken bool
	// Parse, when set, replaces zero-config header detection (an explicit
	// --format). It returns false when the line does not fit the format.
	Parse func(line string) (header.Parsed, bool)
}

// Splitter reads records from a byte stream. Not safe for concurrent use.
type Splitter struct {
	opts    Options
	r       *bufio.Reader
	det     *header.Detector
	ahead   []pending // lines read ahead for learning, not yet consumed
	lineNo  int
	cur     *Record
	curB    strings.Builder
	inTrace bool
	eof     bool
	learned bool
	err     error
}

type pending struct {
	text      string
	truncated bool
}

// NewSplitter reads records from r.
func NewSplitter(r io.Reader, opts Options) *Splitter {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = 64 << 10
	}
	if opts.MaxRecordLines <= 0 {
		opts.MaxRecordLines = 500
	}
	if opts.SampleLines <= 0 {
		opts.SampleLines = 512
	}
	return &Splitter{opts: opts, r: bufio.NewReaderSize(r, 256<<10), det: header.NewDetector()}
}

// Detector returns the header detector, so callers can report the layout.
func (s *Splitter) Detector() *header.Detector { return s.det }

// readLine returns the next cleaned line.
func (s *Splitter) readLine() (string, bool, bool) {
	if len(s.ahead) > 0 {
		p := s.ahead[0]
		s.ahead = s.ahead[1:]
		return p.text, p.truncated, true
	}
	if s.eof {
		return "", false, false
	}
	var buf []byte
	truncated := false
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(buf)+len(chunk) > s.opts.MaxLineBytes {
			room := s.opts.MaxLineBytes - len(buf)
			if room > 0 {
				buf = append(buf, chunk[:room]...)
			}
			truncated = true
		} else if buf == nil && err == nil {
			buf = chunk // common case: the whole line in one slice
		} else {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue // buf holds a copy: only a whole line (err == nil) aliases chunk
		}
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = fmt.Errorf("records: reading: %w", err)
			}
			if len(buf) == 0 {
				return "", false, false
			}
		}
		break
	}
	return clean(buf), truncated, true
}

// clean drops the line end, replaces NUL bytes and invalid UTF-8.
func clean(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	if bytes.IndexByte(b, 0) >= 0 {
		b = bytes.ReplaceAll(b, []byte{0}, []byte{' '})
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

func (s *Splitter) strip(line string) string {
	if !s.opts.StripFirstToken {
		return line
	}
	i := strings.IndexByte(line, ' ')
	if i < 0 {
		return ""
	}
	return line[i+1:]
}

// Next returns the next record, or io.EOF after the last one. Read errors
// are returned wrapped after the records read before them.
func (s *Splitter) Next(ctx context.Context) (Record, error) {
	if !s.learned {
		s.fillAhead()
		s.learned = true
	}
	for {
		if s.lineNo&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return Record{}, err
			}
		}
		raw, truncated, ok := s.readLine()
		if !ok {
			if s.cur != nil {
				return s.finish(), nil
			}
			if s.err != nil {
				return Record{}, s.err
			}
			return Record{}, io.EOF
		}
		s.lineNo++
		line := s.strip(raw)
		var hp header.Parsed
		start, headered := false, false
		if s.opts.Parse != nil {
			var ok bool
			if hp, ok = s.opts.Parse(line); !ok {
				hp = header.Parsed{Content: line}
			}
			start = ok
			headered = true
		} else {
			hp, start, headered = s.det.Classify(line)
		}
		if s.cur != nil && !s.opts.MultilineOff && s.cur.Lines < s.opts.MaxRecordLines && s.isContinuation(line, start, headered) {
			if s.cur.Lines == 1 {
				s.curB.Reset()
				s.curB.WriteString(s.cur.First)
			}
			s.cur.Lines++
			s.curB.WriteByte('\n')
			s.curB.WriteString(line)
			s.cur.Truncated = s.cur.Truncated || truncated
			continue
		}
		var out Record
		have := s.cur != nil
		if have {
			out = s.finish()
		}
		s.begin(line, hp, truncated)
		if s.opts.MultilineOff {
			return s.finish(), nil
		}
		if have {
			return out, nil
		}
	}
}

func (s *Splitter) fillAhead() {
	if s.opts.Parse != nil {
		return
	}
	var sample []string
	for len(s.ahead) < s.opts.SampleLines && !s.eof {
		var buf []pending
		buf, s.ahead = s.ahead, nil
		l, tr, ok := s.readLine()
		s.ahead = buf
		if !ok {
			break
		}
		s.ahead = append(s.ahead, pending{l, tr})
		sample = append(sample, s.strip(l))
	}
	s.det.Learn(sample)
}

func (s *Splitter) begin(line string, hp header.Parsed, truncated bool) {
	s.cur = &Record{Line: s.lineNo, Lines: 1, First: line, Truncated: truncated, Header: hp}
	s.inTrace = traceStart(line)
}

func (s *Splitter) finish() Record {
	r := *s.cur
	s.cur = nil
	if r.Lines > 1 {
		r.Text = s.curB.String()
	} else {
		r.Text = r.First
	}
	return r
}

// isContinuation decides whether line belongs to the record before it.
func (s *Splitter) isContinuation(line string, start, headered bool) bool {
	if line == "" {
		return true
	}
	if line[0] == ' ' || line[0] == '\t' {
		return true
	}
	if traceLine(line) {
		s.inTrace = true
		return true
	}
	if s.opts.Parse != nil {
		return !start && s.inTrace
	}
	if headered {
		return !start
	}
	return s.inTrace && frameLike(line)
}

// traceStart: lines that open a stack trace inside the same record.
func traceStart(line string) bool {
	return strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "Traceback (most recent call last)") ||
		strings.HasPrefix(line, "Exception in thread ")
}

// traceLine: lines that only ever continue a record.
func traceLine(line string) bool {
	switch {
	case strings.HasPrefix(line, "Caused by: "), strings.HasPrefix(line, "Suppressed: "),
		strings.HasPrefix(line, "Traceback (most recent call last)"),
		strings.HasPrefix(line, "During handling of the above exception"),
		strings.HasPrefix(line, "The above exception was the direct cause"):
		return true
	case strings.HasPrefix(line, "... ") && strings.HasSuffix(line, " more"):
		return true
	case strings.HasPrefix(line, "goroutine ") && strings.HasSuffix(line, "]:"):
		return true
	case strings.HasPrefix(line, "created by "):
		return true
	}
	return false
}

// frameLike: inside a trace of a header-less stream, lines shaped like Go
// frames "pkg.Func(...)" or a final "SomeError: text".
func frameLike(line string) bool {
	if strings.HasSuffix(line, ")") && strings.Contains(line, "(") && !strings.Contains(line, " ") {
		return true
	}
	if i := strings.Index(line, ": "); i > 0 {
		name := line[:i]
		if !strings.Contains(name, " ") && (strings.HasSuffix(name, "Error") || strings.HasSuffix(name, "Exception")) {
			return true
		}
	}
	return strings.HasPrefix(line, "exit status ")
}

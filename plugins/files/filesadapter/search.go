package filesadapter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// ctxCheckEvery is how many lines are scanned between two checks of the
// context. ctx.Err is cheap but not free (a cancelCtx takes a lock), and a
// line costs about a microsecond; every 256 lines still stops a cancelled
// search within a millisecond or so.
const ctxCheckEvery = 256

// SearchLogs streams the records of the instance's files that fall in the
// query's time range and match its query and filters. Files are read
// oldest first (see resolvePaths), records in file order.
//
// A record is a line, plus the lines that continue it when multiline is on
// (stack traces, tracebacks, goroutine dumps: see multiline.go). It takes
// the timestamp recognised in its first line; a record whose first line
// has none (a continuation past the size bound, or multiline off) takes
// the timestamp and, unless it names its own, the severity of the record
// before it, so a stack trace stays with the record that threw it in every
// time window. Lines before the first timestamp of a file, and every line
// of a file without any, take the file's modification time: the best
// estimate of when they were written. The query and the filters see the
// whole joined record.
func (a *Adapter) SearchLogs(ctx context.Context, instance string, q sdk.LogQuery, w sdk.RecordWriter) error {
	cfg, err := a.instances.Get(instance)
	if err != nil {
		return err
	}
	m, err := compileQuery(q.Query)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res := resolvePaths(cfg.Paths)
	if len(res.Files) == 0 {
		// Unavailable rather than an empty answer: "no logs in that
		// window" and "no logs at all" must not look alike at 3 a.m.
		return sdk.Errorf(sdk.CodeUnavailable, "no readable file matches paths: %s", summarize(res.Problems, 3))
	}
	s := &scan{
		cfg:   cfg,
		q:     q,
		match: m,
		lines: newLineReader(cfg.MaxLineBytes),
		host:  a.host,
		w:     w,
	}
	for _, f := range res.Files {
		service := cfg.Service
		if service == "" {
			service = serviceName(f.Path)
		}
		// The service is per file: skip files the filter excludes whole.
		if len(q.Filters.Services) > 0 && !slices.Contains(q.Filters.Services, service) {
			continue
		}
		err := s.file(ctx, f, service)
		switch {
		case errors.Is(err, sdk.ErrLimitReached):
			return nil
		case errors.Is(err, errFileSkipped):
			// A file rotated away or made unreadable between listing and
			// reading: the others are still worth returning.
			a.log.Warn("files: skipping file", "instance", instance, "error", err)
		case err != nil:
			return err
		}
	}
	return nil
}

// errFileSkipped marks a problem with one file that does not end the
// search.
var errFileSkipped = errors.New("files: file skipped")

// scan is the state of one search, reused across its files so that the
// large read buffers are allocated once.
type scan struct {
	cfg   *config
	q     sdk.LogQuery
	match *matcher
	lines *lineReader
	host  string
	w     sdk.RecordWriter
	id    []byte // scratch for native ids
	path  string // of the file being read
	svc   string // its service
	rec   pending
	trace traceState
}

// pending is the record being assembled: its text cannot be sent before
// the line after it shows whether it continues.
type pending struct {
	open   bool
	keep   bool   // in the time range: text is collected and the record sent
	text   []byte // its lines joined by "\n"; only while keep
	size   int    // len(text) had it been collected
	lines  int    // lines in text, blank ones inside it included
	blanks int    // blank lines read since its last line, not yet in text
	first  int    // number of its first line
	cut    bool   // a line of it was cut to max_line_bytes
	ts     time.Time
	sev    sdk.Severity
}

// start begins a record at line n. The fields are set one by one rather
// than by assigning a new struct: this runs for nearly every line, and the
// struct assignment showed in profiles of BenchmarkSearch1M.
func (p *pending) start(n int, ts time.Time, keep bool) {
	p.open, p.keep, p.first, p.ts = true, keep, n, ts
	p.text = p.text[:0]
	p.size, p.lines, p.blanks, p.cut, p.sev = 0, 0, 0, false, sdk.SeverityUnspecified
}

// file streams the matching records of one file.
func (s *scan) file(ctx context.Context, f logFile, service string) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("%w: %s", errFileSkipped, describe(f.Path, err))
	}
	defer closeQuietly(fh)
	if err := s.lines.reset(fh); err != nil {
		return fmt.Errorf("%w: %s: %v", errFileSkipped, f.Path, err)
	}

	s.path, s.svc = f.Path, service
	tp := timeParser{loc: s.cfg.Location, mtime: f.ModTime}
	ts := f.ModTime                // until the first recognised timestamp
	sev := sdk.SeverityUnspecified // of the last line with a timestamp
	for n := 1; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, cut, err := s.lines.next()
		if err == io.EOF {
			return s.flush()
		}
		if err != nil {
			// Typically a gzip file still being written or truncated. The
			// records before the damage are sent; say where it stopped.
			if ferr := s.flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("%w: %s: unreadable after line %d: %v", errFileSkipped, f.Path, n-1, err)
		}
		if isBlank(line) {
			if s.rec.open {
				s.rec.blanks++
			}
			continue
		}

		lineTS, lineSev, ok := tp.parse(line)
		joins := !ok && s.rec.open && s.cfg.Multiline && s.trace.continues(line, s.rec.blanks > 0)
		if joins && s.rec.fits(len(line)) {
			s.rec.add(line, cut)
			continue
		}
		// A joining line past the bounds (maxRecordLines, maxRecordBytes)
		// starts a new record instead, and keeps the trace state so that
		// the lines after it join that record.
		if !joins && s.cfg.Multiline {
			s.trace.begin(line, ok)
		}
		prevSev := s.rec.sev
		if err := s.flush(); err != nil {
			return err
		}

		if ok {
			ts = lineTS
		}
		s.rec.start(n, ts, s.q.InRange(ts))
		if !s.rec.keep {
			s.rec.add(line, cut) // counted for the bounds only
			continue
		}
		if lineSev == sdk.SeverityUnspecified && !joins {
			lineSev = severityOf(line)
		}
		switch {
		case joins:
			lineSev = prevSev // the rest of the record cut at a bound
		case ok:
			sev = lineSev // a timestamped record sets the severity
		case lineSev == sdk.SeverityUnspecified:
			// A trace the runtime wrote says how bad it is; any other
			// line inherits the severity of the record before it.
			if lineSev = traceSeverity(line); lineSev == sdk.SeverityUnspecified {
				lineSev = sev
			}
		}
		s.rec.sev = lineSev
		s.rec.add(line, cut)
	}
}

// fits reports whether a line of n bytes, and the blank lines before it,
// can join the record within the bounds.
func (p *pending) fits(n int) bool {
	return p.lines+p.blanks < maxRecordLines && p.size+p.blanks+1+n <= maxRecordBytes
}

// add appends line to the record, after the blank lines read before it.
func (p *pending) add(line []byte, cut bool) {
	sep := p.blanks
	if p.lines > 0 {
		sep++
	}
	p.size += sep + len(line)
	p.lines += p.blanks + 1
	p.blanks = 0
	p.cut = p.cut || cut
	if !p.keep {
		return
	}
	for range sep {
		p.text = append(p.text, '\n')
	}
	p.text = append(p.text, line...)
}

// flush sends the pending record if it is in the time range and matches
// the query and the filters.
func (s *scan) flush() error {
	p := &s.rec
	if !p.open {
		return nil
	}
	p.open = false
	if !p.keep || !s.match.match(p.text) {
		return nil
	}
	rec := s.record(p)
	if !s.q.Filters.Match(&rec) {
		return nil
	}
	return s.w.Write(rec)
}

// record builds the record of p. Everything here allocates, which is why
// it runs only for records that passed the time range and the query.
func (s *scan) record(p *pending) sdk.Record {
	// A joined record may hold more than max_line_bytes; invalid UTF-8
	// growing it past its bound is cut (see bodyOf).
	limit := s.cfg.MaxLineBytes
	if p.lines > 1 {
		limit = max(limit, maxRecordBytes)
	}
	body, grew := bodyOf(p.text, limit)
	// "<path>:<line>" is stable across searches, so the hub can dedupe
	// records it ingests twice. The "line" attribute shares its memory.
	s.id = strconv.AppendInt(append(append(s.id[:0], s.path...), ':'), int64(p.first), 10)
	id := string(s.id)
	attrs := map[string]string{"file": s.path, "line": id[len(s.path)+1:]}
	if p.lines > 1 {
		attrs["lines"] = strconv.Itoa(p.lines)
	}
	if p.cut || grew {
		attrs["truncated"] = "true"
	}
	return sdk.Record{
		Timestamp:  p.ts,
		Body:       body,
		Severity:   p.sev,
		Service:    s.svc,
		Host:       s.host,
		Attributes: attrs,
		Source:     sdk.SourceRef{NativeID: id},
	}
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

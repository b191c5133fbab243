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

// SearchLogs streams the lines of the instance's files that fall in the
// query's time range and match its query and filters, one record per
// line. Files are read oldest first (see resolvePaths), lines in file order.
//
// A line takes the timestamp recognised in it; a line without one (a stack
// frame, a wrapped message) takes the timestamp and, unless it names its
// own, the severity of the line before it, so a stack trace stays with
// the record that threw it in every time window. Lines before the first
// timestamp of a file, and every line of a file without any, take the
// file's modification time: the best estimate of when they were written.
func (a *Adapter) SearchLogs(ctx context.Context, instance string, q sdk.LogQuery, w sdk.RecordWriter) error {
	cfg, err := a.instance(instance)
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
}

// file streams the matching lines of one file.
func (s *scan) file(ctx context.Context, f logFile, service string) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return fmt.Errorf("%w: %s", errFileSkipped, describe(f.Path, err))
	}
	defer closeQuietly(fh)
	if err := s.lines.reset(fh); err != nil {
		return fmt.Errorf("%w: %s: %v", errFileSkipped, f.Path, err)
	}

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
			return nil
		}
		if err != nil {
			// Typically a gzip file still being written or truncated. The
			// lines before the damage have been sent; say where it stopped.
			return fmt.Errorf("%w: %s: unreadable after line %d: %v", errFileSkipped, f.Path, n-1, err)
		}
		if isBlank(line) {
			continue
		}

		lineTS, lineSev, ok := tp.parse(line)
		if ok {
			ts = lineTS
		}
		if !s.q.InRange(ts) {
			continue
		}
		if lineSev == sdk.SeverityUnspecified {
			lineSev = severityOf(line)
		}
		switch {
		case ok:
			sev = lineSev // a new record starts: it sets the severity
		case lineSev == sdk.SeverityUnspecified:
			lineSev = sev // a continuation line inherits it
		}
		if !s.match.match(line) {
			continue
		}

		rec := s.record(f.Path, n, line, cut, ts, lineSev, service)
		if !s.q.Filters.Match(&rec) {
			continue
		}
		if err := s.w.Write(rec); err != nil {
			return err
		}
	}
}

// record builds the record of line n. Everything here allocates, which is
// why it runs only for lines that passed the time range and the query.
func (s *scan) record(path string, n int, line []byte, cut bool, ts time.Time, sev sdk.Severity, service string) sdk.Record {
	body, grew := bodyOf(line, s.cfg.MaxLineBytes)
	// "<path>:<line>" is stable across searches, so the hub can dedupe
	// records it ingests twice. The "line" attribute shares its memory.
	s.id = strconv.AppendInt(append(append(s.id[:0], path...), ':'), int64(n), 10)
	id := string(s.id)
	attrs := map[string]string{"file": path, "line": id[len(path)+1:]}
	if cut || grew {
		attrs["truncated"] = "true"
	}
	return sdk.Record{
		Timestamp:  ts,
		Body:       body,
		Severity:   sev,
		Service:    service,
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

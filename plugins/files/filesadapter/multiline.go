package filesadapter

import (
	"bytes"

	"github.com/faultmaven/faultmaven/sdk"
)

// Multi-line records. A Java stack trace, a Python traceback or a Go
// goroutine dump is one event written over many lines; searched line by
// line, its frames would come back as records of their own, and a query
// for the exception class would miss the message that explains it. So the
// scan joins a line to the record before it when the line has no
// timestamp of its own (see timestamp.go) and reads as a continuation:
//
//   - it is indented (frames, Python source lines, PostgreSQL details);
//   - it only ever continues an event: "Caused by: ", "Suppressed: ",
//     "Traceback (most recent call last):", Python's "During handling of
//     the above exception" and "The above exception was the direct cause",
//     "... 12 more", "goroutine 7 [running]:", "created by ", and
//     unindented "at pkg.Func(...)" frames;
//   - it names an exception ("java.sql.SQLException: ...", "KeyError:
//     'x'", a bare "java.lang.NullPointerException") right after a
//     timestamped line or inside a trace;
//   - a trace has begun in the record and no blank line came between:
//     Go writes frames unindented ("main.run(0xc000010000, {...})").
//
// A line opening a trace that the runtime writes on its own ("panic: ",
// "fatal error: ", "Exception in thread ") starts a record rather than
// joining the unrelated log line before it, and takes a severity from the
// kind of trace when it names none. A JSON object line always starts a
// record: JSON lines are self-contained, and a JSON line without a time
// field must not vanish into the record before it.
//
// The rules follow those of the hub's raw-text splitter
// (core/loganalysis/records), restated here because a plugin depends on
// the SDK only; they differ where a log file is not a pasted excerpt (the
// runtime's own traces start records here).

// Bounds of one joined record. A file of endless indented lines (a dump, a
// binary read as text) must not grow a record without limit: past either
// bound the record is sent and the next line starts a new one, which
// inherits the timestamp, severity and trace state, so the frames after it
// keep joining in records of their own. 500 lines is the hub splitter's
// bound too; 256 KiB holds any real stack trace and keeps far below the
// SDK's body limit.
const (
	maxRecordLines = 500
	maxRecordBytes = 256 << 10
)

// traceState is what the continuation rules remember about the record
// being joined.
type traceState struct {
	headed  bool // its first line carries a timestamp
	inTrace bool // a stack trace has begun in it
}

// begin resets the state for a record whose first line is line.
func (st *traceState) begin(line []byte, headed bool) {
	st.headed = headed
	st.inTrace = traceStart(line) || traceLine(line)
}

// continues reports whether line, a non-blank line without a timestamp,
// continues the current record. afterBlank says blank lines came between:
// a trace is over at a blank line unless the next line says otherwise.
func (st *traceState) continues(line []byte, afterBlank bool) bool {
	switch {
	case line[0] == '{':
		return false
	case line[0] == ' ' || line[0] == '\t':
		return true
	case traceLine(line):
		st.inTrace = true
		return true
	case traceStart(line), afterBlank:
		return false
	case (st.headed || st.inTrace) && exceptionLine(line):
		st.inTrace = true
		return true
	}
	return st.inTrace
}

// traceStart reports whether line opens a trace written by a runtime
// rather than by the program's logger.
func traceStart(line []byte) bool { return traceSeverity(line) != sdk.SeverityUnspecified }

// traceSeverity is the severity of a record opened by a runtime trace, or
// SeverityUnspecified when line opens none.
func traceSeverity(line []byte) sdk.Severity {
	if len(line) == 0 {
		return sdk.SeverityUnspecified
	}
	// Every line goes through here and through traceLine: a switch on the
	// first byte keeps the common timestamped line to one comparison.
	switch line[0] {
	case 'p':
		if bytes.HasPrefix(line, []byte("panic: ")) {
			return sdk.SeverityFatal
		}
	case 'f':
		if bytes.HasPrefix(line, []byte("fatal error: ")) {
			return sdk.SeverityFatal
		}
	case 'E':
		if bytes.HasPrefix(line, []byte("Exception in thread ")) {
			return sdk.SeverityError
		}
	}
	return sdk.SeverityUnspecified
}

// traceLine reports whether line only ever continues an event.
func traceLine(line []byte) bool {
	if len(line) == 0 {
		return false
	}
	switch line[0] {
	case 'C':
		return bytes.HasPrefix(line, []byte("Caused by: "))
	case 'S':
		return bytes.HasPrefix(line, []byte("Suppressed: "))
	case 'T':
		return bytes.HasPrefix(line, []byte("Traceback (most recent call last)")) ||
			bytes.HasPrefix(line, []byte("The above exception was the direct cause"))
	case 'D':
		return bytes.HasPrefix(line, []byte("During handling of the above exception"))
	case 'c':
		return bytes.HasPrefix(line, []byte("created by "))
	case '.':
		return bytes.HasPrefix(line, []byte("... ")) && bytes.HasSuffix(line, []byte(" more"))
	case 'g':
		return bytes.HasPrefix(line, []byte("goroutine ")) && bytes.HasSuffix(line, []byte("]:"))
	case 'a':
		// A frame whose indentation was stripped: "at a.B.c(B.java:12)",
		// or JavaScript's "at fn (file.js:1:2)".
		return bytes.HasPrefix(line, []byte("at ")) && bytes.IndexByte(line, '(') > 0
	}
	return false
}

// exceptionSuffixes end the names of exception types across Java, Python,
// JavaScript and .NET.
var exceptionSuffixes = [][]byte{
	[]byte("Error"), []byte("Exception"), []byte("Exit"), []byte("Interrupt"), []byte("Warning"), []byte("Throwable"),
}

// exceptionLine reports whether line is an exception's header: a type name
// followed by ": message", or a type name alone. The name is a dotted
// identifier (java.sql.SQLException, decimal.InvalidOperation) or an
// undotted one ending like an exception type (KeyError, TypeError).
func exceptionLine(line []byte) bool {
	name, _, msg := bytes.Cut(line, []byte(": "))
	dotted, ok := dottedIdentifier(name)
	if !ok {
		return false
	}
	if msg && dotted {
		return true
	}
	for _, s := range exceptionSuffixes {
		if bytes.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// dottedIdentifier reports whether b is identifiers joined by dots, and
// whether there was more than one.
func dottedIdentifier(b []byte) (dotted, ok bool) {
	if len(b) == 0 {
		return false, false
	}
	start := true // at the start of a segment
	for _, c := range b {
		switch {
		case c == '.':
			if start {
				return false, false
			}
			dotted, start = true, true
		case c == '_' || c == '$' || isLetter(c) || (!start && isDigit(c)):
			start = false
		default:
			return false, false
		}
	}
	return dotted, !start
}

// Package records splits a byte stream of log text into records.
//
// A record is a first line plus the lines that continue it: indented
// lines, Java "at ..." frames and "Caused by:", Python tracebacks, Go
// panics and goroutine dumps. In a stream whose lines open with a header
// (see package header), any line without a header of its own continues the
// record before it. Options.MultilineOff makes every line a record.
//
// Input is never rejected: CRLF line ends are dropped, NUL bytes become
// spaces, invalid UTF-8 becomes U+FFFD, and lines longer than
// Options.MaxLineBytes are cut and their record marked Truncated.
//
// A Splitter is not safe for concurrent use.
package records

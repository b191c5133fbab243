// Package scenariodata loads an evaluation scenario folder
// (scenarios/<id>/ of the troubleshooting corpus) so that backend stand-ins
// can serve its logs the way the real tool would hold them.
//
// [Load] reads sources.yaml and scenario.yaml, then every log file the
// sources name, and splits each file into events: a line matching the
// source's event_start_regex starts an event, any other line is joined (with
// "\n") to the event before it, which keeps stack traces whole. Each event's
// time is taken from the first capture group of timestamp_regex and parsed
// with timestamp_layout; the layouts "unix_float" and "unix_ms" mean epoch
// seconds (with an optional fraction) and epoch milliseconds, layouts
// without a zone are UTC, and layouts without a year take the year of the
// scenario's time window.
//
// metrics.json, when present, is read into [Scenario.Metrics] (points are
// [unix_seconds, value]).
//
// A file that cannot be read, a regex that does not compile, or an event
// whose timestamp cannot be parsed is an error naming the file and line:
// a stand-in must never silently drop a line.
//
// The returned values are plain data, safe to share between goroutines as
// long as nobody modifies them.
package scenariodata

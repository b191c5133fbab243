// Package filesadapter is the FaultMaven adapter for local log files, and
// the reference adapter: it is kept small and commented so that it can be
// read as a worked example of the SDK (see docs/plugin-authors.md).
//
// # Instances
//
// An instance config names what to read:
//
//	{
//	  "paths": ["/var/log/app/*.log", "/var/log/nginx", "./examples/logs/checkout.log"],
//	  "service": "checkout",        // optional; default: the file name
//	  "max_line_bytes": 65536,      // optional; default 1 MiB
//	  "timezone": "Europe/Paris",   // optional; default Local
//	  "multiline": "on"             // optional; "off": one record per line
//	}
//
// Each paths entry is a file, a directory (the regular files directly in
// it: directories are not walked recursively) or a [path/filepath.Glob]
// pattern (*, ? and [...] within one path element; ** is rejected rather
// than silently matching one level). Relative paths are resolved against
// the plugin's working directory, which is the hub's. Paths are resolved
// again on every search and health check, so rotated and new files are
// picked up without reconfiguring. Unknown config keys are rejected by
// name. Metadata carries the config's JSON Schema (config.schema.json).
//
// Files may be plain or gzip-compressed; compression is detected from the
// content's magic bytes, not the file name.
//
// # Records
//
// A record is a non-blank line and, with multiline on (the default), the
// lines that continue it: lines without a timestamp that are indented or
// read as part of a stack trace, Python traceback or Go goroutine dump
// (the rules are in multiline.go). Its Body is the lines joined by "\n",
// blank lines inside it kept. A record holds at most 500 lines and
// 256 KiB; past that the next line starts a new record that continues it.
// JSON object lines are never joined, and a trace the runtime writes on
// its own ("panic: ", "fatal error: ", "Exception in thread ") starts a
// record rather than joining the unrelated log line before it.
//
//   - Timestamp: recognised in the first line (RFC 3339 / ISO 8601 with T
//     or a space and . or , fractions; nginx's 2024/03/05; the Common Log
//     Format; syslog's "Mar  5 14:07:09"; in JSON lines the ts, time,
//     timestamp or @timestamp field, RFC 3339 or epoch s/ms/µs/ns). A
//     record whose first line has none inherits the previous record's, so
//     a trace stays with the record that threw it; records before a file's
//     first timestamp take the file's modification time. Timestamps
//     without an offset are read in the instance's timezone.
//   - Severity: a JSON level field, or a level word in the first line's
//     prefix (ERROR, [warn], level=info, ...). A record whose first line
//     has no timestamp and names no level inherits it, except that a Go
//     panic or fatal error is fatal and a Java "Exception in thread" an
//     error.
//   - Service: the config's service, else the file name without its log
//     and rotation extensions (checkout.log.1.gz -> checkout).
//   - Host: the machine's host name.
//   - Attributes: file and line (the first line's number); lines, the
//     number of lines of a joined record; truncated=true when a line was
//     cut to max_line_bytes (the rest of such a line is skipped, never
//     failed on).
//   - Source.NativeID: "<path>:<line>", stable across searches so the hub
//     can dedupe what it ingests twice.
//
// Bodies are always valid UTF-8: invalid bytes become U+FFFD, because
// protobuf refuses to marshal an invalid string and one bad byte would
// otherwise fail a whole batch. NUL bytes are passed through.
//
// # Search
//
// The native query is a case-insensitive substring, or an RE2 regular
// expression between slashes (/timeout|refused/); an invalid expression
// is a [sdk.CodeBadQuery] error. The query and the filters apply to the
// whole record, so a query for a frame finds the record holding it. The time range, the common filters
// ([sdk.LogFilters]) and the limit are applied while scanning, and the
// scan stops as soon as the context is done or the limit is reached.
// There is no index: a search reads every selected file from the start,
// at the speed reported in docs/benchmarks/files-plugin.md.
//
// # Concurrency
//
// An [Adapter] is safe for concurrent use. Each search reads its own file
// handles with its own buffers.
package filesadapter

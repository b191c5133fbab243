package filesadapter

import (
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Internals exposed to the external test package.

// ParseTimestamp runs the timestamp recogniser on one line.
func ParseTimestamp(line []byte, loc *time.Location, mtime time.Time) (time.Time, sdk.Severity, bool) {
	p := timeParser{loc: loc, mtime: mtime}
	return p.parse(line)
}

// SeverityOf runs the level-word recogniser on one text line.
func SeverityOf(line []byte) sdk.Severity { return severityOf(line) }

// ServiceName derives a service from a file path.
func ServiceName(path string) string { return serviceName(path) }

// Match compiles q and runs it on line.
func Match(q, line string) (bool, error) {
	m, err := compileQuery(q)
	if err != nil {
		return false, err
	}
	return m.match([]byte(line)), nil
}

// Continues runs the continuation rules on one line without a timestamp,
// in a record whose first line had one (headed) and where a trace has
// begun (inTrace).
func Continues(line string, headed, inTrace, afterBlank bool) bool {
	st := traceState{headed: headed, inTrace: inTrace}
	return st.continues([]byte(line), afterBlank)
}

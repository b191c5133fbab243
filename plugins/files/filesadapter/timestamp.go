package filesadapter

import (
	"bytes"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Timestamp recognition is hand-written rather than a list of time.Parse
// layouts tried in turn: every line of every file goes through it, and a
// line without a timestamp (a stack frame) would pay for every failed
// layout at every offset. The parser below looks at each candidate
// position once and allocates nothing for text lines
// (BenchmarkParseTimestamp).
//
// Recognised, anywhere in the first searchWindow bytes of a line:
//
//	2024-03-05T14:07:09Z                 RFC 3339 / ISO 8601, T or space,
//	2024-03-05 14:07:09,123 +0100        . or , before the fraction, zone
//	2024/03/05 14:07:09 UTC              Z, ±hh:mm, ±hhmm, ±hh, UTC, GMT or none
//	05/Mar/2024:14:07:09 +0000           Apache / nginx access logs
//
// and at the start of a line (after an optional <PRI>):
//
//	Mar  5 14:07:09                      syslog (RFC 3164), no year
//
// JSON lines ({...}) are read by parseJSON (json.go) instead: the
// timestamp is the first of ts, time, timestamp, @timestamp holding an
// RFC 3339 string or epoch seconds, milliseconds, microseconds or
// nanoseconds (number or string); a line that is not well-formed JSON is
// read as text.

// searchWindow bounds how far into a line a timestamp is looked for. It
// covers prefixes such as "level=info ts=" or "[worker-3] " while keeping
// a date quoted inside a message body from being taken for the line's.
const searchWindow = 80

// timeParser recognises the timestamp of each line of one file.
type timeParser struct {
	loc   *time.Location // for timestamps without an offset
	mtime time.Time      // the file's modification time, for syslog's missing year

	// The last numeric offset seen and its zone: a file almost always
	// writes one offset, and time.FixedZone allocates.
	fixedOffset int
	fixedZone   *time.Location
}

// parse returns the line's timestamp and, for JSON lines, the severity of
// their level field (SeverityUnspecified otherwise).
func (p *timeParser) parse(line []byte) (time.Time, sdk.Severity, bool) {
	if i := skipSpace(line); i < len(line) && line[i] == '{' {
		if t, sev, ok := p.parseJSON(line[i:]); ok || sev != sdk.SeverityUnspecified {
			return t, sev, ok
		}
		// Not JSON after all (or no time field): try it as text.
	}
	if t, ok := p.parseSyslog(line); ok {
		return t, sdk.SeverityUnspecified, true
	}
	end := min(len(line), searchWindow)
	for i := 0; i < end; i++ {
		if !isDigit(line[i]) || (i > 0 && isDigit(line[i-1])) {
			continue
		}
		if t, ok := p.parseISO(line[i:]); ok {
			return t, sdk.SeverityUnspecified, true
		}
		if t, ok := p.parseCLF(line[i:]); ok {
			return t, sdk.SeverityUnspecified, true
		}
	}
	return time.Time{}, sdk.SeverityUnspecified, false
}

// parseISO parses "yyyy-mm-dd[T ]hh:mm:ss[(.|,)frac][zone]" at the start
// of b ('/' is accepted between the date parts, as nginx writes it).
func (p *timeParser) parseISO(b []byte) (time.Time, bool) {
	if len(b) < 19 {
		return time.Time{}, false
	}
	sep := b[4]
	if (sep != '-' && sep != '/') || b[7] != sep || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	nsec, rest := fraction(b[19:])
	loc, ok := p.zone(rest)
	if !ok {
		return time.Time{}, false
	}
	return makeTime(year, month, day, hour, minute, sec, nsec, loc)
}

// parseCLF parses the Common Log Format's "dd/Mon/yyyy:hh:mm:ss[ zone]".
func (p *timeParser) parseCLF(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, false
	}
	day, ok1 := digits(b[0:2])
	month := monthOf(b[3:6])
	year, ok2 := digits(b[7:11])
	hour, ok3 := digits(b[12:14])
	minute, ok4 := digits(b[15:17])
	sec, ok5 := digits(b[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month == 0 {
		return time.Time{}, false
	}
	loc, ok := p.zone(b[20:])
	if !ok {
		return time.Time{}, false
	}
	return makeTime(year, month, day, hour, minute, sec, 0, loc)
}

// parseSyslog parses "Mon _d hh:mm:ss" at the start of the line. Syslog
// has no year: it is the year of the file's modification time, or the one
// before when that would put the line more than a day after the file was
// last written (a December line in a file touched in January).
func (p *timeParser) parseSyslog(b []byte) (time.Time, bool) {
	if len(b) > 0 && b[0] == '<' { // RFC 3164 priority, e.g. <34>
		if i := bytes.IndexByte(b[:min(len(b), 6)], '>'); i > 0 {
			b = b[i+1:]
		}
	}
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return time.Time{}, false
	}
	month := monthOf(b[0:3])
	dayText := b[4:6]
	if dayText[0] == ' ' {
		dayText = dayText[1:]
	}
	day, ok1 := digits(dayText)
	hour, ok2 := digits(b[7:9])
	minute, ok3 := digits(b[10:12])
	sec, ok4 := digits(b[13:15])
	if !(ok1 && ok2 && ok3 && ok4) || month == 0 {
		return time.Time{}, false
	}
	nsec, _ := fraction(b[15:])
	ref := p.mtime
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.In(p.loc)
	t, ok := makeTime(ref.Year(), month, day, hour, minute, sec, nsec, p.loc)
	if ok && t.After(ref.Add(24*time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t, ok
}

// zone parses an optional zone at the start of b: "Z", "±hh:mm", "±hhmm"
// or "±hh", possibly after one space, or " UTC" / " GMT". No zone means the instance's
// location. It fails only on text that starts like a zone but is not one,
// so "12:00:00 -0700" and "12:00:00 - checkout - ERROR" both work.
func (p *timeParser) zone(b []byte) (*time.Location, bool) {
	if len(b) > 0 && (b[0] == 'Z' || b[0] == 'z') {
		return time.UTC, true
	}
	if len(b) >= 4 && b[0] == ' ' && (string(b[1:4]) == "UTC" || string(b[1:4]) == "GMT") {
		return time.UTC, true
	}
	if len(b) > 1 && b[0] == ' ' && (b[1] == '+' || b[1] == '-') {
		if len(b) < 3 || !isDigit(b[2]) {
			return p.loc, true // " - " is a separator, not a zone
		}
		b = b[1:]
	}
	if len(b) == 0 || (b[0] != '+' && b[0] != '-') {
		return p.loc, true
	}
	sign := 1
	if b[0] == '-' {
		sign = -1
	}
	b = b[1:]
	hh, ok := digits(b[:min(2, len(b))])
	if !ok || len(b) < 2 {
		return nil, false
	}
	mm := 0
	switch {
	case len(b) >= 5 && b[2] == ':':
		mm, ok = digits(b[3:5])
	case len(b) >= 4 && isDigit(b[2]):
		mm, ok = digits(b[2:4])
	}
	if !ok || hh > 14 || mm > 59 {
		return nil, false
	}
	offset := sign * (hh*3600 + mm*60)
	if offset == 0 {
		return time.UTC, true
	}
	if p.fixedZone == nil || p.fixedOffset != offset {
		p.fixedOffset, p.fixedZone = offset, time.FixedZone("", offset)
	}
	return p.fixedZone, true
}

// fraction reads an optional ".123" or ",123456789" and returns the
// nanoseconds and what follows. Digits beyond nanoseconds are skipped.
func fraction(b []byte) (int, []byte) {
	if len(b) < 2 || (b[0] != '.' && b[0] != ',') || !isDigit(b[1]) {
		return 0, b
	}
	ns, scale, i := 0, 100_000_000, 1
	for ; i < len(b) && isDigit(b[i]); i++ {
		ns += int(b[i]-'0') * scale
		scale /= 10
	}
	return ns, b[i:]
}

func makeTime(year, month, day, hour, minute, sec, nsec int, loc *time.Location) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// digits parses a short run of ASCII digits without allocating.
func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// monthOf maps a three-letter English month, any case, to 1-12, or 0.
func monthOf(b []byte) int {
	if len(b) != 3 {
		return 0
	}
	lower := [3]byte{b[0] | 0x20, b[1] | 0x20, b[2] | 0x20}
	for i, m := range monthNames {
		if string(lower[:]) == m {
			return i + 1
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

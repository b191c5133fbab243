package header

import (
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Epoch bounds for bare numbers read as timestamps: 2000-01-01 .. 2040-01-01.
// Narrower bounds would miss old archives (Loghub's BGL is from 2005); wider
// ones would read ordinary counters as dates.
const (
	epochMin = 946684800
	epochMax = 2208988800
)

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// ParseTimestamp reads a timestamp at the start of s. It returns the number of
// bytes it covers, the time (UTC when s names no zone; the zero time when s
// holds a time of day without a date) and, for klog headers such as
// "I0102 15:04:05.123456", the severity letter's level.
//
// Accepted forms include RFC 3339 / ISO 8601 with 'T', space, '-' or '_'
// between date and time; '.', ',' or ':' before fractions; yyyy/mm/dd,
// yyyy.mm.dd, yy/mm/dd, mm/dd/yyyy; yyyyMMdd-HH:mm:ss; yyMMdd HHmmss; syslog
// "Jan _2 15:04:05"; "Thu Jun 09 06:07:04 2005"; Apache access
// "10/Oct/2000:13:55:36 -0700"; bracketed forms of all of these; epoch
// seconds (10 digits) and milliseconds (13 digits); klog.
func ParseTimestamp(s string) (n int, t time.Time, sev sdk.Severity, ok bool) {
	if len(s) == 0 {
		return 0, time.Time{}, 0, false
	}
	if s[0] == '[' {
		end := indexByteLimit(s, ']', 48)
		if end > 1 {
			if m, tt, sv, ok := ParseTimestamp(s[1:end]); ok && m == end-1 {
				return end + 1, tt, sv, true
			}
		}
		return 0, time.Time{}, 0, false
	}
	// klog: Lmmdd hh:mm:ss.uuuuuu
	if len(s) > 6 && (s[0] == 'I' || s[0] == 'W' || s[0] == 'E' || s[0] == 'F') && allDigits(s[1:5]) && s[5] == ' ' {
		mo, d := atoi(s[1:3]), atoi(s[3:5])
		if validMD(mo, d) {
			if h, mi, se, ns, m, ok := parseClock(s[6:]); ok && boundary(s, 6+m) {
				sv := map[byte]sdk.Severity{'I': sdk.SeverityInfo, 'W': sdk.SeverityWarn, 'E': sdk.SeverityError, 'F': sdk.SeverityFatal}[s[0]]
				return 6 + m, time.Date(0, time.Month(mo), d, h, mi, se, ns, time.UTC), sv, true
			}
		}
	}
	if isLetter(s[0]) {
		return parseNamed(s)
	}
	if !isDigit(s[0]) {
		return 0, time.Time{}, 0, false
	}
	if n, t, ok := parseNumeric(s); ok {
		return n, t, 0, true
	}
	return 0, time.Time{}, 0, false
}

func parseNumeric(s string) (int, time.Time, bool) {
	run := digitRun(s, 0)
	// yyMMdd HHmmss (HDFS style) and yyyyMMdd[-T]HH:mm:ss.
	if run == 6 && len(s) >= 13 && s[6] == ' ' && digitRun(s, 7) == 6 && boundary(s, 13) {
		y, mo, d := atoi(s[0:2]), atoi(s[2:4]), atoi(s[4:6])
		h, mi, se := atoi(s[7:9]), atoi(s[9:11]), atoi(s[11:13])
		if validMD(mo, d) && h < 24 && mi < 60 && se < 61 {
			return 13, time.Date(2000+y, time.Month(mo), d, h, mi, se, 0, time.UTC), true
		}
	}
	if run == 8 && len(s) > 9 && (s[8] == '-' || s[8] == 'T' || s[8] == ' ') {
		y, mo, d := atoi(s[0:4]), atoi(s[4:6]), atoi(s[6:8])
		if y >= 1970 && validMD(mo, d) {
			if h, mi, se, ns, m, ok := parseClock(s[9:]); ok {
				end := 9 + m
				loc, zn := parseZone(s[end:])
				end += zn
				if boundary(s, end) {
					return end, time.Date(y, time.Month(mo), d, h, mi, se, ns, loc), true
				}
			}
		}
	}
	if (run == 10 || run == 13) && boundary(s, run) || (run == 10 || run == 13) && len(s) > run+1 && s[run] == '.' && digitRun(s, run+1) > 0 && boundary(s, run+1+digitRun(s, run+1)) {
		v := atoi64(s[:run])
		end := run
		frac := 0
		if end < len(s) && s[end] == '.' {
			fr := digitRun(s, end+1)
			frac = fracNanos(s[end+1 : end+1+fr])
			end += 1 + fr
		}
		if run == 13 {
			if v/1000 >= epochMin && v/1000 <= epochMax {
				return end, time.UnixMilli(v).UTC(), true
			}
		} else if v >= epochMin && v <= epochMax {
			return end, time.Unix(v, int64(frac)).UTC(), true
		}
		return 0, time.Time{}, false
	}
	// Time of day alone.
	if run <= 2 && len(s) > run && s[run] == ':' {
		if h, mi, se, ns, m, ok := parseClock(s); ok && boundary(s, m) {
			return m, time.Date(0, 1, 1, h, mi, se, ns, time.UTC), true
		}
		return 0, time.Time{}, false
	}
	y, mo, d, m, ok := parseDate(s)
	if !ok {
		// Year-less "MM-DD hh:mm:ss" (Android logcat) and "[MM.DD hh:mm:ss]".
		if run == 2 && len(s) > 6 && (s[2] == '-' || s[2] == '.' || s[2] == '/') && digitRun(s, 3) == 2 && s[5] == ' ' {
			mo, d := atoi(s[0:2]), atoi(s[3:5])
			if h, mi, se, ns, k, ok := parseClock(s[6:]); ok && validMD(mo, d) && boundary(s, 6+k) {
				return 6 + k, time.Date(0, time.Month(mo), d, h, mi, se, ns, time.UTC), true
			}
		}
		return 0, time.Time{}, false
	}
	// Date followed by a clock: 'T', ' ', '-', '_' or ':' between.
	if m < len(s) && (s[m] == 'T' || s[m] == ' ' || s[m] == '-' || s[m] == '_' || s[m] == ':') {
		j := m + 1
		for j < len(s) && s[j] == ' ' && s[m] == ' ' {
			j++
		}
		if h, mi, se, ns, k, ok := parseClock(s[j:]); ok {
			end := j + k
			loc, zn := parseZone(s[end:])
			end += zn
			if boundary(s, end) {
				return end, time.Date(y, time.Month(mo), d, h, mi, se, ns, loc), true
			}
		}
	}
	if boundary(s, m) {
		return m, time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	return 0, time.Time{}, false
}

// parseDate reads yyyy-mm-dd (any of -/. as separator), yy/mm/dd,
// mm/dd/yyyy, dd/mm/yyyy and dd/Mon/yyyy.
func parseDate(s string) (y, mo, d, n int, ok bool) {
	a := digitRun(s, 0)
	if a == 0 || a >= len(s) {
		return 0, 0, 0, 0, false
	}
	sep := s[a]
	if sep != '-' && sep != '/' && sep != '.' {
		return 0, 0, 0, 0, false
	}
	i := a + 1
	// dd/Mon/yyyy
	if a <= 2 && i+3 < len(s) && isLetter(s[i]) {
		mon := monthIndex(s[i:])
		if mon == 0 || s[i+3] != sep {
			return 0, 0, 0, 0, false
		}
		j := i + 4
		c := digitRun(s, j)
		if c != 4 {
			return 0, 0, 0, 0, false
		}
		return atoi(s[j : j+4]), mon, atoi(s[:a]), j + 4, validMD(mon, atoi(s[:a]))
	}
	b := digitRun(s, i)
	if b == 0 || b > 2 || i+b >= len(s) || s[i+b] != sep {
		return 0, 0, 0, 0, false
	}
	j := i + b + 1
	c := digitRun(s, j)
	if c == 0 {
		return 0, 0, 0, 0, false
	}
	g1, g2, g3 := atoi(s[:a]), atoi(s[i:i+b]), atoi(s[j:j+c])
	switch {
	case a == 4 && c <= 2:
		y, mo, d = g1, g2, g3
	case a == 2 && c == 2 && sep == '/':
		y, mo, d = 2000+g1, g2, g3
	case a <= 2 && c == 4:
		y, mo, d = g3, g1, g2
		if g1 > 12 {
			mo, d = g2, g1
		}
	default:
		return 0, 0, 0, 0, false
	}
	if y < 1970 || y > 2100 || !validMD(mo, d) {
		return 0, 0, 0, 0, false
	}
	return y, mo, d, j + c, true
}

// parseClock reads hh:mm:ss or hh.mm.ss with an optional fraction after '.',
// ',' or ':'.
func parseClock(s string) (h, mi, se, ns, n int, ok bool) {
	a := digitRun(s, 0)
	if a < 1 || a > 2 || a+4 > len(s) {
		return
	}
	sep := s[a]
	if sep != ':' && sep != '.' {
		return
	}
	// Minutes and seconds are usually two digits; some loggers drop the
	// leading zero ("22:16:0:119").
	b := digitRun(s, a+1)
	if b < 1 || b > 2 || a+1+b >= len(s) || s[a+1+b] != sep {
		return
	}
	c := digitRun(s, a+2+b)
	if c < 1 || c > 2 {
		return
	}
	h, mi, se = atoi(s[:a]), atoi(s[a+1:a+1+b]), atoi(s[a+2+b:a+2+b+c])
	if h > 23 || mi > 59 || se > 60 {
		return 0, 0, 0, 0, 0, false
	}
	n = a + 2 + b + c
	if n+1 < len(s) && (s[n] == '.' || s[n] == ',' || s[n] == ':') {
		if f := digitRun(s, n+1); f > 0 && f <= 9 {
			ns = fracNanos(s[n+1 : n+1+f])
			n += 1 + f
		}
	}
	return h, mi, se, ns, n, true
}

// parseZone reads Z, +hh:mm, +hhmm or -hh after a clock (an optional space
// before a numeric offset).
func parseZone(s string) (*time.Location, int) {
	if len(s) == 0 {
		return time.UTC, 0
	}
	if s[0] == 'Z' {
		return time.UTC, 1
	}
	i := 0
	if s[0] == ' ' && len(s) > 1 && (s[1] == '+' || s[1] == '-') {
		i = 1
	}
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		r := digitRun(s, i+1)
		switch {
		case r == 4:
			off := atoi(s[i+1:i+3])*3600 + atoi(s[i+3:i+5])*60
			return time.FixedZone("", sign*off), i + 5
		case r == 2 && i+5 < len(s)+0 && i+3 < len(s) && s[i+3] == ':' && digitRun(s, i+4) == 2:
			off := atoi(s[i+1:i+3])*3600 + atoi(s[i+4:i+6])*60
			return time.FixedZone("", sign*off), i + 6
		case r == 2 && i == 0:
			return time.FixedZone("", sign*atoi(s[i+1:i+3])*3600), i + 3
		}
	}
	return time.UTC, 0
}

// parseNamed reads forms led by a month or weekday name: "Jan _2 15:04:05",
// "Thu Jun 09 06:07:04 2005", "Jun 9 2005 06:07:04".
func parseNamed(s string) (int, time.Time, sdk.Severity, bool) {
	if len(s) < 8 || s[3] != ' ' { // "Mon D hh:mm:ss" at the least
		return 0, time.Time{}, 0, false
	}
	i := 0
	if isWeekday(s) {
		i = 4
	}
	mon := monthIndex(s[i:])
	if mon == 0 || i+4 > len(s) || s[i+3] != ' ' {
		return 0, time.Time{}, 0, false
	}
	i += 4
	for i < len(s) && s[i] == ' ' {
		i++
	}
	dr := digitRun(s, i)
	if dr == 0 || dr > 2 || i+dr >= len(s) || s[i+dr] != ' ' {
		return 0, time.Time{}, 0, false
	}
	d := atoi(s[i : i+dr])
	i += dr + 1
	year := 0
	if digitRun(s, i) == 4 && i+4 < len(s) && s[i+4] == ' ' {
		year = atoi(s[i : i+4])
		i += 5
	}
	h, mi, se, ns, m, ok := parseClock(s[i:])
	if !ok || !validMD(mon, d) {
		return 0, time.Time{}, 0, false
	}
	i += m
	if year == 0 && i+5 <= len(s) && s[i] == ' ' && digitRun(s, i+1) == 4 && boundary(s, i+5) {
		year = atoi(s[i+1 : i+5])
		i += 5
	}
	if !boundary(s, i) {
		return 0, time.Time{}, 0, false
	}
	return i, time.Date(year, time.Month(mon), d, h, mi, se, ns, time.UTC), 0, true
}

func isWeekday(s string) bool {
	switch key3(s) {
	case key3("mon"), key3("tue"), key3("wed"), key3("thu"), key3("fri"), key3("sat"), key3("sun"):
		return true
	}
	return false
}

var monthKeys = func() (k [12]uint32) {
	for i, m := range monthNames {
		k[i] = key3(m)
	}
	return k
}()

func monthIndex(s string) int {
	if len(s) < 3 {
		return 0
	}
	k := key3(s)
	for i, m := range monthKeys {
		if m == k {
			return i + 1
		}
	}
	return 0
}

// key3 packs the first three bytes of s, lower-cased, into an int.
func key3(s string) uint32 {
	if len(s) < 3 {
		return 0
	}
	return uint32(s[0]|0x20)<<16 | uint32(s[1]|0x20)<<8 | uint32(s[2]|0x20)
}

func validMD(mo, d int) bool { return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 }

// boundary reports whether a token may end at s[i]: end of text or a byte
// that cannot continue a number or word.
func boundary(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	return !(isDigit(c) || isLetter(c) || c == '_' || c == '.' && i+1 < len(s) && isDigit(s[i+1]))
}

func digitRun(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j - i
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func atoi(s string) int { return int(atoi64(s)) }

func atoi64(s string) int64 {
	var v int64
	for i := 0; i < len(s) && i < 18; i++ {
		v = v*10 + int64(s[i]-'0')
	}
	return v
}

func fracNanos(s string) int {
	v := 0
	for i := 0; i < 9; i++ {
		v *= 10
		if i < len(s) {
			v += int(s[i] - '0')
		}
	}
	return v
}

func indexByteLimit(s string, c byte, limit int) int {
	for i := 0; i < len(s) && i < limit; i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

package filesadapter

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// JSON lines are common (Go's slog, zap, pino, bunyan, Docker's json-file)
// and only two or three of their fields matter here, so instead of
// decoding each line with encoding/json (4.5 µs and 13 allocations per
// line) parseJSON walks the top-level members and looks only at the keys
// below; nested values are skipped without being decoded.

// jsonTimeKeys and jsonLevelKeys are the keys looked at, in order of
// preference. Keys match case-insensitively, as with encoding/json.
var (
	// eventTime, lastTimestamp, firstTimestamp: a Kubernetes Event
	// (kubectl get events -o json), whose "type" (Normal, Warning) is its
	// level.
	jsonTimeKeys  = [...]string{"ts", "time", "timestamp", "@timestamp", "eventTime", "lastTimestamp", "firstTimestamp"}
	jsonLevelKeys = [...]string{"level", "severity", "lvl", "type"}
)

// parseJSON returns the timestamp and level of a JSON object line. ok is
// false when the line is not a well-formed object or has no usable time
// field; the level is returned either way.
func (p *timeParser) parseJSON(b []byte) (t time.Time, sev sdk.Severity, ok bool) {
	var times [len(jsonTimeKeys)][]byte
	var levels [len(jsonLevelKeys)][]byte
	if !eachMember(b, func(key, val []byte) {
		for i, k := range jsonTimeKeys {
			if times[i] == nil && len(key) == len(k) && bytes.EqualFold(key, []byte(k)) {
				times[i] = val
			}
		}
		for i, k := range jsonLevelKeys {
			if levels[i] == nil && len(key) == len(k) && bytes.EqualFold(key, []byte(k)) {
				levels[i] = val
			}
		}
	}) {
		return time.Time{}, sdk.SeverityUnspecified, false
	}
	for _, v := range levels {
		if sev = jsonLevel(v); sev != sdk.SeverityUnspecified {
			break
		}
	}
	for _, v := range times {
		if t, ok = p.jsonTime(v); ok {
			return t, sev, true
		}
	}
	return time.Time{}, sev, false
}

// eachMember calls fn with the raw key (without quotes) and raw value of
// each top-level member of the object in b, and reports whether b is a
// well-formed object (trailing text after it is ignored).
func eachMember(b []byte, fn func(key, val []byte)) bool {
	i := skipJSONSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipJSONSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end := stringEnd(b, i)
		if end < 0 {
			return false
		}
		key := b[i+1 : end-1]
		i = skipJSONSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipJSONSpace(b, i+1)
		end = valueEnd(b, i)
		if end < 0 {
			return false
		}
		fn(key, b[i:end])
		i = skipJSONSpace(b, end)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return true
		case ',':
			i = skipJSONSpace(b, i+1)
		default:
			return false
		}
	}
	return false
}

// stringEnd returns the index just past the string starting at b[i] ('"'),
// or -1 if it is not terminated.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the value starting at b[i], or -1.
// Objects and arrays are skipped by counting brackets outside strings.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	// A number or a literal: up to the next delimiter.
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// unquote returns the contents of a JSON string value. Strings with
// escapes (rare in timestamps and levels) go through encoding/json.
func unquote(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// jsonTime reads an RFC 3339 string or an epoch (number or string).
func (p *timeParser) jsonTime(v []byte) (time.Time, bool) {
	if len(v) == 0 {
		return time.Time{}, false
	}
	if s, ok := unquote(v); ok {
		if t, ok := p.parseISO(s); ok {
			return t, true
		}
		v = s // "1700000000.5" is an epoch too
	}
	// Integers keep nanosecond precision, which float64 cannot hold.
	if n, ok := digits64(v); ok {
		return fromEpochInt(n)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f <= 0 || f >= 9e18 || math.IsNaN(f) {
		return time.Time{}, false
	}
	return fromEpoch(f), true
}

// digits64 parses a decimal integer that fits in an int64.
func digits64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) || n > (math.MaxInt64-int64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// fromEpochInt is fromEpoch for integers.
func fromEpochInt(n int64) (time.Time, bool) {
	switch {
	case n <= 0:
		return time.Time{}, false
	case n < 1e11:
		return time.Unix(n, 0).UTC(), true
	case n < 1e14:
		return time.UnixMilli(n).UTC(), true
	case n < 1e17:
		return time.UnixMicro(n).UTC(), true
	}
	return time.Unix(0, n).UTC(), true
}

// fromEpoch reads a Unix time whose unit is guessed from its magnitude:
// seconds up to year 5138, then milliseconds, microseconds, nanoseconds.
func fromEpoch(v float64) time.Time {
	switch {
	case v < 1e11:
		sec, frac := math.Modf(v)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC()
	case v < 1e14:
		return time.UnixMicro(int64(v * 1e3)).UTC()
	case v < 1e17:
		return time.UnixMicro(int64(v)).UTC()
	}
	return time.Unix(0, int64(v)).UTC()
}

// jsonLevel reads a level name ("warn") or a pino/bunyan number
// (10 trace ... 60 fatal).
func jsonLevel(v []byte) sdk.Severity {
	if len(v) == 0 {
		return sdk.SeverityUnspecified
	}
	if s, ok := unquote(v); ok {
		if len(s) <= 9 {
			var word [9]byte
			for i, c := range s {
				word[i] = c &^ 0x20
			}
			if sev, ok := levelWords[string(word[:len(s)])]; ok {
				return sev
			}
		}
		return sdk.ParseSeverity(string(s))
	}
	if n, ok := digits(v); ok && n >= 10 && n <= 60 {
		return sdk.Severity(n / 10) // 10 -> trace (1) ... 60 -> fatal (6)
	}
	return sdk.SeverityUnspecified
}

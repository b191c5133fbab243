package header

import (
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// kind classifies one leading field of a line.
type kind uint8

const (
	kWord    kind = iota // any other token
	kTS                  // a timestamp (may span several tokens)
	kLevel               // a severity word, bare or bracketed
	kNum                 // an integer (pid, sequence number)
	kBr                  // a bracketed group [...] (may hold spaces)
	kDash                // a lone '-' separator
	kComp                // a token ending in ':' (logger or component)
	kDotted              // a dotted or '$' identifier (logger name without ':')
	kPadWord             // layouts only: a word followed by a run of spaces (a padded column)
)

var kindCodes = [...]byte{'w', 't', 'l', 'n', 'b', '-', 'c', 'd', 'P'}

// field is one leading field of a line.
type field struct {
	kind   kind
	start  int // byte offset of the field
	end    int // byte offset just past the field (and a '|' that ended it)
	piped  bool
	padded bool // followed by two or more spaces
	time   time.Time
	sev    sdk.Severity
	upper  bool // an upper-case level word
}

const (
	maxFields     = 12
	maxHeaderScan = 320
)

// scanFields splits the start of line into at most maxFields typed fields.
func scanFields(line string, out []field) []field { return scanN(line, out, maxFields) }

// scanN is scanFields stopping after n fields.
func scanN(line string, out []field, n int) []field { return scan(line, out, n, false, nil) }

// scanSig scans as many fields as sig has, trying timestamps only where sig
// expects one: the fast path for lines of a known layout.
func scanSig(line string, out []field, sig []kind) []field {
	return scan(line, out, len(sig), false, sig)
}

// scanAnchor scans only as far as lineAnchor can look: five fields when
// none of them is a timestamp, else five past the last timestamp.
func scanAnchor(line string, out []field) []field { return scan(line, out, maxFields, true, nil) }

func scan(line string, out []field, n int, anchorOnly bool, sig []kind) []field {
	out = out[:0]
	i := 0
	lastTS := -1
	for len(out) < n && i < len(line) && i < maxHeaderScan {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i >= len(line) {
			break
		}
		f := field{start: i, kind: kWord}
		rest := line[i:]
		var (
			tn  int
			t   time.Time
			sev sdk.Severity
			ok  bool
		)
		if sig == nil || sig[len(out)] == kTS {
			tn, t, sev, ok = ParseTimestamp(rest)
		}
		if ok {
			f.kind, f.end, f.time = kTS, i+tn, t
			if sev != 0 {
				f.sev = sev
			}
		} else if rest[0] == '[' {
			end := matchBracket(rest)
			if end < 0 {
				f.end = i + tokenEnd(rest)
			} else {
				f.kind, f.end = kBr, i+end
				if sev := levelWord(rest[1 : end-1]); sev != 0 {
					f.kind, f.sev, f.upper = kLevel, sev, true
				}
			}
		} else {
			n := tokenEnd(rest)
			f.end = i + n
			tok := rest[:n]
			f.kind, f.sev, f.upper = classifyToken(tok)
		}
		if f.end+1 < len(line) && line[f.end] == ' ' && line[f.end+1] == ' ' {
			f.padded = true
		}
		if f.end < len(line) && line[f.end] == '|' {
			f.piped = true
			f.end++
		}
		if f.end <= i { // never loop without progress
			f.end = i + 1
		}
		out = append(out, f)
		i = f.end
		if anchorOnly {
			if f.kind == kTS && len(out) <= 5 {
				lastTS = len(out) - 1
			}
			if lastTS < 0 && len(out) >= 5 || lastTS >= 0 && len(out) > lastTS+5 {
				break
			}
		}
	}
	return out
}

// tokenEnd is the length of the token at the start of s: up to a space, tab
// or '|'.
func tokenEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '\t' || c == '|' {
			return i
		}
	}
	return len(s)
}

// matchBracket returns the offset just past the ']' that closes s[0]=='[',
// allowing nesting, or -1 when it does not close within 200 bytes.
func matchBracket(s string) int {
	depth := 0
	for i := 0; i < len(s) && i < 200; i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

func classifyToken(tok string) (kind, sdk.Severity, bool) {
	if len(tok) == 1 {
		switch tok[0] {
		case '-', ',', ':', ';', '|', '>', '*':
			return kDash, 0, false // a lone separator
		case 'V', 'D', 'I', 'W', 'E', 'F':
			// logcat-style one-letter level; lineAnchor accepts it only
			// right after a pid.
			return kLevel, map[byte]sdk.Severity{'V': sdk.SeverityTrace, 'D': sdk.SeverityDebug, 'I': sdk.SeverityInfo,
				'W': sdk.SeverityWarn, 'E': sdk.SeverityError, 'F': sdk.SeverityFatal}[tok[0]], false
		}
	}
	if allDigits(tok) || len(tok) > 1 && (tok[0] == '-' || tok[0] == '+') && allDigits(tok[1:]) {
		return kNum, 0, false
	}
	core := strings.TrimSuffix(tok, ":")
	if sev := levelWord(core); sev != 0 {
		return kLevel, sev, core == strings.ToUpper(core)
	}
	if len(tok) > 1 && tok[len(tok)-1] == ':' && identLike(tok[:len(tok)-1]) {
		return kComp, 0, false
	}
	// klog's source location "main.go:42]" closes its header.
	if len(tok) > 1 && tok[len(tok)-1] == ']' && !strings.Contains(tok, "[") {
		return kComp, 0, false
	}
	if identLike(tok) && strings.ContainsAny(tok, ".$") && !strings.HasSuffix(tok, ".") {
		return kDotted, 0, false
	}
	return kWord, 0, false
}

// identLike reports whether s looks like a logger or component name.
func identLike(s string) bool {
	if s == "" || len(s) > 120 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLetter(c) || isDigit(c) || c == '.' || c == '_' || c == '$' || c == '-' || c == '/' || c == '#' || c == '@' || c == '[' || c == ']' || c == '(' || c == ')') {
			return false
		}
	}
	return true
}

// levelWord maps a severity word (any case) to its level, or 0. It is
// stricter than sdk.ParseSeverity: single letters and digits are not levels
// in free text.
func levelWord(s string) sdk.Severity {
	if len(s) < 3 || len(s) > 11 {
		return 0
	}
	var b [11]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(s)]) {
	case "trace", "trc", "finest", "finer", "verbose":
		return sdk.SeverityTrace
	case "debug", "dbg", "dbug", "fine":
		return sdk.SeverityDebug
	case "info", "inf", "notice", "information":
		return sdk.SeverityInfo
	case "warn", "warning", "wrn":
		return sdk.SeverityWarn
	case "error", "err", "eror", "severe", "failure":
		return sdk.SeverityError
	case "fatal", "critical", "crit", "alert", "emerg", "emergency", "panic":
		return sdk.SeverityFatal
	}
	return 0
}

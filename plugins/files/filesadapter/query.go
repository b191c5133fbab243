package filesadapter

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/sdk"
)

// matcher is a compiled native query. The files adapter's query language
// is deliberately tiny, since there is no backend to push it down to:
//
//   - empty: every line;
//   - /expr/: an RE2 regular expression (https://github.com/google/re2/wiki/Syntax),
//     case-sensitive unless it starts with (?i);
//   - anything else: a case-insensitive substring.
//
// Both forms run on the raw bytes of a line before a record is built, so
// lines that do not match cost no allocation.
type matcher struct {
	re    *regexp.Regexp
	lower []byte // the lower-cased substring; nil matches everything
	ascii bool   // lower is ASCII, so the allocation-free search applies
}

func compileQuery(q string) (*matcher, error) {
	if len(q) >= 2 && q[0] == '/' && q[len(q)-1] == '/' {
		re, err := regexp.Compile(q[1 : len(q)-1])
		if err != nil {
			return nil, sdk.Errorf(sdk.CodeBadQuery, "invalid regular expression %s: %w", q, err)
		}
		return &matcher{re: re}, nil
	}
	if strings.TrimSpace(q) == "" {
		return &matcher{}, nil
	}
	lower := strings.ToLower(q)
	return &matcher{lower: []byte(lower), ascii: isASCII(lower)}, nil
}

func (m *matcher) match(line []byte) bool {
	switch {
	case m.re != nil:
		return m.re.Match(line)
	case m.lower == nil:
		return true
	case m.ascii:
		return containsFoldASCII(line, m.lower)
	}
	// Rare: a non-ASCII substring. Case folding may change byte lengths,
	// so lower-case the whole line (this allocates).
	return bytes.Contains(bytes.ToLower(line), m.lower)
}

// containsFoldASCII reports whether lower (ASCII, lower case) occurs in s
// ignoring ASCII case. It jumps between candidate first bytes with
// bytes.IndexByte, which is vectorised, remembering where the next of
// each case is so that no byte is scanned twice for it.
func containsFoldASCII(s, lower []byte) bool {
	first, upper := lower[0], lower[0]
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	last := len(s) - len(lower) // last possible start
	nextLower, nextUpper := -1, -1
	for i := 0; i <= last; {
		if nextLower < i {
			nextLower = indexFrom(s, i, first)
		}
		if nextUpper < i {
			nextUpper = indexFrom(s, i, upper)
		}
		j := min(nextLower, nextUpper)
		if j > last {
			return false
		}
		if equalFoldASCII(s[j:j+len(lower)], lower) {
			return true
		}
		i = j + 1
	}
	return false
}

// indexFrom is the index of c in s at or after i, or len(s).
func indexFrom(s []byte, i int, c byte) int {
	if j := bytes.IndexByte(s[i:], c); j >= 0 {
		return i + j
	}
	return len(s)
}

func equalFoldASCII(s, lower []byte) bool {
	for i, c := range lower {
		d := s[i]
		if d >= 'A' && d <= 'Z' {
			d += 'a' - 'A'
		}
		if d != c {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

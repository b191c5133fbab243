package drain

import (
	"strings"
)

// Wildcard stands for a variable in a template.
const Wildcard = "<*>"

// delim marks the bytes that split a token into segments for masking. A
// segment holding a digit is a variable; the delimiters around it stay, so
// "10.1.2.3:50010" masks to "<*>:<*>" and "(HWID=1973)" to "(HWID=<*>)".
var delim = func() (t [256]bool) {
	for _, c := range []byte("=:,;()[]{}\"'<>|\\#/") {
		t[c] = true
	}
	return t
}()

// Tokenizer splits messages into tokens and masks them, reusing its
// buffers and interning masked tokens so that a steady stream allocates
// little. Not safe for concurrent use.
type Tokenizer struct {
	buf    []byte
	intern map[string]string
}

const internCap = 1 << 16

// Tokenize splits content on white space into tokens and writes the masked
// form of each into masked (same length). Both slices are reused.
func (t *Tokenizer) Tokenize(content string, orig, masked []string) ([]string, []string) {
	orig, masked = orig[:0], masked[:0]
	start, flags := -1, uint8(0)
	for i := 0; i <= len(content); i++ {
		var cl uint8 = cSpace
		if i < len(content) {
			cl = charClass[content[i]]
		}
		if cl&cSpace != 0 {
			if start >= 0 {
				tok := content[start:i]
				orig = append(orig, tok)
				if flags&cAngle != 0 && strings.Contains(tok, Wildcard) {
					masked = append(masked, t.mask(glueWildcards(tok)))
				} else if flags&(cDigit|cSlash) == 0 && (flags&cLit == 0 || !hasLiteral(tok)) {
					masked = append(masked, tok) // nothing to mask: the common word
				} else {
					masked = append(masked, t.mask(tok))
				}
				start, flags = -1, 0
			}
			continue
		}
		if start < 0 {
			start = i
		}
		flags |= cl
	}
	return orig, masked
}

// Byte classes for the one-pass tokenizer.
const (
	cSpace uint8 = 1 << iota
	cDigit
	cSlash
	cAngle
	cLit // a byte that can start true/false/null/nil/none
)

var charClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\v\f") {
		t[c] = cSpace
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	t['/'], t['\\'] = cSlash, cSlash
	t['<'] = cAngle
	for _, c := range []byte("tfnTFN") {
		t[c] = cLit
	}
	return t
}()

func (t *Tokenizer) intern1(s string) string {
	if v, ok := t.intern[s]; ok {
		return v
	}
	if t.intern == nil || len(t.intern) >= internCap {
		t.intern = make(map[string]string, 1024)
	}
	t.intern[s] = s
	return s
}

// glueWildcards handles text already masked upstream (a --mask regexp):
// a run of word characters holding a wildcard, such as "d<*>b<*>eb-<*>"
// from a UUID whose digits were masked, is one variable: "<*>".
func glueWildcards(tok string) string {
	var b []byte
	i := 0
	for i < len(tok) {
		j := i
		has := false
		for j < len(tok) {
			if strings.HasPrefix(tok[j:], Wildcard) {
				has = true
				j += len(Wildcard)
				continue
			}
			c := tok[j]
			if isAlpha(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
				j++
				continue
			}
			break
		}
		if j == i {
			b = append(b, tok[i])
			i++
			continue
		}
		if has {
			b = append(b, Wildcard...)
		} else {
			b = append(b, tok[i:j]...)
		}
		i = j
	}
	return string(b)
}

func (t *Tokenizer) mask(tok string) string {
	var changed bool
	t.buf, changed = appendMask(t.buf[:0], tok)
	if !changed {
		return tok
	}
	if s, ok := t.intern[string(t.buf)]; ok {
		return s
	}
	if t.intern == nil || len(t.intern) >= internCap {
		t.intern = make(map[string]string, 1024)
	}
	s := string(t.buf)
	t.intern[s] = s
	return s
}

// Tokenize is Tokenizer.Tokenize without interning, for one-off use.
func Tokenize(content string, orig, masked []string) ([]string, []string) {
	orig, masked = orig[:0], masked[:0]
	for _, tok := range strings.FieldsFunc(content, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
		orig = append(orig, tok)
		masked = append(masked, MaskToken(tok))
	}
	return orig, masked
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// MaskToken replaces the variable parts of one whitespace-free token by
// Wildcard: numbers, hex and ids (any segment with a digit), IPs and ports,
// UUIDs, sizes and durations ("64MB", "12ms"), URLs after their scheme, and
// absolute paths. Tokens without digits, paths or URLs come back unchanged.
func MaskToken(tok string) string {
	b, changed := appendMask(nil, tok)
	if !changed {
		return tok
	}
	return string(b)
}

// appendMask appends the masked token to dst; changed is false (and dst
// untouched) when the token has nothing to mask.
func appendMask(dst []byte, tok string) ([]byte, bool) {
	hasDigit, hasSlash, hasColon := false, false, false
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c == '/' || c == '\\':
			hasSlash = true
		case c == ':':
			hasColon = true
		}
	}
	if !hasDigit && !hasSlash {
		if !hasLiteral(tok) {
			return dst, false
		}
		return appendSegments(dst, tok), true
	}
	if hasColon && hexGroups(tok) {
		return append(dst, Wildcard...), true
	}
	if hasSlash {
		if k := strings.Index(tok, "://"); hasColon && k > 0 {
			end := len(tok)
			for end > k+3 && strings.IndexByte(")]}\"',;", tok[end-1]) >= 0 {
				end--
			}
			dst = append(dst, tok[:k+3]...)
			dst = append(dst, Wildcard...)
			return append(dst, tok[end:]...), true
		}
		if lo, hi, ok := pathBounds(tok); ok {
			dst = append(dst, tok[:lo]...)
			dst = append(dst, Wildcard...)
			return append(dst, tok[hi:]...), true
		}
	}
	if !hasDigit && !hasLiteral(tok) {
		return dst, false
	}
	return appendSegments(dst, tok), true
}

func appendSegments(b []byte, tok string) []byte {
	// A sentence's closing '.' is not part of the value: "job_12." -> "<*>."
	if n := len(tok); n > 1 && tok[n-1] == '.' && tok[n-2] != '.' {
		return append(appendSegments(b, tok[:n-1]), '.')
	}
	base := len(b)
	i := 0
	lastVar := false
	for i < len(tok) {
		c := tok[i]
		if delim[c] {
			b = append(b, c)
			i++
			lastVar = false
			continue
		}
		j := i
		digit := false
		for j < len(tok) && !delim[tok[j]] {
			if tok[j] >= '0' && tok[j] <= '9' {
				digit = true
			}
			j++
		}
		seg := tok[i:j]
		if literal(seg) {
			b = append(b, Wildcard...)
			lastVar = true
		} else if !digit || nameWithDigit(seg) {
			b = append(b, seg...)
		} else {
			// Keep a purely alphabetic prefix and the '-' or '.' run after
			// it when a number follows: "node-246" -> "node-<*>",
			// "depth.....0" -> "depth.....<*>", "jetty-6.1.26" ->
			// "jetty-<*>"; but "cp-1.slowvm1.x" (a host) masks whole.
			k := 0
			for k < len(seg) && isAlpha(seg[k]) {
				k++
			}
			q := k
			for q < len(seg) && (seg[q] == '-' || seg[q] == '.') {
				q++
			}
			if k > 0 && q > k && q < len(seg) && numeric(seg[q:]) {
				b = append(b, seg[:q]...)
			} else if i == 1 && tok[0] == '/' && !lastVar && len(b) > base {
				// "/10.1.2.3" (a Java InetAddress) masks whole.
				b = b[:len(b)-1]
			}
			b = append(b, Wildcard...)
			lastVar = true
		}
		i = j
	}
	return b
}

// pathBounds finds an absolute or home-relative path (with at least two
// separators) keeping surrounding punctuation.
func pathBounds(tok string) (lo, hi int, ok bool) {
	lo, hi = 0, len(tok)
	for lo < hi && strings.IndexByte("([\"'<", tok[lo]) >= 0 {
		lo++
	}
	for hi > lo && strings.IndexByte(")]\"',;:.>", tok[hi-1]) >= 0 {
		hi--
	}
	core := tok[lo:hi]
	if len(core) < 3 {
		return 0, 0, false
	}
	relative := strings.HasPrefix(core, "./") || strings.HasPrefix(core, "../")
	if !(core[0] == '/' || strings.HasPrefix(core, "~/") || relative || len(core) > 2 && core[1] == ':' && core[2] == '\\') {
		return 0, 0, false
	}
	if !relative && strings.Count(core, "/")+strings.Count(core, "\\") < 2 {
		return 0, 0, false
	}
	return lo, hi, true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// wordLike reports whether a masked token is an ordinary word (constant
// text whose change means a different message) rather than a value.
// Tokens holding a wildcard, a path, an '@', '=', ',' or '#' are values.
func wordLike(tok string) bool {
	if calendarWord(tok) {
		return false
	}
	letter := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isAlpha(c):
			letter = true
		case c == '/' || c == '@' || c == '=' || c == ',' || c == '#' || c == '<' || c == '?' || c == '&':
			return false
		}
	}
	return letter
}

// decorative reports a run of two or more punctuation bytes with no letter,
// digit or wildcard ("****", "-->", "==="): markers, not values, so a line
// that has one where others have a value is a different message.
func decorative(tok string) bool {
	if len(tok) < 2 {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if isAlpha(c) || c >= '0' && c <= '9' || c >= 0x80 {
			return false
		}
	}
	return tok != Wildcard
}

// skeletonDiffers reports two masked tokens that both keep letters around
// their wildcards but different ones ("dcbf.<*>" / "icbi.<*>"): different
// constant text, so different messages.
func skeletonDiffers(a, b string) bool {
	if !strings.Contains(a, Wildcard) || !strings.Contains(b, Wildcard) || !hasLetter(a) || !hasLetter(b) {
		return false
	}
	// Compare the texts with every wildcard skipped, without allocating.
	i, j := 0, 0
	for {
		for strings.HasPrefix(a[i:], Wildcard) {
			i += len(Wildcard)
		}
		for strings.HasPrefix(b[j:], Wildcard) {
			j += len(Wildcard)
		}
		if i == len(a) || j == len(b) {
			return i != len(a) || j != len(b)
		}
		if a[i] != b[j] {
			return true
		}
		i++
		j++
	}
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if isAlpha(s[i]) {
			return true
		}
	}
	return false
}

// numeric reports whether s holds only digits and the separators of
// versions and numbers.
func numeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// nameWithDigit: two or more letters and one final digit ("eth0", "sha1",
// "ipv6", "utf8"): names of things, not values.
func nameWithDigit(s string) bool {
	n := len(s)
	if n < 3 || s[n-1] < '0' || s[n-1] > '9' {
		return false
	}
	for i := 0; i < n-1; i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return true
}

// hexGroups reports a MAC address or IPv6-like token: four or more groups
// of one to four hex digits separated by ':' (a trailing ',' or ';' allowed).
func hexGroups(tok string) bool {
	tok = strings.TrimRight(tok, ",;")
	groups, n := 1, 0
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c == ':':
			if n > 4 {
				return false
			}
			groups++
			n = 0
		case c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			n++
			if n > 4 {
				return false
			}
		default:
			return false
		}
	}
	return groups >= 4
}

// calendarWord: "Jan".."Dec" and "Mon".."Sun" (as in "at Sat Jul  9
// 22:53:19 2005") are parts of a date, so values, though made of letters.
func calendarWord(tok string) bool {
	if len(tok) != 3 || tok[0] < 'A' || tok[0] > 'Z' {
		return false
	}
	switch tok {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
		"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// literal: true, false, null, nil and none (any case) are values.
func literal(seg string) bool {
	if len(seg) < 3 || len(seg) > 5 {
		return false
	}
	var b [5]byte
	for i := 0; i < len(seg); i++ {
		b[i] = seg[i] | 0x20
	}
	switch string(b[:len(seg)]) {
	case "true", "false", "null", "nil", "none":
		return true
	}
	return false
}

// hasLiteral reports whether some delimiter-separated segment of tok is a
// literal.
func hasLiteral(tok string) bool {
	i := 0
	for i < len(tok) {
		for i < len(tok) && delim[tok[i]] {
			i++
		}
		j := i
		for j < len(tok) && !delim[tok[j]] {
			j++
		}
		if j-i >= 3 && j-i <= 5 && literal(tok[i:j]) {
			return true
		}
		i = j
	}
	return false
}

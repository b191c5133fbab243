package embed

import (
	"regexp"
	"strings"
	"unicode"
)

// Log-aware normalisation: volatile tokens (ids, addresses, long numbers)
// are replaced by their class so that "request 8f3a... timed out after
// 30000ms" and "request 77c1... timed out after 5000ms" look alike, while
// short numbers that carry meaning (HTTP status codes such as 503 or 429,
// ports, exit codes) are kept.
var normalizers = []struct {
	re   *regexp.Regexp
	repl string
	// minLen: matches shorter than this are kept (0 = replace all).
	minLen int
}{
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), " <uuid> ", 0},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(z|[+-]\d{2}:?\d{2})?\b`), " <ts> ", 0},
	{regexp.MustCompile(`\b\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\b`), " <time> ", 0},
	{regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?\b`), " <ip> ", 0},
	{regexp.MustCompile(`\b0x[0-9a-f]+\b`), " <hex> ", 0},
	{regexp.MustCompile(`\b[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*\b`), " <hex> ", hexMin},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ms|s|m|h|kb|mb|gb|ki|mi|gi|%)\b`), " <num> $2 ", 0},
	{regexp.MustCompile(`\b\d+\.\d+\b|\b\d{4,}\b`), " <num> ", 0},
}

// hexMin: hex-looking words shorter than this are kept (e.g. "a1", "e2e").
const hexMin = 8

// Normalize lower-cases text and replaces volatile tokens by their class.
func Normalize(text string) string {
	s := strings.ToLower(text)
	if !strings.ContainsAny(s, "0123456789") {
		return s // every normaliser needs a digit; prose skips the regexps
	}
	for _, n := range normalizers {
		if n.minLen > 0 {
			s = n.re.ReplaceAllStringFunc(s, func(m string) string {
				if len(m) < n.minLen {
					return m
				}
				return n.repl
			})
			continue
		}
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

// Tokens splits text into normalised, stemmed word tokens without stop
// words. CamelCase and snake/kebab/dotted compounds are split into their
// parts; paths contribute their segments. The same function feeds the
// builtin embedder and the keyword index, so both see the same words.
func Tokens(text string) []string {
	text = splitCamel(text)
	s := Normalize(text)
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := s[start:end]
		start = -1
		if w == "" || stopwords[w] || classNoise[w] {
			return
		}
		out = append(out, Stem(w))
	}
	for i, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '<' || r == '>' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(s))
	return out
}

// splitCamel inserts spaces at lower-to-upper boundaries and before the
// last capital of an acronym ("SQLTransientConnectionException" ->
// "SQL Transient Connection Exception"), keeping the original word too.
func splitCamel(text string) string {
	var b strings.Builder
	rs := []rune(text)
	wordStart := 0
	flushWord := func(end int) {
		w := rs[wordStart:end]
		b.WriteString(string(w))
		split := splitRunes(w)
		if split != string(w) {
			b.WriteByte(' ')
			b.WriteString(split)
		}
	}
	for i, r := range rs {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			continue
		}
		flushWord(i)
		b.WriteRune(r)
		wordStart = i + 1
	}
	flushWord(len(rs))
	return b.String()
}

func splitRunes(w []rune) string {
	var b strings.Builder
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) {
			prev := w[i-1]
			nextLower := i+1 < len(w) && unicode.IsLower(w[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Stem strips common English inflections (a light Porter-style stemmer)
// so that "timeouts"/"timeout", "failing"/"failed"/"fails" and
// "throttled"/"throttling"/"throttle" meet. Tokens in angle brackets and
// tokens starting with a digit are left alone.
func Stem(w string) string {
	if len(w) <= 3 || w[0] == '<' || (w[0] >= '0' && w[0] <= '9') {
		return w
	}
	n := len(w)
	switch {
	case strings.HasSuffix(w, "ing") && n-3 >= 4:
		w = undouble(w[:n-3])
	case strings.HasSuffix(w, "ed") && n-2 >= 4 && w[n-3] != 'e':
		w = undouble(w[:n-2])
	case strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes"):
		w = w[:n-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is") && n-1 >= 3:
		w = w[:n-1]
	}
	if len(w) > 3 {
		w = strings.TrimSuffix(w, "e")
	}
	return w
}

// undouble turns "stopp" into "stop" (but keeps "kill", "miss", "fizz").
func undouble(w string) string {
	if n := len(w); n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

// classNoise are normalised classes that say nothing about a fault
// (every log line and question has a time); "<num>", "<ip>", "<uuid>" and
// "<hex>" stay, since "an id appeared here" is part of a message's shape.
var classNoise = map[string]bool{"<time>": true, "<ts>": true}

// stopwords are English function words and the filler of questions asked
// in an incident channel; they carry no evidence about a fault.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing during each few for from further had has
have having he her here hers him his how i if in into is it its itself just me more most my no nor not now of off
on once only or other our ours out over own same she should so some such than that the their theirs them then
there these they this those through to too under until very was we were what when where which while who whom
why will with would you your yours also get got getting go going gone happen happened happening happens still
since ago today yesterday tonight morning evening around approximately roughly utc gmt please help anyone know
think seem seems seeing see wrong issue issues problem problems thing things something anything everything
since onto per via us let lets what's whats it's its what’s don't can't can’t isn't doesn't`) {
		m[w] = true
	}
	return m
}()

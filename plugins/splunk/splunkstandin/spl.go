package splunkstandin

import (
	"fmt"
	"regexp"
	"strings"
)

// matcher decides whether an event passes a search command.
type matcher func(e *Event) bool

// parsePipeline splits an SPL string into commands and compiles each
// "search" command. It returns the command names seen, for tests.
func parsePipeline(spl string) ([]matcher, []string, error) {
	cmds, err := splitPipes(spl)
	if err != nil {
		return nil, nil, err
	}
	var ms []matcher
	var names []string
	for i, c := range cmds {
		c = strings.TrimSpace(c)
		if c == "" {
			return nil, names, fmt.Errorf("Error in 'search' command: empty command in the pipeline")
		}
		name, rest, _ := strings.Cut(c, " ")
		names = append(names, strings.ToLower(name))
		if i == 0 && !strings.EqualFold(name, "search") {
			return nil, names, fmt.Errorf("Unknown search command '%s'.", strings.ToLower(name))
		}
		if !strings.EqualFold(name, "search") {
			return nil, names, fmt.Errorf("Unknown search command '%s'.", strings.ToLower(name))
		}
		toks, err := lex(rest)
		if err != nil {
			return nil, names, err
		}
		p := &parser{toks: toks}
		m, err := p.or()
		if err != nil {
			return nil, names, err
		}
		if p.pos != len(p.toks) {
			return nil, names, fmt.Errorf("Error in 'search' command: Unable to parse the search: unexpected %q", p.toks[p.pos].text)
		}
		ms = append(ms, m)
	}
	return ms, names, nil
}

// splitPipes splits at pipes outside double quotes (backslash escapes).
func splitPipes(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQ := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inQ && ch == '\\' && i+1 < len(s):
			cur.WriteByte(ch)
			cur.WriteByte(s[i+1])
			i++
			continue
		case ch == '"':
			inQ = !inQ
		case ch == '|' && !inQ:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(ch)
	}
	if inQ {
		return nil, fmt.Errorf("Error in 'search' command: Unbalanced quotes.")
	}
	return append(out, cur.String()), nil
}

type tokKind int

const (
	tWord tokKind = iota
	tLParen
	tRParen
)

type token struct {
	kind   tokKind
	text   string // unquoted value
	field  string // for field=value terms
	quoted bool
}

func lex(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '(':
			toks = append(toks, token{kind: tLParen, text: "("})
			i++
		case ch == ')':
			toks = append(toks, token{kind: tRParen, text: ")"})
			i++
		case ch == '"':
			v, n, err := readQuoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tWord, text: v, quoted: true})
			i += n
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()\"", rune(s[j])) {
				j++
			}
			w := s[i:j]
			if strings.HasSuffix(w, "=") && j < len(s) && s[j] == '"' {
				v, n, err := readQuoted(s[j:])
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{kind: tWord, field: strings.TrimSuffix(w, "="), text: v, quoted: true})
				i = j + n
				continue
			}
			t := token{kind: tWord, text: w}
			if f, v, ok := strings.Cut(w, "="); ok && f != "" {
				t.field, t.text = f, v
			}
			toks = append(toks, t)
			i = j
		}
	}
	return toks, nil
}

// readQuoted reads a double-quoted literal at the start of s and returns
// its value and length.
func readQuoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
				i++
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("Error in 'search' command: Unbalanced quotes.")
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == tWord && !p.toks[p.pos].quoted &&
		p.toks[p.pos].field == "" && p.toks[p.pos].text == w
}

func (p *parser) or() (matcher, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("OR") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(e *Event) bool { return l(e) || right(e) }
	}
	return left, nil
}

func (p *parser) and() (matcher, error) {
	var ms []matcher
	for p.pos < len(p.toks) && p.toks[p.pos].kind != tRParen && !p.peekWord("OR") {
		if p.peekWord("AND") {
			p.pos++
			continue
		}
		m, err := p.unary()
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return func(*Event) bool { return true }, nil
	}
	return func(e *Event) bool {
		for _, m := range ms {
			if !m(e) {
				return false
			}
		}
		return true
	}, nil
}

func (p *parser) unary() (matcher, error) {
	t := p.toks[p.pos]
	switch {
	case p.peekWord("NOT"):
		p.pos++
		if p.pos >= len(p.toks) {
			return nil, fmt.Errorf("Error in 'search' command: Unable to parse the search: NOT needs a term")
		}
		m, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(e *Event) bool { return !m(e) }, nil
	case t.kind == tLParen:
		p.pos++
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != tRParen {
			return nil, fmt.Errorf("Error in 'search' command: Unable to parse the search: Unbalanced parentheses.")
		}
		p.pos++
		return m, nil
	case t.kind == tRParen:
		return nil, fmt.Errorf("Error in 'search' command: Unable to parse the search: Unbalanced parentheses.")
	}
	p.pos++
	re := wildcard(t.text, t.field == "")
	if t.field != "" {
		field := t.field
		return func(e *Event) bool { return re.MatchString(e.field(field)) }, nil
	}
	return func(e *Event) bool { return re.MatchString(e.Raw) }, nil
}

// wildcard compiles a Splunk value pattern ("*" matches anything),
// case-insensitively; bare terms match anywhere in _raw.
func wildcard(v string, substring bool) *regexp.Regexp {
	parts := strings.Split(v, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	expr := strings.Join(parts, ".*")
	if !substring {
		expr = "^" + expr + "$"
	}
	return regexp.MustCompile("(?is)" + expr)
}

package datadogstandin

import (
	"fmt"
	"regexp"
	"strings"
)

type matcher func(l *Log) bool

type dtok struct {
	text   string
	quoted bool
	paren  byte // '(' or ')' or 0
}

func dlex(s string) ([]dtok, error) {
	var toks []dtok
	i := 0
	for i < len(s) {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '(' || ch == ')':
			toks = append(toks, dtok{paren: ch})
			i++
		case ch == '"':
			v, n, err := readQuoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, dtok{text: v, quoted: true})
			i += n
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()\"", rune(s[j])) {
				j++
			}
			w := s[i:j]
			// key:"quoted value"
			if strings.HasSuffix(w, ":") && j < len(s) && s[j] == '"' {
				v, n, err := readQuoted(s[j:])
				if err != nil {
					return nil, err
				}
				toks = append(toks, dtok{text: w}, dtok{text: v, quoted: true})
				i = j + n
				continue
			}
			toks = append(toks, dtok{text: w})
			i = j
		}
	}
	return toks, nil
}

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
	return "", 0, fmt.Errorf("unterminated quoted string")
}

type dparser struct {
	toks []dtok
	pos  int
}

func parseQuery(q string) (matcher, error) {
	q = strings.TrimSpace(q)
	if q == "" || q == "*" {
		return func(*Log) bool { return true }, nil
	}
	toks, err := dlex(q)
	if err != nil {
		return nil, err
	}
	p := &dparser{toks: toks}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text+string(p.toks[p.pos].paren))
	}
	return m, nil
}

func (p *dparser) word(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && p.toks[p.pos].paren == 0 && p.toks[p.pos].text == w
}

func (p *dparser) or() (matcher, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.word("OR") {
		p.pos++
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(x *Log) bool { return l(x) || right(x) }
	}
	return left, nil
}

func (p *dparser) and() (matcher, error) {
	var ms []matcher
	for p.pos < len(p.toks) && p.toks[p.pos].paren != ')' && !p.word("OR") {
		if p.word("AND") {
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
		return nil, fmt.Errorf("empty expression")
	}
	return func(x *Log) bool {
		for _, m := range ms {
			if !m(x) {
				return false
			}
		}
		return true
	}, nil
}

func (p *dparser) unary() (matcher, error) {
	t := p.toks[p.pos]
	if p.word("NOT") || (!t.quoted && t.paren == 0 && strings.HasPrefix(t.text, "-") && len(t.text) > 1) {
		if p.word("NOT") {
			p.pos++
		} else {
			p.toks[p.pos].text = t.text[1:]
		}
		if p.pos >= len(p.toks) {
			return nil, fmt.Errorf("NOT needs a term")
		}
		m, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(x *Log) bool { return !m(x) }, nil
	}
	if t.paren == '(' {
		p.pos++
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].paren != ')' {
			return nil, fmt.Errorf("unbalanced parentheses")
		}
		p.pos++
		return m, nil
	}
	if t.paren == ')' {
		return nil, fmt.Errorf("unbalanced parentheses")
	}
	p.pos++
	if !t.quoted {
		if key, val, ok := strings.Cut(t.text, ":"); ok && key != "" {
			if val != "" {
				return fieldMatcher(key, val), nil
			}
			// key:"v" or key:(a OR b)
			if p.pos < len(p.toks) && p.toks[p.pos].quoted {
				v := p.toks[p.pos].text
				p.pos++
				return fieldMatcher(key, v), nil
			}
			if p.pos < len(p.toks) && p.toks[p.pos].paren == '(' {
				p.pos++
				var vals []string
				for p.pos < len(p.toks) && p.toks[p.pos].paren != ')' {
					if !p.word("OR") {
						vals = append(vals, p.toks[p.pos].text)
					}
					p.pos++
				}
				if p.pos >= len(p.toks) {
					return nil, fmt.Errorf("unbalanced parentheses after %s", key)
				}
				p.pos++
				ms := make([]matcher, len(vals))
				for i, v := range vals {
					ms[i] = fieldMatcher(key, v)
				}
				return func(x *Log) bool {
					for _, m := range ms {
						if m(x) {
							return true
						}
					}
					return false
				}, nil
			}
			return nil, fmt.Errorf("%s: needs a value", key)
		}
	}
	re := wildcard(t.text, true)
	return func(x *Log) bool { return re.MatchString(x.Message) }, nil
}

func fieldMatcher(key, val string) matcher {
	re := wildcard(val, false)
	switch key {
	case "service":
		return func(x *Log) bool { return re.MatchString(x.Service) }
	case "host":
		return func(x *Log) bool { return re.MatchString(x.Host) }
	case "status":
		return func(x *Log) bool { return re.MatchString(x.Status) }
	case "source":
		return func(x *Log) bool { return re.MatchString(x.Source) }
	case "index":
		return func(x *Log) bool { return re.MatchString(x.Index) }
	}
	if strings.HasPrefix(key, "@") {
		k := key[1:]
		return func(x *Log) bool { return re.MatchString(fmt.Sprint(x.Attributes[k])) }
	}
	return func(x *Log) bool {
		for _, t := range x.Tags {
			if k, v, ok := strings.Cut(t, ":"); ok && k == key && re.MatchString(v) {
				return true
			}
		}
		return false
	}
}

func wildcard(v string, substring bool) *regexp.Regexp {
	parts := strings.Split(v, "*")
	for i, s := range parts {
		parts[i] = regexp.QuoteMeta(s)
	}
	expr := strings.Join(parts, ".*")
	if !substring {
		expr = "^" + expr + "$"
	}
	return regexp.MustCompile("(?is)" + expr)
}

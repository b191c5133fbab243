package opensearchstandin

import (
	"fmt"
	"strings"
)

// queryStringError is a query_string syntax error; the search answers it
// as a failed search phase with a query_shard_exception root cause.
type queryStringError struct {
	query, detail string
}

func (e *queryStringError) Error() string {
	return fmt.Sprintf("Failed to parse query [%s]: %s", e.query, e.detail)
}

type qsKind int

const (
	qsTerm qsKind = iota
	qsPhrase
	qsField
	qsLParen
	qsRParen
	qsAnd
	qsOr
	qsNot
	qsPlus
)

type qsToken struct {
	kind qsKind
	text string
}

func lexQueryString(q string) ([]qsToken, error) {
	var out []qsToken
	rs := []rune(q)
	for i := 0; i < len(rs); {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, qsToken{kind: qsLParen})
			i++
		case c == ')':
			out = append(out, qsToken{kind: qsRParen})
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("Cannot parse '%s': Lexical error: unterminated quoted string", q)
			}
			out = append(out, qsToken{kind: qsPhrase, text: b.String()})
			i = j + 1
		case c == '&' && i+1 < len(rs) && rs[i+1] == '&':
			out = append(out, qsToken{kind: qsAnd})
			i += 2
		case c == '|' && i+1 < len(rs) && rs[i+1] == '|':
			out = append(out, qsToken{kind: qsOr})
			i += 2
		case c == '!':
			out = append(out, qsToken{kind: qsNot})
			i++
		case c == '+' && (i == 0 || rs[i-1] == ' ' || rs[i-1] == '('):
			out = append(out, qsToken{kind: qsPlus})
			i++
		case c == '-' && (i == 0 || rs[i-1] == ' ' || rs[i-1] == '('):
			out = append(out, qsToken{kind: qsNot})
			i++
		default:
			var b strings.Builder
			j := i
			for ; j < len(rs); j++ {
				r := rs[j]
				if r == '\\' && j+1 < len(rs) {
					j++
					b.WriteRune(rs[j])
					continue
				}
				if strings.ContainsRune(" \t\n\r()\":", r) {
					break
				}
				b.WriteRune(r)
			}
			word := b.String()
			if j < len(rs) && rs[j] == ':' {
				if word == "" {
					return nil, fmt.Errorf("Cannot parse '%s': Encountered \":\"", q)
				}
				out = append(out, qsToken{kind: qsField, text: word})
				i = j + 1
				continue
			}
			if word == "" {
				return nil, fmt.Errorf("Cannot parse '%s': Encountered unexpected character", q)
			}
			switch word {
			case "AND":
				out = append(out, qsToken{kind: qsAnd})
			case "OR":
				out = append(out, qsToken{kind: qsOr})
			case "NOT":
				out = append(out, qsToken{kind: qsNot})
			default:
				out = append(out, qsToken{kind: qsTerm, text: word})
			}
			i = j
		}
	}
	return out, nil
}

type qsParser struct {
	q     string
	toks  []qsToken
	pos   int
	field string // default field
	and   bool   // default operator AND
}

func parseQueryString(q, defaultField string, defaultAnd bool) (query, error) {
	toks, err := lexQueryString(q)
	if err != nil {
		return nil, &queryStringError{query: q, detail: err.Error()}
	}
	if len(toks) == 0 {
		return matchNone{}, nil
	}
	p := &qsParser{q: q, toks: toks, field: defaultField, and: defaultAnd}
	res, err := p.parseOr(p.field)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.fail("Encountered unexpected token")
	}
	return res, nil
}

func (p *qsParser) fail(detail string) error {
	return &queryStringError{query: p.q, detail: fmt.Sprintf("Cannot parse '%s': %s", p.q, detail)}
}

func (p *qsParser) peek() (qsToken, bool) {
	if p.pos >= len(p.toks) {
		return qsToken{}, false
	}
	return p.toks[p.pos], true
}

func (p *qsParser) parseOr(field string) (query, error) {
	left, err := p.parseAnd(field)
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.kind != qsOr {
			return left, nil
		}
		p.pos++
		right, err := p.parseAnd(field)
		if err != nil {
			return nil, err
		}
		left = &boolQuery{should: []query{left, right}, minShould: 1}
	}
}

func (p *qsParser) parseAnd(field string) (query, error) {
	left, err := p.parseUnary(field)
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok {
			return left, nil
		}
		switch t.kind {
		case qsAnd:
			p.pos++
			right, err := p.parseUnary(field)
			if err != nil {
				return nil, err
			}
			left = &boolQuery{must: []query{left, right}}
		case qsTerm, qsPhrase, qsField, qsLParen, qsNot, qsPlus:
			right, err := p.parseUnary(field)
			if err != nil {
				return nil, err
			}
			if p.and {
				left = &boolQuery{must: []query{left, right}}
			} else {
				left = &boolQuery{should: []query{left, right}, minShould: 1}
			}
		default:
			return left, nil
		}
	}
}

func (p *qsParser) parseUnary(field string) (query, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.fail("Encountered \"<EOF>\"")
	}
	switch t.kind {
	case qsNot:
		p.pos++
		q, err := p.parseUnary(field)
		if err != nil {
			return nil, err
		}
		return notQuery{q}, nil
	case qsPlus:
		p.pos++
		return p.parseUnary(field)
	}
	return p.parsePrimary(field)
}

func (p *qsParser) parsePrimary(field string) (query, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.fail("Encountered \"<EOF>\"")
	}
	p.pos++
	switch t.kind {
	case qsLParen:
		q, err := p.parseOr(field)
		if err != nil {
			return nil, err
		}
		if r, ok := p.peek(); !ok || r.kind != qsRParen {
			return nil, p.fail("Encountered \"<EOF>\", expecting \")\"")
		}
		p.pos++
		return q, nil
	case qsField:
		n, ok := p.peek()
		if !ok || (n.kind != qsTerm && n.kind != qsPhrase && n.kind != qsLParen) {
			return nil, p.fail(fmt.Sprintf("Encountered nothing usable after \"%s:\"", t.text))
		}
		return p.parsePrimary(t.text)
	case qsPhrase:
		return &textQuery{field: field, kind: textPhrase, tokens: tokens(t.text)}, nil
	case qsTerm:
		if t.text == "*" {
			if field == "" || field == "*" {
				return matchAll{}, nil
			}
			return &existsQuery{field: field}, nil
		}
		if strings.ContainsAny(t.text, "*?") {
			return &textQuery{field: field, kind: textWildcard, raw: t.text}, nil
		}
		toks := tokens(t.text)
		if len(toks) == 1 {
			return &textQuery{field: field, kind: textAny, tokens: toks}, nil
		}
		return &textQuery{field: field, kind: textPhrase, tokens: toks}, nil
	}
	return nil, p.fail("Encountered unexpected operator")
}

package opensearchstandin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// query is a compiled query clause.
type query interface {
	match(d *doc) bool
}

type matchAll struct{}

func (matchAll) match(*doc) bool { return true }

type matchNone struct{}

func (matchNone) match(*doc) bool { return false }

type boolQuery struct {
	must, filter, should, mustNot []query
	minShould                     int
}

func (b *boolQuery) match(d *doc) bool {
	for _, q := range b.must {
		if !q.match(d) {
			return false
		}
	}
	for _, q := range b.filter {
		if !q.match(d) {
			return false
		}
	}
	for _, q := range b.mustNot {
		if q.match(d) {
			return false
		}
	}
	if len(b.should) == 0 {
		return true
	}
	n := 0
	for _, q := range b.should {
		if q.match(d) {
			n++
		}
	}
	return n >= b.minShould
}

type rangeQuery struct {
	field            string
	date             bool
	gte, gt, lte, lt any
	format           string
}

func (r *rangeQuery) match(d *doc) bool {
	v, ok := d.field(r.field)
	if !ok {
		return false
	}
	if r.date {
		ms, ok := parseDate(v, "")
		if !ok {
			return false
		}
		check := func(bound any, ok func(c int) bool) bool {
			if bound == nil {
				return true
			}
			b, good := parseDate(bound, r.format)
			if !good {
				return false
			}
			return ok(cmpInt(ms, b))
		}
		return check(r.gte, func(c int) bool { return c >= 0 }) && check(r.gt, func(c int) bool { return c > 0 }) &&
			check(r.lte, func(c int) bool { return c <= 0 }) && check(r.lt, func(c int) bool { return c < 0 })
	}
	for _, t := range texts(v) {
		check := func(bound any, ok func(c int) bool) bool {
			if bound == nil {
				return true
			}
			return ok(compareValue(normalize(t), normalize(bound)))
		}
		if check(r.gte, func(c int) bool { return c >= 0 }) && check(r.gt, func(c int) bool { return c > 0 }) &&
			check(r.lte, func(c int) bool { return c <= 0 }) && check(r.lt, func(c int) bool { return c < 0 }) {
			return true
		}
	}
	return false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// normalize turns numeric text into a number for comparison.
func normalize(v any) any {
	s := fmt.Sprint(v)
	if n, ok := v.(json.Number); ok {
		s = n.String()
	}
	var f float64
	if _, err := fmt.Sscanf(s, "%g", &f); err == nil && strings.TrimSpace(s) != "" && isNumber(s) {
		return f
	}
	return s
}

func isNumber(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return !(unicode.IsDigit(r) || r == '.' || r == '-' || r == '+' || r == 'e' || r == 'E')
	}) < 0
}

type termQuery struct {
	field  string
	values []string
}

func (t *termQuery) match(d *doc) bool {
	v, ok := d.field(t.field)
	if !ok {
		return false
	}
	for _, x := range texts(v) {
		if slices.Contains(t.values, x) {
			return true
		}
		// A text field holds lower-cased tokens: a term matches one.
		for _, tok := range tokens(x) {
			if slices.Contains(t.values, tok) {
				return true
			}
		}
	}
	return false
}

type existsQuery struct{ field string }

func (e *existsQuery) match(d *doc) bool {
	_, ok := d.field(e.field)
	return ok
}

// textQuery matches analysed text: tokens (any or all), a phrase, a
// prefix or a wildcard pattern, on one field or on every field ("").
type textQuery struct {
	field  string
	kind   int // textAny, textAll, textPhrase, textPrefix, textWildcard
	tokens []string
	raw    string
}

const (
	textAny = iota
	textAll
	textPhrase
	textPrefix
	textWildcard
)

func (t *textQuery) match(d *doc) bool {
	var vals []string
	if t.field == "" || t.field == "*" {
		vals = allTexts(d.source)
	} else {
		v, ok := d.field(t.field)
		if !ok {
			return false
		}
		vals = texts(v)
	}
	for _, v := range vals {
		if t.matchText(v) {
			return true
		}
	}
	return false
}

func (t *textQuery) matchText(v string) bool {
	switch t.kind {
	case textPrefix:
		if strings.HasPrefix(v, t.raw) {
			return true
		}
		for _, tok := range tokens(v) {
			if strings.HasPrefix(tok, strings.ToLower(t.raw)) {
				return true
			}
		}
		return false
	case textWildcard:
		if globMatch(t.raw, v) {
			return true
		}
		for _, tok := range tokens(v) {
			if globMatch(strings.ToLower(t.raw), tok) {
				return true
			}
		}
		return false
	}
	toks := tokens(v)
	switch t.kind {
	case textAny:
		for _, q := range t.tokens {
			if slices.Contains(toks, q) {
				return true
			}
		}
		return len(t.tokens) == 0
	case textAll:
		for _, q := range t.tokens {
			if !slices.Contains(toks, q) {
				return false
			}
		}
		return true
	case textPhrase:
		if len(t.tokens) == 0 {
			return true
		}
		for i := 0; i+len(t.tokens) <= len(toks); i++ {
			if slices.Equal(toks[i:i+len(t.tokens)], t.tokens) {
				return true
			}
		}
	}
	return false
}

// tokens is the stand-in's analyser: lower-case, split on anything that is
// not a letter or digit.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

type idsQuery struct{ ids []string }

func (q *idsQuery) match(d *doc) bool { return slices.Contains(q.ids, d.id) }

type notQuery struct{ q query }

func (n notQuery) match(d *doc) bool { return !n.q.match(d) }

// parseQuery compiles a query clause.
func parseQuery(raw json.RawMessage, dates map[string]bool) (query, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("[_na] query malformed, must start with start_object")
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("[_na] query malformed, no start_object after query name")
	}
	for name, body := range m {
		return parseClause(name, body, dates)
	}
	return matchAll{}, nil
}

func parseClause(name string, body json.RawMessage, dates map[string]bool) (query, error) {
	switch name {
	case "match_all":
		return matchAll{}, nil
	case "match_none":
		return matchNone{}, nil
	case "bool":
		return parseBool(body, dates)
	case "range":
		field, spec, err := single(body, name)
		if err != nil {
			return nil, err
		}
		var r struct {
			GTE, GT, LTE, LT any
			From, To         any
			Format           string `json:"format"`
		}
		dec := json.NewDecoder(bytes.NewReader(spec))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("[range] query malformed: %v", err)
		}
		q := &rangeQuery{field: field, date: dates[field], gte: r.GTE, gt: r.GT, lte: r.LTE, lt: r.LT, format: r.Format}
		if q.gte == nil && r.From != nil {
			q.gte = r.From
		}
		if q.lte == nil && r.To != nil {
			q.lte = r.To
		}
		return q, nil
	case "term", "terms":
		field, spec, err := single(body, name)
		if err != nil {
			return nil, err
		}
		var vals []any
		if name == "terms" {
			if err := json.Unmarshal(spec, &vals); err != nil {
				return nil, fmt.Errorf("[terms] query does not support [%s]", field)
			}
		} else {
			var v any
			var obj struct {
				Value any `json:"value"`
			}
			if json.Unmarshal(spec, &obj) == nil && obj.Value != nil {
				v = obj.Value
			} else if err := json.Unmarshal(spec, &v); err != nil {
				return nil, fmt.Errorf("[term] query malformed")
			}
			vals = []any{v}
		}
		q := &termQuery{field: field}
		for _, v := range vals {
			q.values = append(q.values, texts(v)...)
		}
		return q, nil
	case "ids":
		var ids struct {
			Values []string `json:"values"`
		}
		if err := json.Unmarshal(body, &ids); err != nil {
			return nil, fmt.Errorf("[ids] query malformed")
		}
		return &idsQuery{ids: ids.Values}, nil
	case "exists":
		var e struct {
			Field string `json:"field"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Field == "" {
			return nil, fmt.Errorf("[exists] must be provided with a [field]")
		}
		return &existsQuery{field: e.Field}, nil
	case "prefix", "wildcard", "match", "match_phrase":
		field, spec, err := single(body, name)
		if err != nil {
			return nil, err
		}
		var text string
		if json.Unmarshal(spec, &text) != nil {
			var o struct {
				Query    *string `json:"query"`
				Value    *string `json:"value"`
				Operator string  `json:"operator"`
			}
			if err := json.Unmarshal(spec, &o); err != nil {
				return nil, fmt.Errorf("[%s] query malformed", name)
			}
			switch {
			case o.Query != nil:
				text = *o.Query
			case o.Value != nil:
				text = *o.Value
			}
			if name == "match" && strings.EqualFold(o.Operator, "and") {
				return &textQuery{field: field, kind: textAll, tokens: tokens(text)}, nil
			}
		}
		switch name {
		case "prefix":
			return &textQuery{field: field, kind: textPrefix, raw: text}, nil
		case "wildcard":
			return &textQuery{field: field, kind: textWildcard, raw: text}, nil
		case "match":
			return &textQuery{field: field, kind: textAny, tokens: tokens(text)}, nil
		}
		return &textQuery{field: field, kind: textPhrase, tokens: tokens(text)}, nil
	case "query_string":
		var qs struct {
			Query           *string `json:"query"`
			DefaultField    string  `json:"default_field"`
			DefaultOperator string  `json:"default_operator"`
			AnalyzeWildcard bool    `json:"analyze_wildcard"`
			Lenient         bool    `json:"lenient"`
		}
		if err := json.Unmarshal(body, &qs); err != nil || qs.Query == nil {
			return nil, fmt.Errorf("[query_string] must be provided with a [query]")
		}
		return parseQueryString(*qs.Query, qs.DefaultField, strings.EqualFold(qs.DefaultOperator, "and"))
	}
	return nil, fmt.Errorf("unknown query [%s]", name)
}

// single reads {"field": spec}.
func single(body json.RawMessage, name string) (string, json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "", nil, fmt.Errorf("[%s] query malformed, no start_object after query name", name)
	}
	delete(m, "boost")
	delete(m, "_name")
	if len(m) != 1 {
		return "", nil, fmt.Errorf("[%s] query doesn't support multiple fields", name)
	}
	for f, spec := range m {
		return f, spec, nil
	}
	return "", nil, nil
}

func parseBool(body json.RawMessage, dates map[string]bool) (query, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("[bool] malformed query")
	}
	b := &boolQuery{}
	hasMSM := false
	for k, v := range m {
		var dst *[]query
		switch k {
		case "must":
			dst = &b.must
		case "filter":
			dst = &b.filter
		case "should":
			dst = &b.should
		case "must_not":
			dst = &b.mustNot
		case "minimum_should_match":
			var n int
			if err := json.Unmarshal(v, &n); err != nil {
				return nil, fmt.Errorf("[bool] minimum_should_match: only integers are supported by the stand-in")
			}
			b.minShould, hasMSM = n, true
			continue
		case "boost", "_name", "adjust_pure_negative":
			continue
		default:
			return nil, fmt.Errorf("[bool] query does not support [%s]", k)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			list = []json.RawMessage{v}
		}
		for _, item := range list {
			q, err := parseQuery(item, dates)
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, q)
		}
	}
	if !hasMSM && len(b.should) > 0 {
		if len(b.must) == 0 && len(b.filter) == 0 {
			b.minShould = 1
		}
	}
	return b, nil
}

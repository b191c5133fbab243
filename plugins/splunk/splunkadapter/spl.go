package splunkadapter

import (
	"strings"

	"github.com/faultmaven/faultmaven/sdk"
)

// quoteLiteral returns v as an SPL double-quoted literal that can only ever
// be matched as a value: backslashes and quotes are escaped, and characters
// SPL might act on even near quotes (pipe, square brackets that start
// subsearches, backticks that expand macros, control characters) become the
// wildcard "*". That only widens a match; the adapter re-checks every record
// with sdk.LogFilters.Match.
func quoteLiteral(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '|' || r == '[' || r == ']' || r == '`' || r < 0x20 || r == 0x7f:
			b.WriteByte('*')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// buildSearch returns the SPL for q: the native query (or a search of the
// configured indexes) followed by the pushed-down filters.
func buildSearch(s *settings, q sdk.LogQuery) string {
	base := strings.TrimSpace(q.Query)
	if base == "" {
		base = "search " + indexClause(s.indexes)
	} else if l := strings.ToLower(base); !strings.HasPrefix(l, "search ") && !strings.HasPrefix(l, "|") {
		// A bare "index=x" fails with "Unknown search command 'index'".
		base = "search " + base
	}
	var terms []string
	if len(q.Filters.Services) > 0 {
		alts := make([]string, len(q.Filters.Services))
		for i, svc := range q.Filters.Services {
			alts[i] = s.serviceField + "=" + quoteLiteral(svc)
		}
		terms = append(terms, "("+strings.Join(alts, " OR ")+")")
	}
	if q.Filters.Contains != "" {
		// Wildcards on both sides: Splunk matches terms, the SDK asks for
		// a substring.
		terms = append(terms, quoteLiteral("*"+q.Filters.Contains+"*"))
	}
	if len(terms) == 0 {
		return base
	}
	return base + " | search " + strings.Join(terms, " ")
}

func indexClause(indexes []string) string {
	switch len(indexes) {
	case 0:
		return "index=*"
	case 1:
		return "index=" + quoteLiteral(indexes[0])
	}
	alts := make([]string, len(indexes))
	for i, ix := range indexes {
		alts[i] = "index=" + quoteLiteral(ix)
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

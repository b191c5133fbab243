package header

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/faultmaven/faultmaven/sdk"
)

// Format is an explicit header format in the Loghub benchmark notation:
// "<Date> <Time> <Level> <Component>: <Content>". Each <Name> becomes a lazy
// named group, each run of spaces matches any run of spaces, the text
// between placeholders is a regular expression (so "\[" and "\|" escape),
// and the whole is anchored at both ends. <Content> is the message; <Level>,
// <Component> (or <Service>, <Logger>) and time fields fill the header facts.
type Format struct {
	re      *regexp.Regexp
	content int
	level   int
	comp    int
	times   []int
}

var placeholder = regexp.MustCompile(`<[A-Za-z_][A-Za-z0-9_]*>`)
var spaces = regexp.MustCompile(` +`)

// CompileFormat compiles a format; it must name a <Content> field.
func CompileFormat(f string) (*Format, error) {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(f, -1) {
		b.WriteString(spaces.ReplaceAllString(f[last:loc[0]], `\s+`))
		name := f[loc[0]+1 : loc[1]-1]
		fmt.Fprintf(&b, "(?P<%s>.*?)", name)
		last = loc[1]
	}
	b.WriteString(spaces.ReplaceAllString(f[last:], `\s+`))
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("header: format %q: %w", f, err)
	}
	out := &Format{re: re, content: -1, level: -1, comp: -1}
	for i, n := range re.SubexpNames() {
		switch strings.ToLower(n) {
		case "content":
			out.content = i
		case "level", "severity":
			out.level = i
		case "component", "service", "logger":
			out.comp = i
		case "date", "time", "timestamp", "datetime":
			out.times = append(out.times, i)
		}
	}
	if out.content < 0 {
		return nil, fmt.Errorf("header: format %q has no <Content> field", f)
	}
	return out, nil
}

// Parse applies the format to a line; false when the line does not fit.
func (f *Format) Parse(line string) (Parsed, bool) {
	m := f.re.FindStringSubmatchIndex(line)
	if m == nil {
		return Parsed{}, false
	}
	sub := func(i int) string {
		if i < 0 || m[2*i] < 0 {
			return ""
		}
		return line[m[2*i]:m[2*i+1]]
	}
	p := Parsed{Content: sub(f.content), HasHeader: true, HeaderLen: m[2*f.content]}
	if f.level >= 0 {
		p.Severity = sdk.ParseSeverity(sub(f.level))
		if p.Severity == 0 {
			p.Severity = levelWord(sub(f.level))
		}
	}
	p.Component = sub(f.comp)
	var ts []string
	for _, i := range f.times {
		ts = append(ts, sub(i))
	}
	if len(ts) > 0 {
		joined := strings.Join(ts, " ")
		if n, t, _, ok := ParseTimestamp(joined); ok && n > 0 {
			p.Timestamp = t
		}
	}
	return p, true
}

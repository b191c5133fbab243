package header

import (
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Parsed is one line split into its header facts and its message.
type Parsed struct {
	Content   string // the message without its header
	Timestamp time.Time
	Severity  sdk.Severity
	Component string // logger or component named in the header
	HeaderLen int    // bytes of the line taken by the header (0 for JSON and logfmt)
	HasHeader bool   // a timestamp or level header was found
}

// Learning points: the layout is re-learnt when the sample reaches each size,
// then frozen. Early lines use what was known when they arrived.
var learnPoints = [...]int{1, 8, 32, 128, 512}

const sampleCap = 512

// Detector finds the header of each line of one stream. It learns the
// stream's layout (which leading fields make the header) from the first
// lines it sees, or from Learn. Not safe for concurrent use.
type Detector struct {
	lay     layout   // the main layout, learnt from the first lines
	extra   []layout // layouts learnt later from lines that did not fit
	misfits []string // recent lines with a header that fit no layout
	last    int      // 1 + index in extra of the layout that fitted last; 0 = main
	sample  []string
	frozen  bool
	scratch []field
}

// NewDetector returns a Detector that learns as it goes.
func NewDetector() *Detector { return &Detector{} }

// Learn fixes the main layout from a sample of lines (the first few hundred
// lines of a file are plenty); later lines no longer change it, though
// lines of other formats can still add layouts (see maxExtra).
func (d *Detector) Learn(lines []string) {
	d.lay = learnLayout(lines)
	d.frozen = true
	d.sample = nil
}

// Layout describes the learnt layout for reports, e.g. "ts level [..] comp:".
func (d *Detector) Layout() string {
	out := d.lay.String()
	for _, l := range d.extra {
		out += "; " + l.String()
	}
	return out
}

// Files that concatenate logs of several formats get up to maxExtra more
// layouts, each learnt from misfitBatch lines that fit none of the known
// ones. Layouts are never dropped: the set stays small and stable.
const (
	maxExtra    = 8
	misfitBatch = 64
)

// Parse splits one line (the first line of a record) into header and content.
func (d *Detector) Parse(line string) Parsed {
	if !d.frozen {
		d.sample = append(d.sample, line)
		for _, p := range learnPoints {
			if len(d.sample) == p {
				d.lay = learnLayout(d.sample)
			}
		}
		if len(d.sample) >= sampleCap {
			d.frozen = true
			d.sample = nil
		}
	}
	return d.parse(line)
}

func (d *Detector) parse(line string) Parsed {
	p, _, _ := d.Classify(line)
	return p
}

// Classify parses line with the known layouts (learning a new one only
// from a batch of lines that fit none of them) and tells whether it starts a record: it opens with a header like the
// learnt one, or with a timestamp or level of its own. headered is false
// when the stream has no header layout; then start means little and the
// caller decides from indentation and the like.
func (d *Detector) Classify(line string) (p Parsed, start, headered bool) {
	if p, ok := parseStructured(line); ok {
		return p, true, d.lay.ok
	}
	if d.lay.ok {
		// Neighbouring lines share a format: try the last one that fitted
		// first, then the main layout, then the others.
		if d.last > 0 {
			l := &d.extra[d.last-1]
			d.scratch = scanSig(line, d.scratch, l.sig)
			if l.matches(d.scratch) {
				return build(line, d.scratch), true, true
			}
		}
		d.scratch = scanSig(line, d.scratch, d.lay.sig)
		if d.lay.matches(d.scratch) {
			d.last = 0
			return build(line, d.scratch), true, true
		}
		for i := range d.extra {
			if i+1 == d.last {
				continue
			}
			l := &d.extra[i]
			d.scratch = scanSig(line, d.scratch, l.sig)
			if l.matches(d.scratch) {
				d.last = i + 1
				return build(line, d.scratch), true, true
			}
		}
	}
	d.scratch = scanAnchor(line, d.scratch)
	fs := d.scratch
	end := lineAnchor(fs)
	start = end >= 0 || d.lay.ok && d.lay.matchesPrefix(fs)
	if end >= 0 && d.lay.ok && len(d.extra) < maxExtra {
		d.misfit(line)
		d.scratch = scanAnchor(line, d.scratch)
		fs = d.scratch
	}
	if end >= 0 && fs[end].kind == kLevel && end+1 < len(fs) && fs[end+1].kind == kComp {
		end++
	}
	if end < 0 {
		return Parsed{Content: line}, start, d.lay.ok
	}
	return build(line, fs[:end+1]), start, d.lay.ok
}

func build(line string, hdr []field) Parsed {
	p := Parsed{HasHeader: true}
	last := hdr[len(hdr)-1]
	p.HeaderLen = last.end
	best := -1
	for i, f := range hdr {
		switch f.kind {
		case kTS:
			if best < 0 || precision(f.time) > precision(hdr[best].time) {
				best = i
			}
			if f.sev != 0 {
				p.Severity = f.sev
			}
		case kLevel:
			if p.Severity == 0 {
				p.Severity = f.sev
			}
		case kComp, kDotted:
			e := f.end
			for e > f.start && (line[e-1] == ':' || line[e-1] == '|' || line[e-1] == ' ') {
				e--
			}
			c := line[f.start:e]
			if strings.HasSuffix(c, "]") && !strings.Contains(c, "[") { // klog "main.go:42]"
				c = c[:len(c)-1]
			}
			p.Component = c
		}
	}
	if best >= 0 {
		p.Timestamp = hdr[best].time
	}
	i := last.end
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	p.Content = line[i:]
	return p
}

// precision ranks a parsed time: full date and time beats date alone beats
// a time of day alone.
func precision(t time.Time) int {
	r := 0
	if t.Year() > 0 {
		r += 2
	}
	if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
		r++
	}
	return r
}

// lineAnchor is the index of the last header field of a line judged alone:
// a level word shortly after the timestamp, else the last timestamp; -1 when
// the line has neither.
func lineAnchor(fs []field) int {
	firstTS, lastTS := -1, -1
	for i, f := range fs {
		if i > 8 {
			break
		}
		if f.kind == kTS {
			if firstTS < 0 {
				if i > 4 {
					break
				}
				firstTS = i
			}
			lastTS = i
		} else if firstTS >= 0 && i-lastTS > 3 {
			break
		}
	}
	start, limit := 0, 1
	if lastTS >= 0 {
		start, limit = lastTS+1, lastTS+5
	}
	for i := start; i < len(fs) && i <= limit; i++ {
		f := fs[i]
		if f.kind == kLevel {
			prevOK := i == 0 || fs[i-1].kind == kTS || fs[i-1].kind == kNum || fs[i-1].kind == kDash || fs[i-1].kind == kBr
			if f.end-f.start == 1 {
				prevOK = i > 0 && fs[i-1].kind == kNum
			}
			if f.upper || prevOK {
				return i
			}
		}
		if f.kind == kComp {
			break
		}
	}
	return lastTS
}

// layout is a stream's header shape: the kinds of its leading fields.
type layout struct {
	sig   []kind
	piped []bool
	ok    bool
}

func (l layout) String() string {
	if !l.ok {
		return "none"
	}
	names := map[kind]string{kWord: "word", kTS: "ts", kLevel: "level", kNum: "num", kBr: "[..]", kDash: "-", kComp: "comp:", kDotted: "logger", kPadWord: "column"}
	var b strings.Builder
	for i, k := range l.sig {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(names[k])
		if l.piped[i] {
			b.WriteByte('|')
		}
	}
	return b.String()
}

func compatible(want kind, wantPiped bool, f field) bool {
	if wantPiped {
		return f.piped
	}
	if f.piped {
		return false
	}
	switch want {
	case kWord:
		return f.kind != kBr && f.kind != kTS
	case kLevel:
		return f.kind == kLevel || f.kind == kWord && isUpperWord(f)
	case kDotted:
		return f.kind == kDotted || f.kind == kComp
	case kPadWord:
		return f.padded && (f.kind == kWord || f.kind == kDotted)
	}
	return f.kind == want
}

func isUpperWord(f field) bool { return f.upper }

func (l layout) matches(fs []field) bool {
	if !l.ok || len(fs) < len(l.sig) {
		return false
	}
	for i, k := range l.sig {
		if !compatible(k, l.piped[i], fs[i]) {
			return false
		}
	}
	return true
}

// matchesPrefix checks the fields up to the first timestamp or level of the
// layout, enough to tell a record's first line from a continuation.
func (l layout) matchesPrefix(fs []field) bool {
	for i, k := range l.sig {
		if i >= len(fs) || !compatible(k, l.piped[i], fs[i]) {
			return false
		}
		if k == kTS || k == kLevel {
			return true
		}
	}
	return true
}

func sigKey(fs []field) string {
	b := make([]byte, 0, 2*len(fs))
	for _, f := range fs {
		b = append(b, kindCodes[f.kind])
		if f.piped {
			b = append(b, 'p')
		}
	}
	return string(b)
}

// learnLayout picks the most common per-line header shape in the sample,
// then extends it with the fields that follow it on nearly every line
// (a pid, a [thread], a "logger:", a '|' column). A shape must cover at
// least a third of the sample to be used at all.
func learnLayout(lines []string) layout {
	type cand struct {
		n  int
		fs []field
	}
	counts := map[string]*cand{}
	var scratch []field
	total := 0
	for _, ln := range lines {
		if ln == "" {
			continue
		}
		total++
		if _, ok := parseStructured(ln); ok {
			continue
		}
		scratch = scanFields(ln, scratch)
		a := lineAnchor(scratch)
		if a < 0 {
			continue
		}
		k := sigKey(scratch[:a+1])
		c := counts[k]
		if c == nil {
			c = &cand{fs: append([]field(nil), scratch[:a+1]...)}
			counts[k] = c
		}
		c.n++
	}
	var best *cand
	for _, c := range counts {
		if best == nil || c.n > best.n || c.n == best.n && len(c.fs) > len(best.fs) {
			best = c
		}
	}
	if best == nil || best.n*3 < total {
		return layout{}
	}
	l := layout{ok: true}
	for _, f := range best.fs {
		k := f.kind
		if k == kComp || k == kDotted {
			k = kWord // names before the timestamp vary in shape
		}
		l.sig = append(l.sig, k)
		l.piped = append(l.piped, f.piped)
	}
	// Extend with slots that follow the anchor on >= 90% of matching lines.
	for slot := 0; slot < 4; slot++ {
		pos := len(l.sig)
		tally := map[string]int{}
		matched := 0
		for _, ln := range lines {
			scratch = scanFields(ln, scratch)
			if !l.matches(scratch) {
				continue
			}
			matched++
			if pos >= len(scratch) {
				continue
			}
			f := scratch[pos]
			switch {
			case f.piped:
				tally["p"]++
			case f.padded && (f.kind == kWord || f.kind == kDotted):
				tally["P"]++
			case f.kind == kNum || f.kind == kBr || f.kind == kDash || f.kind == kComp || f.kind == kDotted || f.kind == kLevel:
				tally[string(kindCodes[f.kind])]++
			}
		}
		if matched == 0 {
			break
		}
		// A host name before "prog[pid]:" (syslog) is a header word too.
		if hostThenComp(lines, l, pos, matched) {
			l.sig = append(l.sig, kWord)
			l.piped = append(l.piped, false)
			continue
		}
		grown := false
		for key, n := range tally {
			if n*10 < matched*9 {
				continue
			}
			if key == "p" {
				l.sig = append(l.sig, kWord)
				l.piped = append(l.piped, true)
			} else {
				k := kind(strings.IndexByte(string(kindCodes[:]), key[0]))
				l.sig = append(l.sig, k)
				l.piped = append(l.piped, false)
			}
			grown = true
			break
		}
		if !grown {
			break
		}
	}
	return l
}

// hostThenComp reports whether, on >= 90% of the lines matching l, the
// field at pos is a plain word and the one after it a "name:" field.
func hostThenComp(lines []string, l layout, pos, matched int) bool {
	var scratch []field
	n := 0
	for _, ln := range lines {
		scratch = scanN(ln, scratch, pos+2)
		if !l.matches(scratch) || len(scratch) < pos+2 {
			continue
		}
		if scratch[pos].kind == kWord && !scratch[pos].piped && scratch[pos+1].kind == kComp {
			n++
		}
	}
	return n*10 >= matched*9
}

// misfit collects a line with a header of its own that fits no layout, and
// learns a layout from a full batch of them.
func (d *Detector) misfit(line string) {
	d.misfits = append(d.misfits, line)
	if len(d.misfits) < misfitBatch {
		return
	}
	l := learnLayout(d.misfits)
	d.misfits = d.misfits[:0]
	if !l.ok || l.String() == d.lay.String() {
		return
	}
	for _, x := range d.extra {
		if x.String() == l.String() {
			return
		}
	}
	d.extra = append(d.extra, l)
}

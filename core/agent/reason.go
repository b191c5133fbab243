package agent

import (
	"regexp"
	"slices"
	"strings"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/loganalysis"
)

const (
	// maxEvidence is how many findings the answer shows.
	maxEvidence = 8
	// queryEvidence is how many of them join the knowledge query.
	queryEvidence = 6
	// causeShare: a finding can be the cause only if its score is at
	// least this share of the strongest finding's; weaker ones are noise
	// that merely happened to start early.
	causeShare = 0.25
)

// changed reports whether a finding is about something that changed in
// the window (new, or far above its baseline rate), as opposed to an
// error that was there all along.
func changed(kind string) bool { return kind != loganalysis.KindError }

// selectEvidence splits ranked findings into what changed during the
// window (evidence) and errors already present before it (background:
// candidates to rule out, never the cause while something changed).
func selectEvidence(cs []candidate) (evidence, background []Evidence) {
	seen := map[string]bool{}
	for _, c := range cs {
		key := c.Service + "\x00" + c.Template
		if seen[key] {
			continue
		}
		seen[key] = true
		if changed(c.Kind) {
			if len(evidence) < maxEvidence {
				evidence = append(evidence, c.Evidence)
			}
		} else if len(background) < 3 {
			background = append(background, c.Evidence)
		}
	}
	if len(evidence) == 0 {
		// Nothing changed: the standing errors are all there is.
		evidence, background = background, nil
	}
	return evidence, background
}

// overlap counts the finding's distinct words that the runbook uses.
func overlap(e Evidence, terms map[string]bool) int {
	if len(terms) == 0 {
		return 0
	}
	n := 0
	for t := range termSet(e.Template + " " + e.Example) {
		if terms[t] {
			n++
		}
	}
	return n
}

var digitRE = regexp.MustCompile(`[0-9]`)

// termSet is the set of a text's words, without numbers and very short
// words, which would make every text overlap every other.
func termSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, t := range embed.Tokens(s) {
		if len(t) < 4 || digitRE.MatchString(t) || stopWords[t] {
			continue
		}
		out[t] = true
	}
	return out
}

var stopWords = map[string]bool{
	"with": true, "from": true, "that": true, "this": true, "have": true, "were": true, "when": true,
	"error": true, "info": true, "warn": true, "warning": true, "level": true, "message": true,
	"service": true, "request": true, "after": true, "then": true, "into": true, "than": true,
}

// summary is one line saying what the finding shows.
func summary(e Evidence) string {
	what := strings.TrimSpace(e.Template)
	if e.Example != "" {
		// A stack trace's first line is a generic servlet or handler
		// message; the innermost exception says what broke, in words a
		// reader knows, so it leads and the template follows.
		if ex := exceptionLine(e.Example); ex != "" && !strings.Contains(what, ex) {
			what = ex + " — in: " + what
		}
	}
	return clip(what, 400)
}

var exceptionRE = regexp.MustCompile(`(?m)^\s*(?:Caused by: )?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:Exception|Error)\b.*)$`)

// exceptionLine returns the innermost exception line of a stack trace
// ("Caused by: ..." last), or "".
func exceptionLine(text string) string {
	ms := exceptionRE.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return ""
	}
	return clip(strings.TrimSpace(ms[len(ms)-1][1]), 240)
}

// confidence grades the answer: high when a changed finding is the cause
// and a runbook agrees with it, medium with one of the two, low when only
// standing errors or nothing was found.
func confidence(rep *Report) string {
	switch {
	case rep.Cause == nil:
		return "none"
	case !changed(rep.Cause.Kind):
		return "low"
	}
	if len(rep.Runbooks) > 0 {
		ev := Evidence{Template: rep.Cause.Template, Example: rep.Cause.Summary}
		if overlap(ev, termSet(rep.Runbooks[0].Title+" "+rep.Runbooks[0].Chunk)) >= 2 {
			return "high"
		}
	}
	return "medium"
}

// nextSteps are the best runbook's diagnosis steps, then its remediation.
func nextSteps(rep *Report) []string {
	var out []string
	if rep.Cause != nil {
		out = append(out, "Look at "+rep.Cause.Service+"'s logs from "+rep.Cause.Onset.Format("15:04:05")+" UTC on: the likely cause starts there.")
	}
	if len(rep.Runbooks) == 0 {
		return out
	}
	rb := rep.Runbooks[0]
	for _, s := range rb.Diagnosis[:min(3, len(rb.Diagnosis))] {
		out = append(out, "Check: "+s)
	}
	for _, s := range rb.Fix[:min(3, len(rb.Fix))] {
		out = append(out, "Fix: "+s)
	}
	return slices.Clip(out)
}

var numberedRE = regexp.MustCompile(`^\s*(?:\d+[.)]|[-*])\s+(.*)$`)

// sectionItems returns the first line of each top-level list item in the
// body's section whose heading starts with prefix (case-insensitive).
func sectionItems(body, prefix string) []string {
	var out []string
	in, fenced := false, false
	for _, line := range strings.Split(body, "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if strings.HasPrefix(trim, "#") {
			h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(trim, "#")))
			in = strings.HasPrefix(h, prefix)
			continue
		}
		if !in || line != strings.TrimLeft(line, " \t") {
			continue // outside the section, or a nested line
		}
		if m := numberedRE.FindStringSubmatch(line); m != nil {
			out = append(out, strings.TrimSpace(m[1]))
		}
	}
	return out
}

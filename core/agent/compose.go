package agent

import (
	"fmt"
	"strings"
	"time"
)

// compose writes the answer as Markdown: the likely cause first (what an
// engineer at 3 a.m. reads), then the evidence, what to do, and what was
// ruled out.
func compose(rep *Report) string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
	b.WriteString("## Likely cause\n\n")
	if rep.Cause == nil {
		b.WriteString("Nothing in the logs stands out: no new errors, no error spikes, no new log templates.")
		if len(rep.Runbooks) > 0 {
			fmt.Fprintf(&b, " The runbook that fits the question best is **%s** (`%s`).", rep.Runbooks[0].Title, rep.Runbooks[0].ID)
		}
		b.WriteString("\n")
	} else {
		c := rep.Cause
		fmt.Fprintf(&b, "**%s**: %s\n\n", c.Service, c.Summary)
		if c.Example != "" {
			fmt.Fprintf(&b, "- Example: `%s`\n", clip(oneLine(c.Example), 300))
		}
		fmt.Fprintf(&b, "- Onset: %s in %s's logs: %s.\n", ts(c.Onset), c.Service, c.OnsetNote)
		fmt.Fprintf(&b, "- Kind: %s.\n", kindPhrase(c.Kind))
		fmt.Fprintf(&b, "- Why: %s.\n", c.Why)
		fmt.Fprintf(&b, "- Confidence: %s.\n", rep.Confidence)
	}
	if len(rep.Evidence) > 0 {
		b.WriteString("\n## Evidence\n\n")
		for _, e := range rep.Evidence {
			span := e.FirstSeen.Format("15:04:05") + " to " + e.LastSeen.Format("15:04:05")
			if e.Count == 1 {
				span = "at " + e.FirstSeen.Format("15:04:05")
			}
			fmt.Fprintf(&b, "- [%s] %s, %s: `%s` — %s, %s.\n", e.Kind, e.Service, sevOr(e.Severity),
				clip(oneLine(e.Template), 200), nRecords(e.Count), span)
		}
	}
	if len(rep.Alerts) > 0 {
		b.WriteString("\n## Alerts that fired\n\n")
		for _, al := range rep.Alerts {
			var labels []string
			for _, k := range alertLabelsShown {
				if v := al.Labels[k]; v != "" {
					labels = append(labels, k+"="+v)
				}
			}
			fmt.Fprintf(&b, "- `%s` %s: firing %s to %s.\n", al.Name, strings.Join(labels, " "),
				al.FirstFiring.Format("15:04:05"), al.LastFiring.Format("15:04:05"))
		}
	}
	if len(rep.NextSteps) > 0 {
		b.WriteString("\n## Next steps\n\n")
		for i, s := range rep.NextSteps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
	}
	if len(rep.Runbooks) > 0 {
		b.WriteString("\n## Runbooks\n\n")
		for _, r := range rep.Runbooks {
			fmt.Fprintf(&b, "- `%s`: %s (score %.2f)\n", r.ID, r.Title, r.Score)
		}
	}
	if len(rep.Incidents) > 0 {
		b.WriteString("\n## Similar past incidents\n\n")
		for _, h := range rep.Incidents {
			fmt.Fprintf(&b, "- `%s`: %s\n", h.ID, h.Title)
		}
	}
	if len(rep.Background) > 0 {
		b.WriteString("\n## Probably not the cause\n\nThese errors were already there before the incident started:\n\n")
		for _, e := range rep.Background {
			fmt.Fprintf(&b, "- %s: `%s` (%s since %s).\n", e.Service, clip(oneLine(e.Template), 200), nRecords(e.Count), e.FirstSeen.Format("15:04:05"))
		}
	}
	if len(rep.Limits) > 0 {
		b.WriteString("\n## Limits of this answer\n\n")
		for _, l := range rep.Limits {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}

func kindPhrase(kind string) string {
	switch kind {
	case "new_error":
		return "a new error"
	case "error_spike":
		return "an error far above its usual rate"
	case "rate_spike":
		return "a message far above its usual rate"
	case "new_template":
		return "a message not seen before"
	}
	return "an error present all along"
}

func sevOr(s string) string {
	if s == "" {
		return "unspecified"
	}
	return s
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func nRecords(n int64) string {
	if n == 1 {
		return "1 record"
	}
	return fmt.Sprintf("%d records", n)
}

package agent

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/loganalysis"
)

// How the builtin reasoner picks the culprit. Three generic signals, in
// the order an SRE weighs them:
//
//  1. What changed: a service that started (a deploy, a restart, a batch
//     job, a migration) shortly before the first sustained failure.
//  2. Who the failing services blame: a service that other services'
//     errors name ("I/O error on POST https://inventory-api...", "Broker
//     may not be available") and that fails itself, no later than they do.
//  3. Who failed first: the earliest sustained failure; among failures
//     that start together, the one the best runbook describes.
//
// The onset is the culprit's start event, else the first new message of
// the culprit that is still going when its failure begins (a leak warns
// before it breaks things), else the failure's first record.

const (
	// startWindow: a start this long before the first sustained failure
	// (or up to a minute after it: clocks and buffers) counts as the change.
	startWindow = 30 * time.Minute
	// startEffect: a start is the change only if trouble follows within
	// this: its own warnings or failures, or the incident's first
	// sustained failure. A start followed by minutes of calm (a pod moved
	// by a node drain) is a coincidence.
	startEffect = 5 * time.Minute
	// startBurst: start lines of one service this close together are one
	// start.
	startBurst = 2 * time.Minute
	// sustainedFor: a failure shorter than this that stopped well before
	// the data ends is a blip (a reconnect, a retried call), not the
	// incident.
	sustainedFor = 2 * time.Minute
	// siblingSimilarity: a "new" template this similar to a template that
	// was in the baseline for the same service is the same message with a
	// different parameter the miner kept apart (another warehouse,
	// another host), so it is not new.
	siblingSimilarity = 0.7
)

// lifecycleRE matches a change announcing itself: a process starting
// ("Starting OrdersApplication v2.14.0", "cart-service 7.3.0 starting",
// "starting migrations"), a rollout (a Deployment's "Scaled up replica
// set"), a configuration or feature-flag change, an upgrade. Reports about
// a start ("Started container", past tense) are effects as often as
// causes, so they do not count.
var lifecycleRE = regexp.MustCompile(`(?i)\b(starting|booting|deploying|rolling out|rolled out|scaled up replica set|` +
	`reload(ing|ed) (config|configuration|settings)|(config|configuration|settings) (changed|updated|applied|reloaded)|` +
	`(feature )?flag \S+ (enabled|disabled|changed|updated|set to)|upgrad(ing|ed) to)\b`)

// candidate is one finding as the reasoner sees it.
type candidate struct {
	Evidence
	failure bool // its text or level says something failed
	weight  float64
}

func newCandidate(f loganalysis.Finding) candidate {
	e := findingEvidence(f)
	c := candidate{Evidence: e, weight: f.Score}
	if len(f.Examples) > 0 {
		if obj, ok := eventObject(f.Examples[0]); ok && obj != c.Service {
			c.Why = "Kubernetes event about " + obj + " in " + c.Service + "; " + c.Why
			c.Service = obj
		}
	}
	c.failure = f.Severity >= 4 /* sdk.SeverityError */ || loganalysis.FailureText(f.Template)
	if c.failure && f.Severity < 3 /* sdk.SeverityWarn */ {
		// A failure logged at info (Go's http.Server errors through a
		// logger's info level) weighs like a warning.
		c.weight *= 2
	}
	return c
}

// sustained: the failure lasted, or is still going at the end of the data.
func (c candidate) sustained(dataEnd time.Time) bool {
	return c.LastSeen.Sub(c.FirstSeen) >= sustainedFor || dataEnd.Sub(c.LastSeen) < sustainedFor
}

// demoteSiblings marks as unchanged the changed findings whose template
// is a near copy of a baseline template of the same service.
func demoteSiblings(cs []candidate) {
	var base []candidate
	for _, c := range cs {
		if !changed(c.Kind) {
			base = append(base, c)
		}
	}
	for i := range cs {
		if !changed(cs[i].Kind) {
			continue
		}
		for _, b := range base {
			if b.Service == cs[i].Service && similarity(b.Template, cs[i].Template) >= siblingSimilarity {
				cs[i].Kind = loganalysis.KindError
				cs[i].Why += "; a variant of a message already in the baseline"
				break
			}
		}
	}
}

// similarity is the Jaccard index of two templates' words.
func similarity(a, b string) float64 {
	wa, wb := map[string]bool{}, map[string]bool{}
	for _, t := range strings.Fields(a) {
		wa[t] = true
	}
	for _, t := range strings.Fields(b) {
		wb[t] = true
	}
	inter := 0
	for t := range wa {
		if wb[t] {
			inter++
		}
	}
	union := len(wa) + len(wb) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// judgeCause picks the culprit service, its cause finding and the onset.
func judgeCause(cs []candidate, runbooks []RunbookHit, dataEnd time.Time) *Cause {
	var fails []candidate
	top := 0.0
	for _, c := range cs {
		if changed(c.Kind) && c.failure {
			fails = append(fails, c)
			top = max(top, c.weight)
		}
	}
	if len(fails) == 0 {
		return standingCause(cs, runbooks)
	}
	var strong []candidate
	for _, c := range fails {
		if c.weight >= causeShare*top && c.sustained(dataEnd) {
			strong = append(strong, c)
		}
	}
	if len(strong) == 0 {
		strong = fails
	}
	incident := strong[0].FirstSeen
	for _, c := range strong {
		if c.FirstSeen.Before(incident) {
			incident = c.FirstSeen
		}
	}

	// 1. What changed.
	var start *candidate
	for i, c := range cs {
		if !changed(c.Kind) || !lifecycleRE.MatchString(c.Template) {
			continue
		}
		if c.FirstSeen.After(incident.Add(time.Minute)) || c.FirstSeen.Before(incident.Add(-startWindow)) {
			continue
		}
		if !troubleFollows(c, cs, incident) {
			continue
		}
		if start == nil || c.FirstSeen.After(start.FirstSeen) {
			start = &cs[i]
		}
	}
	if start != nil {
		// A process logs several start lines (the app, then its pools);
		// the onset is the first of the burst.
		for i, c := range cs {
			if c.Service == start.Service && changed(c.Kind) && lifecycleRE.MatchString(c.Template) &&
				c.FirstSeen.Before(start.FirstSeen) && start.FirstSeen.Sub(c.FirstSeen) <= startBurst {
				start = &cs[i]
			}
		}
		c := causeOf(start.Service, fails, runbooks, dataEnd)
		if c != nil && !causeSustained(c, fails, dataEnd) {
			c = nil // a blip of the started service says less than its start
		}
		if c == nil {
			c = &Cause{Service: start.Service, Template: start.Template, Kind: start.Kind, Summary: summary(start.Evidence), Example: start.Example}
		}
		c.Onset = start.FirstSeen
		c.OnsetNote = fmt.Sprintf("%s started: %q", start.Service, clip(oneLine(start.Example), 200))
		c.Why = fmt.Sprintf("%s started %s before the first sustained failure; %s", start.Service,
			incident.Sub(start.FirstSeen).Round(time.Second), c.Why)
		if len(runbooks) > 0 {
			c.RunbookID = runbooks[0].ID
		}
		return c
	}

	// 2. Who the failing services blame. A cause does not start after
	// its effect: the blamed service must fail no later than a minute
	// after the service that names it.
	first := firstFailure(fails)
	blamed := map[string]int{}
	for svc := range servicesOf(fails) {
		for other := range servicesOf(strong) {
			if other == svc {
				continue
			}
			for _, c := range strong {
				if c.Service == other && mentions(c.Template+"\n"+c.Example, svc) &&
					!first[svc].After(c.FirstSeen.Add(time.Minute)) {
					blamed[svc]++
					break
				}
			}
		}
	}
	if len(blamed) > 0 {
		svcs := make([]string, 0, len(blamed))
		for s := range blamed {
			svcs = append(svcs, s)
		}
		sort.Slice(svcs, func(i, j int) bool {
			if blamed[svcs[i]] != blamed[svcs[j]] {
				return blamed[svcs[i]] > blamed[svcs[j]]
			}
			return first[svcs[i]].Before(first[svcs[j]])
		})
		c := causeOf(svcs[0], fails, runbooks, dataEnd)
		c.Onset, c.OnsetNote = onsetOf(c, cs)
		c.Why = fmt.Sprintf("the errors of %d other service(s) name %s; %s", blamed[svcs[0]], svcs[0], c.Why)
		return c
	}

	// 3. Who failed first.
	sort.SliceStable(strong, func(i, j int) bool { return strong[i].FirstSeen.Before(strong[j].FirstSeen) })
	lead := strong[0]
	var rbTerms map[string]bool
	if len(runbooks) > 0 {
		rbTerms = termSet(runbooks[0].Title + " " + runbooks[0].Chunk)
	}
	for _, c := range strong[1:] {
		if c.FirstSeen.Sub(lead.FirstSeen) > time.Minute {
			break
		}
		if overlap(c.Evidence, rbTerms) > overlap(lead.Evidence, rbTerms) {
			lead = c
		}
	}
	c := causeOf(lead.Service, fails, runbooks, dataEnd)
	c.Onset, c.OnsetNote = onsetOf(c, cs)
	c.Why = fmt.Sprintf("%s failed first; %s", lead.Service, c.Why)
	return c
}

// causeSustained reports whether the cause's finding is sustained.
func causeSustained(c *Cause, fails []candidate, dataEnd time.Time) bool {
	for _, f := range fails {
		if f.Service == c.Service && f.Template == c.Template {
			return f.sustained(dataEnd)
		}
	}
	return false
}

// troubleFollows: within startEffect of the start, the service itself
// warns or fails, or the incident begins.
func troubleFollows(start candidate, cs []candidate, incident time.Time) bool {
	limit := start.FirstSeen.Add(startEffect)
	if !incident.After(limit) {
		return true
	}
	for _, c := range cs {
		if c.Service == start.Service && changed(c.Kind) && (c.failure || c.Severity == "warn") &&
			c.FirstSeen.After(start.FirstSeen) && !c.FirstSeen.After(limit) {
			return true
		}
	}
	return false
}

// causeOf is the service's strongest sustained changed failure (or, when
// it has none, its strongest blip) as a Cause; nil if it has no failure.
func causeOf(svc string, fails []candidate, runbooks []RunbookHit, dataEnd time.Time) *Cause {
	var best *candidate
	better := func(c candidate) bool {
		if best == nil {
			return true
		}
		if sc, sb := c.sustained(dataEnd), best.sustained(dataEnd); sc != sb {
			return sc
		}
		return c.weight > best.weight
	}
	for i, c := range fails {
		if c.Service == svc && better(c) {
			best = &fails[i]
		}
	}
	if best == nil {
		return nil
	}
	c := &Cause{Service: svc, Template: best.Template, Onset: best.FirstSeen, Kind: best.Kind,
		Summary: summary(best.Evidence), Example: best.Example, Why: best.Why, OnsetNote: "the first record of this failure"}
	if len(runbooks) > 0 {
		c.RunbookID = runbooks[0].ID
	}
	return c
}

// onsetOf moves the onset back to the culprit's first new message that is
// still going when the failure begins: the warning before the break.
func onsetOf(c *Cause, cs []candidate) (time.Time, string) {
	onset, note := c.Onset, "the first record of this failure"
	for _, x := range cs {
		if x.Service != c.Service || !changed(x.Kind) {
			continue
		}
		if x.FirstSeen.Before(onset) && !x.LastSeen.Before(c.Onset) {
			onset = x.FirstSeen
			note = fmt.Sprintf("the first %q (%s), new then and still going when the failure began at %s",
				clip(oneLine(x.Template), 120), sevOr(x.Severity), c.Onset.Format("15:04:05"))
		}
	}
	return onset, note
}

// standingCause is used when nothing changed: the strongest standing
// error, flagged as such.
func standingCause(cs []candidate, runbooks []RunbookHit) *Cause {
	var best *candidate
	for i, c := range cs {
		if c.failure && (best == nil || c.weight > best.weight) {
			best = &cs[i]
		}
	}
	if best == nil {
		return nil
	}
	c := &Cause{Service: best.Service, Template: best.Template, Onset: best.FirstSeen, Kind: best.Kind,
		Summary: summary(best.Evidence), Example: best.Example, OnsetNote: "the first record of this error in the data", Why: best.Why + "; nothing new appeared in the window, so this standing error is only the best guess"}
	if len(runbooks) > 0 {
		c.RunbookID = runbooks[0].ID
	}
	return c
}

func servicesOf(cs []candidate) map[string]bool {
	out := map[string]bool{}
	for _, c := range cs {
		out[c.Service] = true
	}
	return out
}

func firstFailure(cs []candidate) map[string]time.Time {
	out := map[string]time.Time{}
	for _, c := range cs {
		if t, ok := out[c.Service]; !ok || c.FirstSeen.Before(t) {
			out[c.Service] = c.FirstSeen
		}
	}
	return out
}

// mentions reports whether text names the service: its name verbatim, or
// every word of it longer than two letters when there are at least two
// ("kafka-broker-2" in "kafka-2 ... Broker may not be available"; one
// common word such as "events" is not a name).
func mentions(text, svc string) bool {
	lt := strings.ToLower(text)
	if strings.Contains(lt, strings.ToLower(svc)) {
		return true
	}
	words := map[string]bool{}
	for _, t := range embed.Tokens(text) {
		words[t] = true
	}
	n := 0
	for _, t := range embed.Tokens(svc) {
		if len(t) < 3 || digitRE.MatchString(t) {
			continue
		}
		if !words[t] {
			return false
		}
		n++
	}
	return n >= 2
}

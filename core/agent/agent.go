package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/sdk"
)

// ErrInvalid marks a request the agent cannot work on (no question, a bad
// window, no logs to look at).
var ErrInvalid = errors.New("agent: invalid request")

// LogSource searches one integration's logs; the plugin host satisfies it.
type LogSource interface {
	SearchLogs(ctx context.Context, instanceID string, q sdk.LogQuery, fn func([]sdk.Record) error) error
}

// Knowledge is the part of the knowledge base the agent uses.
type Knowledge interface {
	Search(ctx context.Context, q knowledge.Query) ([]knowledge.Hit, error)
	Get(id string) (knowledge.Document, error)
}

// Options configure an Agent.
type Options struct {
	// Source pulls logs from integrations; nil means only attached logs
	// can be investigated.
	Source LogSource
	// Metrics runs range queries (the firing alerts of the window) on
	// the integrations a request names as metric sources; nil skips them.
	Metrics MetricSource
	// Knowledge is searched for runbooks and past incidents; nil means
	// answers come without runbooks.
	Knowledge Knowledge
	// MaxRecords bounds the records pulled from each integration
	// (0 = 200,000): the analyzer's memory is bounded, the pull's time is not.
	MaxRecords int
	// Lookback is the window when a request names none and the question
	// gives no time (0 = 1h).
	Lookback time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
	// Registerer receives the agent's metrics; nil records none.
	Registerer prometheus.Registerer
}

// Agent answers troubleshooting questions. Safe for concurrent use: each
// call builds its own analyzer.
type Agent struct {
	opts Options
	m    *metrics
}

// New returns an Agent.
func New(opts Options) *Agent {
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 200_000
	}
	if opts.Lookback <= 0 {
		opts.Lookback = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Agent{opts: opts, m: newMetrics(opts.Registerer)}
}

// Attachment is a log the user hands over (a file, a paste).
type Attachment struct {
	Name string `json:"name"`
	// Service the log belongs to; "" derives it from Name (the file name
	// without directory and extension).
	Service string `json:"service,omitempty"`
	Text    string `json:"text"`
	// Reader, when set, is read instead of Text: a large file streams
	// through the analyzer instead of being held in memory.
	Reader io.Reader `json:"-"`
}

// Request is one question.
type Request struct {
	Question string `json:"question"`
	// Cluster scopes the knowledge search and names whose integrations
	// are searched.
	Cluster string `json:"cluster,omitempty"`
	// Integrations are the plugin-host instance ids to pull logs from.
	Integrations []string `json:"integrations,omitempty"`
	// MetricIntegrations are the instance ids asked which alerts fired
	// (Prometheus's ALERTS series) in the window.
	MetricIntegrations []string `json:"metric_integrations,omitempty"`
	// From and To bound the logs; zero values are derived from the
	// question ("since about 13:41 UTC") or the lookback.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Attachments are analyzed along with (or instead of) the
	// integrations' logs.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Progress, when set, hears how the answer is coming along. Calls
	// never overlap, and all happen before Ask returns; they may come
	// from other goroutines than the one running Ask.
	Progress func(Progress) `json:"-"`
}

// Progress is one step of an answer: a source's records so far, or the
// start of a stage.
type Progress struct {
	Stage   string `json:"stage"` // pull, analyze, recall
	Source  string `json:"source,omitempty"`
	Records int    `json:"records,omitempty"`
	Done    bool   `json:"done,omitempty"` // the source is finished
}

func (r Request) progress(p Progress) {
	if r.Progress != nil {
		r.Progress(p)
	}
}

// Report is the agent's answer.
type Report struct {
	Question string    `json:"question"`
	Cluster  string    `json:"cluster,omitempty"`
	From     time.Time `json:"from,omitzero"`
	To       time.Time `json:"to,omitzero"`
	// Answer is the whole answer as Markdown, for people.
	Answer string `json:"answer"`
	// Cause is nil when nothing in the logs stands out.
	Cause *Cause `json:"likely_cause"`
	// Evidence: the findings the answer rests on, strongest first.
	Evidence []Evidence `json:"evidence"`
	// Background: errors that were there before the incident started;
	// shown so the reader can rule them out.
	Background []Evidence `json:"background,omitempty"`
	// Alerts that fired in the window, earliest first.
	Alerts     []Alert          `json:"alerts,omitempty"`
	Runbooks   []RunbookHit     `json:"runbooks"`
	Incidents  []knowledge.Hit  `json:"similar_incidents,omitempty"`
	NextSteps  []string         `json:"next_steps"`
	Sources    []SourceSummary  `json:"sources"`
	Confidence string           `json:"confidence"` // high, medium, low, none
	Limits     []string         `json:"limits,omitempty"`
	Timing     map[string]int64 `json:"timing_ms,omitempty"`
}

// Cause names the service and log template the agent holds responsible.
type Cause struct {
	Service  string    `json:"service"`
	Summary  string    `json:"summary"`
	Template string    `json:"template"`
	Onset    time.Time `json:"onset"`
	// OnsetNote says what happened at the onset.
	OnsetNote string `json:"onset_note"`
	// Example is one record of the failure (redacted).
	Example   string `json:"example,omitempty"`
	Kind      string `json:"kind"`
	Why       string `json:"why"`
	RunbookID string `json:"runbook_id,omitempty"`
}

// Evidence is one analyzer finding, with a redacted example line.
type Evidence struct {
	Kind      string    `json:"kind"`
	Service   string    `json:"service"`
	Severity  string    `json:"severity"`
	Template  string    `json:"template"`
	Example   string    `json:"example,omitempty"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Score     float64   `json:"score"`
	Why       string    `json:"why"`
}

// RunbookHit is a runbook that fits, with its steps.
type RunbookHit struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Score     float64  `json:"score"`
	Chunk     string   `json:"chunk"`
	Diagnosis []string `json:"diagnosis,omitempty"`
	Fix       []string `json:"remediation,omitempty"`
}

// SourceSummary says what was read from one source.
type SourceSummary struct {
	Name    string `json:"name"`
	Records int    `json:"records"`
	Error   string `json:"error,omitempty"`
	Clipped bool   `json:"clipped,omitempty"`
}

// maxQuestion bounds the question's length: it is a question, not a log.
const maxQuestion = 4000

// Ask investigates one question.
func (a *Agent) Ask(ctx context.Context, req Request) (*Report, error) {
	start := time.Now()
	rep, err := a.ask(ctx, req)
	a.m.answered(rep, time.Since(start).Seconds(), err)
	return rep, err
}

func (a *Agent) ask(ctx context.Context, req Request) (*Report, error) {
	req.Question = strings.TrimSpace(req.Question)
	switch {
	case req.Question == "":
		return nil, fmt.Errorf("%w: the question is empty", ErrInvalid)
	case len(req.Question) > maxQuestion:
		return nil, fmt.Errorf("%w: the question is %d bytes, at most %d (attach logs as attachments)", ErrInvalid, len(req.Question), maxQuestion)
	case len(req.Integrations) > 0 && a.opts.Source == nil:
		return nil, fmt.Errorf("%w: integrations named but this agent has no log source", ErrInvalid)
	}
	now := a.opts.Now().UTC()
	from, to, err := window(req, now, a.opts.Lookback)
	if err != nil {
		return nil, err
	}
	rep := &Report{Question: req.Question, Cluster: req.Cluster, From: from, To: to, Timing: map[string]int64{}}
	t0 := time.Now()
	an, errs, err := a.gather(ctx, req, from, to, rep)
	if err != nil {
		return nil, err
	}
	rep.Timing["gather"] = time.Since(t0).Milliseconds()

	t0 = time.Now()
	req.progress(Progress{Stage: "analyze"})
	first, last := an.Span(clusterKey(req.Cluster))
	fs := an.FindingsWith(clusterKey(req.Cluster), loganalysis.FindingOptions{BaselineEnd: baselineEnd(req.Question, errs, first, last)})
	cands := make([]candidate, len(fs))
	for i, f := range fs {
		cands[i] = newCandidate(f)
	}
	demoteSiblings(cands)
	rep.Evidence, rep.Background = selectEvidence(cands)
	rep.Timing["analyze"] = time.Since(t0).Milliseconds()

	a.firingAlerts(ctx, req, from, to, rep)

	t0 = time.Now()
	req.progress(Progress{Stage: "recall"})
	if a.opts.Knowledge != nil {
		if err := a.recall(ctx, req, rep); err != nil {
			return nil, err
		}
	} else {
		rep.Limits = append(rep.Limits, "no knowledge base: runbooks and past incidents were not searched")
	}
	rep.Timing["recall"] = time.Since(t0).Milliseconds()

	rep.Cause = judgeCause(cands, rep.Runbooks, last)
	rep.Confidence = confidence(rep)
	rep.NextSteps = nextSteps(rep)
	rep.Answer = compose(rep)
	// Empty lists, not nulls, for JSON clients.
	if rep.Evidence == nil {
		rep.Evidence = []Evidence{}
	}
	if rep.Runbooks == nil {
		rep.Runbooks = []RunbookHit{}
	}
	if rep.NextSteps == nil {
		rep.NextSteps = []string{}
	}
	if rep.Sources == nil {
		rep.Sources = []SourceSummary{}
	}
	return rep, nil
}

// clusterKey is the analyzer's cluster key; the analyzer needs one even
// when the request names no cluster.
func clusterKey(c string) string {
	if c == "" {
		return "-"
	}
	return c
}

// evidenceQuery is the knowledge search text: the question, then the
// evidence templates (placeholders dropped), strongest first.
func evidenceQuery(question string, ev []Evidence, n int) string {
	var b strings.Builder
	b.WriteString(question)
	for _, e := range ev[:min(n, len(ev))] {
		b.WriteString("\n")
		b.WriteString(strings.ReplaceAll(e.Template, "<*>", " "))
		if e.Example != "" && e.Example != e.Template {
			// The example carries what the template hid (an exception's
			// message in a joined stack trace).
			b.WriteString("\n")
			b.WriteString(clip(e.Example, 600))
		}
	}
	return b.String()
}

// recall searches the runbooks with the question and the evidence, and
// the cluster's past incidents with the same text.
func (a *Agent) recall(ctx context.Context, req Request, rep *Report) error {
	q := evidenceQuery(req.Question, rep.Evidence, queryEvidence)
	if w := alertWords(rep.Alerts); w != "" {
		q += "\n" + w
	}
	var services []string
	for _, e := range rep.Evidence[:min(queryEvidence, len(rep.Evidence))] {
		if !slices.Contains(services, e.Service) {
			services = append(services, e.Service)
		}
	}
	hits, err := a.opts.Knowledge.Search(ctx, knowledge.Query{Text: q, Cluster: req.Cluster,
		Kinds: []knowledge.Kind{knowledge.KindRunbook}, Services: services, Limit: 3})
	if err != nil {
		return fmt.Errorf("agent: searching runbooks: %w", err)
	}
	for _, h := range hits {
		rb := RunbookHit{ID: h.ID, Title: h.Title, Score: h.Score, Chunk: h.Chunk}
		if d, err := a.opts.Knowledge.Get(h.ID); err == nil {
			rb.Diagnosis = sectionItems(d.Body, "diagnosis")
			rb.Fix = sectionItems(d.Body, "remediation")
		}
		rep.Runbooks = append(rep.Runbooks, rb)
	}
	if req.Cluster != "" {
		inc, err := a.opts.Knowledge.Search(ctx, knowledge.Query{Text: q, Cluster: req.Cluster,
			Kinds: []knowledge.Kind{knowledge.KindIncident}, Services: services, Limit: 3})
		if err != nil {
			return fmt.Errorf("agent: searching past incidents: %w", err)
		}
		rep.Incidents = inc
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// findingEvidence converts an analyzer finding.
func findingEvidence(f loganalysis.Finding) Evidence {
	e := Evidence{Kind: f.Kind, Service: f.Service, Severity: f.Severity.String(), Template: f.Template,
		Count: f.Count, FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), Score: f.Score, Why: f.Explanation}
	if len(f.Examples) > 0 {
		e.Example = Redact(clip(f.Examples[0], 2000))
	}
	e.Template = Redact(e.Template)
	return e
}

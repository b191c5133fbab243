package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

var t0 = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

// line is one synthetic log line of a service at minute m, second s.
type line struct {
	svc   string
	m, s  int
	level string
	msg   string
}

// story builds a 60-minute cluster history: steady info traffic on every
// service, plus the given lines.
func story(services []string, extra ...line) []line {
	var out []line
	for m := 0; m < 60; m++ {
		for _, svc := range services {
			out = append(out, line{svc, m, 1, "INFO", fmt.Sprintf("request served path=/items/%d status=200", m)})
			out = append(out, line{svc, m, 30, "INFO", fmt.Sprintf("cache refreshed entries=%d", 100+m)})
		}
	}
	return append(out, extra...)
}

func (l line) text() string {
	return fmt.Sprintf("%s %s %s", t0.Add(time.Duration(l.m)*time.Minute+time.Duration(l.s)*time.Second).Format(time.RFC3339), l.level, l.msg)
}

func (l line) record() sdk.Record {
	return sdk.Record{Body: l.text(), Service: l.svc}
}

// attach groups lines into one attachment per service.
func attach(lines []line) []Attachment {
	by := map[string]*strings.Builder{}
	var order []string
	for _, l := range lines {
		b := by[l.svc]
		if b == nil {
			b = &strings.Builder{}
			by[l.svc] = b
			order = append(order, l.svc)
		}
		b.WriteString(l.text() + "\n")
	}
	var out []Attachment
	for _, svc := range order {
		out = append(out, Attachment{Name: svc + ".log", Text: by[svc].String()})
	}
	return out
}

func every(svc string, fromMin, toMin int, level, msg string) []line {
	var out []line
	for m := fromMin; m < toMin; m++ {
		out = append(out, line{svc, m, 10, level, msg}, line{svc, m, 40, level, msg})
	}
	return out
}

// dbOutage: db starts failing at minute 40; api's errors name it a few
// seconds later; a standing error in web was there all along.
func dbOutage() []line {
	ls := story([]string{"api", "db", "web"})
	ls = append(ls, every("db", 40, 60, "ERROR", "could not write block: disk quota exceeded")...)
	for m := 40; m < 60; m++ {
		ls = append(ls, line{"api", m, 15, "ERROR", "query failed: connection to db-primary refused"})
	}
	for m := 0; m < 60; m += 5 {
		ls = append(ls, line{"web", m, 20, "ERROR", "favicon lookup failed: not found"})
	}
	return ls
}

func TestAskFindsCulpritFromAttachments(t *testing.T) {
	a := New(Options{})
	rep, err := a.Ask(t.Context(), Request{Question: "api errors since 10:40 UTC, what is wrong?", Attachments: attach(dbOutage())})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || rep.Cause.Service != "db" {
		t.Fatalf("cause = %+v, want service db", rep.Cause)
	}
	if want := t0.Add(40*time.Minute + 10*time.Second); !rep.Cause.Onset.Equal(want) {
		t.Errorf("onset = %s, want %s", rep.Cause.Onset, want)
	}
	if !strings.Contains(rep.Cause.Why, "name db") && !strings.Contains(rep.Cause.Why, "failed first") {
		t.Errorf("why = %q: no reason given", rep.Cause.Why)
	}
	cause := causeOfAnswer(rep.Answer)
	if strings.Contains(cause, "favicon") {
		t.Errorf("the standing favicon error is in the cause section:\n%s", cause)
	}
	if !strings.Contains(rep.Answer, "## Probably not the cause") || !strings.Contains(rep.Answer, "favicon") {
		t.Errorf("the standing error is not listed as probably not the cause:\n%s", rep.Answer)
	}
	if len(rep.Sources) != 3 {
		t.Errorf("sources = %+v, want 3", rep.Sources)
	}
	if !strings.Contains(strings.Join(rep.Limits, "\n"), "no knowledge base") {
		t.Errorf("limits = %q: the missing knowledge base is not said", rep.Limits)
	}
}

func causeOfAnswer(answer string) string {
	rest, _ := strings.CutPrefix(answer, "## Likely cause")
	if i := strings.Index(rest, "\n## "); i >= 0 {
		return rest[:i]
	}
	return rest
}

// A deploy shortly before the failures is the change that caused them.
func TestAskPrefersStartShortlyBeforeFailures(t *testing.T) {
	ls := story([]string{"gateway", "cart"})
	ls = append(ls, line{"cart", 38, 5, "INFO", "cart-service 7.3.0 starting"})
	for m := 38; m < 60; m++ {
		ls = append(ls, line{"gateway", m, 50, "ERROR", "upstream connect error: no healthy upstream"})
	}
	rep, err := New(Options{}).Ask(t.Context(), Request{Question: "gateway 503s since 10:39", Attachments: attach(ls)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || rep.Cause.Service != "cart" || !rep.Cause.Onset.Equal(t0.Add(38*time.Minute+5*time.Second)) {
		t.Fatalf("cause = %+v, want cart at its start 10:38:05", rep.Cause)
	}
}

// A restart followed by calm is a coincidence, not the cause.
func TestAskIgnoresStartFollowedByCalm(t *testing.T) {
	ls := dbOutage()
	ls = append(ls, line{"web", 25, 5, "INFO", "web 2.0.1 starting"})
	rep, err := New(Options{}).Ask(t.Context(), Request{Question: "api errors since 10:40 UTC", Attachments: attach(ls)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || rep.Cause.Service != "db" {
		t.Fatalf("cause = %+v, want db (web's restart was 15 calm minutes earlier)", rep.Cause)
	}
}

// fakeSource serves per-integration records, or fails. The agent pulls
// integrations in parallel, so it records queries under a lock.
type fakeSource struct {
	records map[string][]sdk.Record
	fail    map[string]error
	mu      sync.Mutex
	queries map[string]sdk.LogQuery
}

func (f *fakeSource) SearchLogs(ctx context.Context, id string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	f.mu.Lock()
	if f.queries == nil {
		f.queries = map[string]sdk.LogQuery{}
	}
	f.queries[id] = q
	f.mu.Unlock()
	if err := f.fail[id]; err != nil {
		return err
	}
	recs := f.records[id]
	for len(recs) > 0 {
		n := min(100, len(recs))
		if err := fn(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func TestAskPullsIntegrationsAndSurvivesADeadOne(t *testing.T) {
	var recs []sdk.Record
	for _, l := range dbOutage() {
		recs = append(recs, l.record())
	}
	src := &fakeSource{
		records: map[string][]sdk.Record{"prod/splunk": recs},
		fail:    map[string]error{"prod/datadog": &sdk.Error{Code: sdk.CodeUnavailable, Message: "plugin exited"}},
	}
	from, to := t0, t0.Add(time.Hour)
	rep, err := New(Options{Source: src}).Ask(t.Context(), Request{Question: "what broke?", Cluster: "prod",
		Integrations: []string{"prod/datadog", "prod/splunk"}, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if q := src.queries["prod/splunk"]; !q.Start.Equal(from) || !q.End.Equal(to) {
		t.Errorf("query window = %s..%s, want %s..%s", q.Start, q.End, from, to)
	}
	if len(rep.Sources) != 2 || rep.Sources[0].Error == "" || rep.Sources[1].Records != len(recs) {
		t.Fatalf("sources = %+v: want the dead one's error and every record of the live one", rep.Sources)
	}
	if rep.Cause == nil || rep.Cause.Service != "db" {
		t.Fatalf("cause = %+v, want db", rep.Cause)
	}
}

func TestAskClipsAtTheRecordBound(t *testing.T) {
	var recs []sdk.Record
	for _, l := range story([]string{"api"}) {
		recs = append(recs, l.record())
	}
	src := &fakeSource{records: map[string][]sdk.Record{"prod/files": recs}}
	rep, err := New(Options{Source: src, MaxRecords: 50}).Ask(t.Context(), Request{Question: "anything?",
		Integrations: []string{"prod/files"}, From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if src.queries["prod/files"].Limit != 50 {
		t.Errorf("query limit = %d, want 50", src.queries["prod/files"].Limit)
	}
	if s := rep.Sources[0]; s.Records != 50 || !s.Clipped {
		t.Errorf("source = %+v, want 50 records, clipped", s)
	}
	if !strings.Contains(strings.Join(rep.Limits, "\n"), "only the first 50 records") {
		t.Errorf("limits = %q: the clip is not said", rep.Limits)
	}
}

func TestAskNeverRepeatsASecret(t *testing.T) {
	const secret = "hunter2-very-secret"
	ls := dbOutage()
	for m := 40; m < 60; m++ {
		ls = append(ls, line{"api", m, 45, "ERROR", "login to db-primary failed for user=orders password=" + secret})
	}
	rep, err := New(Options{}).Ask(t.Context(), Request{Question: "why?", Attachments: attach(ls)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(rep)
	if strings.Contains(string(data), secret) {
		t.Fatalf("the report repeats a secret from the logs:\n%s", data)
	}
	if !strings.Contains(string(data), "REDACTED") {
		t.Fatalf("the line with the secret is not in the evidence at all; the test proves nothing:\n%s", rep.Answer)
	}
}

func TestAskValidates(t *testing.T) {
	a := New(Options{})
	for name, req := range map[string]Request{
		"empty question":          {Question: "  "},
		"huge question":           {Question: strings.Repeat("x", maxQuestion+1)},
		"integrations, no source": {Question: "q", Integrations: []string{"a/b"}},
	} {
		if _, err := a.Ask(t.Context(), req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	b := New(Options{Source: &fakeSource{}})
	for name, req := range map[string]Request{
		"window backwards": {Question: "q", Integrations: []string{"a/b"}, From: t0, To: t0.Add(-time.Minute)},
		"window too long":  {Question: "q", Integrations: []string{"a/b"}, From: t0, To: t0.Add(8 * 24 * time.Hour)},
	} {
		if _, err := b.Ask(t.Context(), req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// fakeKB answers every search with fixed runbooks.
type fakeKB struct{ docs map[string]knowledge.Document }

func (f fakeKB) Search(_ context.Context, q knowledge.Query) ([]knowledge.Hit, error) {
	if len(q.Kinds) == 1 && q.Kinds[0] != knowledge.KindRunbook {
		return nil, nil
	}
	var out []knowledge.Hit
	for _, d := range f.docs {
		out = append(out, knowledge.Hit{ID: d.ID, Title: d.Title, Kind: d.Kind, Score: 0.5, Chunk: d.Body})
	}
	return out, nil
}

func (f fakeKB) Get(id string) (knowledge.Document, error) {
	d, ok := f.docs[id]
	if !ok {
		return d, knowledge.ErrNotFound
	}
	return d, nil
}

func TestAskWithoutLogsStillRecallsRunbooks(t *testing.T) {
	kb := fakeKB{docs: map[string]knowledge.Document{"rb-disk": {ID: "rb-disk", Kind: knowledge.KindRunbook, Title: "Disk full",
		Body: "## Diagnosis steps\n\n1. Check usage.\n\n   ```bash\n   df -h\n   ```\n\n2. Find big dirs.\n\n## Remediation\n\n1. Free space.\n"}}}
	rep, err := New(Options{Knowledge: kb}).Ask(t.Context(), Request{Question: "disk full on kafka?"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause != nil || rep.Confidence != "none" {
		t.Errorf("cause = %+v, confidence %q: want none without logs", rep.Cause, rep.Confidence)
	}
	if len(rep.Runbooks) != 1 || rep.Runbooks[0].ID != "rb-disk" {
		t.Fatalf("runbooks = %+v", rep.Runbooks)
	}
	want := []string{"Check: Check usage.", "Check: Find big dirs.", "Fix: Free space."}
	if strings.Join(rep.NextSteps, "|") != strings.Join(want, "|") {
		t.Errorf("next steps = %q, want %q", rep.NextSteps, want)
	}
	if !strings.Contains(strings.Join(rep.Limits, "\n"), "no logs") {
		t.Errorf("limits = %q: the missing logs are not said", rep.Limits)
	}
}

func TestOnsetHint(t *testing.T) {
	now := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	for q, want := range map[string]time.Time{
		"502s since about 13:41 UTC":     time.Date(2026, 11, 26, 13, 41, 0, 0, time.UTC),
		"broken since 15:10Z, why":       time.Date(2026, 11, 25, 15, 10, 0, 0, time.UTC),
		"started at 9:05 and continues":  time.Date(2026, 11, 26, 9, 5, 0, 0, time.UTC),
		"checkout fails, what is wrong?": {},
		"since around 14:10 CET":         time.Date(2026, 11, 26, 13, 10, 0, 0, time.UTC),
		"since 15:02 +02:00":             time.Date(2026, 11, 26, 13, 2, 0, 0, time.UTC),
		"since 08:30 EST":                time.Date(2026, 11, 26, 13, 30, 0, 0, time.UTC),
		"at 13:41 and still failing":     time.Date(2026, 11, 26, 13, 41, 0, 0, time.UTC),
		"error code 99:99 is not a time": {},
	} {
		got, ok := onsetHint(q, now)
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Errorf("onsetHint(%q) = %s, %v; want %s", q, got, ok, want)
		}
	}
}

func TestErrorTimelineShift(t *testing.T) {
	e := errorTimeline{}
	base := t0.Unix() / 60
	for m := int64(0); m < 60; m++ {
		if m%7 == 0 {
			e[base+m] = 1 // background noise
		}
		if m >= 42 {
			e[base+m] += 20
		}
	}
	got, ok := e.shift()
	if !ok || !got.Equal(t0.Add(42*time.Minute)) {
		t.Errorf("shift = %s, %v; want %s", got, ok, t0.Add(42*time.Minute))
	}
	flat := errorTimeline{}
	for m := int64(0); m < 60; m++ {
		flat[base+m] = 3
	}
	if got, ok := flat.shift(); ok {
		t.Errorf("a flat error rate has a shift at %s", got)
	}
}

func TestMentions(t *testing.T) {
	for _, tt := range []struct {
		text, svc string
		want      bool
	}{
		{`I/O error on POST "https://inventory-api.prod.svc:8443/v1"`, "inventory-api", true},
		{"Connection to node 2 (kafka-2.kafka-headless) could not be established. Broker may not be available.", "kafka-broker-2", true},
		{"dispatch enqueue failed: events queue full", "k8s-events", false},
		{"order placement failed", "inventory-api", false},
	} {
		if got := mentions(tt.text, tt.svc); got != tt.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tt.text, tt.svc, got, tt.want)
		}
	}
}

func TestSectionItemsSkipsCodeAndNestedLines(t *testing.T) {
	body := "## Symptoms\n\n- a\n\n## Diagnosis steps\n\n1. First.\n\n   ```bash\n   1. not an item\n   ```\n\n   - nested\n2. Second.\n\n## Remediation\n\n- Fix it.\n"
	if got := sectionItems(body, "diagnosis"); strings.Join(got, "|") != "First.|Second." {
		t.Errorf("diagnosis = %q", got)
	}
	if got := sectionItems(body, "remediation"); strings.Join(got, "|") != "Fix it." {
		t.Errorf("remediation = %q", got)
	}
}

func TestEventObject(t *testing.T) {
	for line, want := range map[string]string{
		`{"involvedObject":{"kind":"Pod","name":"cart-service-dbxzp2gc5-l5jf4"},"message":"Back-off"}`: "cart-service",
		`{"involvedObject":{"kind":"Pod","name":"kafka-2"},"message":"x"}`:                             "kafka-2",
		`{"involvedObject":{"kind":"Pod","name":"db-migrate-2024-03-12-1-k6jdx"},"message":"x"}`:       "db-migrate-2024-03-12-1",
		`{"involvedObject":{"kind":"Deployment","name":"checkout-api"},"message":"Scaled up"}`:         "checkout-api",
		`{"involvedObject":{"kind":"ReplicaSet","name":"checkout-api-7d9f8b6c5"},"message":"x"}`:       "checkout-api",
	} {
		if got, ok := eventObject(line); !ok || got != want {
			t.Errorf("eventObject(%s) = %q, %v; want %q", line, got, ok, want)
		}
	}
	if _, ok := eventObject(`{"level":"error","msg":"no involved object here"}`); ok {
		t.Error("a plain JSON log line read as an event")
	}
}

// An image that cannot be pulled shows only in the cluster's events: the
// culprit is the workload they name, not the event stream.
func TestAskBlamesTheWorkloadOfKubernetesEvents(t *testing.T) {
	ls := story([]string{"api"})
	var events strings.Builder
	for m := 0; m < 60; m += 10 {
		fmt.Fprintf(&events, `{"type":"Normal","reason":"Pulled","message":"Container image already present","involvedObject":{"kind":"Pod","name":"search-7c9d8f6b5-x2x9q"},"lastTimestamp":"%s"}`+"\n",
			t0.Add(time.Duration(m)*time.Minute).Format(time.RFC3339))
	}
	for m := 40; m < 60; m++ {
		fmt.Fprintf(&events, `{"type":"Warning","reason":"Failed","message":"Failed to pull image \"registry.example/cart:7.4.0\": not found","involvedObject":{"kind":"Pod","name":"cart-5f6d7c8b9-abcde"},"lastTimestamp":"%s"}`+"\n",
			t0.Add(time.Duration(m)*time.Minute+20*time.Second).Format(time.RFC3339))
		ls = append(ls, line{"api", m, 45, "ERROR", "GET /cart failed: connection refused"})
	}
	atts := append(attach(ls), Attachment{Name: "k8s-events.log", Text: events.String()})
	rep, err := New(Options{}).Ask(t.Context(), Request{Question: "api errors since 10:40 UTC", Attachments: atts})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || rep.Cause.Service != "cart" {
		t.Fatalf("cause = %+v, want the workload cart", rep.Cause)
	}
}

func TestLifecycleWords(t *testing.T) {
	for text, want := range map[string]bool{
		"Starting OrdersApplication v2.14.0 using Java 17":     true,
		"cart-service 7.3.0 starting":                          true,
		"Scaled up replica set cart-service-dbxzp2gc5 to 1":    true,
		"feature flag checkout_v2 enabled for 100% of traffic": true,
		"configuration reloaded from /etc/app/config.yaml":     true,
		"Started container worker":                             false,
		"request served path=/items/3":                         false,
		"flag parsing failed":                                  false,
	} {
		if got := lifecycleRE.MatchString(text); got != want {
			t.Errorf("lifecycleRE(%q) = %v, want %v", text, got, want)
		}
	}
}

// A service named in another's errors is not blamed when its own
// failures start well after them: effects do not precede causes.
func TestAskDoesNotBlameALaterFailure(t *testing.T) {
	ls := story([]string{"web", "payments"})
	ls = append(ls, every("web", 40, 60, "ERROR", "render failed: template cache corrupt, payments widget skipped")...)
	ls = append(ls, every("payments", 50, 60, "ERROR", "worker pool saturated")...)
	rep, err := New(Options{}).Ask(t.Context(), Request{Question: "errors since 10:40 UTC", Attachments: attach(ls)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cause == nil || rep.Cause.Service != "web" {
		t.Fatalf("cause = %+v, want web (payments failed 10 minutes later)", rep.Cause)
	}
}

func TestAskMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := New(Options{Registerer: reg})
	if _, err := a.Ask(t.Context(), Request{Question: "why?", Attachments: attach(dbOutage())}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ask(t.Context(), Request{Question: " "}); err == nil {
		t.Fatal("an empty question was answered")
	}
	New(Options{Registerer: reg}) // a second agent on the same registry must not panic
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	if got["faultmaven_ask_answers_total,medium"] != 1 || got["faultmaven_ask_answers_total,invalid"] != 1 {
		t.Errorf("answers = %v", got)
	}
	if n := got["faultmaven_ask_records_analyzed_total"]; n != float64(len(dbOutage())) {
		t.Errorf("records analyzed = %v, want %d", n, len(dbOutage()))
	}
}

func TestAskReportsProgress(t *testing.T) {
	var recs []sdk.Record
	for _, l := range dbOutage() {
		recs = append(recs, l.record())
	}
	src := &fakeSource{records: map[string][]sdk.Record{"prod/logs": recs}}
	var steps []Progress
	_, err := New(Options{Source: src}).Ask(t.Context(), Request{Question: "why?", Integrations: []string{"prod/logs"},
		From: t0, To: t0.Add(time.Hour), Attachments: attach(story([]string{"web"})),
		Progress: func(p Progress) { steps = append(steps, p) }})
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	doneRecords := map[string]int{}
	for _, p := range steps {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Done {
			doneRecords[p.Source] = p.Records
		}
	}
	if strings.Join(stages, ",") != "pull,analyze,recall" {
		t.Errorf("stages = %v", stages)
	}
	if doneRecords["prod/logs"] != len(recs) || doneRecords["web.log"] != 120 {
		t.Errorf("finished sources = %v", doneRecords)
	}
}

// fakeMetrics answers the ALERTS query with fixed series.
type fakeMetrics struct {
	series []sdk.Series
	err    error
	query  sdk.MetricQuery
}

func (f *fakeMetrics) QueryMetrics(_ context.Context, _ string, q sdk.MetricQuery) ([]sdk.Series, error) {
	f.query = q
	return f.series, f.err
}

func TestAskReadsFiringAlerts(t *testing.T) {
	at := func(m int, v float64) sdk.Sample {
		return sdk.Sample{Timestamp: t0.Add(time.Duration(m) * time.Minute), Value: v}
	}
	met := &fakeMetrics{series: []sdk.Series{
		{Name: "ALERTS", Labels: map[string]string{"alertname": "DiskAlmostFull", "alertstate": "firing", "severity": "critical", "service": "db", "extra": "x"},
			Samples: []sdk.Sample{at(41, 1), at(42, 1), at(43, 1)}},
		{Name: "ALERTS", Labels: map[string]string{"alertname": "Watchdog", "alertstate": "firing"}, Samples: []sdk.Sample{at(0, 1), at(59, 1)}},
	}}
	kb := fakeKB{docs: map[string]knowledge.Document{"rb-disk": {ID: "rb-disk", Kind: knowledge.KindRunbook, Title: "Disk full", Body: "## Remediation\n\n1. Free space.\n"}}}
	var recs []sdk.Record
	for _, l := range dbOutage() {
		recs = append(recs, l.record())
	}
	rep, err := New(Options{Source: &fakeSource{records: map[string][]sdk.Record{"prod/logs": recs}}, Metrics: met, Knowledge: kb}).Ask(t.Context(),
		Request{Question: "why?", Integrations: []string{"prod/logs"}, MetricIntegrations: []string{"prod/prom"}, From: t0, To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if met.query.Query != `ALERTS{alertstate="firing"}` || !met.query.Start.Equal(t0) || met.query.Step <= 0 {
		t.Errorf("query = %+v", met.query)
	}
	if len(rep.Alerts) != 2 || rep.Alerts[0].Name != "Watchdog" || rep.Alerts[1].Name != "DiskAlmostFull" ||
		!rep.Alerts[1].FirstFiring.Equal(t0.Add(41*time.Minute)) || rep.Alerts[1].Labels["extra"] != "" {
		t.Fatalf("alerts = %+v", rep.Alerts)
	}
	if !strings.Contains(rep.Answer, "## Alerts that fired") || !strings.Contains(rep.Answer, "`DiskAlmostFull` severity=critical service=db") {
		t.Errorf("answer:\n%s", rep.Answer)
	}

	met.err = &sdk.Error{Code: sdk.CodeUnavailable, Message: "prometheus down"}
	rep, err = New(Options{Metrics: met}).Ask(t.Context(), Request{Question: "why?", MetricIntegrations: []string{"prod/prom"},
		From: t0, To: t0.Add(time.Hour), Attachments: attach(dbOutage())})
	if err != nil || len(rep.Alerts) != 0 || !strings.Contains(strings.Join(rep.Limits, "\n"), "prod/prom: firing alerts not read") {
		t.Errorf("a failing metrics source: err %v, alerts %v, limits %q", err, rep.Alerts, rep.Limits)
	}
}

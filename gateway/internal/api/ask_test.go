package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/agent"
)

type recordingAsker struct {
	got agent.Request
	err error
}

func (a *recordingAsker) Ask(_ context.Context, req agent.Request) (*agent.Report, error) {
	a.got = req
	if a.err != nil {
		return nil, a.err
	}
	return &agent.Report{Question: req.Question, Answer: "## Likely cause\n"}, nil
}

func TestAskRoute(t *testing.T) {
	clusters := func(c string) ([]string, bool) {
		if c == "prod" {
			return []string{"prod/datadog", "prod/splunk"}, true
		}
		return nil, false
	}
	tests := []struct {
		name     string
		body     string
		err      error
		status   int
		wantInts []string
	}{
		{"cluster expands to its log integrations", `{"question":"why?","cluster":"prod"}`, nil, 200, []string{"prod/datadog", "prod/splunk"}},
		{"integrations narrow the cluster", `{"question":"why?","cluster":"prod","integrations":["splunk"]}`, nil, 200, []string{"prod/splunk"}},
		{"attachments only", `{"question":"why?","attachments":[{"name":"a.log","text":"x"}]}`, nil, 200, nil},
		{"unknown cluster", `{"question":"why?","cluster":"qa"}`, nil, 404, nil},
		{"unknown integration", `{"question":"why?","cluster":"prod","integrations":["loki"]}`, nil, 400, nil},
		{"integrations without cluster", `{"question":"why?","integrations":["splunk"]}`, nil, 400, nil},
		{"bad JSON", `{"question":`, nil, 400, nil},
		{"invalid request", `{"question":""}`, fmt.Errorf("%w: the question is empty", agent.ErrInvalid), 400, nil},
		{"internal error hides details", `{"question":"why?"}`, fmt.Errorf("dial tcp 10.0.0.7:5432: secret-host"), 500, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asker := &recordingAsker{err: tt.err}
			r := mux.NewRouter()
			RegisterAsk(r, asker, clusters, func(string) []string { return []string{"prod/prom"} })
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/ask", strings.NewReader(tt.body)))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type = %q", ct)
				}
				if strings.Contains(rec.Body.String(), "secret-host") {
					t.Errorf("an internal error reached the response: %s", rec.Body)
				}
				return
			}
			if tt.wantInts != nil && strings.Join(asker.got.MetricIntegrations, ",") != "prod/prom" {
				t.Errorf("metric integrations = %v", asker.got.MetricIntegrations)
			}
			if strings.Join(asker.got.Integrations, ",") != strings.Join(tt.wantInts, ",") {
				t.Errorf("integrations = %v, want %v", asker.got.Integrations, tt.wantInts)
			}
			var rep agent.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rep.Question != "why?" {
				t.Errorf("body = %s (%v)", rec.Body, err)
			}
		})
	}
}

// progressAsker reports two steps, then answers.
type progressAsker struct{}

func (progressAsker) Ask(_ context.Context, req agent.Request) (*agent.Report, error) {
	req.Progress(agent.Progress{Stage: "pull", Source: "prod/splunk", Records: 10, Done: true})
	req.Progress(agent.Progress{Stage: "analyze"})
	return &agent.Report{Question: req.Question, Answer: "## Likely cause\n"}, nil
}

func TestAskRouteStreamsEvents(t *testing.T) {
	r := mux.NewRouter()
	RegisterAsk(r, progressAsker{}, func(string) ([]string, bool) { return []string{"prod/splunk"}, true }, nil)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/ask", strings.NewReader(`{"question":"why?","cluster":"prod"}`))
	req.Header.Set("Accept", "text/event-stream")
	r.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type = %q", ct)
	}
	body := rec.Body.String()
	var events []string
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		ev, data, _ := strings.Cut(block, "\n")
		events = append(events, strings.TrimPrefix(ev, "event: "))
		if !strings.HasPrefix(data, "data: {") {
			t.Errorf("event %q has data %q", ev, data)
		}
	}
	if strings.Join(events, ",") != "progress,progress,answer" {
		t.Fatalf("events = %v\n%s", events, body)
	}
	if !strings.Contains(body, `"question":"why?"`) {
		t.Errorf("the answer event lacks the report:\n%s", body)
	}
}

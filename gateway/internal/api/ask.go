package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/agent"
)

// maxAskBody bounds a question with attached logs.
const maxAskBody = 64 << 20

// askTimeout is the server's ceiling for one answer; clients (the browser
// extension waits 300 s) must wait longer than this.
const askTimeout = 120 * time.Second

// Asker answers questions; *agent.Agent implements it.
type Asker interface {
	Ask(ctx context.Context, req agent.Request) (*agent.Report, error)
}

// LogIntegrations lists the instance ids of a cluster's integrations that
// can search logs; ok is false for an unknown cluster.
type LogIntegrations func(cluster string) (ids []string, ok bool)

// MetricIntegrations lists the instance ids of a cluster's integrations
// that run metric queries (their firing alerts join the answer).
type MetricIntegrations func(cluster string) []string

// askRequest is the body of POST /api/v1/ask.
type askRequest struct {
	Question string `json:"question"`
	Cluster  string `json:"cluster,omitempty"`
	// Integrations narrows the cluster's integrations by name; empty
	// means all of them.
	Integrations []string           `json:"integrations,omitempty"`
	From         time.Time          `json:"from,omitzero"`
	To           time.Time          `json:"to,omitzero"`
	Attachments  []agent.Attachment `json:"attachments,omitempty"`
}

// RegisterAsk adds
//
//	POST /api/v1/ask  answer a question from the cluster's logs (and any
//	                  attached logs): likely cause, evidence, runbooks,
//	                  next steps
func RegisterAsk(r *mux.Router, asker Asker, logIntegrations LogIntegrations, metricIntegrations MetricIntegrations) {
	r.HandleFunc("/api/v1/ask", func(w http.ResponseWriter, r *http.Request) {
		var body askRequest
		if !DecodeJSON(w, r, maxAskBody, &body) {
			return
		}
		req := agent.Request{Question: body.Question, Cluster: body.Cluster, From: body.From, To: body.To, Attachments: body.Attachments}
		if body.Cluster != "" {
			ids, ok := logIntegrations(body.Cluster)
			if !ok {
				WriteProblem(w, http.StatusNotFound, "cluster "+body.Cluster+" is not configured")
				return
			}
			if len(body.Integrations) > 0 {
				var picked []string
				for _, name := range body.Integrations {
					id := body.Cluster + "/" + name
					found := false
					for _, have := range ids {
						if have == id {
							found = true
						}
					}
					if !found {
						WriteProblem(w, http.StatusBadRequest, "integration "+id+" is not configured, or cannot search logs",
							FieldProblem{Field: "integrations", Message: "unknown integration " + name})
						return
					}
					picked = append(picked, id)
				}
				ids = picked
			}
			req.Integrations = ids
			if metricIntegrations != nil {
				req.MetricIntegrations = metricIntegrations(body.Cluster)
			}
		} else if len(body.Integrations) > 0 {
			WriteProblem(w, http.StatusBadRequest, "integrations need a cluster", FieldProblem{Field: "cluster", Message: "required with integrations"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
		defer cancel()
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			streamAnswer(ctx, w, asker, req)
			return
		}
		rep, err := asker.Ask(ctx, req)
		switch {
		case errors.Is(err, agent.ErrInvalid):
			WriteProblem(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			WriteProblem(w, http.StatusGatewayTimeout, "no answer within "+askTimeout.String()+"; narrow the window or the integrations")
		case err != nil:
			slog.Error("api: ask", "err", err)
			WriteProblem(w, http.StatusInternalServerError, "the answer failed; the server log has the details")
		default:
			WriteJSON(w, http.StatusOK, rep)
		}
	}).Methods(http.MethodPost)
}

// streamAnswer answers as server-sent events: "progress" events while the
// logs are read and analyzed, then one "answer" event with the report, or
// one "error" event with a problem document.
func streamAnswer(ctx context.Context, w http.ResponseWriter, asker Asker, req agent.Request) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) {
		data, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		if flusher != nil {
			flusher.Flush()
		}
	}
	last := time.Time{}
	req.Progress = func(p agent.Progress) {
		// At most a few events a second per stream, but every stage change
		// and every finished source.
		if p.Stage == "pull" && !p.Done && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		send("progress", p)
	}
	rep, err := asker.Ask(ctx, req)
	switch {
	case errors.Is(err, agent.ErrInvalid):
		send("error", Problem{Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest, Detail: err.Error()})
	case errors.Is(err, context.DeadlineExceeded):
		send("error", Problem{Title: http.StatusText(http.StatusGatewayTimeout), Status: http.StatusGatewayTimeout,
			Detail: "no answer within " + askTimeout.String() + "; narrow the window or the integrations"})
	case err != nil:
		slog.Error("api: ask", "err", err)
		send("error", Problem{Title: http.StatusText(http.StatusInternalServerError), Status: http.StatusInternalServerError,
			Detail: "the answer failed; the server log has the details"})
	default:
		send("answer", rep)
	}
}

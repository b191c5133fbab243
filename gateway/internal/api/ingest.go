package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
)

// IngestQueue is what the ingest routes need of the job queue
// (*jobs.Queue).
type IngestQueue interface {
	EnqueueIngest(ctx context.Context, r jobs.IngestRequest) (int64, error)
	Job(ctx context.Context, id int64) (jobs.JobStatus, error)
}

// AnalysisReader is what the findings and templates routes need of the
// store (store.Store).
type AnalysisReader interface {
	ListFindings(ctx context.Context, cluster string, since time.Time) ([]store.Finding, error)
	ListTemplates(ctx context.Context, cluster, integration string) ([]store.Template, error)
}

// IngestRequest is the body of POST /api/v1/ingest: a window given either
// as since (a Go duration back from now, e.g. "1h") or as from and to
// (RFC 3339).
type IngestRequest struct {
	Cluster     string    `json:"cluster"`
	Integration string    `json:"integration"`
	Since       string    `json:"since,omitempty"`
	From        time.Time `json:"from,omitzero"`
	To          time.Time `json:"to,omitzero"`
}

// IngestAccepted answers POST /api/v1/ingest.
type IngestAccepted struct {
	JobID     int64  `json:"job_id"`
	StatusURL string `json:"status_url"`
}

// FindingJSON is one finding as the API shows it.
type FindingJSON struct {
	RunID       int64     `json:"run_id"`
	Cluster     string    `json:"cluster"`
	Integration string    `json:"integration"`
	Kind        string    `json:"kind"`
	TemplateID  string    `json:"template_id"`
	Template    string    `json:"template"`
	Severity    string    `json:"severity"`
	Service     string    `json:"service,omitempty"`
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
	Count       int64     `json:"count"`
	Score       float64   `json:"score"`
	Explanation string    `json:"explanation,omitempty"`
	Examples    []string  `json:"examples"`
}

// TemplateJSON is one template as the API shows it.
type TemplateJSON struct {
	Cluster     string    `json:"cluster"`
	Integration string    `json:"integration"`
	ID          string    `json:"id"`
	Template    string    `json:"template"`
	Severity    string    `json:"severity"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
}

// RegisterIngest adds POST /api/v1/ingest, GET /api/v1/jobs/{id},
// GET /api/v1/findings?cluster=&since= and
// GET /api/v1/templates?cluster=&integration=. now is the clock (nil =
// time.Now).
func RegisterIngest(r *mux.Router, q IngestQueue, st AnalysisReader, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	r.HandleFunc("/api/v1/ingest", func(w http.ResponseWriter, r *http.Request) {
		var req IngestRequest
		if !DecodeJSON(w, r, 64<<10, &req) {
			return
		}
		var fields []FieldProblem
		if req.Cluster == "" {
			fields = append(fields, FieldProblem{Field: "cluster", Message: "required"})
		}
		if req.Integration == "" {
			fields = append(fields, FieldProblem{Field: "integration", Message: "required"})
		}
		from, to := req.From, req.To
		switch {
		case req.Since != "" && from.IsZero() && to.IsZero():
			d, err := time.ParseDuration(req.Since)
			if err != nil || d <= 0 {
				fields = append(fields, FieldProblem{Field: "since", Message: "a positive duration such as 15m or 1h"})
			}
			to = now().UTC()
			from = to.Add(-d)
		case req.Since == "" && !from.IsZero() && !to.IsZero():
			if !from.Before(to) {
				fields = append(fields, FieldProblem{Field: "from", Message: "must be before to"})
			}
		default:
			fields = append(fields, FieldProblem{Field: "since", Message: "give either since or both from and to"})
		}
		if len(fields) > 0 {
			WriteProblem(w, http.StatusBadRequest, "invalid ingest request", fields...)
			return
		}
		id, err := q.EnqueueIngest(r.Context(), jobs.IngestRequest{Cluster: req.Cluster, Integration: req.Integration, From: from, To: to})
		switch {
		case errors.Is(err, store.ErrNotFound):
			WriteProblem(w, http.StatusNotFound, "integration "+req.Cluster+"/"+req.Integration+" is not configured")
			return
		case errors.Is(err, jobs.ErrInvalidRequest):
			WriteProblem(w, http.StatusBadRequest, err.Error())
			return
		case err != nil:
			WriteProblem(w, http.StatusInternalServerError, "could not enqueue the ingest job")
			return
		}
		url := "/api/v1/jobs/" + strconv.FormatInt(id, 10)
		w.Header().Set("Location", url)
		WriteJSON(w, http.StatusAccepted, IngestAccepted{JobID: id, StatusURL: url})
	}).Methods(http.MethodPost)

	r.HandleFunc("/api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		if err != nil || id <= 0 {
			WriteProblem(w, http.StatusBadRequest, "job id must be a positive integer")
			return
		}
		st, err := q.Job(r.Context(), id)
		switch {
		case errors.Is(err, jobs.ErrJobNotFound):
			WriteProblem(w, http.StatusNotFound, "no job "+strconv.FormatInt(id, 10))
			return
		case err != nil:
			WriteProblem(w, http.StatusInternalServerError, "could not read the job")
			return
		}
		WriteJSON(w, http.StatusOK, st)
	}).Methods(http.MethodGet)

	r.HandleFunc("/api/v1/findings", func(w http.ResponseWriter, r *http.Request) {
		cluster := r.URL.Query().Get("cluster")
		if cluster == "" {
			WriteProblem(w, http.StatusBadRequest, "cluster is required", FieldProblem{Field: "cluster", Message: "required"})
			return
		}
		var since time.Time
		if s := r.URL.Query().Get("since"); s != "" {
			if d, err := time.ParseDuration(s); err == nil && d > 0 {
				since = now().Add(-d)
			} else if t, err := time.Parse(time.RFC3339, s); err == nil {
				since = t
			} else {
				WriteProblem(w, http.StatusBadRequest, "since: a duration (1h) or an RFC 3339 time", FieldProblem{Field: "since", Message: "invalid"})
				return
			}
		}
		fs, err := st.ListFindings(r.Context(), cluster, since)
		if err != nil {
			WriteProblem(w, http.StatusInternalServerError, "could not read findings")
			return
		}
		out := make([]FindingJSON, len(fs))
		for i, f := range fs {
			out[i] = FindingJSON{RunID: f.RunID, Cluster: f.Cluster, Integration: f.Integration, Kind: f.Kind, TemplateID: f.TemplateID,
				Template: f.Template, Severity: f.Severity.String(), Service: f.Service, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
				Count: f.Count, Score: f.Score, Explanation: f.Explanation, Examples: f.Examples}
			if out[i].Examples == nil {
				out[i].Examples = []string{}
			}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"findings": out})
	}).Methods(http.MethodGet)

	r.HandleFunc("/api/v1/templates", func(w http.ResponseWriter, r *http.Request) {
		cluster := r.URL.Query().Get("cluster")
		if cluster == "" {
			WriteProblem(w, http.StatusBadRequest, "cluster is required", FieldProblem{Field: "cluster", Message: "required"})
			return
		}
		ts, err := st.ListTemplates(r.Context(), cluster, r.URL.Query().Get("integration"))
		if err != nil {
			WriteProblem(w, http.StatusInternalServerError, "could not read templates")
			return
		}
		out := make([]TemplateJSON, len(ts))
		for i, t := range ts {
			out[i] = TemplateJSON{Cluster: t.Cluster, Integration: t.Integration, ID: t.ID, Template: t.Template,
				Severity: t.Severity.String(), Count: t.Count, FirstSeen: t.FirstSeen, LastSeen: t.LastSeen}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"templates": out})
	}).Methods(http.MethodGet)
}

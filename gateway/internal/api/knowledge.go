package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/knowledge"
)

// maxKnowledgeBody bounds a document upload (the body limit plus JSON
// overhead).
const maxKnowledgeBody = knowledge.MaxBodyBytes + 64<<10

// RegisterKnowledge adds the knowledge base routes:
//
//	POST   /api/v1/knowledge/documents       ingest (or replace) one document
//	GET    /api/v1/knowledge/documents       list (?cluster=, ?kind=, ?all_clusters=true)
//	GET    /api/v1/knowledge/documents/{id}  one document
//	DELETE /api/v1/knowledge/documents/{id}  delete a document
//	POST   /api/v1/knowledge/search          hybrid search
func RegisterKnowledge(r *mux.Router, svc *knowledge.Service) {
	r.HandleFunc("/api/v1/knowledge/documents", func(w http.ResponseWriter, r *http.Request) {
		var d knowledge.Document
		if !DecodeJSON(w, r, maxKnowledgeBody, &d) {
			return
		}
		st, err := svc.Ingest(r.Context(), []knowledge.Document{d}, nil)
		if err != nil {
			writeKnowledgeError(w, err)
			return
		}
		w.Header().Set("Location", "/api/v1/knowledge/documents/"+d.ID)
		WriteJSON(w, http.StatusCreated, map[string]any{"id": d.ID, "chunks": st.Chunks})
	}).Methods(http.MethodPost)

	r.HandleFunc("/api/v1/knowledge/documents", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		o := knowledge.ListOptions{Cluster: q.Get("cluster"), Kind: knowledge.Kind(q.Get("kind"))}
		if o.Kind != "" && !o.Kind.Valid() {
			WriteProblem(w, http.StatusBadRequest, "kind must be runbook, incident, finding or note", FieldProblem{Field: "kind", Message: "unknown kind"})
			return
		}
		if v := q.Get("all_clusters"); v != "" {
			all, err := strconv.ParseBool(v)
			if err != nil {
				WriteProblem(w, http.StatusBadRequest, "all_clusters must be true or false", FieldProblem{Field: "all_clusters", Message: "not a boolean"})
				return
			}
			o.AllClusters = all
		}
		docs := svc.List(o)
		if docs == nil {
			docs = []knowledge.Document{}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"documents": docs})
	}).Methods(http.MethodGet)

	r.HandleFunc("/api/v1/knowledge/documents/{id}", func(w http.ResponseWriter, r *http.Request) {
		d, err := svc.Get(mux.Vars(r)["id"])
		if err != nil {
			writeKnowledgeError(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, d)
	}).Methods(http.MethodGet)

	r.HandleFunc("/api/v1/knowledge/documents/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Delete(r.Context(), mux.Vars(r)["id"]); err != nil {
			writeKnowledgeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}).Methods(http.MethodDelete)

	r.HandleFunc("/api/v1/knowledge/search", func(w http.ResponseWriter, r *http.Request) {
		var q knowledge.Query
		if !DecodeJSON(w, r, 64<<10, &q) {
			return
		}
		hits, err := svc.Search(r.Context(), q)
		if err != nil {
			writeKnowledgeError(w, err)
			return
		}
		if hits == nil {
			hits = []knowledge.Hit{}
		}
		WriteJSON(w, http.StatusOK, map[string]any{"hits": hits})
	}).Methods(http.MethodPost)
}

func writeKnowledgeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, knowledge.ErrNotFound):
		WriteProblem(w, http.StatusNotFound, err.Error())
	case errors.Is(err, knowledge.ErrInvalid):
		WriteProblem(w, http.StatusBadRequest, err.Error())
	default:
		// Store and embedder errors may name internal hosts: keep them in
		// the server log, not the response.
		slog.Error("api: knowledge base", "err", err)
		WriteProblem(w, http.StatusInternalServerError, "knowledge base error")
	}
}

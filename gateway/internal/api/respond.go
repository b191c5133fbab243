// Package api is the hub's HTTP API (gorilla/mux). Each area registers its
// routes from its own file; errors are application/problem+json (RFC 9457).
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Fields lists per-field problems of a rejected request body or config.
	Fields []FieldProblem `json:"fields,omitempty"`
}

// FieldProblem is one invalid field.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// WriteProblem writes a problem+json response. detail must never hold a
// secret; it is shown to the caller as is.
func WriteProblem(w http.ResponseWriter, status int, detail string, fields ...FieldProblem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Title: http.StatusText(status), Status: status, Detail: detail, Fields: fields})
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("api: writing response", "err", err)
	}
}

// DecodeJSON reads a JSON request body of at most maxBytes into v,
// rejecting unknown fields. On failure it writes the problem response and
// returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteProblem(w, http.StatusRequestEntityTooLarge, "request body is larger than the limit")
			return false
		}
		WriteProblem(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

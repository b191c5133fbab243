package api

import (
	_ "embed"
	"net/http"

	"github.com/gorilla/mux"
)

// OpenAPI is the API's OpenAPI 3.1 document.
//
//go:embed openapi.yaml
var OpenAPI []byte

// RegisterOpenAPI serves the document at GET /api/v1/openapi.yaml.
func RegisterOpenAPI(r *mux.Router) {
	r.HandleFunc("/api/v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPI)
	}).Methods(http.MethodGet)
}

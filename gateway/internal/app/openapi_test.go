package app

import (
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/faultmaven/faultmaven/gateway/internal/api"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// TestOpenAPICoversEveryRoute: every route the hub serves is in the
// OpenAPI document, and the document lists no route the hub lacks.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	cfg := config.Default()
	cfg.PluginDir = t.TempDir()
	a, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	a.registerServices(nil, nil, nil, nil, nil)
	served := map[string]bool{}
	err = a.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, _ := route.GetMethods()
		for _, m := range methods {
			served[strings.ToLower(m)+" "+path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				documented[m+" "+path] = true
			}
		}
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("served but not documented: %v\ndocumented but not served: %v", missing, extra)
	}
	if len(served) < 30 {
		t.Errorf("only %d routes found; the walk is broken", len(served))
	}
}

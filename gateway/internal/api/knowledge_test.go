package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
	"github.com/faultmaven/faultmaven/gateway/internal/api"
)

func newKnowledgeServer(t *testing.T) *httptest.Server {
	t.Helper()
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open("", embedded.DefaultOptions(emb.Dimensions()))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	r := mux.NewRouter()
	api.RegisterKnowledge(r, svc)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	var out map[string]any
	if buf.Len() > 0 {
		if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, url, buf.String(), err)
		}
	}
	return resp, out
}

func TestKnowledgeAPI(t *testing.T) {
	srv := newKnowledgeServer(t)
	base := srv.URL + "/api/v1/knowledge"
	docs := []string{
		`{"id":"rb-disk","kind":"runbook","title":"Disk full","body":"## Symptoms\n\nNo space left on device (ENOSPC) when writing logs.\n\n## Remediation\n\nDelete old segments."}`,
		`{"id":"inc-a-1","kind":"incident","title":"Disk filled on broker","body":"No space left on device on kafka-broker-2.","metadata":{"cluster":"prod-a"}}`,
		`{"id":"inc-b-1","kind":"incident","title":"Disk filled on db","body":"No space left on device on postgres.","metadata":{"cluster":"prod-b"}}`,
	}
	for _, d := range docs {
		resp, body := do(t, http.MethodPost, base+"/documents", d)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST document: %d %v", resp.StatusCode, body)
		}
	}

	t.Run("search returns hits with id, title, score and chunk, scoped to the cluster", func(t *testing.T) {
		resp, body := do(t, http.MethodPost, base+"/search", `{"query":"no space left on device","cluster":"prod-a","limit":10}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("search: %d %v", resp.StatusCode, body)
		}
		hits := body["hits"].([]any)
		if len(hits) != 2 {
			t.Fatalf("got %d hits, want 2 (the runbook and prod-a's incident): %v", len(hits), hits)
		}
		for _, h := range hits {
			m := h.(map[string]any)
			if m["id"] == "inc-b-1" {
				t.Fatal("search for prod-a returned prod-b's incident")
			}
			for _, k := range []string{"id", "title", "score", "chunk"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("hit lacks %q: %v", k, m)
				}
			}
		}
	})

	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{"get a document", http.MethodGet, "/documents/rb-disk", "", http.StatusOK},
		{"get an unknown document", http.MethodGet, "/documents/nope", "", http.StatusNotFound},
		{"list global documents", http.MethodGet, "/documents", "", http.StatusOK},
		{"list with a bad kind", http.MethodGet, "/documents?kind=poem", "", http.StatusBadRequest},
		{"post an invalid document", http.MethodPost, "/documents", `{"id":"x","kind":"incident","title":"t","body":"b"}`, http.StatusBadRequest},
		{"post unknown fields", http.MethodPost, "/documents", `{"id":"x","kind":"note","title":"t","body":"b","extra":1}`, http.StatusBadRequest},
		{"search with an empty query", http.MethodPost, "/search", `{"query":" "}`, http.StatusBadRequest},
		{"search with a bad limit", http.MethodPost, "/search", `{"query":"disk","limit":1000}`, http.StatusBadRequest},
		{"delete a document", http.MethodDelete, "/documents/inc-a-1", "", http.StatusNoContent},
		{"delete it again", http.MethodDelete, "/documents/inc-a-1", "", http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, base+tc.path, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %d %v, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
			}
			if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("error content type = %q", resp.Header.Get("Content-Type"))
			}
		})
	}

	t.Run("list shows only global documents without a cluster", func(t *testing.T) {
		_, body := do(t, http.MethodGet, base+"/documents", "")
		list := body["documents"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != "rb-disk" {
			t.Fatalf("documents = %v, want only rb-disk", list)
		}
	})
}

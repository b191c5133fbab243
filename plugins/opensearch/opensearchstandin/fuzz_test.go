package opensearchstandin_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
)

// FuzzQueryString sends arbitrary query_string text through the stand-in:
// it answers 200 or a 400 error envelope, never panics.
func FuzzQueryString(f *testing.F) {
	for _, q := range []string{`a AND b`, `message:"x y" OR -z`, `(a OR (b && !c))`, `f:(x y)`, `"unterminated`, `a:`, `***`, `\`, `+-!`, `()`} {
		f.Add(q)
	}
	s := opensearchstandin.New(opensearchstandin.Options{})
	if err := s.Index("logs", opensearchstandin.Doc{ID: "1", Source: map[string]any{"@timestamp": "2024-01-01T00:00:00Z", "message": "a b c"}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		body, _ := json.Marshal(map[string]any{"query": map[string]any{"query_string": map[string]any{"query": q}}})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/logs/_search", strings.NewReader(string(body))))
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("query %q: status %d: %s", q, rec.Code, rec.Body)
		}
	})
}

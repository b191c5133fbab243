package app

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore/qdranttest"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

var testDocs = []knowledge.Document{
	{ID: "rb-disk", Kind: knowledge.KindRunbook, Title: "Disk full", Body: "## Symptoms\n\nNo space left on device on the data volume.\n"},
	{ID: "rb-tls", Kind: knowledge.KindRunbook, Title: "TLS certificate expired", Body: "## Symptoms\n\nx509: certificate has expired or is not yet valid.\n"},
}

// roundTrip ingests the test documents and checks a search finds the
// right one first.
func roundTrip(t *testing.T, cfg config.Config) {
	t.Helper()
	svc, err := OpenKnowledge(t.Context(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Ingest(t.Context(), testDocs, nil); err != nil {
		t.Fatal(err)
	}
	hits, err := svc.Search(t.Context(), knowledge.Query{Text: "no space left on device", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].ID != "rb-disk" {
		t.Fatalf("hits = %+v, want rb-disk first", hits)
	}
}

func TestOpenKnowledgeDefault(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	roundTrip(t, cfg)
}

// embeddingsStandIn is an OpenAI-compatible /v1/embeddings endpoint that
// maps each word of a text to one of dims buckets; it counts requests
// and records the bearer token it saw.
func embeddingsStandIn(t *testing.T, dims int, token *atomic.Value, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		token.Store(r.Header.Get("Authorization"))
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if r.URL.Path != "/v1/embeddings" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, text := range req.Input {
			v := make([]float32, dims)
			for _, w := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(strings.Trim(w, ".,:")))
				v[h.Sum32()%uint32(dims)]++
			}
			data = append(data, item{Index: i, Embedding: v})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "model": req.Model})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenKnowledgeOpenAIAndQdrant(t *testing.T) {
	var token atomic.Value
	var calls atomic.Int64
	emb := embeddingsStandIn(t, 64, &token, &calls)
	_, host, port := qdranttest.Start(t)
	t.Setenv("TEST_EMBED_KEY", "sk-test-key-123")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Knowledge = config.Knowledge{
		Embedder:    config.Embedder{Kind: "openai", URL: emb.URL + "/v1", Model: "test-embed", Dimensions: 64, APIKey: config.SecretRef{Env: "TEST_EMBED_KEY"}},
		VectorStore: config.VectorStore{Kind: "qdrant", Host: host, Port: port, Collection: "kb_test"},
	}
	roundTrip(t, cfg)
	if calls.Load() == 0 {
		t.Fatal("the configured embedder was never called")
	}
	if got, _ := token.Load().(string); got != "Bearer sk-test-key-123" {
		t.Errorf("authorization = %q, want the key from TEST_EMBED_KEY", got)
	}
}

func TestOpenKnowledgeMissingSecret(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Knowledge.Embedder = config.Embedder{Kind: "openai", URL: "http://127.0.0.1:1/v1", Model: "m", Dimensions: 8,
		APIKey: config.SecretRef{Env: "TEST_EMBED_KEY_UNSET"}}
	_, err := OpenKnowledge(t.Context(), cfg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "TEST_EMBED_KEY_UNSET") {
		t.Fatalf("err = %v, want one naming the unset variable", err)
	}
}

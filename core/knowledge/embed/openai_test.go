package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
)

// fakeEmbeddings is a stand-in /v1/embeddings endpoint: each text maps to
// a vector whose first component is its length; fail lists status codes
// to answer with first.
type fakeEmbeddings struct {
	mu       sync.Mutex
	dims     int
	fail     []int
	batches  []int
	auth     []string
	reversed bool
}

func (f *fakeEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "2")
		}
		http.Error(w, `{"error":"nope"}`, code)
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.batches = append(f.batches, len(req.Input))
	type item struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	var data []item
	for i, in := range req.Input {
		v := make([]float32, f.dims)
		v[0] = float32(len(in))
		data = append(data, item{i, v})
	}
	if f.reversed {
		for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data, "model": req.Model})
}

func newClient(t *testing.T, f *fakeEmbeddings, dims int, sleeps *[]time.Duration) *embed.OpenAI {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := embed.NewOpenAI(embed.OpenAIOptions{
		BaseURL: srv.URL + "/v1", Model: "test-embed", APIKey: "sk-secret-123", Dimensions: dims, BatchSize: 3,
		Sleep: func(ctx context.Context, d time.Duration) error { *sleeps = append(*sleeps, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpenAI(t *testing.T) {
	texts := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"}
	t.Run("batches and keeps order", func(t *testing.T) {
		f := &fakeEmbeddings{dims: 4, reversed: true}
		var sleeps []time.Duration
		c := newClient(t, f, 4, &sleeps)
		vecs, err := c.Embed(t.Context(), texts)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vecs {
			if int(v[0]) != len(texts[i]) {
				t.Fatalf("vector %d is for a text of length %v, want %d", i, v[0], len(texts[i]))
			}
		}
		if got := f.batches; len(got) != 3 || got[0] != 3 || got[2] != 1 {
			t.Fatalf("batches = %v, want [3 3 1]", got)
		}
		if f.auth[0] != "Bearer sk-secret-123" {
			t.Fatalf("Authorization = %q", f.auth[0])
		}
	})
	t.Run("retries 429 honouring Retry-After, and 5xx with backoff", func(t *testing.T) {
		f := &fakeEmbeddings{dims: 4, fail: []int{429, 503}}
		var sleeps []time.Duration
		c := newClient(t, f, 4, &sleeps)
		if _, err := c.Embed(t.Context(), texts[:2]); err != nil {
			t.Fatal(err)
		}
		if len(sleeps) != 2 || sleeps[0] != 2*time.Second || sleeps[1] != time.Second {
			t.Fatalf("sleeps = %v, want [2s 1s]", sleeps)
		}
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		f := &fakeEmbeddings{dims: 4, fail: []int{500, 500, 500, 500, 500}}
		var sleeps []time.Duration
		c := newClient(t, f, 4, &sleeps)
		if _, err := c.Embed(t.Context(), texts[:1]); err == nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("err = %v, want a 500 failure", err)
		}
		if len(sleeps) != 3 {
			t.Fatalf("retried %d times, want 3", len(sleeps))
		}
	})
	t.Run("does not retry a client error and keeps the key out of errors", func(t *testing.T) {
		f := &fakeEmbeddings{dims: 4, fail: []int{401}}
		var sleeps []time.Duration
		c := newClient(t, f, 4, &sleeps)
		_, err := c.Embed(t.Context(), texts[:1])
		if err == nil || len(sleeps) != 0 {
			t.Fatalf("err = %v after %d retries; want an error without retry", err, len(sleeps))
		}
		if strings.Contains(err.Error(), "sk-secret-123") {
			t.Fatalf("error leaks the API key: %v", err)
		}
	})
	t.Run("checks the dimension", func(t *testing.T) {
		f := &fakeEmbeddings{dims: 5}
		var sleeps []time.Duration
		c := newClient(t, f, 4, &sleeps)
		_, err := c.Embed(t.Context(), texts[:1])
		if !errors.Is(err, embed.ErrDimensionMismatch) {
			t.Fatalf("err = %v, want ErrDimensionMismatch", err)
		}
	})
	t.Run("rejects bad options", func(t *testing.T) {
		for _, o := range []embed.OpenAIOptions{
			{Model: "m", Dimensions: 4},
			{BaseURL: "ftp://x", Model: "m", Dimensions: 4},
			{BaseURL: "http://x/v1", Dimensions: 4},
			{BaseURL: "http://x/v1", Model: "m"},
		} {
			if _, err := embed.NewOpenAI(o); err == nil {
				t.Fatalf("NewOpenAI(%+v) accepted", o)
			}
		}
	})
}

package embed_test

import (
	"math"
	"slices"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
)

func TestTokens(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Connection timeouts to orders-api", []string{"connection", "timeout", "order", "api"}},
		{"HTTP 503 after 30000ms", []string{"http", "503", "<num>", "ms"}},
		{"SQLTransientConnectionException", []string{"sqltransientconnectionexception", "sql", "transient", "connection", "exception"}},
		{"request 8f3a2c1d-1111-2222-3333-444455556666 from 10.0.3.7:8080", []string{"request", "<uuid>", "<ip>"}},
		{"What is going on since 13:41 UTC?", nil},
		{"throttled throttling throttle", []string{"throttl", "throttl", "throttl"}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := embed.Tokens(tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func cos(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestBuiltin(t *testing.T) {
	b, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"HikariPool-1 - Connection is not available, request timed out after 30000ms",
		"HikariPool-2 - Connection is not available, request timed out after 5000ms",
		"No space left on device while writing segment",
		"",
	}
	vecs, err := b.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fixed dimension and unit length", func(t *testing.T) {
		for i, v := range vecs[:3] {
			if len(v) != b.Dimensions() {
				t.Fatalf("vector %d has %d dims, want %d", i, len(v), b.Dimensions())
			}
			if n := math.Sqrt(cos(v, v)); math.Abs(n-1) > 1e-5 {
				t.Fatalf("vector %d has norm %v", i, n)
			}
		}
	})
	t.Run("empty text is the zero vector", func(t *testing.T) {
		if cos(vecs[3], vecs[3]) != 0 {
			t.Fatal("empty text has a non-zero vector")
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		again, _ := b.Embed(t.Context(), texts[:1])
		if !slices.Equal(again[0], vecs[0]) {
			t.Fatal("same text, different vector")
		}
	})
	t.Run("log variants are closer than unrelated text", func(t *testing.T) {
		same, other := cos(vecs[0], vecs[1]), cos(vecs[0], vecs[2])
		if same < 0.8 || other > 0.3 {
			t.Fatalf("similar = %.3f (want >= 0.8), unrelated = %.3f (want <= 0.3)", same, other)
		}
	})
	t.Run("rejects bad options", func(t *testing.T) {
		for _, o := range []embed.BuiltinOptions{{Dimensions: 4}, {CharNGramMin: 5, CharNGramMax: 3}, {WordWeight: -1}} {
			if _, err := embed.NewBuiltin(o); err == nil {
				t.Fatalf("NewBuiltin(%+v) accepted", o)
			}
		}
	})
}

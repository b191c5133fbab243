package qdrantstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge/vector"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore/qdranttest"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/vectortest"
)

func openStandIn(t testing.TB, dims int, batch int) (*qdrantstore.Store, *qdranttest.Server) {
	t.Helper()
	srv, host, port := qdranttest.Start(t)
	s, err := qdrantstore.Open(t.Context(), qdrantstore.Options{
		Host: host, Port: port, Collection: "kb_test", Dimensions: dims, BatchSize: batch,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, srv
}

func TestConformanceStandIn(t *testing.T) {
	vectortest.Run(t, func(t testing.TB, dims int) vector.Store {
		s, _ := openStandIn(t, dims, 64)
		return s
	})
}

func TestBatchesUpserts(t *testing.T) {
	s, srv := openStandIn(t, 4, 10)
	defer s.Close()
	var pts []vector.Point
	for i := range 25 {
		pts = append(pts, vectortest.MakePoint(fmt.Sprintf("d%d", i), 0, "note", "", []float32{1, float32(i), 0, 1}))
	}
	if err := s.Upsert(t.Context(), pts); err != nil {
		t.Fatal(err)
	}
	if got := srv.CallCount("Upsert"); got != 3 {
		t.Fatalf("Upsert calls = %d, want 3 batches of <= 10", got)
	}
	if got := srv.CallCount("CreateFieldIndex"); got != 3 {
		t.Fatalf("CreateFieldIndex calls = %d, want 3 (cluster, kind, doc_id)", got)
	}
}

func TestReopenChecksDimension(t *testing.T) {
	_, host, port := qdranttest.Start(t)
	open := func(dims int) (*qdrantstore.Store, error) {
		return qdrantstore.Open(t.Context(), qdrantstore.Options{Host: host, Port: port, Collection: "kb", Dimensions: dims})
	}
	s, err := open(8)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = open(8)
	if err != nil {
		t.Fatalf("reopening with the same dimension: %v", err)
	}
	s.Close()
	if _, err := open(16); !errors.Is(err, vector.ErrDimensionMismatch) {
		t.Fatalf("reopening with another dimension: err = %v, want ErrDimensionMismatch", err)
	}
}

func TestRejectsBadOptions(t *testing.T) {
	if _, err := qdrantstore.Open(t.Context(), qdrantstore.Options{Host: "localhost"}); err == nil {
		t.Fatal("Open without collection and dimensions succeeded")
	}
}

// TestIntegration runs the conformance suite against a real Qdrant when
// QDRANT_URL (host:port of the gRPC API, e.g. localhost:6334) is set.
func TestIntegration(t *testing.T) {
	url := os.Getenv("QDRANT_URL")
	if url == "" {
		t.Skip("QDRANT_URL not set")
	}
	host, portS, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"), ":")
	port, err := strconv.Atoi(strings.TrimSuffix(portS, "/"))
	if !ok || err != nil {
		t.Fatalf("QDRANT_URL %q: want host:port", url)
	}
	vectortest.Run(t, func(t testing.TB, dims int) vector.Store {
		name := fmt.Sprintf("faultmaven_test_%d", rand.Uint64())
		s, err := qdrantstore.Open(t.Context(), qdrantstore.Options{
			Host: host, Port: port, Collection: name, Dimensions: dims, APIKey: os.Getenv("QDRANT_API_KEY"),
		})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { dropCollection(t, host, port, name) })
		return s
	})
}

func dropCollection(t testing.TB, host string, port int, name string) {
	t.Helper()
	if err := qdrantstore.DropCollection(context.Background(), qdrantstore.Options{Host: host, Port: port, Collection: name, APIKey: os.Getenv("QDRANT_API_KEY")}); err != nil {
		t.Logf("dropping %s: %v", name, err)
	}
}

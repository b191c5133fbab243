package embedded_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge/vector"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/vectortest"
)

func open(t testing.TB, dir string, dims int, exactBelow int) *embedded.Store {
	t.Helper()
	o := embedded.DefaultOptions(dims)
	o.ExactBelow = exactBelow
	// The default SearchWidth (256) exceeds these partitions (<= 200
	// points), so the graph path walks the whole reloaded graph: these tests
	// check graph persistence and the search plumbing, not graph recall.
	// With SearchWidth 16 the library misses a stored point as its own
	// nearest neighbour (see Options.ExactBelow); TestBenchFigures measures
	// recall.
	s, err := embedded.Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name       string
		exactBelow int
		persisted  bool
	}{
		{"exact, in memory", 1 << 30, false},
		{"hnsw, in memory", 1, false},
		{"hnsw, persisted", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vectortest.Run(t, func(t testing.TB, dims int) vector.Store {
				dir := ""
				if tc.persisted {
					dir = t.TempDir()
				}
				return open(t, dir, dims, tc.exactBelow)
			})
		})
	}
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func TestRestartGivesSameResults(t *testing.T) {
	for _, tc := range []struct {
		name       string
		exactBelow int
	}{
		{"exact path", 1 << 30},
		{"hnsw path", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			const dims = 32
			s := open(t, dir, dims, tc.exactBelow)
			rng := rand.New(rand.NewPCG(7, 7))
			var pts []vector.Point
			for i := range 600 {
				p := vectortest.MakePoint(fmt.Sprintf("doc-%d", i/3), i%3, "runbook", []string{"", "a", "b"}[i%3], randVec(rng, dims))
				pts = append(pts, p)
			}
			if err := s.Upsert(t.Context(), pts); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteDocument(t.Context(), "doc-5"); err != nil {
				t.Fatal(err)
			}
			queries := make([][]float32, 20)
			for i := range queries {
				queries[i] = randVec(rng, dims)
			}
			before := searchAll(t, s, queries)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s2 := open(t, dir, dims, tc.exactBelow)
			defer s2.Close()
			n, _ := s2.Count(t.Context())
			if n != 597 {
				t.Fatalf("Count after reload = %d, want 597", n)
			}
			after := searchAll(t, s2, queries)
			for i := range before {
				if tc.exactBelow > 1 {
					if !slices.Equal(before[i], after[i]) {
						t.Fatalf("query %d: before %v, after %v", i, before[i], after[i])
					}
					continue
				}
				// The graph path is approximate with a random entry
				// point: require the same best hit and >= 80% overlap.
				if before[i][0] != after[i][0] || overlap(before[i], after[i]) < 0.8 {
					t.Fatalf("query %d: before %v, after %v", i, before[i], after[i])
				}
			}
		})
	}
}

func searchAll(t testing.TB, s vector.Store, qs [][]float32) [][]string {
	t.Helper()
	var out [][]string
	for _, q := range qs {
		res, err := s.Search(t.Context(), q, 10, vector.Filter{Cluster: "a"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range res {
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			t.Fatal("no results")
		}
		out = append(out, ids)
	}
	return out
}

func overlap(a, b []string) float64 {
	n := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

func TestOpenRejectsOtherDimension(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 8, 10)
	if err := s.Upsert(t.Context(), []vector.Point{vectortest.MakePoint("d", 0, "note", "", randVec(rand.New(rand.NewPCG(1, 1)), 8))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.Open(dir, embedded.DefaultOptions(16)); err == nil {
		t.Fatal("Open with another dimension succeeded")
	}
}

func TestFlushRewritesOnlyChangedPartitions(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, 8, 10)
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 9))
	up := func(doc, cluster string) {
		t.Helper()
		if err := s.Upsert(t.Context(), []vector.Point{vectortest.MakePoint(doc, 0, "note", cluster, randVec(rng, 8))}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	files := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	up("g1", "")
	up("a1", "a")
	// "" encodes to an empty hex string, "a" to "61".
	want := []string{"graph--1.hnsw", "graph-61-1.hnsw", "meta.json", "points--1.gob", "points-61-1.gob"}
	if got := files(); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	up("a2", "a")
	want = []string{"graph--1.hnsw", "graph-61-2.hnsw", "meta.json", "points--1.gob", "points-61-2.gob"}
	if got := files(); !slices.Equal(got, want) {
		t.Fatalf("after a write to cluster a: files = %v, want %v (global untouched, a at generation 2, old files gone)", got, want)
	}
	if err := s.DeleteDocument(t.Context(), "a1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDocument(t.Context(), "a2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	want = []string{"graph--1.hnsw", "meta.json", "points--1.gob"}
	if got := files(); !slices.Equal(got, want) {
		t.Fatalf("after emptying cluster a: files = %v, want %v", got, want)
	}
}

// Package vectortest is the conformance suite every vector.Store passes.
// A store's tests call Run with a constructor that returns an empty store.
package vectortest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge/vector"
)

// OpenFunc returns a new, empty store of the given dimension. The suite
// closes it.
type OpenFunc func(t testing.TB, dims int) vector.Store

const dims = 16

// Run runs the conformance suite against stores made by open.
func Run(t *testing.T, open OpenFunc) {
	t.Run("reports its dimension and rejects other lengths", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		if got := s.Dimensions(); got != dims {
			t.Fatalf("Dimensions() = %d, want %d", got, dims)
		}
		p := MakePoint("doc-1", 0, "runbook", "", randVec(rand.New(rand.NewPCG(1, 1)), dims+1))
		err := s.Upsert(t.Context(), []vector.Point{p})
		if !errors.Is(err, vector.ErrDimensionMismatch) {
			t.Fatalf("Upsert of a %d-dim vector: err = %v, want ErrDimensionMismatch", dims+1, err)
		}
		_, err = s.Search(t.Context(), make([]float32, dims-1), 3, vector.Filter{})
		if !errors.Is(err, vector.ErrDimensionMismatch) {
			t.Fatalf("Search with a short vector: err = %v, want ErrDimensionMismatch", err)
		}
	})

	t.Run("rejects a point whose id is not PointID(doc, chunk)", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		p := MakePoint("doc-1", 0, "runbook", "", randVec(rand.New(rand.NewPCG(1, 2)), dims))
		p.ID = vector.PointID("doc-2", 0)
		if err := s.Upsert(t.Context(), []vector.Point{p}); err == nil {
			t.Fatal("Upsert accepted a point with a foreign id")
		}
	})

	t.Run("empty store returns no results", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		res, err := s.Search(t.Context(), randVec(rand.New(rand.NewPCG(1, 3)), dims), 5, vector.Filter{})
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		if len(res) != 0 {
			t.Fatalf("got %d results from an empty store", len(res))
		}
	})

	t.Run("finds each point as its own nearest neighbour with its payload", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		rng := rand.New(rand.NewPCG(2, 2))
		pts := make([]vector.Point, 0, 200)
		for i := range 200 {
			p := MakePoint(fmt.Sprintf("doc-%d", i/4), i%4, "runbook", "", randVec(rng, dims))
			p.Payload.Services = []string{"svc-" + fmt.Sprint(i%3)}
			p.Payload.Verified = i%2 == 0
			p.Payload.UpdatedAt = time.Date(2024, 3, 5, 13, 0, i, 0, time.UTC)
			pts = append(pts, p)
		}
		if err := s.Upsert(t.Context(), pts); err != nil {
			t.Fatalf("Upsert: %v", err)
		}
		n, err := s.Count(t.Context())
		if err != nil || n != len(pts) {
			t.Fatalf("Count() = %d, %v; want %d", n, err, len(pts))
		}
		for _, i := range []int{0, 17, 99, 199} {
			res, err := s.Search(t.Context(), pts[i].Vector, 3, vector.Filter{})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if len(res) == 0 || res[0].ID != pts[i].ID {
				t.Fatalf("nearest to point %d: got %v, want %s", i, ids(res), pts[i].ID)
			}
			if math.Abs(float64(res[0].Score)-1) > 1e-3 {
				t.Fatalf("self similarity = %v, want 1", res[0].Score)
			}
			for j := 1; j < len(res); j++ {
				if res[j].Score > res[j-1].Score {
					t.Fatalf("results not sorted by score: %v", res)
				}
			}
			if !EqualPayload(res[0].Payload, pts[i].Payload) {
				t.Fatalf("payload round trip:\n got %+v\nwant %+v", res[0].Payload, pts[i].Payload)
			}
		}
	})

	t.Run("upsert replaces a point with the same id", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		rng := rand.New(rand.NewPCG(3, 3))
		a := MakePoint("doc-a", 0, "note", "", randVec(rng, dims))
		if err := s.Upsert(t.Context(), []vector.Point{a}); err != nil {
			t.Fatal(err)
		}
		b := MakePoint("doc-a", 0, "note", "", randVec(rng, dims))
		b.Payload.Text = "second version"
		if err := s.Upsert(t.Context(), []vector.Point{b}); err != nil {
			t.Fatal(err)
		}
		n, _ := s.Count(t.Context())
		if n != 1 {
			t.Fatalf("Count() after replacing = %d, want 1", n)
		}
		res, err := s.Search(t.Context(), b.Vector, 1, vector.Filter{})
		if err != nil || len(res) != 1 || res[0].Payload.Text != "second version" {
			t.Fatalf("Search after replace = %+v, %v; want the second version", res, err)
		}
	})

	t.Run("filters by kind", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		rng := rand.New(rand.NewPCG(4, 4))
		var pts []vector.Point
		for i := range 60 {
			kind := []string{"runbook", "incident", "note"}[i%3]
			pts = append(pts, MakePoint(fmt.Sprintf("d%d", i), 0, kind, "", randVec(rng, dims)))
		}
		if err := s.Upsert(t.Context(), pts); err != nil {
			t.Fatal(err)
		}
		res, err := s.Search(t.Context(), pts[0].Vector, 10, vector.Filter{Kinds: []string{"incident"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 10 {
			t.Fatalf("got %d incidents, want 10", len(res))
		}
		for _, r := range res {
			if r.Payload.Kind != "incident" {
				t.Fatalf("kind filter leaked %q", r.Payload.Kind)
			}
		}
	})

	t.Run("tenant isolation: cluster scope is a hard filter", func(t *testing.T) {
		RunTenantIsolation(t, open(t, dims))
	})

	t.Run("delete by document removes all its chunks and nothing else", func(t *testing.T) {
		s := open(t, dims)
		defer s.Close()
		rng := rand.New(rand.NewPCG(6, 6))
		var pts []vector.Point
		for d := range 10 {
			for c := range 5 {
				pts = append(pts, MakePoint(fmt.Sprintf("doc-%d", d), c, "runbook", "", randVec(rng, dims)))
			}
		}
		if err := s.Upsert(t.Context(), pts); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDocument(t.Context(), "doc-3"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDocument(t.Context(), "no-such-doc"); err != nil {
			t.Fatalf("deleting an unknown document: %v", err)
		}
		n, _ := s.Count(t.Context())
		if n != 45 {
			t.Fatalf("Count() after delete = %d, want 45", n)
		}
		for c := range 5 {
			res, err := s.Search(t.Context(), pts[15+c].Vector, 50, vector.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 45 {
				t.Fatalf("got %d results with k=50 after delete, want 45", len(res))
			}
			for _, r := range res {
				if r.Payload.DocID == "doc-3" {
					t.Fatalf("deleted document returned: %+v", r)
				}
			}
		}
	})
}

// RunTenantIsolation fills s with points of clusters "a", "b" and global
// points, all close to one another, and checks that no search for one
// cluster returns another's. It closes s.
func RunTenantIsolation(t *testing.T, s vector.Store) {
	t.Helper()
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 5))
	base := randVec(rng, s.Dimensions())
	var pts []vector.Point
	for i := range 300 {
		cluster := []string{"a", "b", ""}[i%3]
		v := jitter(rng, base, 0.05)
		pts = append(pts, MakePoint(fmt.Sprintf("doc-%d", i), 0, "incident", cluster, v))
	}
	if err := s.Upsert(t.Context(), pts); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		cluster string
		allowed []string
	}{
		{"a", []string{"a", ""}},
		{"b", []string{"b", ""}},
		{"", []string{""}},
		{"c", []string{""}},
	}
	for _, tc := range cases {
		for _, p := range []vector.Point{pts[0], pts[1], pts[2]} {
			res, err := s.Search(t.Context(), p.Vector, 150, vector.Filter{Cluster: tc.cluster})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) == 0 {
				t.Fatalf("cluster %q: no results", tc.cluster)
			}
			for _, r := range res {
				if !slices.Contains(tc.allowed, r.Payload.Cluster) {
					t.Fatalf("search for cluster %q returned a point of cluster %q", tc.cluster, r.Payload.Cluster)
				}
			}
		}
	}
}

// MakePoint builds a point with a deterministic id and a small payload.
func MakePoint(doc string, chunk int, kind, cluster string, v []float32) vector.Point {
	return vector.Point{
		ID:     vector.PointID(doc, chunk),
		Vector: v,
		Payload: vector.Payload{
			DocID: doc, Chunk: chunk, Kind: kind, Cluster: cluster,
			Title: "title of " + doc, Heading: "Symptoms", Text: fmt.Sprintf("chunk %d of %s", chunk, doc),
		},
	}
}

// EqualPayload compares payloads field by field (times by instant).
func EqualPayload(a, b vector.Payload) bool {
	return a.DocID == b.DocID && a.Chunk == b.Chunk && a.Kind == b.Kind && a.Cluster == b.Cluster &&
		a.Title == b.Title && a.Heading == b.Heading && a.Text == b.Text &&
		slices.Equal(a.Services, b.Services) && a.Verified == b.Verified && a.UpdatedAt.Equal(b.UpdatedAt)
}

func ids(rs []vector.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func randVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return normalize(v)
}

func jitter(rng *rand.Rand, base []float32, eps float64) []float32 {
	v := make([]float32, len(base))
	for i := range v {
		v[i] = base[i] + float32(eps*rng.NormFloat64())
	}
	return normalize(v)
}

func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := float32(math.Sqrt(s))
	for i := range v {
		v[i] /= n
	}
	return v
}

package embedded_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/vectortest"
)

// TestBenchFigures measures the embedded store at 10k and 100k chunks of
// 384 dimensions (the builtin embedder's size): ingest throughput, heap
// per 100k chunks, search latency p50/p99 (k=10, cluster-scoped) and
// recall@10 of the HNSW path against an exact scan. It reports figures and
// asserts none. Run with:
//
//	FAULTMAVEN_KB_BENCH=10000,100000 go test -run TestBenchFigures -v -timeout 60m ./core/knowledge/vector/embedded/
func TestBenchFigures(t *testing.T) {
	spec := os.Getenv("FAULTMAVEN_KB_BENCH")
	if spec == "" {
		t.Skip("set FAULTMAVEN_KB_BENCH=10000,100000 to run")
	}
	for _, f := range slices.Collect(func(yield func(string) bool) {
		start := 0
		for i := 0; i <= len(spec); i++ {
			if i == len(spec) || spec[i] == ',' {
				if !yield(spec[start:i]) {
					return
				}
				start = i + 1
			}
		}
	}) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			t.Fatalf("FAULTMAVEN_KB_BENCH: %q is not a count", f)
		}
		benchAt(t, n)
	}
}

func benchAt(t *testing.T, n int) {
	const dims = 384
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{Dimensions: dims})
	if err != nil {
		t.Fatal(err)
	}
	// Vectors are builtin embeddings of synthetic chunks of 60 words: each
	// chunk has one of 1000 topics; 60% of its words come from the topic's
	// 40-word vocabulary, the rest from a Zipf distribution over 5000
	// common words. Real chunks have that kind of structure; uniform random
	// vectors have none and say little about an index.
	src := rand.New(rand.NewPCG(uint64(n), 10))
	zipf := rand.NewZipf(src, 1.1, 2, 4999)
	text := func() string {
		topic := src.IntN(1000)
		var b []byte
		for range 60 {
			if src.Float64() < 0.6 {
				b = fmt.Appendf(b, "t%dw%d ", topic, src.IntN(40))
			} else {
				b = fmt.Appendf(b, "w%dx ", zipf.Uint64())
			}
		}
		return string(b)
	}
	pts := make([]vector.Point, n)
	for i := range pts {
		pts[i] = vectortest.MakePoint(fmt.Sprintf("doc-%d", i/8), i%8, "runbook", "", nil)
		pts[i].Vector = emb.EmbedOne(text())
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	o := embedded.DefaultOptions(dims)
	if m, err := strconv.Atoi(os.Getenv("FAULTMAVEN_KB_BENCH_M")); err == nil && m > 0 {
		o.M = m
	}
	s, err := embedded.Open("", o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		if err := s.Upsert(t.Context(), pts[i:min(i+1000, n)]); err != nil {
			t.Fatal(err)
		}
	}
	ingest := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	// pts was allocated before m0 and is still alive: the delta is the store.
	heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)

	t.Logf("embedded store (M=%d), %d chunks x %d dims: ingest %.0f chunks/s (%.1fs), heap %.0f MiB (%.0f MiB per 100k chunks)",
		o.M, n, dims, float64(n)/ingest.Seconds(), ingest.Seconds(), heap/(1<<20), heap/(1<<20)*100000/float64(n))
	queries := make([][]float32, 300)
	for i := range queries {
		queries[i] = emb.EmbedOne(text())
	}
	// Exact top 10 of 30 queries, for recall.
	truth := make([]map[string]bool, 30)
	for qi, q := range queries[:30] {
		type sc struct {
			id string
			s  float32
		}
		qn := norm(q)
		all := make([]sc, len(pts))
		for i, p := range pts {
			all[i] = sc{p.ID, dot(qn, norm(p.Vector))}
		}
		slices.SortFunc(all, func(a, b sc) int {
			if a.s > b.s {
				return -1
			}
			if a.s < b.s {
				return 1
			}
			return 0
		})
		truth[qi] = map[string]bool{}
		for _, a := range all[:10] {
			truth[qi][a.id] = true
		}
	}
	for _, width := range []int{64, 256, 1024, 0} {
		mode := fmt.Sprintf("hnsw, search width %4d", width)
		if width == 0 {
			mode = "exact scan            "
			s.SetExactBelow(n + 1)
		} else {
			s.SetExactBelow(1) // force the graph path
			s.SetSearchWidth(width)
		}
		lat := make([]time.Duration, 0, len(queries))
		for _, q := range queries {
			t0 := time.Now()
			if _, err := s.Search(t.Context(), q, 10, vector.Filter{Cluster: "a"}); err != nil {
				t.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		found := 0
		for qi, q := range queries[:30] {
			res, _ := s.Search(t.Context(), q, 10, vector.Filter{})
			for _, r := range res {
				if truth[qi][r.ID] {
					found++
				}
			}
		}
		t.Logf("  %s: p50 %v p99 %v, recall@10 vs exact %.3f", mode,
			lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), float64(found)/300)
	}
	runtime.KeepAlive(pts)
	s.Close()
}

func norm(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(s))
	}
	return out
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

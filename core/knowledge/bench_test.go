package knowledge_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge"
)

// TestBenchService measures the whole knowledge path with the builtin
// embedder and the embedded store persisted in a temp dir: ingest
// throughput (chunking + embedding + index + flush) and hybrid search
// latency (embedding the query, vector scan, BM25, fusion). It reports
// figures and asserts none. Run with:
//
//	FAULTMAVEN_KB_BENCH=10000,100000 go test -run TestBenchService -v -timeout 60m ./core/knowledge/
func TestBenchService(t *testing.T) {
	spec := os.Getenv("FAULTMAVEN_KB_BENCH")
	if spec == "" {
		t.Skip("set FAULTMAVEN_KB_BENCH=10000,100000 to run")
	}
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			t.Fatalf("FAULTMAVEN_KB_BENCH: %q is not a count", f)
		}
		benchService(t, n)
	}
}

// synthDocs makes documents of 8 sections (chunks) each; every document
// has a topic whose 40-word vocabulary fills 60% of its words, the rest
// come from a Zipf distribution over 5000 common words.
func synthDocs(chunks int) ([]knowledge.Document, func() string) {
	src := rand.New(rand.NewPCG(uint64(chunks), 1))
	zipf := rand.NewZipf(src, 1.1, 2, 4999)
	words := func(topic, n int) string {
		var b strings.Builder
		for range n {
			if src.Float64() < 0.6 {
				fmt.Fprintf(&b, "t%dw%d ", topic, src.IntN(40))
			} else {
				fmt.Fprintf(&b, "w%dx ", zipf.Uint64())
			}
		}
		return b.String()
	}
	var docs []knowledge.Document
	for i := 0; i < chunks/8; i++ {
		topic := src.IntN(1000)
		var body strings.Builder
		for s := range 8 {
			fmt.Fprintf(&body, "## Section %d\n\n%s\n\n", s, words(topic, 60))
		}
		docs = append(docs, knowledge.Document{ID: fmt.Sprintf("doc-%d", i), Kind: knowledge.KindRunbook, Title: words(topic, 6), Body: body.String()})
	}
	return docs, func() string { return words(src.IntN(1000), 12) }
}

func benchService(t *testing.T, n int) {
	docs, query := synthDocs(n)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	svc := newBuiltinService(t, t.TempDir())
	start := time.Now()
	var chunks int
	for i := 0; i < len(docs); i += 500 {
		st, err := svc.Ingest(t.Context(), docs[i:min(i+500, len(docs))], nil)
		if err != nil {
			t.Fatal(err)
		}
		chunks += st.Chunks
	}
	ingest := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	heap := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	lat := make([]time.Duration, 0, 200)
	for range 200 {
		q := query()
		t0 := time.Now()
		if _, err := svc.Search(t.Context(), knowledge.Query{Text: q, Limit: 5}); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	t.Logf("service (builtin embedder + embedded store), %d chunks: ingest %.0f chunks/s (%.1fs incl. flushes), heap %.0f MiB incl. catalog and BM25 (%.0f MiB per 100k chunks), hybrid search p50 %v p99 %v",
		chunks, float64(chunks)/ingest.Seconds(), ingest.Seconds(), heap/(1<<20), heap/(1<<20)*100000/float64(chunks),
		lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	runtime.KeepAlive(docs)
}

package knowledge

import (
	"container/heap"
	"math"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector"
)

// keywordIndex is an in-memory BM25 index over chunks. Not safe for
// concurrent use: the Service serialises access.
//
// Chunks are numbered (ordinals, reused after removal) so that postings
// and per-query scores use small integer keys and a dense score array
// rather than hashing point-id strings.
type keywordIndex struct {
	k1, b    float64
	postings map[string]map[int32]int32 // term -> ordinal -> tf
	ords     map[string]int32           // point id -> ordinal
	chunks   []kwChunk                  // by ordinal; id "" = free slot
	free     []int32
	totalLen int
}

type kwChunk struct {
	id      string
	payload vector.Payload
	length  int
	terms   []string
}

func newKeywordIndex() *keywordIndex {
	return &keywordIndex{k1: 1.2, b: 0.75, postings: map[string]map[int32]int32{}, ords: map[string]int32{}}
}

func (ix *keywordIndex) add(id string, p vector.Payload, text string) {
	ix.remove(id)
	toks := embed.Tokens(text)
	tf := map[string]int32{}
	for _, t := range toks {
		tf[t]++
	}
	var ord int32
	if n := len(ix.free); n > 0 {
		ord, ix.free = ix.free[n-1], ix.free[:n-1]
	} else {
		ord = int32(len(ix.chunks))
		ix.chunks = append(ix.chunks, kwChunk{})
	}
	c := kwChunk{id: id, payload: p, length: len(toks)}
	for t, n := range tf {
		if ix.postings[t] == nil {
			ix.postings[t] = map[int32]int32{}
		}
		ix.postings[t][ord] = n
		c.terms = append(c.terms, t)
	}
	ix.chunks[ord] = c
	ix.ords[id] = ord
	ix.totalLen += c.length
}

func (ix *keywordIndex) remove(id string) {
	ord, ok := ix.ords[id]
	if !ok {
		return
	}
	c := ix.chunks[ord]
	for _, t := range c.terms {
		delete(ix.postings[t], ord)
		if len(ix.postings[t]) == 0 {
			delete(ix.postings, t)
		}
	}
	ix.totalLen -= c.length
	ix.chunks[ord] = kwChunk{}
	ix.free = append(ix.free, ord)
	delete(ix.ords, id)
}

type kwHit struct {
	id      string
	score   float64
	payload vector.Payload
}

// search ranks chunks that pass f by BM25 over the query's distinct terms.
func (ix *keywordIndex) search(query string, k int, f vector.Filter) []kwHit {
	n := len(ix.ords)
	if n == 0 || k <= 0 {
		return nil
	}
	avg := float64(ix.totalLen) / float64(n)
	seen := map[string]bool{}
	scores := make([]float64, len(ix.chunks))
	allowed := make([]int8, len(ix.chunks)) // 0 unknown, 1 yes, -1 no
	var touched []int32
	for _, t := range embed.Tokens(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		post := ix.postings[t]
		if len(post) == 0 {
			continue
		}
		df := float64(len(post))
		if n >= minChunksForDFCut && df > maxDFRatio*float64(n) {
			// A word in most chunks barely moves BM25 (idf < 0.7 vs ~8 for
			// a rare word) but costs a pass over most postings.
			continue
		}
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		for ord, tf := range post {
			switch allowed[ord] {
			case 0:
				if !f.Allows(ix.chunks[ord].payload) {
					allowed[ord] = -1
					continue
				}
				allowed[ord] = 1
			case -1:
				continue
			}
			if scores[ord] == 0 {
				touched = append(touched, ord)
			}
			ftf := float64(tf)
			scores[ord] += idf * ftf * (ix.k1 + 1) / (ftf + ix.k1*(1-ix.b+ix.b*float64(ix.chunks[ord].length)/avg))
		}
	}
	// Keep the k best in a min-heap rather than sorting every scored chunk.
	h := make(kwHeap, 0, k)
	for _, ord := range touched {
		c := kwHit{id: ix.chunks[ord].id, score: scores[ord]}
		if len(h) < k {
			heap.Push(&h, c)
		} else if h.less(h[0], c) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	hits := make([]kwHit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		hits[i] = heap.Pop(&h).(kwHit)
		hits[i].payload = ix.chunks[ix.ords[hits[i].id]].payload
	}
	return hits
}

// Words in more than maxDFRatio of the chunks are skipped at query time
// once the index holds minChunksForDFCut chunks.
const (
	maxDFRatio        = 0.5
	minChunksForDFCut = 1000
)

// kwHeap is a min-heap of hits: the root is the worst kept hit.
type kwHeap []kwHit

func (kwHeap) less(a, b kwHit) bool { // a ranks below b
	if a.score != b.score {
		return a.score < b.score
	}
	return a.id > b.id
}
func (h kwHeap) Len() int           { return len(h) }
func (h kwHeap) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h kwHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *kwHeap) Push(x any)        { *h = append(*h, x.(kwHit)) }
func (h *kwHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

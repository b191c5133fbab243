package embedded

import (
	"bufio"
	"cmp"
	"context"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/hnsw"

	"github.com/faultmaven/faultmaven/core/knowledge/vector"
)

// Options configures a Store. The zero value works except for Dimensions.
type Options struct {
	// Dimensions is the vector length; required. Opening a directory saved
	// with another dimension fails with vector.ErrDimensionMismatch.
	Dimensions int
	// M is the HNSW neighbour count per node (default 16).
	M int
	// EfSearch is the HNSW candidate list size (default 64).
	EfSearch int
	// ExactBelow: partitions with fewer points are searched exactly
	// (default 150000). Why so high: with hnsw v0.6.1 the graph's
	// recall@10 against an exact scan measured 0.13-0.40 at 10k chunks
	// (search width 64-1024, see TestBenchFigures): its result heap's Max
	// and PopLast take the last array slot, not the worst element, so
	// searches and graph construction drop good candidates. An exact scan
	// of 100k 384-dim chunks costs tens of milliseconds, which a
	// troubleshooting query can afford; wrong answers it cannot.
	ExactBelow int
	// SearchWidth is how many graph candidates a search collects before
	// the exact re-scoring and filtering (at least k; default 256). The
	// library stops exploring once its result list is full and the best
	// candidate stops improving, so a wider list is what buys recall (see
	// TestBenchFigures for the recall/latency trade).
	SearchWidth int
	// Seed seeds the level generator so that builds are reproducible.
	Seed int64
	// Logger receives load and flush messages (default: discard).
	Logger *slog.Logger
}

// DefaultOptions returns the defaults for a store of dims dimensions.
func DefaultOptions(dims int) Options {
	return Options{Dimensions: dims, M: 16, EfSearch: 64, ExactBelow: 150000, SearchWidth: 256, Seed: 1}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions(o.Dimensions)
	if o.M <= 0 {
		o.M = d.M
	}
	if o.EfSearch <= 0 {
		o.EfSearch = d.EfSearch
	}
	if o.ExactBelow <= 0 {
		o.ExactBelow = d.ExactBelow
	}
	if o.SearchWidth <= 0 {
		o.SearchWidth = d.SearchWidth
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

type record struct {
	key     uint64
	id      string
	vec     []float32
	payload vector.Payload
}

// partition is one cluster scope: its live records (a slice, so the exact
// scan walks memory in order; pos indexes it for O(1) removal) and its
// graph, which may still hold tombstones.
type partition struct {
	graph *hnsw.Graph[uint64]
	recs  []*record
	pos   map[uint64]int
	// dirty: changed since its files were written; gen: the generation
	// of its files on disk (0 = never written).
	dirty bool
	gen   uint64
}

func (p *partition) add(r *record) {
	p.pos[r.key] = len(p.recs)
	p.recs = append(p.recs, r)
}

func (p *partition) remove(key uint64) {
	i, ok := p.pos[key]
	if !ok {
		return
	}
	last := len(p.recs) - 1
	p.recs[i] = p.recs[last]
	p.pos[p.recs[i].key] = i
	p.recs[last] = nil
	p.recs = p.recs[:last]
	delete(p.pos, key)
}

// Store is an HNSW-backed vector.Store persisted in a directory.
type Store struct {
	dir  string
	opts Options

	mu      sync.RWMutex
	closed  bool
	dirty   bool
	nextKey uint64
	byID    map[string]*record
	byKey   map[uint64]*record
	byDoc   map[string]map[string]struct{}
	parts   map[string]*partition
}

var _ vector.Store = (*Store)(nil)

// Open opens (or creates) the store in dir. An empty dir keeps the store
// in memory only.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Dimensions <= 0 {
		return nil, errors.New("embedded: Options.Dimensions must be > 0")
	}
	s := &Store{
		dir: dir, opts: opts.withDefaults(),
		byID: map[string]*record{}, byKey: map[uint64]*record{},
		byDoc: map[string]map[string]struct{}{}, parts: map[string]*partition{},
	}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dimensions implements vector.Store.
func (s *Store) Dimensions() int { return s.opts.Dimensions }

func (s *Store) newPartition() *partition {
	g := hnsw.NewGraph[uint64]()
	g.M = s.opts.M
	g.EfSearch = s.opts.EfSearch
	g.Distance = hnsw.CosineDistance
	g.Rng = rand.New(rand.NewSource(s.opts.Seed)) //nolint:gosec // level generation, not security
	return &partition{graph: g, pos: map[uint64]int{}}
}

// Upsert implements vector.Store.
func (s *Store) Upsert(ctx context.Context, points []vector.Point) error {
	for _, p := range points {
		if err := vector.Validate(p, s.opts.Dimensions); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return vector.ErrClosed
	}
	for i, p := range points {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if old, ok := s.byID[p.ID]; ok {
			s.removeLocked(old)
		}
		s.nextKey++
		r := &record{key: s.nextKey, id: p.ID, vec: normalized(p.Vector), payload: p.Payload}
		s.byID[r.id] = r
		s.byKey[r.key] = r
		if s.byDoc[r.payload.DocID] == nil {
			s.byDoc[r.payload.DocID] = map[string]struct{}{}
		}
		s.byDoc[r.payload.DocID][r.id] = struct{}{}
		part := s.parts[r.payload.Cluster]
		if part == nil {
			part = s.newPartition()
			s.parts[r.payload.Cluster] = part
		}
		part.graph.Add(hnsw.MakeNode(r.key, r.vec))
		part.add(r)
		part.dirty = true
		s.dirty = true
	}
	return nil
}

func (s *Store) removeLocked(r *record) {
	delete(s.byID, r.id)
	delete(s.byKey, r.key)
	if m := s.byDoc[r.payload.DocID]; m != nil {
		delete(m, r.id)
		if len(m) == 0 {
			delete(s.byDoc, r.payload.DocID)
		}
	}
	if part := s.parts[r.payload.Cluster]; part != nil {
		part.remove(r.key)
		part.dirty = true
		s.compactLocked(r.payload.Cluster, part)
	}
	s.dirty = true
}

// compactLocked rebuilds a partition's graph once tombstones pile up.
//
// Why tombstones: hnsw v0.6.1's Graph.Delete can leave a layer whose entry
// or elevator node is gone, and the next Search dereferences nil (found by
// the conformance suite's delete case). So removed points stay in the graph
// as tombstones that searches skip, and the graph is rebuilt from the live
// points when tombstones exceed a quarter of it.
func (s *Store) compactLocked(cluster string, part *partition) {
	live := len(part.recs)
	if live == 0 {
		delete(s.parts, cluster)
		return
	}
	dead := part.graph.Len() - live
	if dead < 32 || dead*4 < part.graph.Len() {
		return
	}
	fresh := s.newPartition()
	fresh.dirty, fresh.gen = true, part.gen
	recs := slices.Clone(part.recs)
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.key, b.key) })
	for _, r := range recs {
		fresh.graph.Add(hnsw.MakeNode(r.key, r.vec))
		fresh.add(r)
	}
	s.parts[cluster] = fresh
}

// DeleteDocument implements vector.Store.
func (s *Store) DeleteDocument(ctx context.Context, docID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return vector.ErrClosed
	}
	for id := range s.byDoc[docID] {
		s.removeLocked(s.byID[id])
	}
	return nil
}

// Count implements vector.Store.
func (s *Store) Count(ctx context.Context) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, vector.ErrClosed
	}
	return len(s.byID), nil
}

// Search implements vector.Store.
func (s *Store) Search(ctx context.Context, q []float32, k int, f vector.Filter) ([]vector.Result, error) {
	if err := vector.CheckQuery(q, s.opts.Dimensions); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q = normalized(q)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, vector.ErrClosed
	}
	scopes := []string{""}
	if f.Cluster != "" {
		scopes = append(scopes, f.Cluster)
	}
	var out []vector.Result
	for _, scope := range scopes {
		part := s.parts[scope]
		if part == nil {
			continue
		}
		out = append(out, s.searchPartition(part, q, k, f)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > k {
		out = out[:k]
	}
	return out, nil
}

func (s *Store) searchPartition(part *partition, q []float32, k int, f vector.Filter) []vector.Result {
	if len(part.recs) < s.opts.ExactBelow {
		return exactTopK(part.recs, q, k, f)
	}
	// Approximate path: widen until k candidates pass the filter.
	want := max(k, s.opts.SearchWidth)
	for {
		nodes := part.graph.Search(q, want)
		var out []vector.Result
		for _, nd := range nodes {
			r := s.byKey[nd.Key]
			if r == nil || !f.Allows(r.payload) {
				continue
			}
			out = append(out, vector.Result{ID: r.id, Score: dot(q, r.vec), Payload: r.payload})
		}
		if len(out) >= k || want >= part.graph.Len() {
			return out
		}
		want = min(want*4, part.graph.Len())
	}
}

// exactTopK scans recs and keeps the k best that pass f in a min-heap.
func exactTopK(recs []*record, q []float32, k int, f vector.Filter) []vector.Result {
	type cand struct {
		r     *record
		score float32
	}
	h := make([]cand, 0, k)
	worse := func(a, b cand) bool { // a ranks below b
		if a.score != b.score {
			return a.score < b.score
		}
		return a.r.id > b.r.id
	}
	down := func(i int) {
		for {
			l, m := 2*i+1, i
			if l < len(h) && worse(h[l], h[m]) {
				m = l
			}
			if l+1 < len(h) && worse(h[l+1], h[m]) {
				m = l + 1
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, r := range recs {
		if !f.Allows(r.payload) {
			continue
		}
		c := cand{r, dot(q, r.vec)}
		if len(h) < k {
			h = append(h, c)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(h[i], h[p]) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if worse(h[0], c) {
			h[0] = c
			down(0)
		}
	}
	out := make([]vector.Result, len(h))
	for i, c := range h {
		out[i] = vector.Result{ID: c.r.id, Score: c.score, Payload: c.r.payload}
	}
	return out
}

// SetSearchWidth changes Options.SearchWidth of an open store.
func (s *Store) SetSearchWidth(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 {
		s.opts.SearchWidth = n
	}
}

// SetExactBelow changes Options.ExactBelow of an open store.
func (s *Store) SetExactBelow(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 {
		s.opts.ExactBelow = n
	}
}

// Flush writes the store to its directory if anything changed.
func (s *Store) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return vector.ErrClosed
	}
	return s.flushLocked()
}

// Close flushes and releases the store. It is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	err := s.flushLocked()
	s.closed = true
	s.byID, s.byKey, s.byDoc, s.parts = nil, nil, nil, nil
	return err
}

// On-disk layout (version 1). Each partition's files carry a generation;
// meta.json, written last and atomically, names the generation of every
// partition, so a crash mid-flush leaves the previous consistent set in
// force. Only partitions that changed are rewritten: a new incident in one
// cluster does not rewrite the global runbook index.
//
//	meta.json                              {"version":1,"dimensions":N,"next_key":K,"partitions":[{"cluster":"","gen":3},...]}
//	points-<hex(cluster)>-<gen>.gob        the partition's records without vectors
//	graph-<hex(cluster)>-<gen>.hnsw        its exported hnsw graph (holds the vectors, tombstones included)
const formatVersion = 1

type meta struct {
	Version    int        `json:"version"`
	Dimensions int        `json:"dimensions"`
	NextKey    uint64     `json:"next_key"`
	Partitions []partMeta `json:"partitions"`
}

type partMeta struct {
	Cluster string `json:"cluster"`
	Gen     uint64 `json:"gen"`
}

type diskRecord struct {
	Key     uint64
	ID      string
	Payload vector.Payload
}

func partFiles(cluster string, gen uint64) (graph, points string) {
	base := hex.EncodeToString([]byte(cluster)) + "-" + strconv.FormatUint(gen, 10)
	return "graph-" + base + ".hnsw", "points-" + base + ".gob"
}

func (s *Store) flushLocked() error {
	if s.dir == "" || !s.dirty {
		return nil
	}
	m := meta{Version: formatVersion, Dimensions: s.opts.Dimensions, NextKey: s.nextKey}
	clusters := slices.Sorted(maps.Keys(s.parts))
	written := 0
	for _, c := range clusters {
		part := s.parts[c]
		if part.dirty || part.gen == 0 {
			gen := part.gen + 1
			gf, pf := partFiles(c, gen)
			if err := writeAtomic(filepath.Join(s.dir, gf), part.graph.Export); err != nil {
				return fmt.Errorf("embedded: saving graph of cluster %q: %w", c, err)
			}
			recs := make([]diskRecord, len(part.recs))
			for i, r := range part.recs {
				recs[i] = diskRecord{Key: r.key, ID: r.id, Payload: r.payload}
			}
			slices.SortFunc(recs, func(a, b diskRecord) int { return cmp.Compare(a.Key, b.Key) })
			if err := writeAtomic(filepath.Join(s.dir, pf), func(w io.Writer) error {
				return gob.NewEncoder(w).Encode(recs)
			}); err != nil {
				return fmt.Errorf("embedded: saving points of cluster %q: %w", c, err)
			}
			part.gen, part.dirty = gen, false
			written++
		}
		m.Partitions = append(m.Partitions, partMeta{Cluster: c, Gen: part.gen})
	}
	if err := writeAtomic(filepath.Join(s.dir, "meta.json"), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(m)
	}); err != nil {
		return fmt.Errorf("embedded: saving meta: %w", err)
	}
	s.removeStaleFiles(m)
	s.dirty = false
	s.opts.Logger.Debug("embedded: flushed", "dir", s.dir, "points", len(s.byID), "partitions", len(m.Partitions), "rewritten", written)
	return nil
}

// removeStaleFiles deletes partition files that meta.json no longer names.
func (s *Store) removeStaleFiles(m meta) {
	keep := map[string]bool{}
	for _, pm := range m.Partitions {
		g, p := partFiles(pm.Cluster, pm.Gen)
		keep[g], keep[p] = true, true
	}
	entries, _ := os.ReadDir(s.dir)
	for _, e := range entries {
		n := e.Name()
		stale := (strings.HasPrefix(n, "graph-") && strings.HasSuffix(n, ".hnsw")) ||
			(strings.HasPrefix(n, "points-") && strings.HasSuffix(n, ".gob"))
		if stale && !keep[n] {
			_ = os.Remove(filepath.Join(s.dir, n))
		}
	}
}

func (s *Store) load() error {
	data, err := os.ReadFile(filepath.Join(s.dir, "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	var m meta
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("embedded: %s/meta.json: %w", s.dir, err)
	}
	if m.Version != formatVersion {
		return fmt.Errorf("embedded: %s: unsupported format version %d", s.dir, m.Version)
	}
	if m.Dimensions != s.opts.Dimensions {
		return fmt.Errorf("%w: %s holds %d-dim vectors, the embedder makes %d (re-ingest into a new data dir)",
			vector.ErrDimensionMismatch, s.dir, m.Dimensions, s.opts.Dimensions)
	}
	n := 0
	for _, pm := range m.Partitions {
		gf, pf := partFiles(pm.Cluster, pm.Gen)
		part := s.newPartition()
		part.gen = pm.Gen
		if err := readFile(filepath.Join(s.dir, gf), part.graph.Import); err != nil {
			return fmt.Errorf("embedded: loading graph of cluster %q: %w", pm.Cluster, err)
		}
		// Import restores the saved parameters; keep ours.
		part.graph.M, part.graph.EfSearch = s.opts.M, s.opts.EfSearch
		var recs []diskRecord
		if err := readFile(filepath.Join(s.dir, pf), func(r io.Reader) error {
			return gob.NewDecoder(r).Decode(&recs)
		}); err != nil {
			return fmt.Errorf("embedded: loading points of cluster %q: %w", pm.Cluster, err)
		}
		for _, dr := range recs {
			if dr.Payload.Cluster != pm.Cluster {
				return fmt.Errorf("embedded: point %s of cluster %q found in the files of cluster %q", dr.ID, dr.Payload.Cluster, pm.Cluster)
			}
			vec, ok := part.graph.Lookup(dr.Key)
			if !ok {
				return fmt.Errorf("embedded: point %s missing from its graph", dr.ID)
			}
			r := &record{key: dr.Key, id: dr.ID, vec: vec, payload: dr.Payload}
			s.byID[r.id], s.byKey[r.key] = r, r
			if s.byDoc[r.payload.DocID] == nil {
				s.byDoc[r.payload.DocID] = map[string]struct{}{}
			}
			s.byDoc[r.payload.DocID][r.id] = struct{}{}
			part.add(r)
		}
		n += len(recs)
		s.parts[pm.Cluster] = part
	}
	// Keys of tombstones (graph nodes without a record) are never reused:
	// the counter is saved rather than derived from the live records.
	s.nextKey = m.NextKey
	s.opts.Logger.Debug("embedded: loaded", "dir", s.dir, "points", n)
	return nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func readFile(path string, read func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return read(bufio.NewReaderSize(f, 1<<20))
}

func normalized(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	n := float32(1 / math.Sqrt(s))
	for i, x := range v {
		out[i] = x * n
	}
	return out
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

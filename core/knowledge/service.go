package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("knowledge: document not found")
	// ErrInvalid marks bad input (a document or query the caller must fix).
	ErrInvalid = errors.New("knowledge: invalid")
	// ErrEmbedderChanged means the catalog was built with another
	// embedder; its vectors cannot be compared with new ones.
	ErrEmbedderChanged = errors.New("knowledge: embedder changed since the index was built")
)

// Embedder is what the Service needs from an embedder (see package embed).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Dimensions() int
	Name() string
}

// Options configures a Service. Embedder and Store are required.
type Options struct {
	Embedder Embedder
	Store    vector.Store
	// Dir holds documents.json; "" keeps the catalog in memory.
	Dir      string
	Chunking ChunkOptions
	Ranking  RankingOptions
	Logger   *slog.Logger
	// Now is the clock used for freshness (default time.Now).
	Now func() time.Time
	// Registerer receives the knowledge metrics; nil records none.
	Registerer prometheus.Registerer
}

// RankingOptions weighs the parts of hybrid retrieval. The zero value
// takes DefaultRankingOptions.
type RankingOptions struct {
	// VectorWeight and KeywordWeight mix the cosine similarity and the
	// BM25 score (normalised by the query's best BM25 score).
	VectorWeight, KeywordWeight float64
	// Candidates is how many chunks each ranking contributes (default 100).
	Candidates int
	// ServiceBoost multiplies a document whose services match the query's
	// (given or named in the text) by 1 + ServiceBoost.
	ServiceBoost float64
	// VerifiedBoost multiplies verified runbooks by 1 + VerifiedBoost.
	VerifiedBoost float64
	// FreshnessBoost multiplies dated documents by 1 + FreshnessBoost *
	// 0.5^(age / FreshnessHalfLife).
	FreshnessBoost    float64
	FreshnessHalfLife time.Duration
	// NavigationWeight scales chunks of "Related"/"See also" sections,
	// which describe other documents rather than this one.
	NavigationWeight float64
}

// DefaultRankingOptions returns the defaults.
func DefaultRankingOptions() RankingOptions {
	return RankingOptions{
		VectorWeight: 0.5, KeywordWeight: 0.5, Candidates: 100,
		ServiceBoost: 0.15, VerifiedBoost: 0.05, FreshnessBoost: 0.1, FreshnessHalfLife: 30 * 24 * time.Hour,
		NavigationWeight: 0.5,
	}
}

// DefaultOptions returns options with every default filled except the
// embedder and store.
func DefaultOptions() Options {
	return Options{Ranking: DefaultRankingOptions(), Chunking: ChunkOptions{}.withDefaults()}
}

// Service is the knowledge base.
type Service struct {
	emb   Embedder
	store vector.Store
	opts  Options

	mu   sync.RWMutex
	docs map[string]storedDoc
	kw   *keywordIndex
	m    *metrics
}

type storedDoc struct {
	Document
	Chunks int `json:"chunks"`
}

type catalogFile struct {
	Version   int         `json:"version"`
	Embedder  string      `json:"embedder"`
	Documents []storedDoc `json:"documents"`
}

// New builds a Service, loading the catalog from Options.Dir and
// rebuilding the keyword index from it.
func New(opts Options) (*Service, error) {
	if opts.Embedder == nil || opts.Store == nil {
		return nil, errors.New("knowledge: Options.Embedder and Options.Store are required")
	}
	if opts.Embedder.Dimensions() != opts.Store.Dimensions() {
		return nil, fmt.Errorf("knowledge: embedder %s makes %d-dim vectors, the store holds %d: %w",
			opts.Embedder.Name(), opts.Embedder.Dimensions(), opts.Store.Dimensions(), vector.ErrDimensionMismatch)
	}
	if opts.Ranking == (RankingOptions{}) {
		opts.Ranking = DefaultRankingOptions()
	}
	if opts.Ranking.Candidates <= 0 {
		opts.Ranking.Candidates = 100
	}
	if opts.Ranking.FreshnessHalfLife <= 0 {
		opts.Ranking.FreshnessHalfLife = 30 * 24 * time.Hour
	}
	opts.Chunking = opts.Chunking.withDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{emb: opts.Embedder, store: opts.Store, opts: opts, docs: map[string]storedDoc{}, kw: newKeywordIndex(), m: m}
	if err := s.loadCatalog(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the store.
func (s *Service) Close() error { return s.store.Close() }

func (s *Service) catalogPath() string { return filepath.Join(s.opts.Dir, "documents.json") }

func (s *Service) loadCatalog() error {
	if s.opts.Dir == "" {
		return nil
	}
	data, err := os.ReadFile(s.catalogPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	var cf catalogFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return fmt.Errorf("knowledge: %s: %w", s.catalogPath(), err)
	}
	if len(cf.Documents) > 0 && cf.Embedder != s.emb.Name() {
		return fmt.Errorf("%w: %s was built with %q, now %q (re-ingest into a new data dir)", ErrEmbedderChanged, s.catalogPath(), cf.Embedder, s.emb.Name())
	}
	for _, d := range cf.Documents {
		s.docs[d.ID] = d
		for _, c := range s.chunks(d.Document) {
			s.kw.add(vector.PointID(d.ID, c.Index), payloadOf(d.Document, c), embedText(d.Document, c))
		}
	}
	return nil
}

func (s *Service) saveCatalogLocked() error {
	if s.opts.Dir == "" {
		return nil
	}
	cf := catalogFile{Version: 1, Embedder: s.emb.Name()}
	for _, d := range s.docs {
		cf.Documents = append(cf.Documents, d)
	}
	slices.SortFunc(cf.Documents, func(a, b storedDoc) int { return strings.Compare(a.ID, b.ID) })
	data, err := json.MarshalIndent(cf, "", " ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.opts.Dir, 0o750); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	tmp := s.catalogPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	if err := os.Rename(tmp, s.catalogPath()); err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	return nil
}

func (s *Service) chunks(d Document) []Chunk {
	cs := ChunkMarkdown(d.Body, s.opts.Chunking)
	if len(cs) == 0 {
		cs = []Chunk{{Text: d.Body}}
	}
	return cs
}

// embedText is what both rankings see for a chunk: the title and heading
// give every chunk its document's context; the first chunk also carries
// the front matter (services, tags, symptoms).
func embedText(d Document, c Chunk) string {
	var b strings.Builder
	b.WriteString(d.Title)
	b.WriteString("\n")
	if c.Heading != "" {
		b.WriteString(c.Heading)
		b.WriteString("\n")
	}
	if c.Index == 0 {
		for _, l := range [][]string{d.Metadata.Services, d.Metadata.Tags, d.Metadata.Symptoms} {
			if len(l) > 0 {
				b.WriteString(strings.Join(l, ", "))
				b.WriteString("\n")
			}
		}
	}
	b.WriteString(c.Text)
	return b.String()
}

func payloadOf(d Document, c Chunk) vector.Payload {
	updated := d.Metadata.UpdatedAt
	if updated.IsZero() {
		updated = d.Metadata.CreatedAt
	}
	return vector.Payload{
		DocID: d.ID, Chunk: c.Index, Kind: string(d.Kind), Cluster: d.Metadata.Cluster,
		Title: d.Title, Heading: c.Heading, Text: c.Text, Services: d.Metadata.Services,
		Verified: d.Metadata.Verified, UpdatedAt: updated,
	}
}

// IngestStats summarises an Ingest call.
type IngestStats struct {
	Documents int `json:"documents"`
	Chunks    int `json:"chunks"`
}

// Ingest validates, chunks, embeds and stores documents, replacing any
// document with the same id. progress, when non-nil, is called after each
// document.
func (s *Service) Ingest(ctx context.Context, docs []Document, progress func(done int)) (IngestStats, error) {
	var errs []error
	seen := map[string]bool{}
	for _, d := range docs {
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[d.ID] {
			errs = append(errs, fmt.Errorf("%w: id %q appears twice in one ingest", ErrInvalid, d.ID))
		}
		seen[d.ID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return IngestStats{}, err
	}
	var st IngestStats
	now := s.opts.Now().UTC()
	var ingestErr error
	done := 0
	// Documents are embedded in groups of about embedGroupChunks chunks,
	// so that a remote embedder gets full batches rather than one small
	// request per document.
	for start := 0; start < len(docs) && ingestErr == nil; {
		group, texts, n := s.prepareGroup(docs[start:], now)
		vecs, err := s.emb.Embed(ctx, texts)
		if err == nil && len(vecs) != len(texts) {
			err = fmt.Errorf("embedder returned %d vectors for %d chunks", len(vecs), len(texts))
		}
		if err != nil {
			ingestErr = fmt.Errorf("knowledge: embedding %s..%s: %w", docs[start].ID, docs[start+n-1].ID, err)
			break
		}
		off := 0
		for _, p := range group {
			k := len(p.chunks)
			if err := s.store1(ctx, p, vecs[off:off+k], texts[off:off+k]); err != nil {
				ingestErr = err
				break
			}
			off += k
			st.Documents++
			st.Chunks += k
			done++
			if progress != nil {
				progress(done)
			}
		}
		start += n
	}
	// Persist what was stored even when a later document failed, so the
	// catalog and the store never disagree after a restart.
	if err := s.persist(ctx); err != nil {
		return st, errors.Join(ingestErr, err)
	}
	return st, ingestErr
}

// embedGroupChunks is the target number of chunks per Embed call.
const embedGroupChunks = 256

type prepared struct {
	doc    Document
	chunks []Chunk
}

// prepareGroup chunks documents from the front of docs until about
// embedGroupChunks chunks are collected (at least one document); it
// returns them, their embedding texts in order, and how many it took.
func (s *Service) prepareGroup(docs []Document, now time.Time) ([]prepared, []string, int) {
	var (
		group []prepared
		texts []string
	)
	for _, d := range docs {
		if len(group) > 0 && len(texts) >= embedGroupChunks {
			break
		}
		if d.Metadata.CreatedAt.IsZero() {
			d.Metadata.CreatedAt = now
		}
		cs := s.chunks(d)
		for _, c := range cs {
			texts = append(texts, embedText(d, c))
		}
		group = append(group, prepared{doc: d, chunks: cs})
	}
	return group, texts, len(group)
}

// store1 writes one embedded document to the store and the indexes.
func (s *Service) store1(ctx context.Context, p prepared, vecs [][]float32, texts []string) error {
	pts := make([]vector.Point, len(p.chunks))
	for j, c := range p.chunks {
		pts[j] = vector.Point{ID: vector.PointID(p.doc.ID, c.Index), Vector: vecs[j], Payload: payloadOf(p.doc, c)}
	}
	if err := s.replace(ctx, p.doc, pts, texts); err != nil {
		return err
	}
	s.m.chunks(p.doc.Kind, len(pts))
	return nil
}

func (s *Service) persist(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.saveCatalogLocked(); err != nil {
		return err
	}
	if f, ok := s.store.(vector.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("knowledge: flushing store: %w", err)
		}
	}
	return nil
}

func (s *Service) replace(ctx context.Context, d Document, pts []vector.Point, texts []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.docs[d.ID]; ok {
		if err := s.store.DeleteDocument(ctx, d.ID); err != nil {
			return fmt.Errorf("knowledge: replacing %s: %w", d.ID, err)
		}
		for c := range old.Chunks {
			s.kw.remove(vector.PointID(d.ID, c))
		}
	}
	if err := s.store.Upsert(ctx, pts); err != nil {
		// The old version is gone from the store and the keyword index:
		// forget it in the catalog too rather than list a ghost.
		delete(s.docs, d.ID)
		return fmt.Errorf("knowledge: storing %s: %w", d.ID, err)
	}
	for j, p := range pts {
		s.kw.add(p.ID, p.Payload, texts[j])
	}
	s.docs[d.ID] = storedDoc{Document: d, Chunks: len(pts)}
	return nil
}

// IngestFindings stores analyzer findings as documents of kind finding.
func (s *Service) IngestFindings(ctx context.Context, fs []Finding) (IngestStats, error) {
	docs := make([]Document, 0, len(fs))
	for _, f := range fs {
		d, err := FindingDocument(f)
		if err != nil {
			return IngestStats{}, err
		}
		docs = append(docs, d)
	}
	return s.Ingest(ctx, docs, nil)
}

// Get returns a document by id.
func (s *Service) Get(id string) (Document, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.docs[id]
	if !ok {
		return Document{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return d.Document, nil
}

// ListOptions filters List. Cluster follows the search rule: a cluster's
// documents plus global ones; "" lists global documents only, unless
// AllClusters is set (operators' view).
type ListOptions struct {
	Cluster     string
	AllClusters bool
	Kind        Kind
}

// List returns documents sorted by id.
func (s *Service) List(o ListOptions) []Document {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Document
	for _, d := range s.docs {
		if !o.AllClusters && d.Metadata.Cluster != "" && d.Metadata.Cluster != o.Cluster {
			continue
		}
		if o.Kind != "" && d.Kind != o.Kind {
			continue
		}
		out = append(out, d.Document)
	}
	slices.SortFunc(out, func(a, b Document) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Delete removes a document and its chunks.
func (s *Service) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.docs[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err := s.store.DeleteDocument(ctx, id); err != nil {
		return fmt.Errorf("knowledge: deleting %s: %w", id, err)
	}
	for c := range d.Chunks {
		s.kw.remove(vector.PointID(id, c))
	}
	delete(s.docs, id)
	if err := s.saveCatalogLocked(); err != nil {
		return err
	}
	if f, ok := s.store.(vector.Flusher); ok {
		if err := f.Flush(ctx); err != nil {
			return fmt.Errorf("knowledge: flushing store: %w", err)
		}
	}
	return nil
}

// Query is a search request.
type Query struct {
	Text string `json:"query"`
	// Cluster scopes the search (hard filter); "" searches global
	// documents only.
	Cluster string `json:"cluster,omitempty"`
	Kinds   []Kind `json:"kinds,omitempty"`
	// Services the question is about (boost, not filter).
	Services []string `json:"services,omitempty"`
	// Limit is the number of documents returned (default 5, max 100).
	Limit int `json:"limit,omitempty"`
}

// Hit is one document found, with the chunk that matched best.
type Hit struct {
	ID      string  `json:"id"`
	Kind    Kind    `json:"kind"`
	Title   string  `json:"title"`
	Cluster string  `json:"cluster,omitempty"`
	Score   float64 `json:"score"`
	Heading string  `json:"heading,omitempty"`
	Chunk   string  `json:"chunk"`
	// Why: the parts of the score, so that a reader can judge the hit.
	VectorScore  float64 `json:"vector_score"`
	KeywordScore float64 `json:"keyword_score"`
	Boost        float64 `json:"boost"`
}

// MaxLimit bounds Query.Limit.
const MaxLimit = 100

var navHeadingRE = regexp.MustCompile(`(?i)^(related|see also|references|further reading)`)

// Search runs hybrid retrieval.
func (s *Service) Search(ctx context.Context, q Query) ([]Hit, error) {
	start := s.opts.Now()
	hits, err := s.search(ctx, q)
	s.m.search(s.opts.Now().Sub(start).Seconds(), err)
	return hits, err
}

func (s *Service) search(ctx context.Context, q Query) ([]Hit, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, fmt.Errorf("%w: empty query", ErrInvalid)
	}
	if q.Cluster != "" && !clusterRE.MatchString(q.Cluster) {
		return nil, fmt.Errorf("%w: cluster %q: want lower-case letters, digits, _ and -", ErrInvalid, q.Cluster)
	}
	for _, k := range q.Kinds {
		if !k.Valid() {
			return nil, fmt.Errorf("%w: kind %q: want runbook, incident, finding or note", ErrInvalid, k)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 5
	}
	if limit > MaxLimit {
		return nil, fmt.Errorf("%w: limit %d: at most %d", ErrInvalid, limit, MaxLimit)
	}
	f := vector.Filter{Cluster: q.Cluster}
	for _, k := range q.Kinds {
		f.Kinds = append(f.Kinds, string(k))
	}
	vecs, err := s.emb.Embed(ctx, []string{q.Text})
	if err != nil {
		return nil, fmt.Errorf("knowledge: embedding query: %w", err)
	}
	r := s.opts.Ranking
	cand := max(r.Candidates, limit*4)
	vres, err := s.store.Search(ctx, vecs[0], cand, f)
	if err != nil {
		return nil, fmt.Errorf("knowledge: vector search: %w", err)
	}
	s.mu.RLock()
	kres := s.kw.search(q.Text, cand, f)
	s.mu.RUnlock()

	type chunkScore struct {
		payload    vector.Payload
		vec, kw    float64
		fused      float64
		hasPayload bool
	}
	chunks := map[string]*chunkScore{}
	get := func(id string, p vector.Payload) *chunkScore {
		c := chunks[id]
		if c == nil {
			c = &chunkScore{payload: p, hasPayload: true}
			chunks[id] = c
		}
		return c
	}
	for _, v := range vres {
		if !f.Allows(v.Payload) { // defence in depth: the store already filtered
			continue
		}
		get(v.ID, v.Payload).vec = math.Max(0, float64(v.Score))
	}
	if len(kres) > 0 {
		top := kres[0].score
		for _, k := range kres {
			get(k.id, k.payload).kw = k.score / top
		}
	}
	queryTerms := map[string]bool{}
	for _, t := range embed.Tokens(q.Text) {
		queryTerms[t] = true
	}
	for _, sv := range q.Services {
		for _, t := range embed.Tokens(sv) {
			queryTerms[t] = true
		}
	}
	type docScore struct {
		best  *chunkScore
		score float64
	}
	docs := map[string]*docScore{}
	s.mu.RLock()
	for id, c := range chunks {
		if d, ok := s.docs[c.payload.DocID]; !ok || c.payload.Chunk >= d.Chunks {
			// The store still holds a point the catalog no longer has (a
			// crash between the catalog save and the store flush of a
			// delete): deleted means gone, so drop it.
			delete(chunks, id)
		}
	}
	s.mu.RUnlock()
	for _, c := range chunks {
		c.fused = r.VectorWeight*c.vec + r.KeywordWeight*c.kw
		if navHeadingRE.MatchString(c.payload.Heading) {
			c.fused *= r.NavigationWeight
		}
		d := docs[c.payload.DocID]
		// Ties go to the earlier chunk, so results do not depend on map order.
		if d == nil || c.fused > d.score || (c.fused == d.score && c.payload.Chunk < d.best.payload.Chunk) {
			docs[c.payload.DocID] = &docScore{best: c, score: c.fused}
		}
	}
	now := s.opts.Now()
	hits := make([]Hit, 0, len(docs))
	for id, d := range docs {
		p := d.best.payload
		boost := 1.0
		if serviceMatch(p.Services, q.Services, queryTerms) {
			boost *= 1 + r.ServiceBoost
		}
		if p.Verified && p.Kind == string(KindRunbook) {
			boost *= 1 + r.VerifiedBoost
		}
		if !p.UpdatedAt.IsZero() && p.Kind != string(KindRunbook) {
			age := now.Sub(p.UpdatedAt)
			if age < 0 {
				age = 0
			}
			boost *= 1 + r.FreshnessBoost*math.Pow(0.5, float64(age)/float64(r.FreshnessHalfLife))
		}
		hits = append(hits, Hit{
			ID: id, Kind: Kind(p.Kind), Title: p.Title, Cluster: p.Cluster, Score: round(d.score * boost),
			Heading: p.Heading, Chunk: p.Text, VectorScore: round(d.best.vec), KeywordScore: round(d.best.kw), Boost: round(boost),
		})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// serviceMatch: a document service equals a query service, or all its
// words appear in the question ("kafka", "postgres"). "any" matches
// nothing: it is not evidence.
func serviceMatch(docServices, qServices []string, queryTerms map[string]bool) bool {
	for _, ds := range docServices {
		if strings.EqualFold(ds, "any") {
			continue
		}
		for _, qs := range qServices {
			if strings.EqualFold(ds, qs) {
				return true
			}
		}
		toks := embed.Tokens(ds)
		if len(toks) == 0 {
			continue
		}
		all := true
		for _, t := range toks {
			if !queryTerms[t] {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func round(x float64) float64 { return math.Round(x*1e4) / 1e4 }

package qdrantstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"

	"github.com/faultmaven/faultmaven/core/knowledge/vector"
)

// GlobalCluster is the payload value of the cluster field for global
// points. Cluster names start with a letter or digit, so it cannot clash.
const GlobalCluster = "_global"

// Payload field names.
const (
	fieldDocID    = "doc_id"
	fieldChunk    = "chunk"
	fieldKind     = "kind"
	fieldCluster  = "cluster"
	fieldTitle    = "title"
	fieldHeading  = "heading"
	fieldText     = "text"
	fieldServices = "services"
	fieldVerified = "verified"
	fieldUpdated  = "updated_at"
)

// Options configures a Store. Host, Collection and Dimensions are required.
type Options struct {
	Host string
	Port int // default 6334 (gRPC)
	// APIKey is sent with every call when set; it never appears in errors
	// or logs.
	APIKey string
	UseTLS bool
	// Collection name, e.g. "faultmaven_knowledge".
	Collection string
	Dimensions int
	// BatchSize is the number of points per upsert call (default 256).
	BatchSize int
	// Timeout bounds each call (default 30s).
	Timeout time.Duration
	// GrpcOptions are extra dial options (tests use them).
	GrpcOptions []grpc.DialOption
	Logger      *slog.Logger
}

// Store is a vector.Store on a Qdrant collection.
type Store struct {
	c    *qdrant.Client
	opts Options
}

var _ vector.Store = (*Store)(nil)

// Open connects and ensures the collection and its payload indexes.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Host == "" || o.Collection == "" || o.Dimensions <= 0 {
		return nil, errors.New("qdrantstore: Host, Collection and Dimensions are required")
	}
	if o.Port == 0 {
		o.Port = 6334
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := qdrant.NewClient(&qdrant.Config{
		Host: o.Host, Port: o.Port, APIKey: o.APIKey, UseTLS: o.UseTLS,
		GrpcOptions: o.GrpcOptions, PoolSize: 1, SkipCompatibilityCheck: true,
	})
	if err != nil {
		return nil, fmt.Errorf("qdrantstore: connecting to %s:%d: %w", o.Host, o.Port, err)
	}
	s := &Store{c: c, opts: o}
	if err := s.ensureCollection(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

func (s *Store) ensureCollection(ctx context.Context) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	name := s.opts.Collection
	exists, err := s.c.CollectionExists(ctx, name)
	if err != nil {
		return fmt.Errorf("qdrantstore: checking collection %s: %w", name, err)
	}
	if exists {
		info, err := s.c.GetCollectionInfo(ctx, name)
		if err != nil {
			return fmt.Errorf("qdrantstore: reading collection %s: %w", name, err)
		}
		params := info.GetConfig().GetParams().GetVectorsConfig().GetParams()
		if params == nil {
			return fmt.Errorf("qdrantstore: collection %s has no single unnamed vector config", name)
		}
		if int(params.GetSize()) != s.opts.Dimensions {
			return fmt.Errorf("%w: collection %s holds %d-dim vectors, the embedder makes %d", vector.ErrDimensionMismatch, name, params.GetSize(), s.opts.Dimensions)
		}
		if params.GetDistance() != qdrant.Distance_Cosine {
			return fmt.Errorf("qdrantstore: collection %s uses %s distance, want Cosine", name, params.GetDistance())
		}
	} else {
		err := s.c.CreateCollection(ctx, &qdrant.CreateCollection{
			CollectionName: name,
			VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{
				Size: uint64(s.opts.Dimensions), Distance: qdrant.Distance_Cosine,
			}),
		})
		if err != nil {
			// Another hub (a replica starting at the same time) may have
			// created it first: then check that one as if it had been there.
			if again, cerr := s.c.CollectionExists(ctx, name); cerr == nil && again {
				return s.ensureCollection(ctx)
			}
			return fmt.Errorf("qdrantstore: creating collection %s: %w", name, err)
		}
		s.opts.Logger.Info("qdrantstore: created collection", "collection", name, "dimensions", s.opts.Dimensions)
	}
	// Creating an index that exists is a no-op in Qdrant.
	for _, f := range []string{fieldCluster, fieldKind, fieldDocID} {
		_, err := s.c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{
			CollectionName: name, FieldName: f, FieldType: qdrant.FieldType_FieldTypeKeyword.Enum(), Wait: qdrant.PtrOf(true),
		})
		if err != nil {
			return fmt.Errorf("qdrantstore: payload index %s on %s: %w", f, name, err)
		}
	}
	return nil
}

// Dimensions implements vector.Store.
func (s *Store) Dimensions() int { return s.opts.Dimensions }

// Upsert implements vector.Store.
func (s *Store) Upsert(ctx context.Context, points []vector.Point) error {
	for _, p := range points {
		if err := vector.Validate(p, s.opts.Dimensions); err != nil {
			return err
		}
	}
	for start := 0; start < len(points); start += s.opts.BatchSize {
		batch := points[start:min(start+s.opts.BatchSize, len(points))]
		ps := make([]*qdrant.PointStruct, len(batch))
		for i, p := range batch {
			ps[i] = &qdrant.PointStruct{
				Id:      qdrant.NewIDUUID(p.ID),
				Vectors: qdrant.NewVectorsDense(p.Vector),
				Payload: toPayload(p.Payload),
			}
		}
		cctx, cancel := s.call(ctx)
		_, err := s.c.Upsert(cctx, &qdrant.UpsertPoints{CollectionName: s.opts.Collection, Wait: qdrant.PtrOf(true), Points: ps})
		cancel()
		if err != nil {
			return fmt.Errorf("qdrantstore: upserting points %d..%d: %w", start, start+len(batch)-1, err)
		}
	}
	return nil
}

// scopeFilter is the server-side form of vector.Filter.
func scopeFilter(f vector.Filter) *qdrant.Filter {
	scopes := []string{GlobalCluster}
	if f.Cluster != "" {
		scopes = append(scopes, f.Cluster)
	}
	must := []*qdrant.Condition{qdrant.NewMatchKeywords(fieldCluster, scopes...)}
	if len(f.Kinds) > 0 {
		must = append(must, qdrant.NewMatchKeywords(fieldKind, f.Kinds...))
	}
	return &qdrant.Filter{Must: must}
}

// Search implements vector.Store.
func (s *Store) Search(ctx context.Context, q []float32, k int, f vector.Filter) ([]vector.Result, error) {
	if err := vector.CheckQuery(q, s.opts.Dimensions); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: s.opts.Collection,
		Query:          qdrant.NewQueryDense(q),
		Filter:         scopeFilter(f),
		Limit:          qdrant.PtrOf(uint64(k)),
		WithPayload:    qdrant.NewWithPayload(true),
	})
	if err != nil {
		return nil, fmt.Errorf("qdrantstore: query: %w", err)
	}
	out := make([]vector.Result, 0, len(res))
	for _, sp := range res {
		p, err := fromPayload(sp.GetPayload())
		if err != nil {
			return nil, fmt.Errorf("qdrantstore: point %s: %w", sp.GetId().GetUuid(), err)
		}
		if !f.Allows(p) {
			// The server filtered already; a point outside the scope
			// here means a broken server or index: refuse to leak it.
			return nil, fmt.Errorf("qdrantstore: server returned point %s outside the requested scope", sp.GetId().GetUuid())
		}
		out = append(out, vector.Result{ID: sp.GetId().GetUuid(), Score: sp.GetScore(), Payload: p})
	}
	slices.SortStableFunc(out, func(a, b vector.Result) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return out, nil
}

// DeleteDocument implements vector.Store.
func (s *Store) DeleteDocument(ctx context.Context, docID string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.c.Delete(ctx, &qdrant.DeletePoints{
		CollectionName: s.opts.Collection, Wait: qdrant.PtrOf(true),
		Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchKeyword(fieldDocID, docID)}}),
	})
	if err != nil {
		return fmt.Errorf("qdrantstore: deleting document %s: %w", docID, err)
	}
	return nil
}

// Count implements vector.Store.
func (s *Store) Count(ctx context.Context) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	n, err := s.c.Count(ctx, &qdrant.CountPoints{CollectionName: s.opts.Collection, Exact: qdrant.PtrOf(true)})
	if err != nil {
		return 0, fmt.Errorf("qdrantstore: count: %w", err)
	}
	return int(n), nil
}

// Close implements vector.Store.
func (s *Store) Close() error { return s.c.Close() }

func toPayload(p vector.Payload) map[string]*qdrant.Value {
	cluster := p.Cluster
	if cluster == "" {
		cluster = GlobalCluster
	}
	services := make([]*qdrant.Value, len(p.Services))
	for i, sv := range p.Services {
		services[i] = qdrant.NewValueString(sv)
	}
	m := map[string]*qdrant.Value{
		fieldDocID:    qdrant.NewValueString(p.DocID),
		fieldChunk:    qdrant.NewValueInt(int64(p.Chunk)),
		fieldKind:     qdrant.NewValueString(p.Kind),
		fieldCluster:  qdrant.NewValueString(cluster),
		fieldTitle:    qdrant.NewValueString(p.Title),
		fieldHeading:  qdrant.NewValueString(p.Heading),
		fieldText:     qdrant.NewValueString(p.Text),
		fieldServices: qdrant.NewValueFromList(services...),
		fieldVerified: qdrant.NewValueBool(p.Verified),
	}
	if !p.UpdatedAt.IsZero() {
		m[fieldUpdated] = qdrant.NewValueString(p.UpdatedAt.UTC().Format(time.RFC3339Nano))
	}
	return m
}

func fromPayload(m map[string]*qdrant.Value) (vector.Payload, error) {
	p := vector.Payload{
		DocID: m[fieldDocID].GetStringValue(), Chunk: int(m[fieldChunk].GetIntegerValue()),
		Kind: m[fieldKind].GetStringValue(), Cluster: m[fieldCluster].GetStringValue(),
		Title: m[fieldTitle].GetStringValue(), Heading: m[fieldHeading].GetStringValue(),
		Text: m[fieldText].GetStringValue(), Verified: m[fieldVerified].GetBoolValue(),
	}
	if p.DocID == "" {
		return p, errors.New("payload has no doc_id")
	}
	if p.Cluster == GlobalCluster {
		p.Cluster = ""
	}
	for _, v := range m[fieldServices].GetListValue().GetValues() {
		p.Services = append(p.Services, v.GetStringValue())
	}
	if ts := m[fieldUpdated].GetStringValue(); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return p, fmt.Errorf("updated_at: %w", err)
		}
		p.UpdatedAt = t
	}
	return p, nil
}

// DropCollection deletes the collection named in o (tests and operators
// resetting an index).
func DropCollection(ctx context.Context, o Options) error {
	if o.Port == 0 {
		o.Port = 6334
	}
	c, err := qdrant.NewClient(&qdrant.Config{Host: o.Host, Port: o.Port, APIKey: o.APIKey, UseTLS: o.UseTLS, GrpcOptions: o.GrpcOptions, PoolSize: 1, SkipCompatibilityCheck: true})
	if err != nil {
		return fmt.Errorf("qdrantstore: %w", err)
	}
	defer c.Close()
	if err := c.DeleteCollection(ctx, o.Collection); err != nil {
		return fmt.Errorf("qdrantstore: dropping %s: %w", o.Collection, err)
	}
	return nil
}

// Package qdranttest is an in-process stand-in for the Qdrant gRPC API,
// implementing the subset the qdrantstore package uses, with Qdrant's
// semantics for that subset.
//
// Implemented:
//   - Qdrant.HealthCheck.
//   - Collections: CollectionExists, Get (status, vector params, payload
//     schema), Create (one unnamed dense vector config; Cosine, Dot or
//     Euclid distance), Delete, List.
//   - Points: Upsert (dense vectors, UUID or numeric ids, replacing by id;
//     cosine collections store normalised vectors, as Qdrant does), Delete
//     (by id list or filter), Query (nearest by dense vector, exact scan,
//     filter, limit, offset, with_payload true/false), Count (with filter),
//     CreateFieldIndex (recorded in the payload schema, idempotent).
//   - Filters: must / should / must_not of field conditions with match
//     keyword, keywords (any), except keywords, integer and boolean, on
//     top-level payload keys (arrays match when any element matches).
//
// Left out, answered with codes.Unimplemented (or, for unsupported
// parameters of implemented calls, codes.InvalidArgument): named and sparse
// vectors, multi-vectors, prefetch and fusion queries, recommend/discover/
// context/order-by/formula queries, score_threshold, with_vectors, range,
// geo, datetime, full-text, nested, has_id, is_empty and is_null
// conditions, min_should, payload selectors other than true/false, shard
// keys, aliases, snapshots, scroll, set/overwrite/delete payload, update
// vectors, batch calls, search groups, facets, consistency and ordering
// parameters (all writes behave as wait=true), HNSW/optimizer/quantization
// configs (accepted on Create but ignored), API-key checks, and
// persistence (state lives in memory).
package qdranttest

import (
	"context"
	"math"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Server is the stand-in's state. Start it with Start. The Collections
// and Points services are separate types because their Go method sets
// overlap (both have Get and Delete).
type Server struct {
	mu          sync.Mutex
	collections map[string]*collection
	// Calls counts calls by method name ("Upsert", "Query", ...).
	Calls map[string]int
}

type collection struct {
	size     uint64
	distance qdrant.Distance
	points   map[string]*point
	schema   map[string]*qdrant.PayloadSchemaInfo
}

type point struct {
	id      *qdrant.PointId
	vec     []float32
	payload map[string]*qdrant.Value
}

// Start serves the stand-in on a loopback port until the test ends and
// returns it with its host and port.
func Start(t testing.TB) (*Server, string, int) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("qdranttest: listen: %v", err)
	}
	s := &Server{collections: map[string]*collection{}, Calls: map[string]int{}}
	g := grpc.NewServer()
	qdrant.RegisterQdrantServer(g, healthServer{})
	qdrant.RegisterCollectionsServer(g, collectionsServer{Server: s})
	qdrant.RegisterPointsServer(g, pointsServer{Server: s})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = g.Serve(lis)
	}()
	t.Cleanup(func() {
		g.Stop()
		<-done
	})
	addr := lis.Addr().(*net.TCPAddr)
	return s, "127.0.0.1", addr.Port
}

// CallCount returns how many times method was called.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Calls[method]
}

func (s *Server) count(m string) { s.Calls[m]++ }

func (s *Server) get(name string) (*collection, error) {
	c := s.collections[name]
	if c == nil {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
	}
	return c, nil
}

type healthServer struct {
	qdrant.UnimplementedQdrantServer
}

type collectionsServer struct {
	qdrant.UnimplementedCollectionsServer
	*Server
}

type pointsServer struct {
	qdrant.UnimplementedPointsServer
	*Server
}

// HealthCheck implements qdrant.QdrantServer.
func (healthServer) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	return &qdrant.HealthCheckReply{Title: "qdranttest", Version: "1.17.0"}, nil
}

// CollectionExists implements qdrant.CollectionsServer.
func (s collectionsServer) CollectionExists(_ context.Context, r *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("CollectionExists")
	_, ok := s.collections[r.GetCollectionName()]
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: ok}}, nil
}

// List implements qdrant.CollectionsServer.
func (s collectionsServer) List(context.Context, *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("List")
	var out []*qdrant.CollectionDescription
	for n := range s.collections {
		out = append(out, &qdrant.CollectionDescription{Name: n})
	}
	return &qdrant.ListCollectionsResponse{Collections: out}, nil
}

// Get implements qdrant.CollectionsServer.
func (s collectionsServer) Get(_ context.Context, r *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Get")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	n := uint64(len(c.points))
	return &qdrant.GetCollectionInfoResponse{Result: &qdrant.CollectionInfo{
		Status:      qdrant.CollectionStatus_Green,
		PointsCount: &n,
		Config: &qdrant.CollectionConfig{Params: &qdrant.CollectionParams{
			VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: c.size, Distance: c.distance}),
		}},
		PayloadSchema: c.schema,
	}}, nil
}

// Create implements qdrant.CollectionsServer.
func (s collectionsServer) Create(_ context.Context, r *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Create")
	name := r.GetCollectionName()
	if name == "" {
		return nil, status.Error(codes.InvalidArgument, "collection name is empty")
	}
	if _, ok := s.collections[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	params := r.GetVectorsConfig().GetParams()
	if params == nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only a single unnamed vector config is supported")
	}
	if params.GetSize() == 0 {
		return nil, status.Error(codes.InvalidArgument, "vector size must be > 0")
	}
	switch params.GetDistance() {
	case qdrant.Distance_Cosine, qdrant.Distance_Dot, qdrant.Distance_Euclid:
	default:
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: distance %s", params.GetDistance())
	}
	s.collections[name] = &collection{size: params.GetSize(), distance: params.GetDistance(), points: map[string]*point{}, schema: map[string]*qdrant.PayloadSchemaInfo{}}
	return &qdrant.CollectionOperationResponse{Result: true}, nil
}

// Delete implements qdrant.CollectionsServer.
func (s collectionsServer) Delete(_ context.Context, r *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("DeleteCollection")
	_, ok := s.collections[r.GetCollectionName()]
	delete(s.collections, r.GetCollectionName())
	return &qdrant.CollectionOperationResponse{Result: ok}, nil
}

// CreateFieldIndex implements qdrant.PointsServer.
func (s pointsServer) CreateFieldIndex(_ context.Context, r *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("CreateFieldIndex")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if r.FieldName == "" {
		return nil, status.Error(codes.InvalidArgument, "field name is empty")
	}
	var pt qdrant.PayloadSchemaType
	switch r.GetFieldType() {
	case qdrant.FieldType_FieldTypeKeyword:
		pt = qdrant.PayloadSchemaType_Keyword
	case qdrant.FieldType_FieldTypeInteger:
		pt = qdrant.PayloadSchemaType_Integer
	case qdrant.FieldType_FieldTypeBool:
		pt = qdrant.PayloadSchemaType_Bool
	default:
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: field index type %s", r.GetFieldType())
	}
	c.schema[r.FieldName] = &qdrant.PayloadSchemaInfo{DataType: pt}
	return completed(), nil
}

func completed() *qdrant.PointsOperationResponse {
	return &qdrant.PointsOperationResponse{Result: &qdrant.UpdateResult{Status: qdrant.UpdateStatus_Completed}}
}

func idKey(id *qdrant.PointId) (string, error) {
	switch {
	case id.GetUuid() != "":
		u, err := uuid.Parse(id.GetUuid())
		if err != nil {
			return "", status.Errorf(codes.InvalidArgument, "Unable to parse UUID: %s", id.GetUuid())
		}
		return u.String(), nil
	case id != nil:
		return "n:" + strings.TrimSpace(uintString(id.GetNum())), nil
	}
	return "", status.Error(codes.InvalidArgument, "point id is missing")
}

func uintString(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// Upsert implements qdrant.PointsServer.
func (s pointsServer) Upsert(_ context.Context, r *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Upsert")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if r.ShardKeySelector != nil || r.UpdateFilter != nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: shard keys and update filters")
	}
	staged := map[string]*point{}
	for _, p := range r.GetPoints() {
		key, err := idKey(p.GetId())
		if err != nil {
			return nil, err
		}
		v := p.GetVectors().GetVector()
		if v == nil {
			return nil, status.Error(codes.Unimplemented, "qdranttest: only a single unnamed dense vector per point")
		}
		data := v.GetDense().GetData()
		if data == nil {
			data = v.GetData() //nolint:staticcheck // older clients send the deprecated field
		}
		if uint64(len(data)) != c.size {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", c.size, len(data))
		}
		vec := append([]float32(nil), data...)
		if c.distance == qdrant.Distance_Cosine {
			normalize(vec)
		}
		staged[key] = &point{id: p.GetId(), vec: vec, payload: p.GetPayload()}
	}
	for k, p := range staged {
		c.points[k] = p
	}
	return completed(), nil
}

// Delete implements qdrant.PointsServer.
func (s pointsServer) Delete(_ context.Context, r *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Delete")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	sel := r.GetPoints()
	switch {
	case sel.GetPoints() != nil:
		for _, id := range sel.GetPoints().GetIds() {
			key, err := idKey(id)
			if err != nil {
				return nil, err
			}
			delete(c.points, key)
		}
	case sel.GetFilter() != nil:
		for k, p := range c.points {
			ok, err := matchFilter(sel.GetFilter(), p.payload)
			if err != nil {
				return nil, err
			}
			if ok {
				delete(c.points, k)
			}
		}
	default:
		return nil, status.Error(codes.InvalidArgument, "points selector is empty")
	}
	return completed(), nil
}

// Count implements qdrant.PointsServer.
func (s pointsServer) Count(_ context.Context, r *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Count")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	var n uint64
	for _, p := range c.points {
		ok, err := matchFilter(r.GetFilter(), p.payload)
		if err != nil {
			return nil, err
		}
		if ok {
			n++
		}
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: n}}, nil
}

// Query implements qdrant.PointsServer.
func (s pointsServer) Query(_ context.Context, r *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Query")
	c, err := s.get(r.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if len(r.GetPrefetch()) > 0 || r.Using != nil || r.ScoreThreshold != nil || r.WithVectors != nil || r.LookupFrom != nil || r.ShardKeySelector != nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: prefetch, using, score_threshold, with_vectors, lookup_from and shard keys")
	}
	dense := r.GetQuery().GetNearest().GetDense().GetData()
	if dense == nil {
		return nil, status.Error(codes.Unimplemented, "qdranttest: only nearest queries with a dense vector")
	}
	if uint64(len(dense)) != c.size {
		return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", c.size, len(dense))
	}
	q := append([]float32(nil), dense...)
	if c.distance == qdrant.Distance_Cosine {
		normalize(q)
	}
	withPayload := false
	if wp := r.GetWithPayload(); wp != nil {
		if wp.GetInclude() != nil || wp.GetExclude() != nil {
			return nil, status.Error(codes.Unimplemented, "qdranttest: payload include/exclude selectors")
		}
		withPayload = wp.GetEnable()
	}
	var out []*qdrant.ScoredPoint
	for _, p := range c.points {
		ok, err := matchFilter(r.GetFilter(), p.payload)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		sp := &qdrant.ScoredPoint{Id: p.id, Score: score(c.distance, q, p.vec)}
		if withPayload {
			sp.Payload = p.payload
		}
		out = append(out, sp)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			if c.distance == qdrant.Distance_Euclid {
				return out[i].Score < out[j].Score
			}
			return out[i].Score > out[j].Score
		}
		return out[i].Id.GetUuid() < out[j].Id.GetUuid()
	})
	limit := uint64(10) // Qdrant's default
	if r.Limit != nil {
		limit = r.GetLimit()
	}
	off := min(r.GetOffset(), uint64(len(out)))
	out = out[off:]
	if uint64(len(out)) > limit {
		out = out[:limit]
	}
	return &qdrant.QueryResponse{Result: out}, nil
}

func score(d qdrant.Distance, a, b []float32) float32 {
	var s float64
	if d == qdrant.Distance_Euclid {
		for i := range a {
			x := float64(a[i] - b[i])
			s += x * x
		}
		return float32(math.Sqrt(s))
	}
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return float32(s)
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	n := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= n
	}
}

func matchFilter(f *qdrant.Filter, payload map[string]*qdrant.Value) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.MinShould != nil {
		return false, status.Error(codes.Unimplemented, "qdranttest: min_should")
	}
	for _, c := range f.GetMust() {
		ok, err := matchCondition(c, payload)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, c := range f.GetMustNot() {
		ok, err := matchCondition(c, payload)
		if err != nil || ok {
			return false, err
		}
	}
	if len(f.GetShould()) > 0 {
		for _, c := range f.GetShould() {
			ok, err := matchCondition(c, payload)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		return false, nil
	}
	return true, nil
}

func matchCondition(c *qdrant.Condition, payload map[string]*qdrant.Value) (bool, error) {
	if sub := c.GetFilter(); sub != nil {
		return matchFilter(sub, payload)
	}
	fc := c.GetField()
	if fc == nil {
		return false, status.Error(codes.Unimplemented, "qdranttest: only field and nested-filter conditions")
	}
	if strings.ContainsAny(fc.GetKey(), ".[") {
		return false, status.Error(codes.Unimplemented, "qdranttest: nested payload keys")
	}
	m := fc.GetMatch()
	if m == nil {
		return false, status.Error(codes.Unimplemented, "qdranttest: only match conditions")
	}
	values := []*qdrant.Value{payload[fc.GetKey()]}
	if l := payload[fc.GetKey()].GetListValue(); l != nil {
		values = l.GetValues()
	}
	switch mv := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return anyValue(values, func(v *qdrant.Value) bool { return isString(v) && v.GetStringValue() == mv.Keyword }), nil
	case *qdrant.Match_Keywords:
		return anyValue(values, func(v *qdrant.Value) bool {
			return isString(v) && contains(mv.Keywords.GetStrings(), v.GetStringValue())
		}), nil
	case *qdrant.Match_ExceptKeywords:
		return !anyValue(values, func(v *qdrant.Value) bool {
			return isString(v) && contains(mv.ExceptKeywords.GetStrings(), v.GetStringValue())
		}), nil
	case *qdrant.Match_Integer:
		return anyValue(values, func(v *qdrant.Value) bool { return isInt(v) && v.GetIntegerValue() == mv.Integer }), nil
	case *qdrant.Match_Boolean:
		return anyValue(values, func(v *qdrant.Value) bool { return isBool(v) && v.GetBoolValue() == mv.Boolean }), nil
	}
	return false, status.Errorf(codes.Unimplemented, "qdranttest: match %T", m.GetMatchValue())
}

func anyValue(vs []*qdrant.Value, f func(*qdrant.Value) bool) bool {
	for _, v := range vs {
		if v != nil && f(v) {
			return true
		}
	}
	return false
}

func isString(v *qdrant.Value) bool { _, ok := v.GetKind().(*qdrant.Value_StringValue); return ok }
func isInt(v *qdrant.Value) bool    { _, ok := v.GetKind().(*qdrant.Value_IntegerValue); return ok }
func isBool(v *qdrant.Value) bool   { _, ok := v.GetKind().(*qdrant.Value_BoolValue); return ok }

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Errors callers branch on.
var (
	// ErrDimensionMismatch means a vector's length differs from the
	// store's configured dimension (for example the embedder changed).
	ErrDimensionMismatch = errors.New("vector: dimension mismatch")
	// ErrClosed is returned by a store used after Close.
	ErrClosed = errors.New("vector: store closed")
)

// Payload is what a store keeps next to each vector.
type Payload struct {
	DocID     string    `json:"doc_id"`
	Chunk     int       `json:"chunk"`
	Kind      string    `json:"kind"`
	Cluster   string    `json:"cluster,omitempty"` // "" = global
	Title     string    `json:"title,omitempty"`
	Heading   string    `json:"heading,omitempty"`
	Text      string    `json:"text"`
	Services  []string  `json:"services,omitempty"`
	Verified  bool      `json:"verified,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Point is one embedded chunk.
type Point struct {
	// ID must be PointID(Payload.DocID, Payload.Chunk); stores rely on it
	// being deterministic so that re-ingesting a document overwrites it.
	ID      string
	Vector  []float32
	Payload Payload
}

// Filter restricts a search. Cluster is a hard scope (see the package doc);
// Kinds, when non-empty, keeps only those document kinds.
type Filter struct {
	Cluster string
	Kinds   []string
}

// Allows reports whether p passes the filter. Stores that filter in
// process use it so that every store applies the same rule.
func (f Filter) Allows(p Payload) bool {
	if p.Cluster != "" && p.Cluster != f.Cluster {
		return false
	}
	if len(f.Kinds) == 0 {
		return true
	}
	for _, k := range f.Kinds {
		if k == p.Kind {
			return true
		}
	}
	return false
}

// Result is one search hit. Score is the cosine similarity in [-1, 1],
// higher is closer.
type Result struct {
	ID      string
	Score   float32
	Payload Payload
}

// Store is a vector index with payloads. Implementations are safe for
// concurrent use.
type Store interface {
	// Dimensions is the vector length the store accepts.
	Dimensions() int
	// Upsert inserts or replaces points by ID.
	Upsert(ctx context.Context, points []Point) error
	// Search returns up to k points closest to q that pass f, best first.
	Search(ctx context.Context, q []float32, k int, f Filter) ([]Result, error)
	// DeleteDocument removes every point of the document.
	DeleteDocument(ctx context.Context, docID string) error
	// Count returns the number of points stored.
	Count(ctx context.Context) (int, error)
	// Close releases resources; stores that persist flush first.
	Close() error
}

// Flusher is implemented by stores that buffer writes; Flush makes every
// acknowledged write durable.
type Flusher interface {
	Flush(ctx context.Context) error
}

// pointNamespace scopes point ids (UUID v5) to FaultMaven chunks.
var pointNamespace = uuid.MustParse("6f1d3c2a-9b7e-5c40-8a11-2f4e6d8b0c95")

// PointID returns the deterministic point id of a document chunk: a UUID v5
// of the document id and chunk index, accepted by Qdrant as a point id.
func PointID(docID string, chunk int) string {
	return uuid.NewSHA1(pointNamespace, []byte(docID+"\x00"+strconv.Itoa(chunk))).String()
}

// Validate checks a point against the store dimension.
func Validate(p Point, dims int) error {
	if p.Payload.DocID == "" {
		return errors.New("vector: point without doc id")
	}
	if p.ID != PointID(p.Payload.DocID, p.Payload.Chunk) {
		return fmt.Errorf("vector: point id %q is not PointID(%q, %d)", p.ID, p.Payload.DocID, p.Payload.Chunk)
	}
	if len(p.Vector) != dims {
		return fmt.Errorf("%w: point %s has %d, store has %d", ErrDimensionMismatch, p.ID, len(p.Vector), dims)
	}
	for _, v := range p.Vector {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("vector: point %s has a NaN or Inf component", p.ID)
		}
	}
	return nil
}

// CheckQuery checks a query vector against the store dimension.
func CheckQuery(q []float32, dims int) error {
	if len(q) != dims {
		return fmt.Errorf("%w: query has %d, store has %d", ErrDimensionMismatch, len(q), dims)
	}
	return nil
}

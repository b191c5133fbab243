package embed

import (
	"context"
	"errors"
)

// Embedder maps texts to vectors of a fixed dimension.
type Embedder interface {
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dimensions is the length of every vector Embed returns.
	Dimensions() int
	// Name identifies the model (stored with an index so that a changed
	// embedder is detected rather than silently mixed).
	Name() string
}

// ErrDimensionMismatch means the endpoint returned vectors of another
// length than configured.
var ErrDimensionMismatch = errors.New("embed: dimension mismatch")

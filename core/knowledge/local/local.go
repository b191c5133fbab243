// Package local opens the knowledge base in a data dir: the catalog under
// <data dir>/knowledge, with the builtin embedder and the embedded index
// there by default, or the embedder and store the caller hands in (an
// OpenAI-compatible embedder, Qdrant). It is the one place that assembles
// them, so the CLI and the server open the same index the same way.
package local

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
)

// Options configures Open. The zero value works.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time
	Registerer prometheus.Registerer // nil: no metrics
	// Embedder replaces the builtin embedder (an OpenAI-compatible one).
	Embedder knowledge.Embedder
	// Store replaces the index in the data dir (Qdrant). Open closes it
	// when it fails; otherwise the service owns it.
	Store vector.Store
}

// Dir returns the knowledge directory inside a data dir.
func Dir(dataDir string) string { return filepath.Join(dataDir, "knowledge") }

// Open opens (or creates) the knowledge base in dataDir. Close the
// returned service to flush the index.
func Open(dataDir string, o Options) (*knowledge.Service, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("knowledge/local: data dir is empty")
	}
	emb := o.Embedder
	if emb == nil {
		b, err := embed.NewBuiltin(embed.DefaultBuiltinOptions())
		if err != nil {
			return nil, err
		}
		emb = b
	}
	st := o.Store
	if st == nil {
		so := embedded.DefaultOptions(emb.Dimensions())
		so.Logger = o.Logger
		var err error
		if st, err = embedded.Open(filepath.Join(Dir(dataDir), "vectors"), so); err != nil {
			return nil, err
		}
	}
	svc, err := knowledge.New(knowledge.Options{
		Embedder: emb, Store: st, Dir: Dir(dataDir), Logger: o.Logger, Now: o.Now, Registerer: o.Registerer,
		Ranking: knowledge.DefaultRankingOptions(),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return svc, nil
}

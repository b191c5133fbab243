package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/local"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// defaultCollection is the Qdrant collection when the config names none.
const defaultCollection = "faultmaven_knowledge"

// OpenKnowledge opens the knowledge base the config describes: the
// catalog in the data dir, with the configured embedder and vector store
// (builtin and embedded by default). reg may be nil.
func OpenKnowledge(ctx context.Context, cfg config.Config, logger *slog.Logger, reg prometheus.Registerer) (*knowledge.Service, error) {
	opts := local.Options{Logger: logger, Registerer: reg}
	k := cfg.Knowledge
	if k.Embedder.Kind == "openai" {
		key, err := k.Embedder.APIKey.Resolve(os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("knowledge.embedder.api_key: %w", err)
		}
		emb, err := embed.NewOpenAI(embed.OpenAIOptions{BaseURL: k.Embedder.URL, Model: k.Embedder.Model, APIKey: key,
			Dimensions: k.Embedder.Dimensions, RequestDimensions: k.Embedder.RequestDimensions})
		if err != nil {
			return nil, err
		}
		opts.Embedder = emb
	}
	if k.VectorStore.Kind == "qdrant" {
		dims := k.Embedder.Dimensions
		if opts.Embedder == nil {
			b, err := embed.NewBuiltin(embed.DefaultBuiltinOptions())
			if err != nil {
				return nil, err
			}
			opts.Embedder, dims = b, b.Dimensions()
		}
		key, err := k.VectorStore.APIKey.Resolve(os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("knowledge.vector_store.api_key: %w", err)
		}
		coll := k.VectorStore.Collection
		if coll == "" {
			coll = defaultCollection
		}
		st, err := qdrantstore.Open(ctx, qdrantstore.Options{Host: k.VectorStore.Host, Port: k.VectorStore.Port,
			UseTLS: k.VectorStore.TLS, APIKey: key, Collection: coll, Dimensions: dims, Logger: logger})
		if err != nil {
			return nil, err
		}
		opts.Store = st
	}
	return local.Open(cfg.DataDir, opts) // closes opts.Store when it fails
}

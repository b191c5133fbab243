// Package embedded is the in-process vector store of the embedded
// deployment: HNSW graphs (github.com/coder/hnsw) persisted in a directory
// of the data dir.
//
// Each cluster scope ("" = global, or one cluster name) has its own graph,
// so a search for cluster A walks only A's graph and the global one: tenant
// isolation is structural, not a post-filter that a large k could defeat.
// Kind filters are applied to the candidates, widening the search until k
// results pass or the graph is exhausted.
//
// Partitions smaller than Options.ExactBelow points (default 150000) are
// searched exactly (a cosine scan keeping the top k), so results are exact
// and deterministic; larger ones use the graph, whose recall with this
// library version is low (see Options.ExactBelow for the measurements and
// the cause) and whose entry point the library picks at random, so
// near-ties may order differently between calls. The graph is maintained
// at every size, so crossing the threshold needs no rebuild; Qdrant is the
// store for knowledge bases beyond that size.
//
// Lifecycle: Open, then any number of concurrent Upsert/Search/
// DeleteDocument calls, Flush to persist, Close (which flushes). A Store is
// safe for concurrent use. Writes are kept in memory until Flush or Close.
package embedded

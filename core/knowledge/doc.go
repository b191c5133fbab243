// Package knowledge is the hub's knowledge base: runbooks, past incidents,
// analyzer findings and notes, chunked by Markdown headings, embedded, kept
// in a vector store, and recalled by hybrid retrieval.
//
// Retrieval fuses two rankings of chunks, vector similarity (through an
// [Embedder] and a [vector.Store]) and a BM25 keyword ranking kept in
// memory: each chunk scores VectorWeight x cosine + KeywordWeight x (BM25 /
// the query's best BM25), "Related"/"See also" sections count
// NavigationWeight of that, a document takes its best chunk, and metadata
// boosts multiply (service match, verified runbook, freshness). Every hit
// carries the chunk that matched best and the parts of its score.
//
// Why a linear mix rather than rank fusion: the vector half keeps its
// absolute meaning (a chunk with a weak cosine cannot reach the top score on
// rank alone), and on the evaluation corpus the mix beat either ranking
// alone (docs/benchmarks/knowledge.md). The keyword half is relative to the
// query's best match, so scores compare hits of one query, not queries.
//
// Cluster scope is a hard filter: a document belongs to one cluster or is
// global (Metadata.Cluster == ""). A search for cluster A sees A's
// documents and global ones, never another cluster's; both rankings apply
// the same rule ([vector.Filter.Allows]).
//
// Lifecycle: build the embedder and store, then [New]; Ingest, Search, Get,
// List and Delete may be called concurrently; Close closes the store. The
// document catalog is persisted as documents.json in Options.Dir (the
// keyword index is rebuilt from it on start).
package knowledge

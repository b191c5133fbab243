// Package embed turns text into vectors for the knowledge base.
//
// Two embedders share one interface ([Embedder]):
//
//   - [Builtin]: deterministic, offline, no model download. It hashes word
//     unigrams, word bigrams and character n-grams of log-aware normalised
//     text into a fixed number of dimensions (signed feature hashing),
//     weights them, and L2-normalises the result.
//   - [OpenAI]: a client for any OpenAI-compatible /v1/embeddings endpoint
//     (OpenAI, Ollama, vLLM) with batching, retries with backoff, and a
//     check that every vector has the configured dimension.
//
// Both are safe for concurrent use.
package embed

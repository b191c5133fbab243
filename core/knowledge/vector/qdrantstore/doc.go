// Package qdrantstore is the production vector store: Qdrant over gRPC
// through github.com/qdrant/go-client.
//
// Open creates the collection when it is missing (vector size from
// Options.Dimensions, cosine distance) with keyword payload indexes on
// cluster, kind and doc_id, or checks that an existing collection has the
// same size and distance. Upserts go out in batches with wait=true; point
// ids are vector.PointID(doc id, chunk), so re-ingesting a document
// overwrites its points. Searches send the cluster scope as a Qdrant filter
// (cluster is the cluster name, or "_global" for global points), so the
// isolation is enforced by the server, and the store checks every returned
// payload again. DeleteDocument deletes by a doc_id filter.
//
// The qdranttest sub-package is an in-process gRPC stand-in used by the
// tests; an integration test runs against a real server when QDRANT_URL is
// set (e.g. QDRANT_URL=localhost:6334).
//
// A Store is safe for concurrent use; Close closes the connection.
package qdrantstore

// Package vector defines the contract every vector store behind the
// knowledge base implements: points (one embedded chunk each, with its
// payload), a filter whose cluster scope is a hard boundary, and scored
// results.
//
// Implementations live in sub-packages: [embedded] (an HNSW index persisted
// in the data dir) and [qdrantstore] (Qdrant over gRPC). Both pass the
// conformance suite in vectortest.
//
// Cluster scope: a point carries the cluster it belongs to, or "" when it is
// global knowledge (a runbook that applies everywhere). A search with
// Filter.Cluster = "A" returns only points of cluster "A" and global points;
// a search with Filter.Cluster = "" returns only global points. No filter
// value returns another cluster's points: tenant isolation does not depend
// on the caller remembering to ask for it.
//
// [embedded]: github.com/faultmaven/faultmaven/core/knowledge/vector/embedded
// [qdrantstore]: github.com/faultmaven/faultmaven/core/knowledge/vector/qdrantstore
package vector

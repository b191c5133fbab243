// Package loganalysis turns raw log text into templates, anomalies and
// ranked findings with no per-format configuration.
//
// Two entry points share one pipeline (header detection, typed masking,
// template mining):
//
//   - Analyzer is the streaming, long-lived path used by ingestion: feed
//     records already split by an adapter with Observe, per cluster and
//     source; read Templates and Findings at any time; Snapshot and Restore
//     the model. Memory is bounded by Options.MaxStreams,
//     Options.MaxTemplates and Options.MaxBuckets. An Analyzer is safe for
//     concurrent use.
//   - Parser is the batch, raw-text path used for files and uploads (and
//     by "faultmaven logs parse"): it splits a byte stream into records
//     (multi-line aware), detects headers and mines templates. A Parser is
//     not safe for concurrent use.
//
// Lifecycle: New (or NewParser) → Observe… (or Run) → Templates / Findings
// → Snapshot. Template ids derive from template text (see drain.ID), so
// they are stable across restarts and processes.
//
// Sub-packages: header (timestamps, levels, layouts, JSON and logfmt),
// records (splitting byte streams into records), drain (the pure template
// miner) and loghub (the benchmark harness and metrics).
package loganalysis

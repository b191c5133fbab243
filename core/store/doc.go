// Package store keeps what the hub learns: clusters and their integration
// instances, ingestion watermarks, raw records, templates with counts,
// findings and analysis runs, and the browser extension's conversations:
// auth tokens (by hash), sessions, cases with their messages, and
// replayable Idempotency-Key responses.
//
// Two backends implement [Store] and pass the one conformance suite in
// storetest: PostgreSQL through pgx (production; records partitioned by
// UTC day, bulk inserts through COPY) and SQLite through modernc.org/sqlite
// (the embedded default; WAL, busy timeout, a single writer connection,
// plus one that only runs WAL checkpoints). [Open] picks one from the URL, applies the embedded
// goose migrations (one set per dialect) and checks the encryption keys.
//
// # Encryption at rest
//
// Every stored copy of raw log text — a record's body, host, attributes,
// native id and link, the example lines of findings, analyzer snapshots,
// case message contents and replayed response bodies — is sealed with AES-256-GCM under the current key of a
// [Keyring], with the key id stored beside it, so keys rotate: new rows use
// the first key, old rows open with the key whose id they carry.
// Timestamps, severities, services and templates (which hold <*> in place
// of values) stay in clear. A canary sealed per key id lets [Open] refuse a
// wrong or missing key before anything is written.
//
// # Exactly once
//
// A record's identity is an HMAC-SHA-256 of its cluster, integration and
// source's native id, or of its timestamp, content and ordinal among
// identical records of the pull when it has none. The HMAC key is a
// per-database secret sealed by the keyring (it survives key rotation), so
// the clear hash cannot confirm a guessed line. InsertRecords skips
// identities already stored and, in the same transaction, adds only the
// newly stored records to the template counts, so a retried or duplicated
// ingest changes nothing.
//
// All methods are safe for concurrent use. Close the store when done.
package store

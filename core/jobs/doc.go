// Package jobs runs the hub's background work on a River queue: ingest
// jobs that pull a time window of logs from one integration, run the
// analyzer and store records, templates and findings, periodic pulls that
// follow each integration's watermark, and the retention job.
//
// River runs on the same database as the store: its pgx driver on
// PostgreSQL (any number of workers across replicas) and its SQLite driver
// on the embedded default.
//
// # Exactly once
//
// A job may run more than once (a retry after an error, a worker killed
// mid-job and rescued, a duplicate enqueue). Its effect does not change:
//
//   - the store skips records it already holds (store.Records) and counts
//     templates only for records it newly stored;
//   - the run keeps the window of its first attempt, so a retry pulls the
//     same records and numbers identical ones the same way;
//   - findings are replaced per run, never added;
//   - the analyzer's state is saved once per run with the run's id inside,
//     with an optimistic version check; a retry that finds its own run
//     already saved skips straight to the bookkeeping;
//   - records another run already stored are not fed to the analyzer again
//     (store.Records.Seen), so re-ingesting a window raises no false
//     spikes; a retry re-observes what its own failed attempt stored,
//     because it restarts from the state saved before that attempt;
//   - the watermark only moves forward, and only after the run's records
//     are stored.
//
// A per-integration lease (store.Leases) bounds how many jobs pull from one
// integration at once, across processes; a job that finds no free slot is
// snoozed. Failing jobs retry with River's backoff and are discarded
// ("parked") after MaxAttempts, their errors kept on the job and the run.
//
// Lifecycle: New → Start → Enqueue/Job/Wait → Stop. A Queue is safe for
// concurrent use.
package jobs

// Package splunkadapter is the FaultMaven adapter for Splunk Enterprise and
// Splunk Cloud, over the REST API on the management port (8089, HTTPS).
// Splunk ships no Go SDK; this package speaks the wire protocol itself.
//
// # Search
//
// SearchLogs runs one streaming export search (POST
// /services/search/v2/jobs/export, falling back to the v1 path
// /services/search/jobs/export when the server answers 404, as servers
// older than 9.0.1 do) with a form-encoded body, output_mode=json, and the
// query window as epoch earliest_time (inclusive) / latest_time
// (exclusive). Rows stream back as newline-delimited JSON and are written to
// the SDK as they are read, so memory does not grow with the answer.
// Preview rows are skipped; a FATAL or ERROR message line inside the 200
// stream fails the search; a stream that ends without its last row is
// reported as truncated. Event searches come back newest first, as Splunk
// streams them.
//
// The query is SPL passed through as written ("search " is prepended when it
// does not start with a command). An empty query searches the configured
// indexes. The common filters are pushed down as an extra "| search" stage
// built only from quoted literals: backslashes and double quotes are
// escaped, and characters SPL could act on (pipe, brackets, backtick,
// control characters) are widened to the wildcard "*", so a filter value can
// never add a command, a subsearch or a macro. Because the push-down can only
// widen the match (Splunk also matches case-insensitively), every record is
// checked again with [sdk.LogFilters.Match] before it is written. Severity
// is never pushed down: it is read from the level/severity fields, or from
// the first level word in the raw text.
//
// # Auth
//
// Either an authentication token (sent as "Authorization: Bearer") or a
// username and password, exchanged at /services/auth/login for a session
// key. A 401 while using a session key triggers one re-login (session keys
// expire after an hour idle) and the request is sent again.
//
// # Errors and retries
//
// 401/403 are [sdk.CodeAuth]; 400 and search errors in the stream are
// [sdk.CodeBadQuery]; 429 (seen through proxies) waits for Retry-After and
// retries, up to max_retries, and otherwise becomes [sdk.RateLimited] with
// the server's retry-after; 5xx (503 is Splunk's search-concurrency limit)
// and transport errors are retried with bounded exponential backoff and then
// reported as [sdk.CodeUnavailable]. A search is only retried before its
// first record was written, so a retry never duplicates records.
//
// Secrets (token, password, session key) never appear in logs or errors;
// configs are never logged.
//
// An [Adapter] is safe for concurrent use.
package splunkadapter

// Package prometheusadapter is the FaultMaven adapter for Prometheus (and
// servers of its HTTP API), built on client_golang's api/prometheus/v1.
//
// The adapter has the metrics capability only: QueryMetrics runs a range
// query, or an instant query when the query's Start equals its End (both
// zero means "now"). A search for logs answers Unimplemented through the
// SDK, which the host reads as "not supported".
//
// # Errors
//
// 401/403 give CodeAuth; 429 is retried after its Retry-After (bounded by
// sdk.RetryPolicy.MaxRetryAfter and the call's deadline) and then reported as
// CodeRateLimited with that Retry-After; 5xx, timeouts and bodies cut off
// mid-stream are retried with jittered exponential backoff up to
// max_retries, then reported as CodeUnavailable. bad_data and execution
// errors are CodeBadQuery; a body that is not the API's JSON (a login
// page, a wrong path) is CodeInternal with a hint; "status":"error" inside
// a 200 is reported with its errorType. The client keeps only 400/422
// bodies typed, so the HTTP status is recorded by the adapter's transport.
//
// # Authentication
//
// A bearer token or HTTP basic auth, added by the transport; neither, nor
// any other secret, appears in logs or errors.
//
// An Adapter is safe for concurrent use.
package prometheusadapter

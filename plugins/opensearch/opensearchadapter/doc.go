// Package opensearchadapter is the FaultMaven adapter for OpenSearch and
// Amazon OpenSearch Service, built on opensearch-go/v4.
//
// # Searching
//
// SearchLogs opens a point in time on the configured index patterns and
// pages oldest first with search_after on (timestamp field, tiebreaker
// field), so it reads past the 10,000-hit from+size window and sees one
// snapshot; the point in time is deleted at the end. A query starting with
// "{" is query DSL passed through as a filter clause; anything else is
// query_string syntax over the message field. The time range is a
// half-open [gte, lt) range filter on the timestamp field.
//
// Documents map to records through the fields config (ECS defaults:
// @timestamp, message, service.name, log.level, host.name); every other
// _source field becomes an attribute with a dotted key. The native id is
// "<index>/<_id>"; with dashboards_url set, records link to OpenSearch
// Dashboards.
//
// # Errors
//
// 401/403 give CodeAuth; 429 is retried after its Retry-After (bounded by
// sdk.RetryPolicy.MaxRetryAfter and the call's deadline) and then reported as
// CodeRateLimited with that Retry-After; 5xx, 408, timeouts and responses
// cut off mid-body are retried with jittered exponential backoff up to
// max_retries, then reported as CodeUnavailable. Shard failures and
// timed_out inside a 200 fail the search: a partial answer would look like
// "nothing logged". No password, AWS key or token ever appears in a log
// line or an error; backend texts are passed through a redactor.
//
// # Authentication
//
// HTTP basic auth, or AWS SigV4 with static keys (the plugin runs with an
// allowlisted environment, so the AWS default credential chain is not
// used). TLS trusts ca_pem / ca_file when given.
//
// An Adapter is safe for concurrent use; Configure, Remove and the calls
// may run at the same time for different instances.
package opensearchadapter

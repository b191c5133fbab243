// Package datadogadapter is the FaultMaven adapter for Datadog, built on
// the official client github.com/DataDog/datadog-api-client-go/v2.
//
// # Logs
//
// SearchLogs pages through Logs Search v2 (POST /api/v2/logs/events/search)
// oldest first (sort "timestamp"), pinning the window as absolute epoch
// milliseconds so it does not drift while paging, and follows
// meta.page.after as page.cursor until the last page or the record limit.
// The query is Datadog log search syntax passed through ("*" when empty);
// the common filters are added as quoted, escaped terms (service:(...),
// status:(...) for the minimum severity, and a quoted phrase for the text),
// and every record is re-checked with [sdk.LogFilters.Match], because
// Datadog matches text by words and the SDK asks for a substring.
//
// # Metrics
//
// QueryMetrics runs the v1 timeseries query (GET /api/v1/query, from/to in
// seconds); Datadog chooses the rollup interval (MetricQuery.Step is not
// sent). Tags of a series become its labels; null points are dropped.
//
// # Sites
//
// site selects the Datadog site (datadoghq.com, us3/us5/ap1/ap2/uk1
// .datadoghq.com, datadoghq.eu, ddog-gov.com, us2.ddog-gov.com) and is
// checked against that list; base_url replaces the API host entirely (a
// proxy, or a stand-in in tests). Links back to records point at the site's
// Log Explorer.
//
// # Errors and retries
//
// The client's own retry is off; this package retries 429 (waiting for
// X-RateLimit-Reset, the seconds until the rate-limit period resets), 5xx
// and transport errors with bounded exponential backoff, and then reports
// [sdk.RateLimited] with Datadog's reset or [sdk.CodeUnavailable]. 401/403
// are [sdk.CodeAuth], 400 [sdk.CodeBadQuery]. Answers that do not decode
// (the client silently keeps them as UnparsedObject), bodies cut short, and
// a 200 with meta.status "timeout" (partial results) are reported as
// [sdk.CodeUnavailable]. A search is retried page by page with the same
// cursor, so a retry never duplicates records.
//
// The API and application keys never appear in logs or errors; configs are
// never logged. An [Adapter] is safe for concurrent use.
package datadogadapter

// Package datadogstandin is an httptest stand-in for the parts of the
// Datadog API the datadog adapter uses, faithful to the wire behaviour in
// shared/reference/observability-apis.md, section 2:
//
//   - DD-API-KEY / DD-APPLICATION-KEY checks: 403 {"errors":["Forbidden"]};
//     /api/v1/validate checks only the API key and answers {"valid":true};
//   - POST /api/v2/logs/events/search: filter.query/from/to (ISO-8601,
//     epoch milliseconds, "now", "now-<n><s|m|h|d>"), indexes, sort
//     ("timestamp" or "-timestamp"), page.limit (default 10, above 1000 is
//     400), an opaque cursor in meta.page.after (omitted on the last page,
//     400 when it does not belong to the same filter), links.next, and
//     X-RateLimit-* headers on every answer;
//   - GET /api/v1/query (from/to in seconds, times in milliseconds in the
//     answer, int64 fields written as integers);
//   - faults ([Fault]): 429 with X-RateLimit-Reset, a burst of 502/503
//     with the gateway error shape, meta.status "timeout" inside a 200, a
//     body cut off mid-way (Content-Length promised, connection dropped), a
//     log of the wrong type (which the client silently keeps as
//     UnparsedObject), a slow answer.
//
// The search syntax is understood only as far as the adapter needs: terms
// joined by AND (implicit) / OR / NOT or "-", parentheses, key:value and
// key:(a OR b) on service, host, status, source, index and tags (other keys
// match tags "key:value" or @attributes), quoted or bare words matched as
// case-insensitive substrings of the message (real Datadog matches words),
// and "*" wildcards. Left out: facets on numeric ranges, the GET list
// endpoint, aggregation, storage tiers (accepted, ignored), metric query
// functions and rollups (a metric query selects series by name and tag
// filters, "by {...}" is ignored), gzip request bodies, and all other APIs.
//
// A Server is safe for concurrent use.
package datadogstandin

// Package opensearchstandin is an in-memory stand-in for the OpenSearch
// REST API, faithful on the wire to what the FaultMaven opensearch adapter
// (and opensearch-go/v4) sends and reads. It is a plain package, not test
// code, so tests of other packages (the hub's end-to-end tests) can start
// it:
//
//	s := opensearchstandin.New(opensearchstandin.Options{Username: "u", Password: "p"})
//	srv := httptest.NewServer(s)
//	defer srv.Close()
//	s.Index("logs-app", opensearchstandin.Doc{ID: "1", Source: map[string]any{"@timestamp": "...", "message": "boom"}})
//
// # What it reproduces
//
//   - GET / (info, with name, cluster_name, version.number and
//     distribution) and GET /_cluster/health (green, yellow or red; red
//     still answers 200).
//   - POST|GET /_search and /{index}/_search with index patterns (comma
//     lists, * wildcards, _all; a missing concrete index is 404
//     index_not_found_exception unless ignore_unavailable=true), size,
//     from, sort, search_after, track_total_hits (hits.total is the
//     {value, relation} object, capped at 10,000 with "gte" by default),
//     _source, and the from+size > index.max_result_window (10,000) 400
//     error with its root cause. Unknown body keys and URL parameters are
//     400s, as on a real cluster.
//   - Point in time: POST /{index}/_search/point_in_time?keep_alive=<n>ms
//     (a snapshot: documents indexed later are invisible to it), searches
//     with "pit" and no index in the path, keep-alive renewal and expiry
//     (404 search_context_missing_exception), DELETE /_search/point_in_time
//     with {"pit_id":[...]} and DELETE /_search/point_in_time/_all.
//   - Sort values as the wire has them: date fields as epoch-millisecond
//     longs (missing values sort last as Long.MAX_VALUE), _id and keyword
//     fields as strings, plus _doc and _shard_doc.
//   - A query DSL subset: match_all, match_none, bool (must, filter,
//     should, must_not, minimum_should_match), range (dates with
//     epoch_millis or ISO-8601, numbers, strings), term, terms, ids,
//     exists, prefix, wildcard, match, match_phrase, and query_string
//     (terms, "phrases", field:value, field:(...), AND/OR/NOT/&&/||/!/+/-,
//     parentheses, * and ? wildcards, default_operator, default_field).
//     Unknown queries are 400 parsing_exception; a query_string syntax
//     error is 400 search_phase_execution_exception with a
//     query_shard_exception root cause.
//   - Basic auth (401 plain-text "Unauthorized" with the security plugin's
//     WWW-Authenticate header), and AWS SigV4 scope checks (the
//     Authorization header's algorithm, access key id, region and service,
//     and X-Amz-Date / X-Amz-Content-Sha256 present; 403 with AWS's
//     {"message":...} body otherwise).
//   - Injected faults ([Fault]): status bursts (5xx, or anything), 429 with
//     Retry-After and es_rejected_execution_exception, a body cut off
//     mid-stream (Content-Length promised, connection closed early), a slow
//     backend, shard failures and timed_out inside a 200, and a malformed
//     (non-JSON) 200.
//   - Serving a scenario folder's opensearch sources ([Standin.LoadScenario]),
//     following sources.yaml: index, service_field/service_value,
//     message_field, timestamp_field.
//
// # What it leaves out
//
// Text analysis is approximated: text is lower-cased and split on
// non-alphanumerics, so stemming, synonyms, stop words and per-field
// analyzers are absent, and term/match do not distinguish text from
// keyword mappings. There are no mappings API, no scoring (_score is
// always null and results without a sort come in index order), no
// aggregations, highlighting, scroll, suggesters, scripts, routing,
// multiple shards (one shard per search), query_string ranges ([a TO b]),
// fuzzy/proximity operators, boosts and regexes. SigV4 signatures are not
// recomputed, only their scope is checked. Everything lives in memory.
//
// A Standin is safe for concurrent use.
package opensearchstandin

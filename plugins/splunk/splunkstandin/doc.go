// Package splunkstandin is an httptest stand-in for the Splunk REST API on
// the management port, faithful to the wire behaviour the splunk adapter
// relies on (see shared/reference/observability-apis.md, section 1):
//
//   - HTTPS with a self-signed certificate ([Server.WriteCAFile] writes it
//     out for a ca_file);
//   - auth by "Authorization: Bearer <token>", by session key
//     ("Authorization: Splunk <key>") from POST /services/auth/login
//     (form username/password), or Basic; 401 with Splunk's message
//     envelope otherwise; session keys expire ([Options.SessionTTL],
//     [Server.ExpireSessions]);
//   - POST /services/search/v2/jobs/export (GET answers 405) and the v1
//     path (GET or POST), form-encoded, output_mode=json required,
//     earliest_time inclusive / latest_time exclusive as epoch seconds,
//     newline-delimited JSON rows streamed newest first and flushed in
//     chunks, lastrow on the final row, {"preview":false,"lastrow":true} for
//     no results; [Options.NoV2] answers 404 on v2 like servers before 9.0.1;
//   - GET /services/server/info;
//   - faults ([Fault]): 429 with Retry-After, a burst of 503 with the
//     concurrency-limit message, a FATAL message inside a 200 stream, a
//     stream cut off mid-way (connection dropped), a malformed line, a slow
//     answer.
//
// SPL is understood only as far as the adapter needs: a pipeline of
// "search" commands whose terms are field=value (quoted or not, "*"
// wildcards, case-insensitive), bare or quoted words matched as
// case-insensitive substrings of _raw (real Splunk matches indexed terms),
// AND/OR/NOT and parentheses. Any other command is answered 400 "Unknown
// search command", which is also how an injection attempt shows up. Left
// out: search jobs (/services/search/jobs and results paging), preview rows
// of transforming searches, earliest/latest written inside the SPL,
// relative time modifiers, time_format other than the adapter's, XML
// output, namespaces and apps, and field extraction beyond the fields given
// to [Server.Add].
//
// A Server is safe for concurrent use.
package splunkstandin

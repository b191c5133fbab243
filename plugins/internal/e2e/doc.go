// Package e2e holds the end-to-end test of the three wire stand-ins
// (Splunk, Datadog, OpenSearch) served to a real `faultmaven serve` with
// the real plugin binaries. It lives under plugins/ because the stand-ins'
// scenario loader is internal to plugins; it imports no hub package and
// drives the hub only as a process over HTTP.
package e2e

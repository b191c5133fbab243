// Package e2e holds the end-to-end tests of a real `faultmaven serve` with
// the real plugin binaries: the three wire stand-ins (Splunk, Datadog,
// OpenSearch) serving scenario s01, and every scenario of the corpus asked
// through the files plugin. It lives under plugins/ because the stand-ins'
// scenario loader is internal to plugins; it imports no hub package and
// drives the hub only as a process over HTTP.
package e2e

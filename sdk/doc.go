// Package sdk is the FaultMaven adapter plugin SDK, protocol version 1.
//
// An adapter brings evidence (logs, metrics) out of one observability tool
// into the FaultMaven hub. It runs as its own executable, launched and
// supervised by the hub through hashicorp/go-plugin over gRPC with
// automatic mutual TLS. A plugin's main function is one line:
//
//	func main() { sdk.Serve(myadapter.New()) }
//
// # What an author implements
//
// Every adapter implements [Adapter]: metadata, config validation, instance
// management and a health check. Capabilities are optional interfaces
// discovered by presence, like database/sql/driver's optional interfaces:
//
//   - [LogSearcher] for log search (capability [CapabilityLogs]);
//   - [MetricsQuerier] for metric range queries ([CapabilityMetrics]).
//
// The SDK registers a gRPC service only when the adapter implements the
// matching interface, so a host calling an unsupported service gets
// Unimplemented, consistent with the advertised capabilities.
//
// # Errors
//
// Return an [*Error] built with [Errorf] (or a [*ConfigError] from
// validation) so the host can act on the code: retry after a rate limit,
// re-authenticate, report bad config to the operator. Any other error is
// reported as [CodeInternal].
//
// # Logging
//
// Plugins must never write to stdout: go-plugin uses it for the handshake.
// [Logger] returns an slog.Logger that writes hclog JSON to stderr, which
// the host re-logs with the plugin's name.
//
// # Hosts
//
// [Client] and [PluginMap] are for hosts (the hub's core/pluginhost and the
// conformance kit in sdk/plugintest); plugin authors do not need them.
//
// # Testing
//
// sdk/plugintest is the conformance kit every plugin must pass; see its
// package documentation and docs/plugin-authors.md in the repository.
package sdk

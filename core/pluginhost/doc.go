// Package pluginhost finds, verifies, launches, supervises and stops the
// hub's adapter plugins (separate executables speaking the SDK's protocol
// over hashicorp/go-plugin).
//
// # Lifecycle
//
// [New] discovers plugins (executables named faultmaven-plugin-<name> in
// the plugin dir, plus entries pinned by SHA-256 in the config) and starts
// nothing. [Host.Start] launches every plugin, each under its own supervisor
// goroutine. [Host.Configure] enables a named instance ("cluster/name") on a
// plugin; calls ([Host.SearchLogs], [Host.QueryMetrics], [Host.Health]) go
// to an instance. [Host.Shutdown] drains in-flight calls, then kills every
// plugin process group and waits for the supervisors.
//
// # Safety
//
// Every launch checks the binary's SHA-256 (pinned in config, or taken when
// the host discovered it, so a binary swapped while the hub runs is
// refused), uses AutoMTLS, and hands the plugin no host environment except
// an allowlist (proxy and CA variables). A plugin that writes to stdout
// before the handshake, speaks another protocol version or fails its
// checksum is refused with a clear error.
//
// # Supervision
//
// When a plugin process dies, in-flight calls fail with a retryable
// [*PluginError]; the supervisor restarts it with exponential backoff and
// re-applies its instances. After BreakerThreshold crashes within
// BreakerWindow the circuit breaker opens: calls fail fast until
// BreakerCooldown has passed, then one launch is tried (half-open).
// Plugin stderr (hclog JSON) is re-logged in the host's slog logger with
// the plugin's name.
//
// Host is safe for concurrent use. It owns one supervisor goroutine per
// plugin, all stopped by Shutdown. See docs/plugin-authors.md for the
// author's side.
package pluginhost

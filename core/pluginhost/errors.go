package pluginhost

import (
	"errors"
	"fmt"

	"github.com/faultmaven/faultmaven/sdk"
)

// Sentinel errors callers branch on.
var (
	ErrClosed          = errors.New("pluginhost: closed")
	ErrPluginNotFound  = errors.New("pluginhost: plugin not found")
	ErrInstanceUnknown = errors.New("pluginhost: instance not configured")
	ErrHandshake       = errors.New("pluginhost: handshake failed")
	ErrIncompatible    = errors.New("pluginhost: incompatible protocol version")
	ErrChecksum        = errors.New("pluginhost: checksum mismatch")
	ErrBreakerOpen     = errors.New("pluginhost: circuit breaker open")
	ErrNotRunning      = errors.New("pluginhost: plugin not running")
)

// Source says who caused an error.
type Source string

// Error sources.
const (
	SourcePlugin     Source = "plugin"     // the plugin process misbehaved or died
	SourceDownstream Source = "downstream" // the backend behind the plugin failed
	SourceHost       Source = "host"       // the host refused the call
)

// PluginError describes a failed operation on a plugin.
type PluginError struct {
	Plugin   string
	Instance string
	Op       string
	Source   Source
	Err      error
}

func (e *PluginError) Error() string {
	who := e.Plugin
	if e.Instance != "" {
		who += " (" + e.Instance + ")"
	}
	return fmt.Sprintf("plugin %s: %s: %v", who, e.Op, e.Err)
}

func (e *PluginError) Unwrap() error { return e.Err }

// Retryable reports whether the call may succeed if tried again: the plugin
// died (it is being restarted), or the backend is rate limiting or down.
func (e *PluginError) Retryable() bool {
	if errors.Is(e.Err, sdk.ErrPluginGone) || errors.Is(e.Err, ErrNotRunning) {
		return true
	}
	var se *sdk.Error
	return errors.As(e.Err, &se) && se.Code.Retryable()
}

// IsRetryable reports whether err is a retryable *PluginError or SDK error.
func IsRetryable(err error) bool {
	var pe *PluginError
	if errors.As(err, &pe) {
		return pe.Retryable()
	}
	return sdk.CodeOf(err).Retryable()
}

package pluginhost

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Host. The zero value is valid: every unset field
// takes the value from DefaultOptions.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	Now        func() time.Time      // clock; nil: time.Now

	// PluginDir holds executables named faultmaven-plugin-<name>.
	PluginDir string
	// Pinned lists plugins outside the plugin dir, pinned by checksum.
	Pinned []Pinned

	StartTimeout       time.Duration // launch + handshake
	CallTimeout        time.Duration // default deadline of a call without one
	MaxConcurrentCalls int           // per instance
	RestartBackoffMin  time.Duration
	RestartBackoffMax  time.Duration
	BreakerThreshold   int // crashes within BreakerWindow that open the breaker
	BreakerWindow      time.Duration
	BreakerCooldown    time.Duration // how long an open breaker stays open
	KillGrace          time.Duration // graceful stop before SIGKILL of the group
	// EnvAllowlist names the host environment variables a plugin gets.
	EnvAllowlist []string
}

// Pinned is a plugin binary named in config with its expected SHA-256.
type Pinned struct {
	Name   string
	Path   string
	SHA256 string // hex
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		Logger:             slog.Default(),
		Now:                time.Now,
		StartTimeout:       10 * time.Second,
		CallTimeout:        60 * time.Second,
		MaxConcurrentCalls: 4,
		RestartBackoffMin:  100 * time.Millisecond,
		RestartBackoffMax:  30 * time.Second,
		BreakerThreshold:   5,
		BreakerWindow:      time.Minute,
		BreakerCooldown:    time.Minute,
		KillGrace:          2 * time.Second,
		EnvAllowlist: []string{
			"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
			"SSL_CERT_FILE", "SSL_CERT_DIR", "TMPDIR", "TZ",
		},
	}
}

// withDefaults returns a copy of o with unset fields filled, validated.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur(&o.StartTimeout, d.StartTimeout)
	setDur(&o.CallTimeout, d.CallTimeout)
	setDur(&o.RestartBackoffMin, d.RestartBackoffMin)
	setDur(&o.RestartBackoffMax, d.RestartBackoffMax)
	setDur(&o.BreakerWindow, d.BreakerWindow)
	setDur(&o.BreakerCooldown, d.BreakerCooldown)
	setDur(&o.KillGrace, d.KillGrace)
	if o.MaxConcurrentCalls <= 0 {
		o.MaxConcurrentCalls = d.MaxConcurrentCalls
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = d.BreakerThreshold
	}
	if o.EnvAllowlist == nil {
		o.EnvAllowlist = d.EnvAllowlist
	}
	var errs []error
	if o.RestartBackoffMax < o.RestartBackoffMin {
		errs = append(errs, fmt.Errorf("pluginhost: restart_backoff_max %s is below restart_backoff_min %s", o.RestartBackoffMax, o.RestartBackoffMin))
	}
	for _, p := range o.Pinned {
		if p.Name == "" || p.Path == "" || len(p.SHA256) != 64 {
			errs = append(errs, fmt.Errorf("pluginhost: pinned plugin %q: name, path and a 64-hex sha256 are required", p.Name))
		}
	}
	return o, errors.Join(errs...)
}

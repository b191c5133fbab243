package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	plugin "github.com/hashicorp/go-plugin"
)

// State is a plugin's supervision state.
type State string

// Plugin states.
const (
	StateStopped     State = "stopped"      // not started, or shut down
	StateStarting    State = "starting"     // launching and handshaking
	StateRunning     State = "running"      // connected, instances configured
	StateRestarting  State = "restarting"   // crashed; waiting out the backoff
	StateBreakerOpen State = "breaker_open" // crashed too often; waiting out the cooldown
	StateFailed      State = "failed"       // refused for good (checksum, handshake, version)
)

// managed is one plugin binary and its current process.
type managed struct {
	cand Candidate

	mu           sync.Mutex
	supervised   bool
	state        State
	proc         *plugin.Client
	rpc          *sdk.Client
	pid          int
	meta         sdk.Metadata
	restarts     int
	crashes      []time.Time
	breakerUntil time.Time
	lastErr      error
	configs      map[string]json.RawMessage // instance id -> config, re-applied on restart
	// changed is closed and replaced on every state change, so waiters can
	// block until the state moves.
	changed chan struct{}
	settled bool // reached running or a failure at least once
}

func newManaged(c Candidate) *managed {
	return &managed{cand: c, state: StateStopped, configs: map[string]json.RawMessage{}, changed: make(chan struct{})}
}

func (m *managed) setState(s State, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setStateLocked(s, err)
}

func (m *managed) setStateLocked(s State, err error) {
	m.state = s
	if err != nil {
		m.lastErr = err
	}
	if s == StateRunning {
		m.lastErr = nil
	}
	if s == StateRunning || s == StateFailed || s == StateBreakerOpen || s == StateRestarting {
		m.settled = true
	}
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *managed) setInstanceConfig(id string, cfg json.RawMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cfg == nil {
		delete(m.configs, id)
		return
	}
	m.configs[id] = cfg
}

// awaitSettled blocks until the plugin first runs or fails, or ctx ends.
func (m *managed) awaitSettled(ctx context.Context) {
	for {
		m.mu.Lock()
		done, ch := m.settled, m.changed
		m.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// client returns the running plugin's client. With wait, it waits (until
// ctx ends) for a starting or restarting plugin; an open breaker or a
// failed plugin fails fast.
func (m *managed) client(ctx context.Context, wait bool) (*sdk.Client, error) {
	for {
		m.mu.Lock()
		state, rpc, ch, lastErr, until := m.state, m.rpc, m.changed, m.lastErr, m.breakerUntil
		m.mu.Unlock()
		switch state {
		case StateRunning:
			return rpc, nil
		case StateFailed:
			return nil, fmt.Errorf("%w: %v", ErrNotRunning, lastErr)
		case StateBreakerOpen:
			return nil, fmt.Errorf("%w until %s after repeated crashes (last: %v)", ErrBreakerOpen, until.Format(time.RFC3339), lastErr)
		}
		if !wait {
			return nil, ErrNotRunning
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (%s): %w", ErrNotRunning, state, ctx.Err())
		}
	}
}

func (m *managed) status() PluginStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := PluginStatus{
		Name:         m.cand.Name,
		Path:         m.cand.Path,
		SHA256:       m.cand.SHA256,
		Pinned:       m.cand.Pinned,
		State:        m.state,
		Version:      m.meta.Version,
		SDKVersion:   m.meta.SDKVersion,
		Description:  m.meta.Description,
		Capabilities: m.meta.Capabilities,
		ConfigSchema: m.meta.ConfigSchema,
		PID:          m.pid,
		Restarts:     m.restarts,
		BreakerOpen:  m.state == StateBreakerOpen,
	}
	if st.Capabilities == nil {
		st.Capabilities = []sdk.Capability{}
	}
	if st.BreakerOpen {
		st.BreakerUntil = m.breakerUntil
	}
	if m.lastErr != nil {
		st.LastError = m.lastErr.Error()
	}
	return st
}

// supervise launches m and keeps it running until the host stops.
func (h *Host) supervise(m *managed) {
	defer h.supervisors.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-h.stop; cancel() }()
	log := h.opts.Logger.With("plugin", m.cand.Name)
	// Series exist from the start, so "down" and "no restarts yet" are
	// values an alert can see, not missing series.
	h.metrics.up.WithLabelValues(m.cand.Name).Set(0)
	h.metrics.restarts.WithLabelValues(m.cand.Name).Add(0)

	consecutive := 0
	for {
		started := h.opts.Now()
		err := h.launch(ctx, m)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if permanent(err) {
				log.Error("plugin refused", "err", err)
				m.setState(StateFailed, err)
				return
			}
			log.Warn("plugin failed to start", "err", err)
		} else {
			h.metrics.up.WithLabelValues(m.cand.Name).Set(1)
			exitErr := m.waitExit(ctx)
			h.metrics.up.WithLabelValues(m.cand.Name).Set(0)
			if ctx.Err() != nil {
				return
			}
			err = exitErr
			log.Error("plugin process died", "err", err)
			if h.opts.Now().Sub(started) > h.opts.BreakerWindow {
				consecutive = 0 // it had been stable: start the backoff over
			}
		}
		now := h.opts.Now()
		m.mu.Lock()
		m.restarts++
		m.crashes = append(m.crashes, now)
		recent := m.crashes[:0]
		for _, t := range m.crashes {
			if now.Sub(t) <= h.opts.BreakerWindow {
				recent = append(recent, t)
			}
		}
		m.crashes = recent
		open := len(recent) >= h.opts.BreakerThreshold
		var wait time.Duration
		if open {
			wait = h.opts.BreakerCooldown
			m.breakerUntil = now.Add(wait)
			m.crashes = nil
			m.setStateLocked(StateBreakerOpen, err)
		} else {
			wait = backoff(h.opts.RestartBackoffMin, h.opts.RestartBackoffMax, consecutive)
			m.setStateLocked(StateRestarting, err)
		}
		m.mu.Unlock()
		h.metrics.restarts.WithLabelValues(m.cand.Name).Inc()
		if open {
			h.metrics.breakerOpen.WithLabelValues(m.cand.Name).Set(1)
			log.Error("circuit breaker open: plugin crashed too often", "crashes", h.opts.BreakerThreshold, "window", h.opts.BreakerWindow, "cooldown", wait)
		}
		consecutive++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if open {
			h.metrics.breakerOpen.WithLabelValues(m.cand.Name).Set(0)
			log.Info("circuit breaker half-open: trying the plugin again")
		}
	}
}

// backoff is min * 2^n, capped at max.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// permanent reports launch errors that retrying cannot fix.
func permanent(err error) bool {
	return errors.Is(err, ErrChecksum) || errors.Is(err, ErrHandshake) || errors.Is(err, ErrIncompatible)
}

// launch starts the plugin process, handshakes, checks its metadata and
// re-applies its instances; on success the state is running.
func (h *Host) launch(ctx context.Context, m *managed) error {
	m.setState(StateStarting, nil)
	sum, err := hex.DecodeString(m.cand.SHA256)
	if err != nil {
		return fmt.Errorf("%w: bad pinned sha256 for %s", ErrChecksum, m.cand.Name)
	}
	cmd := exec.Command(m.cand.Path)
	cmd.Env = allowedEnv(h.opts.EnvAllowlist)
	// Own process group, so a stop kills whatever the plugin spawned too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	proc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginMap(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		StartTimeout:     h.opts.StartTimeout,
		Logger:           newHCLog(h.opts.Logger, m.cand.Name),
	})
	rpcProto, err := proc.Client()
	if err != nil {
		killGroup(cmd)
		proc.Kill()
		return classifyLaunchError(m.cand, err)
	}
	fail := func(err error) error {
		proc.Kill()
		killGroup(cmd)
		return err
	}
	c, err := sdk.Dispense(rpcProto)
	if err != nil {
		return fail(fmt.Errorf("%w: %s: %v", ErrHandshake, m.cand.Name, err))
	}
	mctx, cancel := context.WithTimeout(ctx, h.opts.StartTimeout)
	defer cancel()
	meta, err := c.Metadata(mctx)
	if err != nil {
		return fail(fmt.Errorf("plugin %s: reading metadata: %w", m.cand.Name, err))
	}
	if meta.Name != m.cand.Name {
		return fail(fmt.Errorf("%w: binary %s reports name %q, want %q", ErrHandshake, m.cand.Path, meta.Name, m.cand.Name))
	}
	m.mu.Lock()
	configs := make(map[string]json.RawMessage, len(m.configs))
	for id, cfg := range m.configs {
		configs[id] = cfg
	}
	m.mu.Unlock()
	for id, cfg := range configs {
		if err := c.Configure(mctx, id, cfg); err != nil {
			h.opts.Logger.Warn("re-configuring instance after plugin start", "plugin", m.cand.Name, "instance", id, "err", err)
		}
	}
	m.mu.Lock()
	m.proc, m.rpc, m.meta = proc, c, meta
	m.pid = 0
	if cmd.Process != nil {
		m.pid = cmd.Process.Pid
	}
	m.setStateLocked(StateRunning, nil)
	m.mu.Unlock()
	h.opts.Logger.Info("plugin running", "plugin", m.cand.Name, "version", meta.Version, "pid", m.pid)
	return nil
}

// waitExit blocks until the plugin process exits (returning why) or ctx
// ends. go-plugin exposes no exit channel, so it polls Exited; 50 ms keeps
// crash detection well under the restart backoff.
func (m *managed) waitExit(ctx context.Context) error {
	m.mu.Lock()
	proc, pid := m.proc, m.pid
	m.mu.Unlock()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if proc.Exited() {
				// Reap whatever the plugin left in its group, and close the
				// dead client's gRPC connection.
				if pid > 0 {
					_ = syscall.Kill(-pid, syscall.SIGKILL)
				}
				proc.Kill()
				m.mu.Lock()
				m.rpc = nil
				m.pid = 0
				m.mu.Unlock()
				return fmt.Errorf("plugin %s (pid %d) exited unexpectedly", m.cand.Name, pid)
			}
		}
	}
}

// noteGone is called when a call lost its connection. If the process has
// indeed exited, new calls must wait for the restart rather than reuse the
// dead client before the supervisor's next poll notices.
func (m *managed) noteGone(c *sdk.Client) {
	m.mu.Lock()
	proc, cur := m.proc, m.rpc
	m.mu.Unlock()
	if proc == nil || cur != c {
		return
	}
	for i := 0; i < 50; i++ {
		if proc.Exited() {
			m.mu.Lock()
			if m.rpc == c {
				m.rpc = nil
				m.setStateLocked(StateRestarting, fmt.Errorf("plugin %s exited during a call", m.cand.Name))
			}
			m.mu.Unlock()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the current process: go-plugin's graceful Kill, bounded by
// grace, then SIGKILL of the whole process group.
func (m *managed) stop(grace time.Duration) {
	m.mu.Lock()
	proc, pid := m.proc, m.pid
	m.mu.Unlock()
	if proc != nil {
		done := make(chan struct{})
		go func() { proc.Kill(); close(done) }()
		select {
		case <-done:
		case <-time.After(grace):
		}
		if pid > 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		<-done
	}
	m.mu.Lock()
	m.rpc, m.pid = nil, 0
	m.setStateLocked(StateStopped, nil)
	m.mu.Unlock()
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// classifyLaunchError turns go-plugin's launch errors into the host's
// sentinels with a message an operator can act on.
func classifyLaunchError(c Candidate, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%w: %s does not match its pinned SHA-256 %s…; the binary changed since it was pinned or discovered: refusing to run it", ErrChecksum, c.Path, c.SHA256[:12])
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		line := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n", 2)[0])
		return fmt.Errorf("%w: plugin %s wrote %q to stdout before the handshake; plugins must keep stdout for go-plugin and log to stderr (sdk.Logger)", ErrHandshake, c.Name, truncate(line, 120))
	case strings.Contains(msg, "incompatible API version"):
		return fmt.Errorf("%w: plugin %s: %s (this hub speaks protocol version %d); rebuild the plugin with a matching SDK", ErrIncompatible, c.Name, strings.TrimPrefix(msg, "incompatible API version with plugin. "), sdk.ProtocolVersion)
	case strings.Contains(msg, "incompatible core API version"):
		return fmt.Errorf("%w: plugin %s: %s", ErrIncompatible, c.Name, firstLine(msg))
	}
	return fmt.Errorf("plugin %s: start: %w", c.Name, err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// allowedEnv returns the host environment variables named in allow.
func allowedEnv(allow []string) []string {
	var env []string
	for _, k := range allow {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

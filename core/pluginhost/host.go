package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// Host supervises the adapter plugins. Build it with New.
type Host struct {
	opts    Options
	metrics *metrics

	mu        sync.Mutex
	plugins   map[string]*managed
	instances map[string]*instance
	closing   bool
	// stop is closed by Shutdown; supervisors derive their context from it
	// (a context is not stored: STYLE habit 8).
	stop chan struct{}

	supervisors sync.WaitGroup // one per plugin
	calls       sync.WaitGroup // in-flight calls, drained by Shutdown
	shutdownMu  sync.Mutex
	shutdownErr error
	shutdown    bool
}

type instance struct {
	id     string
	plugin string
	config json.RawMessage
	sem    chan struct{}

	mu      sync.Mutex
	lastErr error
}

// New discovers plugins and returns a Host that has started nothing.
func New(opts Options) (*Host, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cands, err := Discover(o.PluginDir, o.Pinned)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("pluginhost: registering metrics: %w", err)
	}
	h := &Host{opts: o, metrics: m, plugins: map[string]*managed{}, instances: map[string]*instance{}, stop: make(chan struct{})}
	for _, c := range cands {
		h.plugins[c.Name] = newManaged(c)
	}
	return h, nil
}

// Candidates lists the plugins the host knows, sorted by name.
func (h *Host) Candidates() []Candidate {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Candidate, 0, len(h.plugins))
	for _, m := range h.plugins {
		out = append(out, m.cand)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Start launches the named plugins (all known plugins when none are named),
// each under a supervisor, and waits until each is running or has failed.
// A plugin that fails to start does not fail Start: its state and error are
// in Plugins(). Start returns an error only for an unknown name or a closed
// host.
func (h *Host) Start(ctx context.Context, names ...string) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return ErrClosed
	}
	if len(names) == 0 {
		for n := range h.plugins {
			names = append(names, n)
		}
	}
	var toWait []*managed
	for _, n := range names {
		m, ok := h.plugins[n]
		if !ok {
			h.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrPluginNotFound, n)
		}
		if !m.supervised {
			m.supervised = true
			h.supervisors.Add(1)
			go h.supervise(m)
		}
		toWait = append(toWait, m)
	}
	h.mu.Unlock()
	for _, m := range toWait {
		m.awaitSettled(ctx)
	}
	return nil
}

// Configure enables (or replaces) instance id on plugin name with config.
// The config is kept and re-applied whenever the plugin restarts. A config
// the plugin rejects returns the plugin's *sdk.ConfigError; the instance
// stays registered with that error so status shows it.
func (h *Host) Configure(ctx context.Context, id, name string, config json.RawMessage) error {
	h.mu.Lock()
	m, ok := h.plugins[name]
	if !ok {
		h.mu.Unlock()
		return fmt.Errorf("%w: %q (instance %s)", ErrPluginNotFound, name, id)
	}
	inst, ok := h.instances[id]
	if !ok || inst.plugin != name {
		inst = &instance{id: id, plugin: name, sem: make(chan struct{}, h.opts.MaxConcurrentCalls)}
		h.instances[id] = inst
	}
	inst.config = append(json.RawMessage(nil), config...)
	h.mu.Unlock()
	m.setInstanceConfig(id, inst.config)

	err := h.call(ctx, id, "Configure", func(ctx context.Context, c *sdk.Client) error {
		return c.Configure(ctx, id, config)
	})
	inst.setErr(err)
	return err
}

// Remove disables an instance.
func (h *Host) Remove(ctx context.Context, id string) error {
	h.mu.Lock()
	inst, ok := h.instances[id]
	if ok {
		delete(h.instances, id)
	}
	m := h.plugins[instPlugin(inst)]
	h.mu.Unlock()
	if !ok {
		return nil
	}
	m.setInstanceConfig(id, nil)
	c, err := m.client(ctx, false)
	if err != nil {
		return nil // not running: nothing to remove there
	}
	return c.Remove(ctx, id)
}

func instPlugin(i *instance) string {
	if i == nil {
		return ""
	}
	return i.plugin
}

func (i *instance) setErr(err error) {
	i.mu.Lock()
	i.lastErr = err
	i.mu.Unlock()
}

// Health runs the instance's health check through its plugin.
func (h *Host) Health(ctx context.Context, id string) (sdk.HealthReport, error) {
	var rep sdk.HealthReport
	err := h.call(ctx, id, "Health", func(ctx context.Context, c *sdk.Client) error {
		var err error
		rep, err = c.Health(ctx, id)
		return err
	})
	return rep, err
}

// QueryMetrics runs a metrics range query on an instance.
func (h *Host) QueryMetrics(ctx context.Context, id string, q sdk.MetricQuery) ([]sdk.Series, error) {
	var out []sdk.Series
	err := h.call(ctx, id, "QueryMetrics", func(ctx context.Context, c *sdk.Client) error {
		var err error
		out, err = c.QueryMetrics(ctx, id, q)
		return err
	})
	return out, err
}

// fnError marks an error returned by the caller's callback so it is handed
// back unwrapped rather than blamed on the plugin.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }
func (e fnError) Unwrap() error { return e.err }

// SearchLogs streams the records of q from an instance, calling fn once per
// batch. The host enforces the query on what comes back: records outside
// the time range or past the limit are dropped (and counted), so a buggy
// or lying plugin cannot widen the answer. An error from fn stops the
// search and is returned as is.
func (h *Host) SearchLogs(ctx context.Context, id string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	limit := q.Limit
	if limit <= 0 {
		limit = sdk.DefaultLimit
	}
	err := h.call(ctx, id, "SearchLogs", func(ctx context.Context, c *sdk.Client) error {
		name := h.pluginOf(id)
		n := 0
		return c.SearchLogs(ctx, id, q, sdk.SearchOptions{}, func(batch []sdk.Record) error {
			kept := batch[:0]
			bytes := 0
			for i := range batch {
				r := &batch[i]
				bytes += r.Size()
				switch {
				case !q.InRange(r.Timestamp):
					h.metrics.dropped.WithLabelValues(name, "out_of_range").Inc()
					continue
				case n >= limit:
					h.metrics.dropped.WithLabelValues(name, "over_limit").Inc()
					continue
				}
				r.Source.Instance = id
				kept = append(kept, *r)
				n++
			}
			h.metrics.records.WithLabelValues(name).Add(float64(len(batch)))
			h.metrics.bytes.WithLabelValues(name).Add(float64(bytes))
			if len(kept) == 0 {
				return nil
			}
			if err := fn(kept); err != nil {
				return fnError{err}
			}
			return nil
		})
	})
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return err
}

func (h *Host) pluginOf(id string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if inst, ok := h.instances[id]; ok {
		return inst.plugin
	}
	return ""
}

// call runs fn against the instance's plugin with the host's guarantees:
// a default deadline, the per-instance concurrency limit, waiting for a
// restarting plugin, failing fast on an open breaker, drain on shutdown,
// metrics, and errors wrapped in *PluginError.
func (h *Host) call(ctx context.Context, id, op string, fn func(context.Context, *sdk.Client) error) error {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return ErrClosed
	}
	inst, ok := h.instances[id]
	if !ok {
		h.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrInstanceUnknown, id)
	}
	m := h.plugins[inst.plugin]
	h.calls.Add(1)
	h.mu.Unlock()
	defer h.calls.Done()

	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.CallTimeout)
		defer cancel()
	}
	wrap := func(err error, src Source) error {
		return &PluginError{Plugin: m.cand.Name, Instance: id, Op: op, Source: src, Err: err}
	}
	select {
	case inst.sem <- struct{}{}:
		defer func() { <-inst.sem }()
	case <-ctx.Done():
		return wrap(fmt.Errorf("waiting for a free call slot (max %d per instance): %w", cap(inst.sem), ctx.Err()), SourceHost)
	}
	c, err := m.client(ctx, true)
	if err != nil {
		return wrap(err, SourceHost)
	}
	start := time.Now()
	err = fn(ctx, c)
	code := "ok"
	if err != nil {
		code = sdk.CodeOf(err).String()
		if errors.Is(err, sdk.ErrUnsupported) {
			code = "unsupported"
		}
	}
	h.metrics.callDuration.WithLabelValues(m.cand.Name, op, code).Observe(time.Since(start).Seconds())
	if err == nil {
		return nil
	}
	if errors.Is(err, sdk.ErrPluginGone) {
		m.noteGone(c)
	}
	var fe fnError
	if errors.As(err, &fe) || errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return err
	}
	return wrap(err, sourceOf(err))
}

func sourceOf(err error) Source {
	if errors.Is(err, sdk.ErrPluginGone) {
		return SourcePlugin
	}
	switch sdk.CodeOf(err) {
	case sdk.CodeInternal:
		return SourcePlugin
	case sdk.CodeBadConfig, sdk.CodeBadQuery:
		return SourceHost
	}
	return SourceDownstream
}

// PluginStatus is a snapshot of one plugin for status pages.
type PluginStatus struct {
	Name         string           `json:"name"`
	Path         string           `json:"path"`
	SHA256       string           `json:"sha256"`
	Pinned       bool             `json:"pinned"`
	State        State            `json:"state"`
	Version      string           `json:"version,omitempty"`
	SDKVersion   string           `json:"sdk_version,omitempty"`
	Description  string           `json:"description,omitempty"`
	Capabilities []sdk.Capability `json:"capabilities"`
	ConfigSchema json.RawMessage  `json:"config_schema,omitempty"`
	PID          int              `json:"pid,omitempty"`
	Restarts     int              `json:"restarts"`
	BreakerOpen  bool             `json:"breaker_open"`
	BreakerUntil time.Time        `json:"breaker_until,omitzero"`
	LastError    string           `json:"last_error,omitempty"`
}

// Plugins returns the status of every known plugin, sorted by name.
func (h *Host) Plugins() []PluginStatus {
	h.mu.Lock()
	ms := make([]*managed, 0, len(h.plugins))
	for _, m := range h.plugins {
		ms = append(ms, m)
	}
	h.mu.Unlock()
	out := make([]PluginStatus, len(ms))
	for i, m := range ms {
		out[i] = m.status()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Plugin returns the status of one plugin.
func (h *Host) Plugin(name string) (PluginStatus, error) {
	h.mu.Lock()
	m, ok := h.plugins[name]
	h.mu.Unlock()
	if !ok {
		return PluginStatus{}, fmt.Errorf("%w: %q", ErrPluginNotFound, name)
	}
	return m.status(), nil
}

// InstanceStatus is a snapshot of one configured instance.
type InstanceStatus struct {
	ID        string
	Plugin    string
	LastError error // of the last Configure
}

// Instances lists the configured instances, sorted by id.
func (h *Host) Instances() []InstanceStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]InstanceStatus, 0, len(h.instances))
	for _, in := range h.instances {
		in.mu.Lock()
		out = append(out, InstanceStatus{ID: in.id, Plugin: in.plugin, LastError: in.lastErr})
		in.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Shutdown stops accepting calls, waits for in-flight calls until ctx is
// done, then stops every plugin (graceful, then SIGKILL of its process
// group) and waits for the supervisors. It is idempotent; calls after it
// return ErrClosed.
func (h *Host) Shutdown(ctx context.Context) error {
	h.shutdownMu.Lock()
	defer h.shutdownMu.Unlock()
	if h.shutdown {
		return h.shutdownErr
	}
	h.shutdown = true
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()

	drained := make(chan struct{})
	go func() { h.calls.Wait(); close(drained) }()
	var err error
	select {
	case <-drained:
	case <-ctx.Done():
		err = fmt.Errorf("pluginhost: shutdown: in-flight calls still running, killing plugins: %w", ctx.Err())
	}
	h.mu.Lock()
	ms := make([]*managed, 0, len(h.plugins))
	for _, m := range h.plugins {
		ms = append(ms, m)
	}
	h.mu.Unlock()
	close(h.stop)
	for _, m := range ms {
		m.stop(h.opts.KillGrace)
	}
	h.supervisors.Wait()
	<-drained // calls end once their plugin is gone
	h.shutdownErr = err
	return err
}

// Close shuts down with a short deadline.
func (h *Host) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.Shutdown(ctx)
}

package app

import (
	"context"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/gateway/internal/api"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
	"github.com/faultmaven/faultmaven/sdk"
)

// integrations tracks every enabled integration: its plugin, the outcome
// of configuring it, and a cached health check refreshed in the background
// (so the status route never waits on a slow backend).
type integrations struct {
	host   *pluginhost.Host
	logger *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry // by instance id
	ready   chan struct{}     // closed once every integration has a first health result
	once    sync.Once
}

type entry struct {
	cluster, name, plugin string
	configErr             error
	health                api.IntegrationHealth
	checked               bool
}

func newIntegrations(host *pluginhost.Host, logger *slog.Logger, clusters []config.Cluster) *integrations {
	in := &integrations{host: host, logger: logger, entries: map[string]*entry{}, ready: make(chan struct{})}
	for _, cl := range clusters {
		for _, ig := range cl.Integrations {
			in.entries[config.InstanceID(cl.Name, ig.Name)] = &entry{cluster: cl.Name, name: ig.Name, plugin: ig.Plugin}
		}
	}
	if len(in.entries) == 0 {
		// Ready at once; checkAll's close goes through the same once.
		in.once.Do(func() { close(in.ready) })
	}
	return in
}

// configure enables every integration on its plugin. A failure is kept on
// the entry (and shown in status); it never stops the others.
func (in *integrations) configure(ctx context.Context, clusters []config.Cluster, getenv func(string) string) {
	for _, cl := range clusters {
		for _, ig := range cl.Integrations {
			id := config.InstanceID(cl.Name, ig.Name)
			raw, err := ig.ResolvedConfig(getenv)
			if err == nil {
				err = in.host.Configure(ctx, id, ig.Plugin, raw)
			}
			if err != nil {
				in.logger.Error("integration not enabled", "integration", id, "plugin", ig.Plugin, "err", err)
			}
			in.mu.Lock()
			in.entries[id].configErr = err
			in.mu.Unlock()
		}
	}
}

// checkAll refreshes every integration's health once.
func (in *integrations) checkAll(ctx context.Context, timeout time.Duration) {
	in.mu.Lock()
	ids := make([]string, 0, len(in.entries))
	for id := range in.entries {
		ids = append(ids, id)
	}
	in.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			h := in.check(cctx, id)
			in.mu.Lock()
			e := in.entries[id]
			e.health, e.checked = h, true
			in.mu.Unlock()
		}()
	}
	wg.Wait()
	in.once.Do(func() { close(in.ready) })
}

func (in *integrations) check(ctx context.Context, id string) api.IntegrationHealth {
	in.mu.Lock()
	cfgErr := in.entries[id].configErr
	in.mu.Unlock()
	now := time.Now().UTC()
	if cfgErr != nil {
		return api.IntegrationHealth{Status: "error", Message: cfgErr.Error(), CheckedAt: now}
	}
	rep, err := in.host.Health(ctx, id)
	if err != nil {
		return api.IntegrationHealth{Status: "error", Message: err.Error(), CheckedAt: now}
	}
	return api.IntegrationHealth{
		Status:    rep.Status.String(),
		Message:   rep.Message,
		LatencyMS: float64(rep.Latency.Microseconds()) / 1000,
		CheckedAt: now,
	}
}

// run refreshes health every interval until ctx ends.
func (in *integrations) run(ctx context.Context, every, timeout time.Duration) {
	in.checkAll(ctx, timeout)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			in.checkAll(ctx, timeout)
		}
	}
}

// isReady reports whether every integration has a first health result:
// healthy, or failed clearly.
func (in *integrations) isReady() bool {
	select {
	case <-in.ready:
		return true
	default:
		return false
	}
}

func (in *integrations) status(id string, e *entry) api.IntegrationStatus {
	st := api.IntegrationStatus{Cluster: e.cluster, Name: e.name, Plugin: e.plugin, Capabilities: []string{}, Breaker: "closed", Health: e.health}
	if !e.checked {
		st.Health.Status = "unknown"
	}
	if e.configErr != nil {
		st.Error = e.configErr.Error()
	}
	ps, err := in.host.Plugin(e.plugin)
	if err != nil {
		st.State = "missing"
		st.Error = err.Error()
		return st
	}
	st.Version, st.State, st.Restarts = ps.Version, string(ps.State), ps.Restarts
	for _, c := range ps.Capabilities {
		st.Capabilities = append(st.Capabilities, string(c))
	}
	if ps.BreakerOpen {
		st.Breaker = "open"
	}
	if st.Error == "" && ps.LastError != "" && ps.State != pluginhost.StateRunning {
		st.Error = ps.LastError
	}
	return st
}

// List implements api.Integrations.
func (in *integrations) List() []api.IntegrationStatus {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]api.IntegrationStatus, 0, len(in.entries))
	for id, e := range in.entries {
		out = append(out, in.status(id, e))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cluster != out[j].Cluster {
			return out[i].Cluster < out[j].Cluster
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Lookup implements api.Integrations.
func (in *integrations) Lookup(cluster, name string) (api.IntegrationStatus, bool) {
	id := config.InstanceID(cluster, name)
	in.mu.Lock()
	defer in.mu.Unlock()
	e, ok := in.entries[id]
	if !ok {
		return api.IntegrationStatus{}, false
	}
	return in.status(id, e), true
}

// SearchLogs implements api.Integrations.
func (in *integrations) SearchLogs(ctx context.Context, id string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
	return in.host.SearchLogs(ctx, id, q, fn)
}

// MetricIntegrations returns the instance ids of the cluster's
// integrations whose plugin can run metric queries.
func (in *integrations) MetricIntegrations(cluster string) []string {
	in.mu.Lock()
	var ids []string
	plugins := map[string]string{}
	for id, e := range in.entries {
		if e.cluster == cluster {
			ids = append(ids, id)
			plugins[id] = e.plugin
		}
	}
	in.mu.Unlock()
	out := ids[:0]
	for _, id := range ids {
		if st, err := in.host.Plugin(plugins[id]); err == nil && slices.Contains(st.Capabilities, sdk.CapabilityMetrics) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// LogIntegrations returns the instance ids of the cluster's integrations
// whose plugin can search logs (a plugin not started yet is included: its
// failure shows in the answer's sources); ok is false for an unknown
// cluster.
func (in *integrations) LogIntegrations(cluster string) ([]string, bool) {
	in.mu.Lock()
	type pair struct{ id, plugin string }
	var mine []pair
	known := false
	for id, e := range in.entries {
		if e.cluster == cluster {
			known = true
			mine = append(mine, pair{id, e.plugin})
		}
	}
	in.mu.Unlock()
	var ids []string
	for _, p := range mine {
		st, err := in.host.Plugin(p.plugin)
		if err == nil && len(st.Capabilities) > 0 && !slices.Contains(st.Capabilities, sdk.CapabilityLogs) {
			continue
		}
		ids = append(ids, p.id)
	}
	slices.Sort(ids)
	return ids, known
}

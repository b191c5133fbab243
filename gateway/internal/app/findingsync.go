package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/store"
)

// findingSync copies the analyzer's stored findings into the knowledge
// base as documents of kind finding for their cluster, so that a later
// search ("what did we see in prod?") recalls them. Ingest jobs may run
// on any replica, so the store, not the job, is the source; document ids
// derive from cluster, service and template, so a copy updates in place.
type findingSync struct {
	st       store.Findings
	kb       *knowledge.Service
	clusters []string
	logger   *slog.Logger
	seen     map[string]time.Time // cluster|service|template -> LastSeen copied
	since    map[string]time.Time // cluster -> newest LastSeen copied, so each round reads only what is new
}

func (f *findingSync) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		f.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (f *findingSync) once(ctx context.Context) {
	for _, cl := range f.clusters {
		fs, err := f.st.ListFindings(ctx, cl, f.since[cl])
		if err != nil {
			if ctx.Err() == nil {
				f.logger.Warn("reading findings for the knowledge base", "cluster", cl, "err", err)
			}
			continue
		}
		var fresh []knowledge.Finding
		var keys []string
		for _, x := range fs {
			key := cl + "|" + x.Service + "|" + x.Template
			if last, ok := f.seen[key]; ok && !x.LastSeen.After(last) {
				continue
			}
			fresh = append(fresh, knowledge.Finding{Cluster: cl, Template: x.Template, Service: x.Service,
				Explanation: x.Explanation, FirstSeen: x.FirstSeen, LastSeen: x.LastSeen})
			keys = append(keys, key)
		}
		if len(fresh) == 0 {
			continue
		}
		if _, err := f.kb.IngestFindings(ctx, fresh); err != nil {
			f.logger.Warn("adding findings to the knowledge base; retrying next round", "cluster", cl, "err", err)
			continue
		}
		for i, k := range keys {
			f.seen[k] = fresh[i].LastSeen
			if fresh[i].LastSeen.After(f.since[cl]) {
				f.since[cl] = fresh[i].LastSeen
			}
		}
	}
}

package copilot

import (
	"context"
	"fmt"
	"strings"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/store"
)

// Recorder keeps resolved cases as past incidents; *knowledge.Service
// implements it.
type Recorder interface {
	Ingest(ctx context.Context, docs []knowledge.Document, progress func(done int)) (knowledge.IngestStats, error)
}

// maxIncidentBody bounds the transcript kept as an incident.
const maxIncidentBody = 64 << 10

// recordIncident turns a case that was just resolved into an incident
// document of its cluster, so the next question about the same trouble
// recalls it. A case without a cluster is not recorded: incidents are
// cluster-scoped. Failures are logged; they never fail the resolution.
func (h *handler) recordIncident(ctx context.Context, c store.Case) {
	if h.o.Knowledge == nil || c.Cluster == "" {
		return
	}
	ms, _, err := h.o.Store.ListMessages(ctx, c.ID, 0, 0)
	if err != nil {
		h.o.Logger.Warn("copilot: reading a resolved case", "case", c.ID, "err", err)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Resolved %s. Case %s.\n\n", c.UpdatedAt.Format("2006-01-02 15:04 UTC"), c.ID)
	for _, m := range ms {
		if m.Role == "user" {
			fmt.Fprintf(&b, "## Question (turn %d)\n\n%s\n\n", m.TurnNumber, m.Content)
		}
	}
	// The last answer is what the case concluded.
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Role == "assistant" && strings.HasPrefix(ms[i].Content, "## ") {
			fmt.Fprintf(&b, "# Conclusion\n\n%s\n", strings.ReplaceAll(ms[i].Content, "\n## ", "\n### "))
			break
		}
	}
	body := b.String()
	if len(body) > maxIncidentBody {
		body = clipRunes(body[:maxIncidentBody], maxIncidentBody)
	}
	doc := knowledge.Document{ID: "incident-" + c.ID, Kind: knowledge.KindIncident, Title: c.Title, Body: body,
		Metadata: knowledge.Metadata{Cluster: c.Cluster, Source: "case", CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}}
	if _, err := h.o.Knowledge.Ingest(ctx, []knowledge.Document{doc}, nil); err != nil {
		h.o.Logger.Warn("copilot: recording a resolved case as an incident", "case", c.ID, "err", err)
	}
}

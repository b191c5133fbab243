package knowledge

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Finding is an analyzer finding as the knowledge base receives it; it
// mirrors the analyzer's output without importing it.
type Finding struct {
	Cluster     string
	Template    string // the mined log template, e.g. "Connection is not available, request timed out after <num>ms"
	Service     string
	Explanation string
	FirstSeen   time.Time
	LastSeen    time.Time
}

// FindingDocument turns a finding into a document of kind finding for its
// cluster. The id is derived from cluster, service and template, so that
// the same finding seen again updates its document instead of adding one.
func FindingDocument(f Finding) (Document, error) {
	if f.Cluster == "" || strings.TrimSpace(f.Template) == "" {
		return Document{}, fmt.Errorf("%w: a finding needs a cluster and a template", ErrInvalid)
	}
	sum := sha256.Sum256([]byte(f.Cluster + "\x00" + f.Service + "\x00" + f.Template))
	title := f.Template
	if f.Service != "" {
		title = f.Service + ": " + f.Template
	}
	if len(title) > 160 {
		title = title[:157] + "..."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Log template\n\n%s\n\n", f.Template)
	if f.Explanation != "" {
		fmt.Fprintf(&b, "## Explanation\n\n%s\n\n", f.Explanation)
	}
	if !f.FirstSeen.IsZero() || !f.LastSeen.IsZero() {
		fmt.Fprintf(&b, "## Seen\n\nfirst %s, last %s\n", f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339))
	}
	d := Document{
		ID:    "finding-" + f.Cluster + "-" + hex.EncodeToString(sum[:8]),
		Kind:  KindFinding,
		Title: title,
		Body:  b.String(),
		Metadata: Metadata{
			Cluster: f.Cluster, Source: "analyzer", CreatedAt: f.FirstSeen, UpdatedAt: f.LastSeen,
		},
	}
	if f.Service != "" {
		d.Metadata.Services = []string{f.Service}
	}
	return d, d.Validate()
}

package knowledge

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kind is a document kind.
type Kind string

// Document kinds.
const (
	KindRunbook  Kind = "runbook"
	KindIncident Kind = "incident"
	KindFinding  Kind = "finding"
	KindNote     Kind = "note"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case KindRunbook, KindIncident, KindFinding, KindNote:
		return true
	}
	return false
}

// Metadata describes where a document applies.
type Metadata struct {
	// Cluster scopes the document; "" means global.
	Cluster  string   `json:"cluster,omitempty"`
	Services []string `json:"services,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Symptoms are the error messages or signs the document is about
	// (runbook front matter).
	Symptoms []string `json:"symptoms,omitempty"`
	// Source says where the document came from (a file path, "api",
	// "analyzer").
	Source string `json:"source,omitempty"`
	// Verified marks a runbook a human has checked.
	Verified  bool      `json:"verified,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Document is one knowledge item.
type Document struct {
	ID       string   `json:"id"`
	Kind     Kind     `json:"kind"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Metadata Metadata `json:"metadata"`
}

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$`)
	clusterRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
)

// Validate reports every problem with d at once.
func (d Document) Validate() error {
	var errs []error
	if !idRE.MatchString(d.ID) {
		errs = append(errs, fmt.Errorf("id %q: want 1-200 characters of letters, digits and ._:- starting with a letter or digit", d.ID))
	}
	if !d.Kind.Valid() {
		errs = append(errs, fmt.Errorf("kind %q: want runbook, incident, finding or note", d.Kind))
	}
	if strings.TrimSpace(d.Title) == "" {
		errs = append(errs, errors.New("title: must not be empty"))
	}
	if strings.TrimSpace(d.Body) == "" {
		errs = append(errs, errors.New("body: must not be empty"))
	}
	if len(d.Body) > MaxBodyBytes {
		errs = append(errs, fmt.Errorf("body: %d bytes, limit %d", len(d.Body), MaxBodyBytes))
	}
	if d.Metadata.Cluster != "" && !clusterRE.MatchString(d.Metadata.Cluster) {
		errs = append(errs, fmt.Errorf("metadata.cluster %q: want lower-case letters, digits, _ and -", d.Metadata.Cluster))
	}
	if (d.Kind == KindIncident || d.Kind == KindFinding) && d.Metadata.Cluster == "" {
		errs = append(errs, fmt.Errorf("metadata.cluster: required for kind %s (incidents and findings belong to a cluster)", d.Kind))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: document %q: %w", ErrInvalid, d.ID, errors.Join(errs...))
}

// MaxBodyBytes bounds a document body.
const MaxBodyBytes = 1 << 20

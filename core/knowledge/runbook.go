package knowledge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

type frontMatter struct {
	ID       string    `yaml:"id"`
	Title    string    `yaml:"title"`
	Kind     string    `yaml:"kind"`
	Cluster  string    `yaml:"cluster"`
	Services []string  `yaml:"services"`
	Tags     []string  `yaml:"tags"`
	Symptoms []string  `yaml:"symptoms"`
	Verified bool      `yaml:"verified"`
	Updated  time.Time `yaml:"updated"`
}

// ParseRunbook parses a Markdown file with YAML front matter (id, title,
// services, tags, symptoms; optionally kind, cluster, verified, updated).
// source is recorded in the metadata and used in errors.
func ParseRunbook(source string, data []byte) (Document, error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return Document{}, fmt.Errorf("knowledge: %s: no YAML front matter (the file must start with ---)", source)
	}
	rest := data[4:]
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		if bytes.HasSuffix(rest, []byte("\n---")) {
			end = len(rest) - 4
		} else {
			return Document{}, fmt.Errorf("knowledge: %s: front matter is not closed by ---", source)
		}
	}
	var fm frontMatter
	dec := yaml.NewDecoder(bytes.NewReader(rest[:end]))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil {
		return Document{}, fmt.Errorf("knowledge: %s: front matter: %w", source, err)
	}
	body := ""
	if end+5 <= len(rest) {
		body = string(rest[end+5:])
	}
	kind := KindRunbook
	if fm.Kind != "" {
		kind = Kind(fm.Kind)
	}
	d := Document{
		ID: fm.ID, Kind: kind, Title: fm.Title, Body: strings.TrimSpace(body),
		Metadata: Metadata{
			Cluster: fm.Cluster, Services: fm.Services, Tags: fm.Tags, Symptoms: fm.Symptoms,
			Source: source, Verified: fm.Verified, UpdatedAt: fm.Updated,
		},
	}
	if err := d.Validate(); err != nil {
		return Document{}, fmt.Errorf("%s: %w", source, err)
	}
	return d, nil
}

// LoadDir parses every *.md file under dir (recursively), sorted by path.
// It returns all documents that parsed and every error at once; duplicate
// ids are an error.
func LoadDir(dir string) ([]Document, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Hidden entries are skipped: editors' and VCS files, and the
		// ..<timestamp> directory where a Kubernetes ConfigMap volume keeps
		// a second copy of every file behind its symlinks.
		if p != dir && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.IsDir() && strings.EqualFold(filepath.Ext(p), ".md") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("knowledge: reading %s: %w", dir, err)
	}
	slices.Sort(paths)
	var (
		docs []Document
		errs []error
		seen = map[string]string{}
	)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("knowledge: %w", err))
			continue
		}
		d, err := ParseRunbook(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, ok := seen[d.ID]; ok {
			errs = append(errs, fmt.Errorf("knowledge: %s: id %q already used by %s", p, d.ID, prev))
			continue
		}
		seen[d.ID] = p
		docs = append(docs, d)
	}
	if len(paths) == 0 {
		errs = append(errs, fmt.Errorf("knowledge: %s: no .md files", dir))
	}
	return docs, errors.Join(errs...)
}

package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// BinaryPrefix starts the file name of every plugin executable.
const BinaryPrefix = "faultmaven-plugin-"

// Candidate is a plugin binary found on disk or pinned in config.
type Candidate struct {
	Name   string
	Path   string
	SHA256 string // hex; pinned, or taken at discovery
	Pinned bool
}

// Discover lists the plugin executables in dir (a missing dir holds none)
// and adds the pinned entries; a pinned entry overrides a discovered plugin
// of the same name.
func Discover(dir string, pinned []Pinned) ([]Candidate, error) {
	byName := map[string]Candidate{}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("pluginhost: reading plugin dir: %w", err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), BinaryPrefix) || e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
				continue
			}
			path := filepath.Join(dir, e.Name())
			sum, err := SHA256File(path)
			if err != nil {
				return nil, fmt.Errorf("pluginhost: %w", err)
			}
			name := strings.TrimPrefix(e.Name(), BinaryPrefix)
			byName[name] = Candidate{Name: name, Path: path, SHA256: sum}
		}
	}
	for _, p := range pinned {
		byName[p.Name] = Candidate{Name: p.Name, Path: p.Path, SHA256: strings.ToLower(p.SHA256), Pinned: true}
	}
	out := make([]Candidate, 0, len(byName))
	for _, c := range byName {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SHA256File returns the hex SHA-256 of a file.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

package knowledge_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/faultmaven/faultmaven/core/knowledge"
)

// A Kubernetes ConfigMap volume: each file is a symlink into ..data, which
// points at a hidden ..<timestamp> directory holding the real files. Every
// runbook must load once.
func TestLoadDirConfigMapLayout(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "..2026_11_26_01_00_00.123")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	rb := "---\nid: rb-disk\ntitle: Disk full\n---\n\n# Disk full\n\n## Symptoms\n\nNo space left on device.\n"
	if err := os.WriteFile(filepath.Join(real, "rb-disk.md"), []byte(rb), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(real), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "rb-disk.md"), filepath.Join(dir, "rb-disk.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".#rb-disk.md"), []byte("editor lock"), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].ID != "rb-disk" {
		t.Fatalf("docs = %+v, want rb-disk once", docs)
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

func runKB(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := &cobra.Command{Use: "faultmaven", SilenceUsage: true, SilenceErrors: true}
	root.PersistentFlags().String("config", "", "")
	root.AddCommand(newKBCmd())
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestKBIngestAndSearch(t *testing.T) {
	kbDir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(kbDir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("rb-disk.md", "---\nid: rb-disk\ntitle: Disk full\nservices: [linux]\ntags: [disk]\nsymptoms: ['No space left on device']\n---\n\n# Disk full\n\n## Symptoms\n\nNo space left on device.\n")
	write("rb-tls.md", "---\nid: rb-tls\ntitle: TLS certificate expired\nservices: [envoy]\ntags: [tls]\nsymptoms: ['x509: certificate has expired']\n---\n\n# TLS\n\n## Symptoms\n\nx509: certificate has expired.\n")
	data := t.TempDir()

	out, err := runKB(t, "kb", "ingest", kbDir, "--data-dir", data)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if !bytes.Contains([]byte(out), []byte("ingested 2 documents")) {
		t.Fatalf("ingest output = %q", out)
	}

	out, err = runKB(t, "kb", "search", "certificate has expired", "--data-dir", data, "--output", "json", "--limit", "1")
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	var hits []map[string]any
	if err := json.Unmarshal([]byte(out), &hits); err != nil {
		t.Fatalf("search output is not a JSON list: %v\n%s", err, out)
	}
	if len(hits) != 1 || hits[0]["id"] != "rb-tls" || hits[0]["title"] == "" || hits[0]["chunk"] == "" || hits[0]["score"].(float64) <= 0 {
		t.Fatalf("hits = %v, want rb-tls with title, score and chunk", hits)
	}

	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{
			{"kb", "search", "x", "--data-dir", data, "--output", "yaml"},
			{"kb", "search", "x", "--data-dir", data, "--limit", "1000"},
			{"kb", "search", "x", "--data-dir", t.TempDir()},
			{"kb", "ingest", t.TempDir(), "--data-dir", data},
		} {
			if _, err := runKB(t, args...); err == nil {
				t.Fatalf("%v succeeded", args)
			}
		}
	})
}

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func runAsk(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := &cobra.Command{Use: "faultmaven", SilenceUsage: true, SilenceErrors: true}
	root.PersistentFlags().String("config", "", "")
	root.AddCommand(newAskCmd(), newKBCmd())
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

// TestAskFromFiles: log files and a knowledge base in the data dir give
// an answer naming the failing service and the matching runbook.
func TestAskFromFiles(t *testing.T) {
	dir := t.TempDir()
	var api, db strings.Builder
	for m := 0; m < 60; m++ {
		fmt.Fprintf(&api, "2024-06-01T10:%02d:01Z INFO request served path=/items/%d status=200\n", m, m)
		fmt.Fprintf(&db, "2024-06-01T10:%02d:02Z INFO checkpoint complete buffers=%d\n", m, 100+m)
		if m >= 40 {
			fmt.Fprintf(&db, "2024-06-01T10:%02d:05Z ERROR could not extend file: No space left on device\n", m)
			fmt.Fprintf(&api, "2024-06-01T10:%02d:09Z ERROR query failed: db returned an error\n", m)
		}
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	apiLog, dbLog := write("logs/api.log", api.String()), write("logs/db.log", db.String())
	write("kb/rb-disk.md", "---\nid: rb-disk\ntitle: Disk full\nservices: [linux]\ntags: [disk]\nsymptoms: ['No space left on device']\n---\n\n# Disk full\n\n## Symptoms\n\n- No space left on device\n\n## Remediation\n\n1. Free space on the volume.\n")
	write("kb/rb-tls.md", "---\nid: rb-tls\ntitle: TLS certificate expired\nservices: [envoy]\ntags: [tls]\nsymptoms: ['x509: certificate has expired']\n---\n\n# TLS\n\n## Symptoms\n\n- x509: certificate has expired\n")
	data := filepath.Join(dir, "data")
	if _, err := runAsk(t, "kb", "ingest", filepath.Join(dir, "kb"), "--data-dir", data); err != nil {
		t.Fatal(err)
	}

	out, err := runAsk(t, "ask", "api errors since 10:40 UTC, why?", apiLog, dbLog, "--data-dir", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "## Likely cause\n\n**db**") || !strings.Contains(out, "`rb-disk`") || !strings.Contains(out, "Fix: Free space on the volume.") {
		t.Fatalf("answer:\n%s", out)
	}

	out, err = runAsk(t, "ask", "api errors since 10:40 UTC, why?", apiLog, dbLog, "--data-dir", data, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Cause    struct{ Service string } `json:"likely_cause"`
		Runbooks []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if rep.Cause.Service != "db" || len(rep.Runbooks) == 0 || rep.Runbooks[0].ID != "rb-disk" {
		t.Errorf("report = %+v", rep)
	}
}

func TestAskRejectsBadInput(t *testing.T) {
	for name, args := range map[string][]string{
		"missing file":    {"ask", "why?", filepath.Join(t.TempDir(), "nope.log")},
		"bad --from":      {"ask", "why?", "--from", "yesterday"},
		"since and from":  {"ask", "why?", "--since", "1h", "--from", "2024-06-01T10:00:00Z"},
		"bad output":      {"ask", "why?", "-o", "xml"},
		"unknown cluster": {"ask", "why?", "--cluster", "nope"},
		"empty question":  {"ask", "  "},
	} {
		if _, err := runAsk(t, append(args, "--data-dir", t.TempDir())...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

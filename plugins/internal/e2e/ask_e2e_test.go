package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestAskEveryScenarioThroughTheFilesPlugin is the product path for each
// scenario of the corpus: one cluster per scenario whose files integration
// reads the scenario's logs through the real plugin process, the runbooks in
// the hub's knowledge base, and POST /api/v1/ask with the scenario's
// question and window. It asserts the knowledge base's target (an expected
// runbook in the top 3 for at least 90% of scenarios) and reports the
// culprit and onset checks.
func TestAskEveryScenarioThroughTheFilesPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	corpus := os.Getenv("FAULTMAVEN_SCENARIOS")
	if corpus == "" {
		corpus = filepath.Join(repoRoot(), "..", "shared", "scenarios")
	}
	dirs, _ := filepath.Glob(filepath.Join(corpus, "scenarios", "*"))
	if len(dirs) == 0 {
		t.Skipf("scenario corpus not found at %s", corpus)
	}
	slices.Sort(dirs)
	type expected struct {
		Question string `yaml:"question"`
		Window   struct {
			Start time.Time `yaml:"start"`
			End   time.Time `yaml:"end"`
		} `yaml:"time_window"`
		Expected struct {
			Culprit    string    `yaml:"culprit_service"`
			Aliases    []string  `yaml:"culprit_aliases"`
			FirstBad   time.Time `yaml:"first_bad_time"`
			RunbookIDs []string  `yaml:"runbook_ids"`
		} `yaml:"expected"`
	}
	scs := map[string]expected{}
	var clusters strings.Builder
	var names []string
	for i, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "scenario.yaml"))
		if err != nil {
			continue
		}
		var sc expected
		if err := yaml.Unmarshal(data, &sc); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		name := fmt.Sprintf("sc%02d", i)
		scs[name] = sc
		names = append(names, name)
		fmt.Fprintf(&clusters, "  - name: %s\n    integrations:\n      - name: logs\n        plugin: files\n        config: {paths: [%q], timezone: UTC}\n",
			name, filepath.Join(d, "logs", "*.log"))
	}

	dir := t.TempDir()
	build(t, filepath.Join(dir, "plugins", "faultmaven-plugin-files"), "./plugins/files")
	build(t, filepath.Join(dir, "faultmaven"), "./gateway/cmd/faultmaven")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	cfg := fmt.Sprintf("listen: %s\ndata_dir: %s\nplugin_dir: %s\nlog: {level: info, format: json}\nclusters:\n%s",
		addr, filepath.Join(dir, "data"), filepath.Join(dir, "plugins"), clusters.String())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(dir, "faultmaven"), "kb", "ingest", "--config", cfgPath,
		filepath.Join(corpus, "runbooks")).CombinedOutput(); err != nil {
		t.Fatalf("kb ingest: %v\n%s", err, out)
	}
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	cmd := exec.Command(filepath.Join(dir, "faultmaven"), "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Logf("serve log:\n%s", b)
		}
	})
	base := "http://" + addr
	waitReady(t, base)

	var table strings.Builder
	table.WriteString("| cluster | runbook rank | culprit | onset | cause given |\n|---|---|---|---|---|\n")
	top3, culprits, onsets := 0, 0, 0
	for _, name := range names {
		sc := scs[name]
		body, _ := json.Marshal(map[string]any{"question": sc.Question, "cluster": name, "from": sc.Window.Start, "to": sc.Window.End})
		r, err := http.Post(base+"/api/v1/ask", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Cause *struct {
				Service string
				Onset   time.Time
			} `json:"likely_cause"`
			Runbooks []struct{ ID string }
			Sources  []struct {
				Records int
				Error   string
			}
		}
		err = json.NewDecoder(r.Body).Decode(&rep)
		r.Body.Close()
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: ask: %d %v", name, r.StatusCode, err)
		}
		if len(rep.Sources) != 1 || rep.Sources[0].Records == 0 || rep.Sources[0].Error != "" {
			t.Errorf("%s: sources %+v", name, rep.Sources)
		}
		rank := 0
		for i, rb := range rep.Runbooks {
			if slices.Contains(sc.Expected.RunbookIDs, rb.ID) {
				rank = i + 1
				break
			}
		}
		if rank >= 1 && rank <= 3 {
			top3++
		}
		culprit, onset, given := false, false, "-"
		if c := rep.Cause; c != nil {
			for _, n := range append([]string{sc.Expected.Culprit}, sc.Expected.Aliases...) {
				culprit = culprit || strings.Contains(strings.ToLower(c.Service), strings.ToLower(n))
			}
			d := c.Onset.Sub(sc.Expected.FirstBad)
			onset = d >= -time.Minute && d <= time.Minute
			given = c.Service + " @ " + c.Onset.Format("15:04:05")
		}
		if culprit {
			culprits++
		}
		if onset {
			onsets++
		}
		fmt.Fprintf(&table, "| %s (%s) | %d | %v | %v | %s |\n", name, sc.Expected.Culprit, rank, culprit, onset, given)
	}
	n := float64(len(names))
	fmt.Fprintf(&table, "\nthrough the files plugin: runbook top 3 %.2f, culprit %.2f, onset %.2f over %d scenarios\n",
		float64(top3)/n, float64(culprits)/n, float64(onsets)/n, len(names))
	t.Log("\n" + table.String())
	if float64(top3)/n < 0.9 {
		t.Errorf("runbook top 3 = %.2f through the product path, want >= 0.90", float64(top3)/n)
	}
}

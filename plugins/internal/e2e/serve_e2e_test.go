package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faultmaven/faultmaven/plugins/datadog/datadogstandin"
	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
)

const (
	splunkToken = "e2e-splunk-token-7f3a"
	ddAPIKey    = "e2e-dd-api-key-91bc"
	ddAppKey    = "e2e-dd-app-key-0d2e"
	osUser      = "e2e-user"
	osPassword  = "e2e-password-55aa"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// TestScenarioThroughServe splits scenario s01's logs across the Splunk,
// Datadog and OpenSearch stand-ins per its sources.yaml, enables one
// integration per backend target on one cluster of a real
// `faultmaven serve`, and checks that every event arrives exactly once
// with the right service and timestamp: through the NDJSON logs route and
// through an ingest job, whose stored count must equal the source's.
func TestScenarioThroughServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	scDir := filepath.Join(repoRoot(), "..", "shared", "scenarios", "scenarios", "s01-orders-hikari-pool-leak")
	if _, err := os.Stat(scDir); err != nil {
		t.Skipf("scenario corpus not found at %s", scDir)
	}
	sc, err := scenariodata.Load(scDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	spl := splunkstandin.Start(t, splunkstandin.Options{Token: splunkToken})
	spl.LoadScenario(sc)
	ca, err := spl.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	dd := datadogstandin.New(datadogstandin.Options{APIKey: ddAPIKey, AppKey: ddAppKey})
	t.Cleanup(dd.Close)
	dd.LoadScenario(sc)
	os1 := opensearchstandin.New(opensearchstandin.Options{Username: osUser, Password: osPassword})
	if _, err := os1.LoadScenario(sc); err != nil {
		t.Fatal(err)
	}
	osSrv := httptest.NewServer(os1)
	t.Cleanup(osSrv.Close)

	// want[integration] = multiset of service|time|body.
	want := map[string]map[string]int{}
	add := func(integ, service string, ts time.Time, body string) {
		if want[integ] == nil {
			want[integ] = map[string]int{}
		}
		want[integ][service+"|"+ts.UTC().Format(time.RFC3339Nano)+"|"+body]++
	}
	var splunkIdx []string
	var integrations []string
	for _, src := range sc.Sources {
		for _, ev := range src.Events {
			if ev.Time.Before(sc.Start) || !ev.Time.Before(sc.End) {
				continue
			}
			switch src.Backend {
			case scenariodata.BackendSplunk:
				add("splunk", src.Splunk.Host, ev.Time, ev.Raw)
			case scenariodata.BackendDatadog:
				add("datadog", src.Datadog.Service, ev.Time.Truncate(time.Millisecond), ev.Raw)
			case scenariodata.BackendOpenSearch:
				add(osName(src.OpenSearch.Index), src.OpenSearch.ServiceValue, ev.Time, ev.Raw)
			}
		}
		switch src.Backend {
		case scenariodata.BackendSplunk:
			if !contains(splunkIdx, src.Splunk.Index) {
				splunkIdx = append(splunkIdx, src.Splunk.Index)
			}
		case scenariodata.BackendOpenSearch:
			o := src.OpenSearch
			integrations = append(integrations, fmt.Sprintf(`      - name: %s
        plugin: opensearch
        config: {url: %q, index: %q, username: %q, page_size: 500, fields: {timestamp: %q, message: %q, service: %q}}
        secrets: {password: {env: E2E_OS_PASSWORD}}
`, osName(o.Index), osSrv.URL, o.Index, osUser, o.TimestampField, o.MessageField, o.ServiceField))
		}
	}
	idx, _ := json.Marshal(splunkIdx)
	integrations = append(integrations, fmt.Sprintf(`      - name: splunk
        plugin: splunk
        config: {url: %q, ca_file: %q, indexes: %s}
        secrets: {token: {env: E2E_SPLUNK_TOKEN}}
      - name: datadog
        plugin: datadog
        config: {base_url: %q, page_size: 1000}
        secrets: {api_key: {env: E2E_DD_API_KEY}, app_key: {file: %q}}
`, spl.URL, ca, idx, dd.URL, filepath.Join(dir, "dd-app-key")))
	if err := os.WriteFile(filepath.Join(dir, "dd-app-key"), []byte(ddAppKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{"splunk", "datadog", "opensearch"} {
		build(t, filepath.Join(dir, "plugins", "faultmaven-plugin-"+p), "./plugins/"+p)
	}
	build(t, filepath.Join(dir, "faultmaven"), "./gateway/cmd/faultmaven")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf("listen: %s\ndata_dir: %s\nplugin_dir: %s\nlog: {level: debug, format: json}\nclusters:\n  - name: prod\n    integrations:\n%s",
		addr, filepath.Join(dir, "data"), filepath.Join(dir, "plugins"), strings.Join(integrations, ""))
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// The runbooks go into the hub's knowledge base before it starts.
	kbOut, err := exec.Command(filepath.Join(dir, "faultmaven"), "kb", "ingest", "--config", cfgPath,
		filepath.Join(scDir, "..", "..", "runbooks")).CombinedOutput()
	if err != nil {
		t.Fatalf("kb ingest: %v\n%s", err, kbOut)
	}
	logPath := filepath.Join(dir, "serve.log")
	logf, _ := os.Create(logPath)
	cmd := exec.Command(filepath.Join(dir, "faultmaven"), "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "E2E_SPLUNK_TOKEN="+splunkToken, "E2E_DD_API_KEY="+ddAPIKey, "E2E_OS_PASSWORD="+osPassword)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = cmd.Process.Wait()
		b, _ := os.ReadFile(logPath)
		for _, secret := range []string{splunkToken, ddAPIKey, ddAppKey, osPassword} {
			if strings.Contains(string(b), secret) {
				t.Errorf("a secret reached the hub's log")
			}
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", b)
		}
	})
	base := "http://" + addr
	waitReady(t, base)
	var list struct {
		Integrations []struct {
			Name   string
			Health struct{ Status, Message string }
			Error  string
		}
	}
	getJSON(t, base+"/api/v1/integrations", &list)
	if len(list.Integrations) != len(want) {
		t.Fatalf("%d integrations, want %d", len(list.Integrations), len(want))
	}
	for _, in := range list.Integrations {
		if in.Health.Status != "ok" {
			t.Fatalf("integration %s: health %+v %s", in.Name, in.Health, in.Error)
		}
	}

	from, to := sc.Start.Format(time.RFC3339), sc.End.Format(time.RFC3339)
	for integ, w := range want {
		t.Run(integ, func(t *testing.T) {
			// 1. The logs route, through the host and the plugin binary.
			got := map[string]int{}
			resp, err := http.Get(fmt.Sprintf("%s/api/v1/integrations/prod/%s/logs?from=%s&to=%s&limit=100000", base, integ, from, to))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 8<<20)
			for sc.Scan() {
				var rec struct {
					Timestamp time.Time
					Body      string
					Service   string
					Error     any
				}
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.Error != nil {
					t.Fatalf("bad line %q: %v", sc.Text(), err)
				}
				got[rec.Service+"|"+rec.Timestamp.UTC().Format(time.RFC3339Nano)+"|"+rec.Body]++
			}
			resp.Body.Close()
			total := 0
			for k, n := range w {
				total += n
				if got[k] != n {
					t.Fatalf("event %.160q arrived %d times, want %d", k, got[k], n)
				}
			}
			if len(got) != len(w) {
				t.Fatalf("%d distinct records arrived, want %d", len(got), len(w))
			}
			// 2. An ingest job stores each event exactly once.
			body := fmt.Sprintf(`{"cluster":"prod","integration":%q,"from":%q,"to":%q}`, integ, from, to)
			r, err := http.Post(base+"/api/v1/ingest", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var acc struct {
				JobID int64 `json:"job_id"`
			}
			_ = json.NewDecoder(r.Body).Decode(&acc)
			r.Body.Close()
			var job struct {
				State  string
				Errors []string
				Read   int64 `json:"records_read"`
				Stored int64 `json:"records_stored"`
				Dups   int64 `json:"duplicates_skipped"`
			}
			end := time.Now().Add(120 * time.Second)
			for job.State != "completed" && job.State != "discarded" && time.Now().Before(end) {
				time.Sleep(100 * time.Millisecond)
				getJSON(t, fmt.Sprintf("%s/api/v1/jobs/%d", base, acc.JobID), &job)
			}
			if job.State != "completed" || job.Read != int64(total) || job.Stored != int64(total) || job.Dups != 0 {
				t.Fatalf("ingest: %+v, want %d read and stored", job, total)
			}
		})
	}
	// 3. The question, answered from the three backends through the plugins.
	t.Run("ask", func(t *testing.T) { askThroughServe(t, base, scDir, sc, len(want)) })
}

// askThroughServe asks the scenario's question of the running hub, over
// the scenario's window and the cluster's three log integrations, and
// checks the answer against the scenario's expectations.
func askThroughServe(t *testing.T, base, scDir string, sc *scenariodata.Scenario, nIntegrations int) {
	t.Helper()
	var exp struct {
		Question string `yaml:"question"`
		Expected struct {
			Culprit    string    `yaml:"culprit_service"`
			FirstBad   time.Time `yaml:"first_bad_time"`
			RunbookIDs []string  `yaml:"runbook_ids"`
		} `yaml:"expected"`
	}
	data, err := os.ReadFile(filepath.Join(scDir, "scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &exp); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"question": exp.Question, "cluster": "prod", "from": sc.Start, "to": sc.End})
	r, err := http.Post(base+"/api/v1/ask", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("POST /api/v1/ask: %d %s", r.StatusCode, raw)
	}
	for _, secret := range []string{splunkToken, ddAPIKey, ddAppKey, osPassword} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatal("a secret reached the answer")
		}
	}
	var rep struct {
		Cause *struct {
			Service string
			Onset   time.Time
		} `json:"likely_cause"`
		Runbooks []struct{ ID string }
		Sources  []struct {
			Name    string
			Records int
			Error   string
		}
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Sources) != nIntegrations {
		t.Errorf("sources = %+v, want the cluster's %d integrations", rep.Sources, nIntegrations)
	}
	for _, s := range rep.Sources {
		if s.Error != "" || s.Records == 0 {
			t.Errorf("source %s: %d records, error %q", s.Name, s.Records, s.Error)
		}
	}
	if rep.Cause == nil || rep.Cause.Service != exp.Expected.Culprit {
		t.Fatalf("likely cause = %+v, want service %s", rep.Cause, exp.Expected.Culprit)
	}
	if d := rep.Cause.Onset.Sub(exp.Expected.FirstBad); d < -time.Minute || d > time.Minute {
		t.Errorf("onset = %s, want within a minute of %s", rep.Cause.Onset, exp.Expected.FirstBad)
	}
	found := false
	for _, rb := range rep.Runbooks[:min(3, len(rep.Runbooks))] {
		found = found || contains(exp.Expected.RunbookIDs, rb.ID)
	}
	if !found {
		t.Errorf("runbooks = %+v, want one of %v in the top 3", rep.Runbooks, exp.Expected.RunbookIDs)
	}
}

// waitReady waits up to 90 s for the hub's /readyz to answer 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if r, err := http.Get(base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("hub never became ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// osName is the integration name of an OpenSearch index (names allow no dots).
func osName(index string) string { return "os-" + strings.ReplaceAll(index, ".", "-") }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, r.StatusCode)
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is two levels up from this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

func build(t testing.TB, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// childPIDs lists the processes whose parent is pid, from /proc.
func childPIDs(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces, so cut at ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

// TestServeEndToEnd runs the real binaries: faultmaven serve with the files
// plugin over the bundled sample logs; checks the integration is healthy,
// streams its logs as NDJSON, then SIGTERMs the hub and checks no plugin
// process is left.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	root := repoRoot(t)
	dir := t.TempDir()
	build(t, filepath.Join(dir, "faultmaven"), "./gateway/cmd/faultmaven")
	build(t, filepath.Join(dir, "plugins", "faultmaven-plugin-files"), "./plugins/files")
	addr := freePort(t)
	cfg := fmt.Sprintf(`listen: %s
data_dir: %s
plugin_dir: %s
log: {level: debug, format: json}
clusters:
  - name: local
    integrations:
      - name: app-logs
        plugin: files
        config: { paths: [%q] }
      - name: broken
        plugin: files
        config: { paths: [] }
`, addr, filepath.Join(dir, "data"), filepath.Join(dir, "plugins"), filepath.Join(root, "examples", "logs", "*"))
	cfgPath := filepath.Join(dir, "faultmaven.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// As make run does: the sample runbooks go into the knowledge base first.
	if out, err := exec.Command(filepath.Join(dir, "faultmaven"), "kb", "ingest", "--config", cfgPath,
		filepath.Join(root, "examples", "runbooks")).CombinedOutput(); err != nil {
		t.Fatalf("kb ingest: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(dir, "faultmaven"), "serve", "--config", cfgPath)
	cmd.Dir = root
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Logf("serve log:\n%s", b)
		}
	})
	base := "http://" + addr
	waitReady(t, base+"/readyz")

	var got struct {
		Integrations []struct {
			Cluster, Name, Plugin, Version, State, Breaker, Error string
			Capabilities                                          []string
			Health                                                struct{ Status, Message string }
		}
	}
	getJSON(t, base+"/api/v1/integrations", &got)
	if len(got.Integrations) != 2 {
		t.Fatalf("integrations: %+v", got)
	}
	byName := map[string]int{}
	for i, in := range got.Integrations {
		byName[in.Name] = i
	}
	app := got.Integrations[byName["app-logs"]]
	if app.Health.Status != "ok" || app.State != "running" || app.Plugin != "files" || app.Version == "" || app.Breaker != "closed" || len(app.Capabilities) == 0 {
		t.Errorf("app-logs: %+v", app)
	}
	broken := got.Integrations[byName["broken"]]
	if broken.Health.Status != "error" || !strings.Contains(broken.Error, "paths") {
		t.Errorf("broken integration should fail clearly naming the field: %+v", broken)
	}

	resp, err := http.Get(base + "/api/v1/integrations/local/app-logs/logs?limit=7")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		var rec struct {
			Timestamp time.Time
			Body      string
			Source    struct{ Instance string }
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d not JSON: %v: %s", n, err, sc.Text())
		}
		if rec.Body == "" || rec.Timestamp.IsZero() || rec.Source.Instance != "local/app-logs" {
			t.Errorf("record %d: %+v", n, rec)
		}
		n++
	}
	resp.Body.Close()
	if n != 7 {
		t.Errorf("streamed %d records, want the limit 7", n)
	}
	for _, tc := range []struct {
		url  string
		code int
	}{
		{"/api/v1/integrations/local/nope/logs", 404},
		{"/api/v1/integrations/local/app-logs/logs?limit=0", 400},
		{"/api/v1/integrations/local/app-logs/logs?from=yesterday", 400},
		{"/api/v1/integrations/local/app-logs/logs?query=/(/", 400},
	} {
		r, err := http.Get(base + tc.url)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != tc.code || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s, want %d problem+json", tc.url, r.StatusCode, r.Header.Get("Content-Type"), tc.code)
		}
	}
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb := new(strings.Builder)
	_, _ = bufio.NewReader(r.Body).WriteTo(mb)
	r.Body.Close()
	for _, m := range []string{"faultmaven_plugin_up", "faultmaven_plugin_records_streamed_total", "faultmaven_http_request_duration_seconds"} {
		if !strings.Contains(mb.String(), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	// Ingest through the job queue: records, templates and findings land
	// in the embedded store; a second identical ingest stores nothing new.
	for round, wantNew := range []bool{true, false} {
		resp, err := http.Post(base+"/api/v1/ingest", "application/json", strings.NewReader(`{"cluster":"local","integration":"app-logs","from":"2020-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}`))
		if err != nil {
			t.Fatal(err)
		}
		var acc struct {
			JobID int64 `json:"job_id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&acc)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || acc.JobID == 0 {
			t.Fatalf("POST /api/v1/ingest: %d, job %d", resp.StatusCode, acc.JobID)
		}
		var job struct {
			State  string
			Errors []string
			Read   int64 `json:"records_read"`
			Stored int64 `json:"records_stored"`
			Dups   int64 `json:"duplicates_skipped"`
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			getJSON(t, fmt.Sprintf("%s/api/v1/jobs/%d", base, acc.JobID), &job)
			if job.State == "completed" || job.State == "discarded" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if job.State != "completed" || job.Read == 0 {
			t.Fatalf("ingest round %d: %+v", round, job)
		}
		if wantNew && job.Stored != job.Read || !wantNew && (job.Stored != 0 || job.Dups != job.Read) {
			t.Errorf("ingest round %d: read %d stored %d duplicates %d", round, job.Read, job.Stored, job.Dups)
		}
	}
	var findings struct {
		Findings []struct{ Kind, Template string }
	}
	getJSON(t, base+"/api/v1/findings?cluster=local", &findings)
	if len(findings.Findings) == 0 {
		t.Fatal("no findings after ingesting the sample incident")
	}
	// Findings become knowledge documents of kind finding for the cluster.
	var hits struct {
		Hits []struct{ ID, Kind, Cluster string }
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(hits.Hits) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		q, _ := json.Marshal(map[string]any{"query": findings.Findings[0].Template, "cluster": "local", "kinds": []string{"finding"}})
		r, err := http.Post(base+"/api/v1/knowledge/search", "application/json", strings.NewReader(string(q)))
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(r.Body).Decode(&hits)
		r.Body.Close()
	}
	if len(hits.Hits) == 0 || hits.Hits[0].Kind != "finding" || hits.Hits[0].Cluster != "local" {
		t.Errorf("knowledge search for a finding's template: %+v", hits)
	}

	// The question about the sample incident, answered from the cluster's
	// integrations: the broken one fails alone.
	askBody := `{"question":"Checkout is failing and slow since about 14:06 UTC, what is going on?","cluster":"local",` +
		`"from":"2026-11-23T00:00:00Z","to":"2026-11-25T00:00:00Z"}`
	r, err = http.Post(base+"/api/v1/ask", "application/json", strings.NewReader(askBody))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Answer   string
		Cause    *struct{ Service string } `json:"likely_cause"`
		Runbooks []struct{ ID string }
		Sources  []struct {
			Name    string
			Records int
			Error   string
		}
	}
	_ = json.NewDecoder(r.Body).Decode(&rep)
	r.Body.Close()
	if r.StatusCode != 200 || rep.Cause == nil || !strings.Contains(rep.Cause.Service, "checkout") {
		t.Fatalf("ask: %d, cause %+v\n%s", r.StatusCode, rep.Cause, rep.Answer)
	}
	if len(rep.Runbooks) == 0 || rep.Runbooks[0].ID != "ex-db-pool-exhausted" {
		t.Errorf("ask: runbooks %+v, want ex-db-pool-exhausted first", rep.Runbooks)
	}
	srcs := map[string]int{}
	for _, s := range rep.Sources {
		srcs[s.Name] = s.Records
		if s.Name == "local/broken" && s.Error == "" {
			t.Errorf("ask: the broken integration reports no error: %+v", s)
		}
	}
	if srcs["local/app-logs"] == 0 {
		t.Errorf("ask: sources %+v, want records from local/app-logs", rep.Sources)
	}

	extensionFlow(t, base)

	plugins := childPIDs(cmd.Process.Pid)
	if len(plugins) == 0 {
		t.Fatal("no plugin child process found")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit after SIGTERM")
	}
	for _, pid := range plugins {
		if alive(pid) {
			t.Errorf("plugin pid %d still alive after serve exited", pid)
		}
	}
}

// extensionFlow is the browser extension's first minute against the real
// hub (open: loopback, no users): probe, login, session, a case, a turn
// with pasted logs, the transcript.
func extensionFlow(t *testing.T, base string) {
	t.Helper()
	post := func(path, token, ctype string, body io.Reader) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+path, body)
		req.Header.Set("Content-Type", ctype)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Idempotency-Key", "opt_e2e_"+strings.ReplaceAll(path, "/", "_"))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(r.Body).Decode(&out)
		return r.StatusCode, out
	}
	var caps map[string]any
	getJSON(t, base+"/v1/meta/capabilities", &caps)
	if caps["deploymentMode"] != "self-hosted" {
		t.Fatalf("capabilities: %v", caps)
	}
	st, login := post("/api/v1/auth/login", "", "application/json", strings.NewReader(`{"username":"sre"}`))
	if st != 200 {
		t.Fatalf("login: %d %v", st, login)
	}
	tok := login["access_token"].(string)
	st, c := post("/api/v1/cases", tok, "application/json", strings.NewReader(`{"title":null,"priority":"medium"}`))
	if st != 201 {
		t.Fatalf("create case: %d %v", st, c)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("query", "checkout fails, why?")
	log, _ := os.ReadFile(filepath.Join(repoRoot(t), "examples", "logs", "checkout.log"))
	_ = mw.WriteField("pasted_content", string(log))
	_ = mw.Close()
	st, turn := post("/api/v1/cases/"+c["case_id"].(string)+"/turns", tok, mw.FormDataContentType(), &buf)
	if st != 200 || turn["turn_number"] != 1.0 || !strings.Contains(turn["agent_response"].(string), "## Likely cause") {
		t.Fatalf("turn: %d %v", st, turn)
	}
	if !strings.Contains(turn["agent_response"].(string), "JDBC") {
		t.Errorf("the answer does not name the pool failure of the pasted log:\n%s", turn["agent_response"])
	}
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
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

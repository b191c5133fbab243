package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "faultmaven.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadWithEnvOverrides(t *testing.T) {
	p := write(t, `
listen: 127.0.0.1:9000
plugin_host: {call_timeout: 10s}
clusters:
  - name: prod
    integrations:
      - name: splunk
        plugin: splunk
        config: {url: "https://splunk:8089", indexes: [web]}
        secrets: {token: {env: SPLUNK_TOKEN}}
`)
	cfg, err := config.Load(p, []string{
		"FAULTMAVEN_LISTEN=127.0.0.1:9100",
		"FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT=30s",
		"FAULTMAVEN_PLUGIN_HOST_ENV_ALLOWLIST=[HTTPS_PROXY]",
		"FAULTMAVEN_DATABASE_URL=postgres://u@db/x",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9100" || cfg.PluginHost.CallTimeout != 30*time.Second ||
		len(cfg.PluginHost.EnvAllowlist) != 1 || cfg.Database.URL != "postgres://u@db/x" || cfg.DataDir != "./data" {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	in := cfg.Clusters[0].Integrations[0]
	raw, err := in.ResolvedConfig(func(k string) string { return map[string]string{"SPLUNK_TOKEN": "s3cret"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"token":"s3cret"`) || !strings.Contains(string(raw), `"indexes":["web"]`) {
		t.Errorf("resolved config %s", raw)
	}
	plain, err := in.ConfigJSON()
	if err != nil || strings.Contains(string(plain), "s3cret") {
		t.Errorf("ConfigJSON must hold no secret: %s, %v", plain, err)
	}
	_, err = in.ResolvedConfig(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "SPLUNK_TOKEN is not set") {
		t.Errorf("missing secret: got %v", err)
	}
}

func TestLoadRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		env        []string
		want       string
	}{
		{"unknown key", "listn: x\n", nil, "listn"},
		{"bad duration env", "", []string{"FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT=soon"}, "FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT"},
		{"bad names", "clusters: [{name: Prod, integrations: [{name: a.b, plugin: files}]}]\n", nil, "lower-case"},
		{"secret in config", "clusters: [{name: p, integrations: [{name: s, plugin: splunk, config: {token: x}, secrets: {token: {env: T}}}]}]\n", nil, "secrets belong only under secrets"},
		{"secret ref with both", "clusters: [{name: p, integrations: [{name: s, plugin: splunk, secrets: {token: {env: T, file: /f}}}]}]\n", nil, "exactly one of env or file"},
		{"short pin", "plugins: [{name: x, path: /x, sha256: abc}]\n", nil, "64 hex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(write(t, tc.body), tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestKnowledgeConfig(t *testing.T) {
	for name, tt := range map[string]struct {
		yaml string
		env  []string
		err  string
	}{
		"default":             {yaml: "", err: ""},
		"openai complete":     {yaml: "knowledge: {embedder: {kind: openai, url: 'http://ollama:11434/v1', model: nomic, dimensions: 768, api_key: {env: K}}}"},
		"openai incomplete":   {yaml: "knowledge: {embedder: {kind: openai, model: nomic}}", err: "openai needs url, model and dimensions"},
		"unknown embedder":    {yaml: "knowledge: {embedder: {kind: bert}}", err: `knowledge.embedder.kind "bert"`},
		"qdrant without host": {yaml: "knowledge: {vector_store: {kind: qdrant}}", err: "qdrant needs host"},
		"qdrant from env":     {yaml: "", env: []string{"FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_KIND=qdrant", "FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_HOST=qdrant.svc", "FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_PORT=6334"}},
		"two secret sources":  {yaml: "knowledge: {vector_store: {kind: qdrant, host: q, api_key: {env: A, file: /b}}}", err: "at most one of env or file"},
		"negative ask":        {yaml: "ask: {max_records: -1}", err: "must not be negative"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "faultmaven.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(path, tt.env)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if name == "qdrant from env" && (cfg.Knowledge.VectorStore.Host != "qdrant.svc" || cfg.Knowledge.VectorStore.Port != 6334) {
				t.Errorf("vector store = %+v", cfg.Knowledge.VectorStore)
			}
		})
	}
}

func TestUnknownEnv(t *testing.T) {
	got := config.UnknownEnv([]string{
		"FAULTMAVEN_DATABASE_URL=postgres://x", "FAULTMAVEN_DATABSE_URL=typo", "FAULTMAVEN_PLUGIN_HOST_CALL_TIMEOUT=3s",
		"FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_HOST=q", "FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_HOTS=q", "FAULTMAVEN_ENCRYPTION_KEY=k",
		"FAULTMAVEN_TEST_DATABASE_URL=x", "HOME=/root", "FAULTMAVEN_CLUSTERS=[]",
	})
	want := []string{"FAULTMAVEN_DATABSE_URL", "FAULTMAVEN_KNOWLEDGE_VECTOR_STORE_HOTS"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("UnknownEnv = %v, want %v", got, want)
	}
}

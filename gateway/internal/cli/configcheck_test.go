package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestConfigCheck(t *testing.T) {
	run := func(yaml string) (string, error) {
		path := filepath.Join(t.TempDir(), "faultmaven.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		root := &cobra.Command{Use: "faultmaven", SilenceUsage: true, SilenceErrors: true}
		root.PersistentFlags().String("config", "", "")
		root.AddCommand(newConfigCmd())
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs([]string{"config", "check", "--config", path})
		err := root.ExecuteContext(t.Context())
		return out.String(), err
	}
	t.Setenv("TEST_CHECK_TOKEN", "s3cr3t-value")
	out, err := run("clusters: [{name: prod, integrations: [{name: s, plugin: splunk, secrets: {token: {env: TEST_CHECK_TOKEN}}}]}]\n")
	if err != nil || !strings.Contains(out, "config ok") || !strings.Contains(out, "1 integrations") || strings.Contains(out, "s3cr3t") {
		t.Fatalf("good config: %q, %v", out, err)
	}
	_, err = run("clusters: [{name: prod, integrations: [{name: s, plugin: splunk, secrets: {token: {env: TEST_CHECK_UNSET}}}]}]\n")
	if err == nil || !strings.Contains(err.Error(), "TEST_CHECK_UNSET") {
		t.Fatalf("missing secret: %v", err)
	}
	t.Setenv("FAULTMAVEN_LISTN", "127.0.0.1:9")
	if _, err = run(""); err == nil || !strings.Contains(err.Error(), "FAULTMAVEN_LISTN") {
		t.Fatalf("a mistyped variable: %v", err)
	}
	os.Unsetenv("FAULTMAVEN_LISTN")
	if _, err = run("lisen: 1\n"); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err = run("listen: 0.0.0.0:8080\n"); err == nil || !strings.Contains(err.Error(), "auth.users") {
		t.Fatalf("open hub on a public address: %v", err)
	}
}

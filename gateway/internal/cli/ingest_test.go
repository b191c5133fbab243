package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
	"github.com/faultmaven/faultmaven/sdk"
)

func runStoreCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := &cobra.Command{Use: "faultmaven", SilenceUsage: true, SilenceErrors: true}
	root.PersistentFlags().String("config", "", "")
	root.AddCommand(newMigrateCmd(), newIngestCmd(), newStoreCmd())
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errb.String(), err
}

// fakeLogSource serves n records per hour of any window, deterministically.
func fakeLogSource(perMinute int) jobs.LogSource {
	return jobs.LogSourceFunc(func(ctx context.Context, id string, q sdk.LogQuery, fn func([]sdk.Record) error) error {
		var batch []sdk.Record
		step := time.Minute / time.Duration(perMinute)
		start := q.Start.Truncate(step)
		for ts := start; ts.Before(q.End); ts = ts.Add(step) {
			if !q.InRange(ts) {
				continue
			}
			n := ts.UnixNano() / int64(step)
			sev := sdk.SeverityInfo
			body := fmt.Sprintf("GET /api/items/%d 200 in %d ms", n%1000, n%97)
			if n%20 == 0 {
				sev, body = sdk.SeverityError, fmt.Sprintf("upstream 10.1.2.%d refused connection", n%5)
			}
			batch = append(batch, sdk.Record{Timestamp: ts, Body: body, Severity: sev, Service: "api",
				Source: sdk.SourceRef{Instance: id, NativeID: fmt.Sprint(n)}})
			if len(batch) == 250 {
				if err := fn(batch); err != nil {
					return err
				}
				batch = nil
			}
		}
		if len(batch) > 0 {
			return fn(batch)
		}
		return nil
	})
}

func TestIngestCommand(t *testing.T) {
	old := openLogSource
	t.Cleanup(func() { openLogSource = old })
	openLogSource = func(ctx context.Context, cfg config.Config, logger *slog.Logger) (jobs.LogSource, func(), error) {
		if len(cfg.Clusters) != 1 || len(cfg.Clusters[0].Integrations) != 1 {
			return nil, nil, fmt.Errorf("ingest should pass exactly its integration, got %+v", cfg.Clusters)
		}
		return fakeLogSource(60), func() {}, nil
	}
	backends := map[string]func(t *testing.T){
		store.DialectSQLite: func(t *testing.T) { t.Setenv(store.EnvDatabaseURL, "") },
		store.DialectPostgres: func(t *testing.T) {
			u, _ := storetest.PostgresSchema(t)
			t.Setenv(store.EnvDatabaseURL, u)
			key, err := store.NewKeyText()
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv(store.EnvEncryptionKey, key)
		},
	}
	for name, setup := range backends {
		t.Run(name, func(t *testing.T) {
			t.Setenv(store.EnvEncryptionKey, "")
			t.Setenv(store.EnvEncryptionKeyFile, "")
			setup(t)
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "faultmaven.yaml")
			yaml := "data_dir: " + filepath.Join(dir, "data") + "\nlog:\n  level: warn\nclusters:\n" +
				"  - name: prod\n    integrations:\n      - name: files\n        plugin: files\n        config:\n          paths: [/var/log/app.log]\n"
			if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}

			out, _, err := runStoreCLI(t, "--config", cfgPath, "migrate")
			if err != nil || !strings.Contains(out, "schema at version") {
				t.Fatalf("migrate: %v, output %q", err, out)
			}

			args := []string{"--config", cfgPath, "ingest", "--cluster", "prod", "--integration", "files",
				"--from", "2026-11-25T10:00:00Z", "--to", "2026-11-25T11:00:00Z"}
			var sums []ingestSummary
			for range 2 {
				out, errOut, err := runStoreCLI(t, args...)
				if err != nil {
					t.Fatalf("ingest: %v\nstderr: %s", err, errOut)
				}
				var s ingestSummary
				if err := json.Unmarshal([]byte(out), &s); err != nil || strings.Count(out, "\n") != 1 {
					t.Fatalf("ingest output is not one JSON line: %v\n%q", err, out)
				}
				sums = append(sums, s)
			}
			if s := sums[0]; s.State != "completed" || s.RecordsRead != 3600 || s.RecordsStored != 3600 || s.DuplicatesSkipped != 0 || s.Findings == 0 {
				t.Fatalf("first ingest summary = %+v, want 3600 read and stored, some findings", s)
			}
			if s := sums[1]; s.RecordsRead != 3600 || s.RecordsStored != 0 || s.DuplicatesSkipped != 3600 {
				t.Fatalf("second ingest summary = %+v, want nothing new stored", s)
			}

			out, _, err = runStoreCLI(t, "--config", cfgPath, "store", "stats", "--output", "json")
			if err != nil {
				t.Fatalf("store stats: %v", err)
			}
			var st map[string]any
			if err := json.Unmarshal([]byte(out), &st); err != nil {
				t.Fatalf("stats JSON: %v\n%s", err, out)
			}
			if st["records"].(float64) != 3600 || st["dialect"] != name || st["integrations"].(float64) != 1 {
				t.Fatalf("stats = %v", st)
			}
			if name == store.DialectSQLite {
				fi, err := os.Stat(filepath.Join(dir, "data", store.KeyFileName))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("embedded key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
				}
			}
			out, _, err = runStoreCLI(t, "--config", cfgPath, "store", "stats")
			if err != nil || !strings.Contains(out, "records          3600") {
				t.Fatalf("store stats text: %v\n%s", err, out)
			}

			for _, bad := range [][]string{
				{"ingest", "--cluster", "prod", "--integration", "files"},
				{"ingest", "--cluster", "prod", "--integration", "files", "--since", "1h", "--from", "2026-11-25T10:00:00Z"},
				{"ingest", "--cluster", "prod", "--integration", "files", "--from", "yesterday", "--to", "2026-11-25T10:00:00Z"},
				{"ingest", "--cluster", "prod", "--integration", "files", "--from", "2026-11-25T11:00:00Z", "--to", "2026-11-25T10:00:00Z"},
				{"ingest", "--cluster", "prod", "--integration", "nope", "--since", "1h"},
				{"store", "stats", "--output", "yaml"},
			} {
				if _, _, err := runStoreCLI(t, append([]string{"--config", cfgPath}, bad...)...); err == nil {
					t.Errorf("%v: want an error", bad)
				}
			}
		})
	}
}

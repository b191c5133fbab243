package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// openStore opens the store the config names (database.url, usually from
// FAULTMAVEN_DATABASE_URL; empty = SQLite in data_dir), applying migrations,
// and records the config's clusters and integrations in it.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (store.Store, error) {
	st, err := store.Open(ctx, store.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger, Getenv: os.Getenv})
	if err != nil {
		return nil, err
	}
	if err := syncIntegrations(ctx, st, cfg); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// syncIntegrations upserts every configured integration: plugin, pinned
// digest, config without secrets, and the secret references (never values).
func syncIntegrations(ctx context.Context, st store.Store, cfg config.Config) error {
	digests := map[string]string{}
	for _, p := range cfg.Plugins {
		digests[p.Name] = p.SHA256
	}
	for _, cl := range cfg.Clusters {
		if err := st.UpsertCluster(ctx, cl.Name); err != nil {
			return err
		}
		for _, in := range cl.Integrations {
			raw, err := json.Marshal(jsonable(in.Config))
			if err != nil {
				return fmt.Errorf("integration %s/%s: config: %w", cl.Name, in.Name, err)
			}
			var refs map[string]store.SecretRef
			if len(in.Secrets) > 0 {
				refs = map[string]store.SecretRef{}
				for k, r := range in.Secrets {
					refs[k] = store.SecretRef{Env: r.Env, File: r.File}
				}
			}
			err = st.UpsertIntegration(ctx, store.Integration{Cluster: cl.Name, Name: in.Name, Plugin: in.Plugin,
				PluginDigest: digests[in.Plugin], Config: raw, SecretRefs: refs})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonable turns YAML's map[any]any into JSON-encodable maps.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsonable(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case nil:
		return map[string]any{}
	}
	return v
}

func newStoreCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Inspect the hub's database",
	}
	cmd.AddCommand(newStoreStatsCmd())
	return cmd
}

func newStoreStatsCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Counts of clusters, integrations, records, templates, findings and runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", output)
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			logger, err := newLogger(cfg.Log)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg, logger)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Stats(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				return json.NewEncoder(out).Encode(statsJSON(s))
			}
			fmt.Fprintf(out, "dialect          %s\n", s.Dialect)
			fmt.Fprintf(out, "schema version   %d\n", s.SchemaVersion)
			fmt.Fprintf(out, "clusters         %d\n", s.Clusters)
			fmt.Fprintf(out, "integrations     %d\n", s.Integrations)
			fmt.Fprintf(out, "records          %d\n", s.Records)
			if s.Records > 0 {
				fmt.Fprintf(out, "  oldest         %s\n", s.OldestRecord.Format(time.RFC3339))
				fmt.Fprintf(out, "  newest         %s\n", s.NewestRecord.Format(time.RFC3339))
			}
			if s.Dialect == store.DialectPostgres {
				fmt.Fprintf(out, "partitions       %d\n", s.Partitions)
			}
			fmt.Fprintf(out, "templates        %d\n", s.Templates)
			fmt.Fprintf(out, "findings         %d\n", s.Findings)
			fmt.Fprintf(out, "analysis runs    %d\n", s.Runs)
			fmt.Fprintf(out, "keys             %v (first is current)\n", s.KeyIDs)
			for id, n := range s.RecordsByKeyID {
				fmt.Fprintf(out, "  records sealed with %s: %d\n", id, n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&output, "output", "text", "text or json")
	return cmd
}

func statsJSON(s store.Stats) map[string]any {
	m := map[string]any{
		"dialect": s.Dialect, "schema_version": s.SchemaVersion, "clusters": s.Clusters, "integrations": s.Integrations,
		"records": s.Records, "templates": s.Templates, "findings": s.Findings, "analysis_runs": s.Runs,
		"key_ids": s.KeyIDs, "records_by_key_id": s.RecordsByKeyID,
	}
	if s.Dialect == store.DialectPostgres {
		m["partitions"] = s.Partitions
	}
	if s.Records > 0 {
		m["oldest_record"], m["newest_record"] = s.OldestRecord, s.NewestRecord
	}
	return m
}

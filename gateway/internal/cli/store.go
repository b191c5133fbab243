package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/app"
)

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
			st, err := app.OpenStore(cmd.Context(), cfg, logger)
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

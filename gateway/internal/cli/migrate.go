package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
)

func newMigrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (the store's and the job queue's)",
		Long: `Apply pending migrations to the database named by database.url
(FAULTMAVEN_DATABASE_URL; empty = the embedded SQLite file in data_dir).
The hub also migrates at start-up; run this to migrate ahead of a rollout.
Safe to run from several replicas at once on PostgreSQL (an advisory lock
serialises them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			logger, err := newLogger(cfg.Log)
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), store.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger, Getenv: os.Getenv})
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			if err := jobs.Migrate(cmd.Context(), st); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema at version %d; job queue migrated\n", st.Dialect(), v)
			return nil
		},
	}
}

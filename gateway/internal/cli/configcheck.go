package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

func newConfigCmd() *cobra.Command {
	cfgCmd := &cobra.Command{Use: "config", Short: "Check the configuration"}
	cfgCmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Load and validate the config (file + FAULTMAVEN_* variables) and resolve every secret reference",
		Long: `Load the config as serve would (--config, or ./faultmaven.yaml, plus
FAULTMAVEN_* overrides), validate it, and resolve every secret reference
(integration secrets, user passwords, knowledge API keys) without printing
any value. A FAULTMAVEN_* variable that names no config key is an error
here (serve only warns about it). Exits 1 listing every problem; prints a one-line summary when
the config is good.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			var errs []error
			check := func(what string, r config.SecretRef) {
				if r.Env == "" && r.File == "" {
					return
				}
				if _, err := r.Resolve(os.Getenv); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", what, err))
				}
			}
			integrations := 0
			for _, cl := range cfg.Clusters {
				for _, in := range cl.Integrations {
					integrations++
					for k, r := range in.Secrets {
						check(fmt.Sprintf("clusters[%s].integrations[%s].secrets.%s", cl.Name, in.Name, k), r)
					}
				}
			}
			for _, u := range cfg.Auth.Users {
				check("auth.users["+u.Username+"].password", u.Password)
			}
			for _, k := range config.UnknownEnv(os.Environ()) {
				errs = append(errs, fmt.Errorf("%s: no such config key (a typo?); it is ignored", k))
			}
			check("knowledge.embedder.api_key", cfg.Knowledge.Embedder.APIKey)
			check("knowledge.vector_store.api_key", cfg.Knowledge.VectorStore.APIKey)
			if err := errors.Join(errs...); err != nil {
				return err
			}
			auth := fmt.Sprintf("%d users", len(cfg.Auth.Users))
			if len(cfg.Auth.Users) == 0 {
				auth = "open (loopback only)"
			}
			db := "SQLite in the data dir"
			if cfg.Database.URL != "" {
				db = "PostgreSQL"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "config ok: listen %s, %d clusters, %d integrations, auth %s, store %s, embedder %s, vector store %s\n",
				cfg.Listen, len(cfg.Clusters), integrations, auth, db, or(cfg.Knowledge.Embedder.Kind, "builtin"), or(cfg.Knowledge.VectorStore.Kind, "embedded"))
			return nil
		},
	})
	return cfgCmd
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

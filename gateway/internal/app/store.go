package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

// OpenStore opens the store the config names (database.url, usually from
// FAULTMAVEN_DATABASE_URL; empty = SQLite in data_dir), applying migrations,
// and records the config's clusters and integrations in it.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (store.Store, error) {
	st, err := store.Open(ctx, store.Options{URL: cfg.Database.URL, DataDir: cfg.DataDir, Logger: logger, Getenv: os.Getenv})
	if err != nil {
		return nil, err
	}
	if err := SyncIntegrations(ctx, st, cfg); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// SyncIntegrations upserts every configured integration: plugin, pinned
// digest, config without secrets, and the secret references (never values).
func SyncIntegrations(ctx context.Context, st store.Store, cfg config.Config) error {
	digests := map[string]string{}
	for _, p := range cfg.Plugins {
		digests[p.Name] = p.SHA256
	}
	for _, cl := range cfg.Clusters {
		if err := st.UpsertCluster(ctx, cl.Name); err != nil {
			return err
		}
		for _, in := range cl.Integrations {
			raw, err := in.ConfigJSON()
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

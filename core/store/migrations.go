package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// One migration set per dialect, numbered 00001_*.sql, applied by goose in
// order. Never edit an applied migration; add the next number.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFS embed.FS

// migrate applies pending migrations on db and returns the schema version.
func migrate(ctx context.Context, db *sql.DB, dialect string, logger *slog.Logger) (int64, error) {
	var (
		gd   goose.Dialect
		dir  string
		opts []goose.ProviderOption
	)
	switch dialect {
	case DialectPostgres:
		gd, dir = goose.DialectPostgres, "migrations/postgres"
		// Many hub replicas may start at once: one migrates, the others wait.
		// The lock is per schema, so databases sharing a server (tests, one
		// schema each) do not wait on each other.
		var schema string
		if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return 0, fmt.Errorf("store: migrations: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("faultmaven migrations " + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return 0, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case DialectSQLite:
		gd, dir = goose.DialectSQLite3, "migrations/sqlite"
	default:
		return 0, fmt.Errorf("store: unknown dialect %q", dialect)
	}
	sub, err := fs.Sub(migrationFS, dir)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrating: %w", err)
	}
	for _, r := range res {
		logger.Info("store: migration applied", "dialect", dialect, "version", r.Source.Version, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

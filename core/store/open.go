package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// EnvDatabaseURL selects the database when the config names none.
const EnvDatabaseURL = "FAULTMAVEN_DATABASE_URL"

// Options configures Open. The zero value opens the embedded SQLite store
// in ./data with a key file created there on first start.
type Options struct {
	// URL is postgres://… (or postgresql://…) for PostgreSQL; sqlite:PATH,
	// file:PATH or empty for SQLite (empty = DataDir/faultmaven.db).
	URL string
	// DataDir holds the SQLite file and its key file. Default "./data".
	DataDir string
	// Keyring seals raw log text. Nil: read from FAULTMAVEN_ENCRYPTION_KEY
	// or FAULTMAVEN_ENCRYPTION_KEY_FILE through Getenv; on SQLite with
	// neither, DataDir/encryption.key, created on first start.
	Keyring *Keyring
	Getenv  func(string) string // default os.Getenv
	Logger  *slog.Logger        // default slog.Default()
	Now     func() time.Time    // default time.Now
	// PartitionsAhead is how many future days of record partitions
	// PostgreSQL keeps created. Default 3.
	PartitionsAhead int
	// MaxConns bounds the PostgreSQL pool. Default 8.
	MaxConns int32
	// SkipMigrate opens without applying migrations.
	SkipMigrate bool
}

// DefaultOptions returns the embedded-default options.
func DefaultOptions() Options {
	return Options{DataDir: "./data", PartitionsAhead: 3, MaxConns: 8}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.DataDir == "" {
		o.DataDir = d.DataDir
	}
	if o.PartitionsAhead <= 0 {
		o.PartitionsAhead = d.PartitionsAhead
	}
	if o.MaxConns <= 0 {
		o.MaxConns = d.MaxConns
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// DialectOf tells which backend a URL selects.
func DialectOf(url string) string {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return DialectPostgres
	}
	return DialectSQLite
}

// Open connects to the store the URL names, applies migrations and checks
// the encryption keys against the data already stored. A wrong or missing
// key is an error and changes nothing.
func Open(ctx context.Context, opts Options) (Store, error) {
	opts = opts.withDefaults()
	if DialectOf(opts.URL) == DialectPostgres {
		return openPostgres(ctx, opts)
	}
	path := opts.URL
	path = strings.TrimPrefix(path, "sqlite://")
	path = strings.TrimPrefix(path, "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return nil, fmt.Errorf("store: sqlite URL: options (%q) are not supported; the store sets its own", path[i:])
	}
	if path == "" {
		path = filepath.Join(opts.DataDir, "faultmaven.db")
	}
	return openSQLite(ctx, path, opts)
}

// setupKeys resolves the keyring and checks it against the database.
// embedded enables the data-dir key file.
func setupKeys(ctx context.Context, b *sqlBase, opts Options, embedded bool) error {
	kr := opts.Keyring
	if kr == nil {
		var err error
		kr, err = LoadKeyring(opts.Getenv)
		if errors.Is(err, ErrNoKey) && embedded {
			kr, err = embeddedKey(ctx, b, opts)
		}
		if err != nil {
			return err
		}
	}
	b.kr = kr
	unknown, err := b.checkKeys(ctx)
	if err != nil {
		return err
	}
	if err := b.loadDedupSecret(ctx); err != nil {
		return err
	}
	if len(unknown) > 0 {
		opts.Logger.Warn("store: some data was sealed with keys not in the keyring; it cannot be read until they are added back",
			"missing_key_ids", unknown)
	}
	return nil
}

func embeddedKey(ctx context.Context, b *sqlBase, opts Options) (*Keyring, error) {
	path := filepath.Join(opts.DataDir, KeyFileName)
	if _, err := os.Stat(path); err == nil {
		return ReadKeyFile(path)
	}
	sealedBefore, err := b.hasCanaries(ctx)
	if err != nil {
		return nil, err
	}
	if sealedBefore {
		return nil, fmt.Errorf("store: the database holds encrypted data but the key file %s is missing: restore it or set %s; nothing was changed", path, EnvEncryptionKey)
	}
	created, err := CreateKeyFile(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("store: created encryption key file; back it up", "path", created)
	return ReadKeyFile(created)
}

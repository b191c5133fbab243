package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faultmaven/faultmaven/core/store"
)

// EnvTestDatabaseURL names the PostgreSQL server tests use.
const EnvTestDatabaseURL = "FAULTMAVEN_TEST_DATABASE_URL"

// DefaultTestDatabaseURL is the local server CI starts.
const DefaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestDatabaseURL returns FAULTMAVEN_TEST_DATABASE_URL or the default.
func TestDatabaseURL() string {
	if u := os.Getenv(EnvTestDatabaseURL); u != "" {
		return u
	}
	return DefaultTestDatabaseURL
}

// PostgresSchema creates an empty schema on the test server, dropped when
// the test ends, and returns a URL whose connections use it (search_path),
// plus the schema name. Tests never share tables.
func PostgresSchema(tb testing.TB) (dbURL, schema string) {
	tb.Helper()
	base := TestDatabaseURL()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	schema = "fmtest_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("PostgreSQL test server (%s): %v", EnvTestDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("creating schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for range 3 { // the server may be restarting (crash tests)
			conn, err := pgx.Connect(ctx, base)
			if err != nil {
				time.Sleep(time.Second)
				continue
			}
			_, err = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
			if err == nil {
				return
			}
			tb.Logf("dropping test schema %s: %v", schema, err)
			time.Sleep(time.Second)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s does not parse", EnvTestDatabaseURL)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

// SQLitePath returns a fresh database path in a temporary data dir.
func SQLitePath(tb testing.TB) (dbURL, dataDir string) {
	tb.Helper()
	dir := tb.TempDir()
	return "sqlite:" + filepath.Join(dir, "faultmaven.db"), dir
}

// NewKeyring returns a keyring of one fresh random key.
func NewKeyring(tb testing.TB) *store.Keyring {
	tb.Helper()
	text, err := store.NewKeyText()
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := store.ParseKeyring(text)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// Backend describes one store implementation for the suite.
type Backend struct {
	Name string
	// Fresh returns options (URL, DataDir) of a new empty isolated database.
	Fresh func(tb testing.TB) store.Options
	// Dump returns every byte the backend persisted for the database of
	// opts (pg_dump output, or the SQLite file with its WAL), to prove
	// raw text never reaches disk in clear. Nil skips that check.
	Dump func(tb testing.TB, opts store.Options) []byte
}

// Open opens the store of opts with kr, failing the test on error, and
// closes it at the end.
func Open(tb testing.TB, opts store.Options, kr *store.Keyring) store.Store {
	tb.Helper()
	opts.Keyring = kr
	s, err := store.Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Backends returns the two built-in backends: PostgreSQL on the test
// server, one schema per test, and SQLite in a temporary dir.
func Backends() []Backend {
	return []Backend{
		{
			Name: store.DialectPostgres,
			Fresh: func(tb testing.TB) store.Options {
				u, _ := PostgresSchema(tb)
				return store.Options{URL: u, DataDir: tb.TempDir()}
			},
			Dump: dumpPostgres,
		},
		{
			Name: store.DialectSQLite,
			Fresh: func(tb testing.TB) store.Options {
				u, dir := SQLitePath(tb)
				return store.Options{URL: u, DataDir: dir}
			},
			Dump: dumpSQLite,
		},
	}
}

func dumpSQLite(tb testing.TB, opts store.Options) []byte {
	tb.Helper()
	path := opts.URL[len("sqlite:"):]
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			tb.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		tb.Fatalf("no SQLite file at %s", path)
	}
	return all
}

func dumpPostgres(tb testing.TB, opts store.Options) []byte {
	tb.Helper()
	u, err := url.Parse(opts.URL)
	if err != nil {
		tb.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := pgDump(u.String(), schema)
	if err != nil {
		tb.Fatalf("pg_dump: %v", err)
	}
	if len(out) == 0 {
		tb.Fatal("pg_dump wrote nothing")
	}
	return out
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

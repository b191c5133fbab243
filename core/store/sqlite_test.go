package store

import (
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/sdk"
)

func testKeyring(tb testing.TB) *Keyring {
	tb.Helper()
	text, err := NewKeyText()
	require.NoError(tb, err)
	kr, err := ParseKeyring(text)
	require.NoError(tb, err)
	return kr
}

// sqliteProvider is goose over the SQLite migrations, to build a database
// at an older schema version.
func sqliteProvider(tb testing.TB, path string) (*goose.Provider, *sql.DB) {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrationFS, "migrations/sqlite")
	require.NoError(tb, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	require.NoError(tb, err)
	return p, db
}

// migrationRecords are records of two integrations: with and without
// native ids, identical ones told apart by ordinal, one native id at two
// times.
func migrationRecords(t0 time.Time) []Record {
	var out []Record
	for i := range 30 {
		r := Record{Cluster: "prod", Integration: "files", TemplateID: fmt.Sprintf("t%d", i%3), Template: "t <*>"}
		r.Timestamp = t0.Add(time.Duration(i) * time.Second)
		r.Body, r.Service, r.Severity = fmt.Sprintf("line %d", i), "api", sdk.SeverityInfo
		r.Attributes = map[string]string{"pod": fmt.Sprintf("api-%d", i%2)}
		if i%2 == 0 {
			r.Source.NativeID = fmt.Sprintf("id-%d", i)
		}
		out = append(out, r)
	}
	same := Record{Cluster: "prod", Integration: "splunk", TemplateID: "s", Template: "same"}
	same.Timestamp, same.Body = t0, "same line"
	for o := range 3 {
		same.Ordinal = o
		out = append(out, same)
	}
	moved := Record{Cluster: "prod", Integration: "splunk", TemplateID: "s"}
	moved.Source.NativeID = "rotated:0"
	moved.Timestamp, moved.Body = t0, "first file"
	out = append(out, moved)
	moved.Timestamp, moved.Body = t0.Add(time.Hour), "second file"
	out = append(out, moved)
	return out
}

func openSQLiteForTest(t *testing.T, path string, kr *Keyring, skipMigrate bool) Store {
	t.Helper()
	s, err := Open(t.Context(), Options{URL: "sqlite:" + path, DataDir: filepath.Dir(path), Keyring: kr, SkipMigrate: skipMigrate})
	require.NoError(t, err)
	return s
}

func templateCounts(t *testing.T, s Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, integ := range []string{"files", "splunk"} {
		ts, err := s.ListTemplates(t.Context(), "prod", integ)
		require.NoError(t, err)
		for _, x := range ts {
			out[integ+"/"+x.ID] = x.Count
		}
	}
	return out
}

// TestSQLiteMigration3KeepsRecords builds a database at schema version 2
// with records, then migrates it to the (ts, dedup_key) WITHOUT ROWID
// table, back down, and up again.
func TestSQLiteMigration3KeepsRecords(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "fm.db")
	kr := testKeyring(t)
	p, raw := sqliteProvider(t, path)
	_, err := p.UpTo(ctx, 2)
	require.NoError(t, err)

	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	recs := migrationRecords(t0)
	s := openSQLiteForTest(t, path, kr, true)
	res, err := s.InsertRecords(ctx, recs)
	require.NoError(t, err)
	require.Equal(t, InsertResult{Stored: len(recs)}, res)
	before, err := s.QueryRecords(ctx, RecordQuery{Cluster: "prod"})
	require.NoError(t, err)
	require.Len(t, before, len(recs))
	counts := templateCounts(t, s)
	require.NoError(t, s.Close())

	check := func(t *testing.T, s Store) {
		t.Helper()
		got, err := s.QueryRecords(ctx, RecordQuery{Cluster: "prod"})
		require.NoError(t, err)
		require.Equal(t, before, got, "records read back after the migration")
		res, err := s.InsertRecords(ctx, recs)
		require.NoError(t, err)
		require.Equal(t, InsertResult{Duplicates: len(recs)}, res, "every record is still known")
		require.Equal(t, counts, templateCounts(t, s))
		for i := range recs {
			recs[i].RunID = 7
		}
		seen, err := s.Seen(ctx, recs)
		require.NoError(t, err)
		for i, x := range seen {
			require.True(t, x, "record %d seen", i)
		}
		for i := range recs {
			recs[i].RunID = 0
		}
	}

	s = openSQLiteForTest(t, path, kr, false)
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, st.SchemaVersion)
	require.EqualValues(t, len(recs), st.Records)
	check(t, s)
	require.NoError(t, s.Close())
	var ddl string
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'records'`).Scan(&ddl))
	require.Contains(t, ddl, "WITHOUT ROWID")
	require.Contains(t, ddl, "PRIMARY KEY (ts, dedup_key)")
	var indexes int
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'`).Scan(&indexes))
	require.Zero(t, indexes, "no index beside the key")
	var ok string
	require.NoError(t, raw.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok))
	require.Equal(t, "ok", ok)

	_, err = p.DownTo(ctx, 2)
	require.NoError(t, err)
	require.NoError(t, raw.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'records_ts'`).Scan(&indexes))
	require.Equal(t, 1, indexes, "down restores records_ts")
	s = openSQLiteForTest(t, path, kr, false)
	check(t, s)
	require.NoError(t, s.Close())
}

// TestSQLiteCheckpointer shows the WAL reaching the database file through
// the checkpointer, not the writer: a small batch stays far below the
// writer's own auto-checkpoint size.
func TestSQLiteCheckpointer(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "fm.db")
	s := openSQLiteForTest(t, path, testKeyring(t), false)
	ss := s.(*sqliteStore)
	fileSize := func() int64 {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Size()
	}
	runs, size := ss.ckpt.runs.Load(), fileSize()
	_, err := s.InsertRecords(ctx, migrationRecords(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return ss.ckpt.runs.Load() > runs }, 30*time.Second, 5*time.Millisecond)
	require.Greater(t, fileSize(), size, "the checkpoint copied the new pages into the file")

	require.NoError(t, s.Close())
	select {
	case <-ss.ckpt.done:
	default:
		t.Fatal("the checkpointer goroutine still runs after Close")
	}
	require.NoError(t, s.Close(), "Close twice")
}

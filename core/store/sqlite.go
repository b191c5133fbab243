package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteStore is the embedded store: one SQLite file in WAL mode with a
// busy timeout, written through a single connection (SQLite allows one
// writer; one connection also keeps River's SQLite driver from SQLITE_BUSY).
type sqliteStore struct {
	sqlBase
	path string
}

func openSQLite(ctx context.Context, path string, opts Options) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	s := &sqliteStore{sqlBase: sqlBase{db: db, d: sqliteDialect, now: opts.Now, log: opts.Logger}, path: path}
	if !opts.SkipMigrate {
		if _, err := migrate(ctx, db, DialectSQLite, opts.Logger); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := setupKeys(ctx, &s.sqlBase, opts, true); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// DB is the underlying pool (one connection), for River's SQLite driver.
func (s *sqliteStore) DB() *sql.DB { return s.db }

// Path is the database file.
func (s *sqliteStore) Path() string { return s.path }

func (s *sqliteStore) Close() error { return s.db.Close() }

func (s *sqliteStore) Migrate(ctx context.Context) (int64, error) {
	return migrate(ctx, s.db, DialectSQLite, s.log)
}

func (s *sqliteStore) InsertRecords(ctx context.Context, recs []Record) (InsertResult, error) {
	var res InsertResult
	if len(recs) == 0 {
		return res, nil
	}
	type row struct {
		key    [32]byte
		keyID  string
		sealed []byte
	}
	rows := make([]row, len(recs))
	var buf []byte
	dh := newDedupHasher(s.dedupSecret)
	for i := range recs {
		r := &recs[i]
		if r.Cluster == "" || r.Integration == "" || r.Timestamp.IsZero() {
			return res, fmt.Errorf("store: record %d: cluster, integration and timestamp are required", i)
		}
		rows[i].key = dh.key(r)
		buf = encodePayload(buf[:0], &r.Record)
		var err error
		if rows[i].keyID, rows[i].sealed, err = s.kr.Seal(buf, rows[i].key[:]); err != nil {
			return res, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("store: insert records: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	// Multi-row statements (sqliteChunk rows each) with RETURNING of the
	// rows actually inserted: a statement per row cost 3x in
	// BenchmarkInsertRecords/sqlite.
	byKey := make(map[[32]byte]int, len(recs))
	for i := range rows {
		if _, dup := byKey[rows[i].key]; !dup {
			byKey[rows[i].key] = i
		}
	}
	counts := map[[3]string]*templateCount{}
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, sqliteChunk*10)
	for lo := 0; lo < len(recs); lo += sqliteChunk {
		hi := min(lo+sqliteChunk, len(recs))
		stmt := stmts[hi-lo]
		if stmt == nil {
			if stmt, err = tx.PrepareContext(ctx, sqliteInsertSQL(hi-lo)); err != nil {
				return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
			}
			stmts[hi-lo] = stmt
		}
		args = args[:0]
		for i := lo; i < hi; i++ {
			r := &recs[i]
			args = append(args, r.Cluster, r.Integration, r.Timestamp.UnixNano(), rows[i].key[:], int(r.Severity),
				r.Service, r.TemplateID, r.RunID, rows[i].keyID, rows[i].sealed)
		}
		out, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
		}
		for out.Next() {
			var key []byte
			if err := out.Scan(&key); err != nil {
				out.Close()
				return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
			}
			res.Stored++
			i, ok := byKey[[32]byte(key)]
			if ok && recs[i].TemplateID != "" {
				addCount(counts, &recs[i])
			}
		}
		out.Close()
		if err := out.Err(); err != nil {
			return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
		}
	}
	res.Duplicates = len(recs) - res.Stored
	if err := writeTemplateCounts(ctx, tx, s.d, counts); err != nil {
		return InsertResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
	}
	return res, nil
}

// sqliteChunk rows per INSERT: 10 parameters each, far under SQLite's
// 32766-parameter limit.
const sqliteChunk = 200

func sqliteInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO records (cluster, integration, ts, dedup_key, severity, service, template_id, run_id, key_id, sealed) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(` ON CONFLICT DO NOTHING RETURNING dedup_key`)
	return b.String()
}

func addCount(counts map[[3]string]*templateCount, r *Record) {
	k := [3]string{r.Cluster, r.Integration, r.TemplateID}
	c := counts[k]
	if c == nil {
		c = &templateCount{cluster: r.Cluster, integration: r.Integration, id: r.TemplateID, first: r.Timestamp, last: r.Timestamp}
		counts[k] = c
	}
	c.n++
	if r.Template != "" {
		c.text, c.severity = r.Template, r.Severity
	}
	if r.Timestamp.Before(c.first) {
		c.first = r.Timestamp
	}
	if r.Timestamp.After(c.last) {
		c.last = r.Timestamp
	}
}

func writeTemplateCounts(ctx context.Context, tx *sql.Tx, d dialect, counts map[[3]string]*templateCount) error {
	if len(counts) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, d.templateCountSQL())
	if err != nil {
		return fmt.Errorf("store: template counts: %w", err)
	}
	defer stmt.Close()
	for _, c := range counts {
		if _, err := stmt.ExecContext(ctx, d.templateCountArgs(c)...); err != nil {
			return fmt.Errorf("store: template counts: %w", err)
		}
	}
	return nil
}

func (s *sqliteStore) ApplyRetention(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM records WHERE ts < ?`, cutoff.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("store: retention: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *sqliteStore) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.baseStats(ctx, &st); err != nil {
		return st, err
	}
	err := s.queryRow(ctx, `SELECT COALESCE(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&st.SchemaVersion)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}

func (s *sqliteStore) Seen(ctx context.Context, recs []Record) ([]bool, error) {
	out := make([]bool, len(recs))
	dh := newDedupHasher(s.dedupSecret)
	idx := make(map[[32]byte][]int, len(recs))
	keys := make([][32]byte, len(recs))
	for i := range recs {
		keys[i] = dh.key(&recs[i])
		idx[keys[i]] = append(idx[keys[i]], i)
	}
	const chunk = 500
	for lo := 0; lo < len(keys); lo += chunk {
		hi := min(lo+chunk, len(keys))
		args := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			args = append(args, keys[i][:])
		}
		q := `SELECT dedup_key, run_id FROM records WHERE dedup_key IN (?` + strings.Repeat(",?", hi-lo-1) + `)`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("store: seen: %w", err)
		}
		for rows.Next() {
			var key []byte
			var run int64
			if err := rows.Scan(&key, &run); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: seen: %w", err)
			}
			for _, i := range idx[[32]byte(key)] {
				out[i] = run != recs[i].RunID || run == 0
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: seen: %w", err)
		}
	}
	return out, nil
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteStore is the embedded store: one SQLite file in WAL mode with a
// busy timeout, written through a single connection (SQLite allows one
// writer; one connection also keeps River's SQLite driver from SQLITE_BUSY).
// A second connection only runs WAL checkpoints (see checkpointer).
type sqliteStore struct {
	sqlBase
	path string
	ckpt *checkpointer
}

// sqliteAutoCheckpoint is the WAL size, in pages, at which the writer
// checkpoints itself: a backstop, as the checkpointer normally keeps the
// WAL well under it (it cannot reset the WAL while the writer streams
// batches, so the writer does that at this size, with little left to copy).
// journal_size_limit (64 MiB) truncates a WAL that a large transaction,
// such as migration 00003, grew beyond that.
const sqliteAutoCheckpoint = 4000

func openSQLite(ctx context.Context, path string, opts Options) (Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: data dir: %w", err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-65536)" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(sqliteAutoCheckpoint) + ")&_pragma=journal_size_limit(67108864)&_txlock=immediate"
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
	if s.ckpt, err = startCheckpointer(ctx, path, opts.Logger); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// checkpointer copies the WAL into the database file on a connection of
// its own, after each record batch commits. A checkpoint fsyncs the WAL
// and the database file; on the writer's path those fsyncs took a quarter
// of BenchmarkInsertRecords/sqlite's wall time (~2 µs per record). A
// PASSIVE checkpoint takes no write lock and never waits, so the writer
// and River's queries go on meanwhile.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
	// runs counts finished checkpoints, for tests.
	runs atomic.Int64
}

func startCheckpointer(ctx context.Context, path string, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run(log)
	return c, nil
}

func (c *checkpointer) run(log *slog.Logger) {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		// A failure only leaves the work to the writer's auto-checkpoint.
		if _, err := c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
			log.Warn("store: WAL checkpoint failed", "err", err)
			continue
		}
		c.runs.Add(1)
	}
}

// poke asks for a checkpoint without waiting; pokes during one coalesce.
func (c *checkpointer) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// close stops the goroutine (after a checkpoint in progress) and closes
// the connection. Idempotent.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}

// DB is the underlying pool (one connection), for River's SQLite driver.
func (s *sqliteStore) DB() *sql.DB { return s.db }

// Path is the database file.
func (s *sqliteStore) Path() string { return s.path }

func (s *sqliteStore) Close() error {
	// The checkpointer first: the last connection to close checkpoints
	// and removes the WAL.
	return errors.Join(s.ckpt.close(), s.db.Close())
}

func (s *sqliteStore) Migrate(ctx context.Context) (int64, error) {
	return migrate(ctx, s.db, DialectSQLite, s.log)
}

// InsertRecords writes a batch in one transaction through multi-row
// INSERT … ON CONFLICT DO NOTHING statements of sqliteChunk rows.
//
// Most batches hold only new records, so a statement first runs without
// RETURNING (RETURNING cost ~3.7 µs of ~14 µs per record in
// BenchmarkInsertRecords/sqlite) and its change count tells whether every
// row went in. When one did not (a duplicate, in the database or earlier
// in the batch), that statement's rows are resolved by reading back the
// sealed value stored under each identity: the value is ours only if we
// inserted it (its nonce is fresh), which keeps template counts
// exactly-once. The rest of the batch, likely a re-ingest, then uses
// RETURNING, which is the cheaper way to learn what few rows went in.
//
// The records are hashed and sealed ahead of the writer, on other cores
// when GOMAXPROCS allows (see sqlitePrep).
func (s *sqliteStore) InsertRecords(ctx context.Context, recs []Record) (InsertResult, error) {
	var res InsertResult
	if len(recs) == 0 {
		return res, nil
	}
	for i := range recs {
		r := &recs[i]
		if r.Cluster == "" || r.Integration == "" || r.Timestamp.IsZero() {
			return res, fmt.Errorf("store: record %d: cluster, integration and timestamp are required", i)
		}
	}
	prep := s.startPrep(recs)
	defer prep.wait()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("store: insert records: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	w := sqliteWriter{tx: tx, recs: recs, rows: prep.rows, counts: map[[3]string]*templateCount{}}
	defer w.close()
	for c := range prep.blocks {
		if err := prep.ready(c); err != nil {
			return InsertResult{}, err
		}
		lo, hi := c*sqliteChunk, min((c+1)*sqliteChunk, len(recs))
		n, err := w.insert(ctx, lo, hi)
		if err != nil {
			return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
		}
		res.Stored += n
	}
	res.Duplicates = len(recs) - res.Stored
	if err := writeTemplateCounts(ctx, tx, s.d, w.counts); err != nil {
		return InsertResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return InsertResult{}, fmt.Errorf("store: insert records: %w", err)
	}
	s.ckpt.poke()
	return res, nil
}

// sqliteChunk rows per INSERT: 7 or 10 parameters each, far under
// SQLite's 32766-parameter limit. 100 was slower; 500 and 1000 no faster.
const sqliteChunk = 200

// rowID is a stored record's primary key.
type rowID struct {
	ts  int64
	key [32]byte
}

// sqliteRow is a record ready to insert.
type sqliteRow struct {
	id     rowID
	keyID  string
	sealed []byte
}

// sqliteWriter runs one batch's statements inside its transaction.
type sqliteWriter struct {
	tx     *sql.Tx
	recs   []Record
	rows   []sqliteRow
	counts map[[3]string]*templateCount
	// returning is set once the batch has shown a duplicate.
	returning bool
	stmts     map[sqliteStmtKey]*sql.Stmt
	args      []any
}

type sqliteStmtKey struct {
	rows      int
	returning bool
	// shared: cluster, integration and key id are the same in every row
	// and bound once, as ?1, ?2 and ?3.
	shared bool
}

func (w *sqliteWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

func (w *sqliteWriter) stmt(ctx context.Context, k sqliteStmtKey) (*sql.Stmt, error) {
	if st := w.stmts[k]; st != nil {
		return st, nil
	}
	st, err := w.tx.PrepareContext(ctx, sqliteInsertSQL(k))
	if err != nil {
		return nil, err
	}
	if w.stmts == nil {
		w.stmts = map[sqliteStmtKey]*sql.Stmt{}
	}
	w.stmts[k] = st
	return st, nil
}

// insert stores recs[lo:hi] and returns how many were new, adding those to
// the template counts.
func (w *sqliteWriter) insert(ctx context.Context, lo, hi int) (int, error) {
	k := sqliteStmtKey{rows: hi - lo, returning: w.returning, shared: true}
	first := &w.recs[lo]
	for i := lo + 1; i < hi && k.shared; i++ {
		k.shared = w.recs[i].Cluster == first.Cluster && w.recs[i].Integration == first.Integration &&
			w.rows[i].keyID == w.rows[lo].keyID
	}
	st, err := w.stmt(ctx, k)
	if err != nil {
		return 0, err
	}
	w.args = w.args[:0]
	if k.shared {
		w.args = append(w.args, first.Cluster, first.Integration, w.rows[lo].keyID)
	}
	for i := lo; i < hi; i++ {
		r, row := &w.recs[i], &w.rows[i]
		if k.shared {
			w.args = append(w.args, row.id.ts, row.id.key[:], int64(r.Severity), r.Service, r.TemplateID, r.RunID, row.sealed)
			continue
		}
		w.args = append(w.args, r.Cluster, r.Integration, row.keyID, row.id.ts, row.id.key[:], int64(r.Severity),
			r.Service, r.TemplateID, r.RunID, row.sealed)
	}
	if k.returning {
		return w.insertReturning(ctx, st, lo, hi)
	}
	out, err := st.ExecContext(ctx, w.args...)
	if err != nil {
		return 0, err
	}
	n, err := out.RowsAffected()
	if err != nil {
		return 0, err
	}
	if int(n) == hi-lo {
		for i := lo; i < hi; i++ {
			w.count(i)
		}
		return hi - lo, nil
	}
	w.returning = true
	return w.resolve(ctx, lo, hi)
}

func (w *sqliteWriter) count(i int) {
	if w.recs[i].TemplateID != "" {
		addCount(w.counts, &w.recs[i])
	}
}

// chunkIndex maps each identity of recs[lo:hi] to its first record.
func (w *sqliteWriter) chunkIndex(lo, hi int) map[rowID]int {
	idx := make(map[rowID]int, hi-lo)
	for i := lo; i < hi; i++ {
		if _, dup := idx[w.rows[i].id]; !dup {
			idx[w.rows[i].id] = i
		}
	}
	return idx
}

func (w *sqliteWriter) insertReturning(ctx context.Context, st *sql.Stmt, lo, hi int) (int, error) {
	out, err := st.QueryContext(ctx, w.args...)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	idx := w.chunkIndex(lo, hi)
	n := 0
	for out.Next() {
		var id rowID
		var key []byte
		if err := out.Scan(&id.ts, &key); err != nil {
			return 0, err
		}
		id.key = [32]byte(key)
		i, ok := idx[id]
		if !ok {
			return 0, fmt.Errorf("RETURNING gave a row that is not in the statement")
		}
		n++
		w.count(i)
	}
	return n, out.Err()
}

// resolve tells which of recs[lo:hi] the last statement stored: those
// whose identity now holds their own sealed value. A duplicate (stored
// before, or earlier in the statement) holds another one, sealed under
// another random nonce.
func (w *sqliteWriter) resolve(ctx context.Context, lo, hi int) (int, error) {
	var q strings.Builder
	q.WriteString(`SELECT ts, dedup_key, sealed FROM records WHERE (ts, dedup_key) IN (VALUES `)
	args := make([]any, 0, 2*(hi-lo))
	for i := lo; i < hi; i++ {
		if i > lo {
			q.WriteByte(',')
		}
		q.WriteString("(?,?)")
		args = append(args, w.rows[i].id.ts, w.rows[i].id.key[:])
	}
	q.WriteByte(')')
	out, err := w.tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	idx := make(map[rowID][]int, hi-lo)
	for i := lo; i < hi; i++ {
		idx[w.rows[i].id] = append(idx[w.rows[i].id], i)
	}
	n := 0
	for out.Next() {
		var id rowID
		var key, sealed []byte
		if err := out.Scan(&id.ts, &key, &sealed); err != nil {
			return 0, err
		}
		id.key = [32]byte(key)
		for _, i := range idx[id] {
			if bytes.Equal(sealed, w.rows[i].sealed) {
				n++
				w.count(i)
				break
			}
		}
	}
	return n, out.Err()
}

func sqliteInsertSQL(k sqliteStmtKey) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO records (cluster, integration, key_id, ts, dedup_key, severity, service, template_id, run_id, sealed) VALUES `)
	// A bare ? takes the number after the largest one so far, so in the
	// shared form each row's own values are numbered from 4 on.
	row := "(?,?,?,?,?,?,?,?,?,?)"
	if k.shared {
		row = "(?1,?2,?3,?,?,?,?,?,?,?)"
	}
	for i := range k.rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	if k.returning {
		b.WriteString(` RETURNING ts, dedup_key`)
	}
	return b.String()
}

// sqlitePrep hashes and seals a batch in blocks of sqliteChunk records.
// With GOMAXPROCS > 1, goroutines prepare blocks ahead of the writer, so
// the ~1.5 µs per record of HMAC, encoding and AES-GCM overlaps the
// single SQLite writer (+4% in BenchmarkInsertRecords/sqlite on two busy
// cores); with one P it is done inline before writing.
type sqlitePrep struct {
	rows   []sqliteRow
	blocks int
	done   []chan struct{} // nil: prepared inline
	errs   []error
	wg     sync.WaitGroup
}

func (s *sqliteStore) startPrep(recs []Record) *sqlitePrep {
	p := &sqlitePrep{rows: make([]sqliteRow, len(recs)), blocks: (len(recs) + sqliteChunk - 1) / sqliteChunk}
	p.errs = make([]error, p.blocks)
	workers := min(runtime.GOMAXPROCS(0)-1, p.blocks-1, 4)
	if workers <= 0 {
		h := newDedupHasher(s.dedupSecret)
		var buf []byte
		for c := range p.blocks {
			buf, p.errs[c] = s.prepBlock(h, buf, recs, p.rows, c)
		}
		return p
	}
	p.done = make([]chan struct{}, p.blocks)
	for c := range p.done {
		p.done[c] = make(chan struct{})
	}
	var next atomic.Int64
	p.wg.Add(workers)
	for range workers {
		go func() {
			defer p.wg.Done()
			h := newDedupHasher(s.dedupSecret)
			var buf []byte
			for {
				c := int(next.Add(1) - 1)
				if c >= p.blocks {
					return
				}
				buf, p.errs[c] = s.prepBlock(h, buf, recs, p.rows, c)
				close(p.done[c])
			}
		}()
	}
	return p
}

// ready waits for block c and returns its error.
func (p *sqlitePrep) ready(c int) error {
	if p.done != nil {
		<-p.done[c]
	}
	return p.errs[c]
}

// wait waits for the workers, which finish their blocks even when the
// writer has given up.
func (p *sqlitePrep) wait() { p.wg.Wait() }

func (s *sqliteStore) prepBlock(h dedupHasher, buf []byte, recs []Record, rows []sqliteRow, c int) ([]byte, error) {
	for i := c * sqliteChunk; i < min((c+1)*sqliteChunk, len(recs)); i++ {
		r := &recs[i]
		rows[i].id = rowID{ts: r.Timestamp.UnixNano(), key: h.key(r)}
		buf = encodePayload(buf[:0], &r.Record)
		var err error
		if rows[i].keyID, rows[i].sealed, err = s.kr.Seal(buf, rows[i].id.key[:]); err != nil {
			return buf, err
		}
	}
	return buf, nil
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

// Seen looks records up by their primary key (ts, dedup_key), the same
// identity InsertRecords skips on.
func (s *sqliteStore) Seen(ctx context.Context, recs []Record) ([]bool, error) {
	out := make([]bool, len(recs))
	dh := newDedupHasher(s.dedupSecret)
	idx := make(map[rowID][]int, len(recs))
	ids := make([]rowID, len(recs))
	for i := range recs {
		ids[i] = rowID{ts: recs[i].Timestamp.UnixNano(), key: dh.key(&recs[i])}
		idx[ids[i]] = append(idx[ids[i]], i)
	}
	const chunk = 500
	for lo := 0; lo < len(ids); lo += chunk {
		hi := min(lo+chunk, len(ids))
		args := make([]any, 0, 2*(hi-lo))
		for i := lo; i < hi; i++ {
			args = append(args, ids[i].ts, ids[i].key[:])
		}
		q := `SELECT ts, dedup_key, run_id FROM records WHERE (ts, dedup_key) IN (VALUES (?,?)` + strings.Repeat(",(?,?)", hi-lo-1) + `)`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("store: seen: %w", err)
		}
		for rows.Next() {
			var id rowID
			var key []byte
			var run int64
			if err := rows.Scan(&id.ts, &key, &run); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: seen: %w", err)
			}
			id.key = [32]byte(key)
			for _, i := range idx[id] {
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

package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// dialect holds what differs between PostgreSQL and SQLite in the SQL the
// two stores share.
type dialect struct {
	name string
	// numbered placeholders ($1) instead of ?
	numbered bool
	// times as int64 unix nanoseconds instead of timestamptz
	intTimes bool
	least    string // scalar min of two values
	greatest string
	timeType string // for casting a parameter that may be NULL
}

var (
	pgDialect     = dialect{name: DialectPostgres, numbered: true, least: "LEAST", greatest: "GREATEST", timeType: "timestamptz"}
	sqliteDialect = dialect{name: DialectSQLite, intTimes: true, least: "min", greatest: "max", timeType: "integer"}
)

// q rewrites ? placeholders for the dialect. Our SQL never has ? in literals.
func (d dialect) q(s string) string {
	if !d.numbered {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// t converts a time to a column value; the zero time is NULL.
func (d dialect) t(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if d.intTimes {
		return t.UnixNano()
	}
	return t.UTC()
}

// dbTime scans a timestamptz, an integer of unix nanoseconds or NULL.
type dbTime struct{ T time.Time }

func (x *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		x.T = time.Time{}
	case time.Time:
		x.T = v.UTC()
	case int64:
		x.T = time.Unix(0, v).UTC()
	default:
		return fmt.Errorf("store: cannot scan %T as a time", v)
	}
	return nil
}

// sqlBase implements the repositories whose SQL both dialects share, over
// database/sql (pgx's stdlib adapter for PostgreSQL).
type sqlBase struct {
	db  *sql.DB
	d   dialect
	kr  *Keyring
	now func() time.Time
	log *slog.Logger
	// dedupSecret keys the records' identity hashes (see dedupKey).
	dedupSecret []byte
}

func (s *sqlBase) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.q(query), args...)
}

func (s *sqlBase) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.d.q(query), args...)
}

func (s *sqlBase) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.d.q(query), args...)
}

func (s *sqlBase) Keyring() *Keyring { return s.kr }
func (s *sqlBase) Dialect() string   { return s.d.name }

// --- clusters and integrations

func (s *sqlBase) UpsertCluster(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("store: cluster name is empty")
	}
	_, err := s.exec(ctx, `INSERT INTO clusters (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, s.d.t(s.now()))
	if err != nil {
		return fmt.Errorf("store: upsert cluster: %w", err)
	}
	return nil
}

func (s *sqlBase) ListClusters(ctx context.Context) ([]Cluster, error) {
	rows, err := s.query(ctx, `SELECT name, created_at FROM clusters ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list clusters: %w", err)
	}
	defer rows.Close()
	var out []Cluster
	for rows.Next() {
		var c Cluster
		var t dbTime
		if err := rows.Scan(&c.Name, &t); err != nil {
			return nil, fmt.Errorf("store: list clusters: %w", err)
		}
		c.CreatedAt = t.T
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *sqlBase) UpsertIntegration(ctx context.Context, in Integration) error {
	if in.Cluster == "" || in.Name == "" || in.Plugin == "" {
		return errors.New("store: integration needs cluster, name and plugin")
	}
	for k, ref := range in.SecretRefs {
		if (ref.Env == "") == (ref.File == "") {
			return fmt.Errorf("store: integration %s: secret %q: give exactly one of env or file", in.InstanceID(), k)
		}
	}
	cfg := in.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	if !json.Valid(cfg) {
		return fmt.Errorf("store: integration %s: config is not valid JSON", in.InstanceID())
	}
	refs, err := json.Marshal(in.SecretRefs)
	if err != nil {
		return fmt.Errorf("store: integration %s: %w", in.InstanceID(), err)
	}
	if in.SecretRefs == nil {
		refs = []byte("{}")
	}
	if err := s.UpsertCluster(ctx, in.Cluster); err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO integrations (cluster, name, plugin, plugin_version, plugin_digest, config, secret_refs, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (cluster, name) DO UPDATE SET plugin = EXCLUDED.plugin, plugin_version = EXCLUDED.plugin_version,
			plugin_digest = EXCLUDED.plugin_digest, config = EXCLUDED.config, secret_refs = EXCLUDED.secret_refs,
			updated_at = EXCLUDED.updated_at`,
		in.Cluster, in.Name, in.Plugin, in.PluginVersion, in.PluginDigest, string(cfg), string(refs), s.d.t(s.now()))
	if err != nil {
		return fmt.Errorf("store: upsert integration %s: %w", in.InstanceID(), err)
	}
	return nil
}

const integrationCols = `cluster, name, plugin, plugin_version, plugin_digest, config, secret_refs, updated_at`

func scanIntegration(sc interface{ Scan(...any) error }) (Integration, error) {
	var in Integration
	var cfg, refs string
	var t dbTime
	if err := sc.Scan(&in.Cluster, &in.Name, &in.Plugin, &in.PluginVersion, &in.PluginDigest, &cfg, &refs, &t); err != nil {
		return Integration{}, err
	}
	in.Config = json.RawMessage(cfg)
	in.UpdatedAt = t.T
	if err := json.Unmarshal([]byte(refs), &in.SecretRefs); err != nil {
		return Integration{}, fmt.Errorf("secret refs: %w", err)
	}
	if len(in.SecretRefs) == 0 {
		in.SecretRefs = nil
	}
	return in, nil
}

func (s *sqlBase) GetIntegration(ctx context.Context, cluster, name string) (Integration, error) {
	in, err := scanIntegration(s.queryRow(ctx, `SELECT `+integrationCols+` FROM integrations WHERE cluster = ? AND name = ?`, cluster, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Integration{}, fmt.Errorf("store: integration %s/%s: %w", cluster, name, ErrNotFound)
	}
	if err != nil {
		return Integration{}, fmt.Errorf("store: get integration: %w", err)
	}
	return in, nil
}

func (s *sqlBase) ListIntegrations(ctx context.Context, cluster string) ([]Integration, error) {
	rows, err := s.query(ctx, `SELECT `+integrationCols+` FROM integrations WHERE cluster = ? ORDER BY name`, cluster)
	if err != nil {
		return nil, fmt.Errorf("store: list integrations: %w", err)
	}
	defer rows.Close()
	var out []Integration
	for rows.Next() {
		in, err := scanIntegration(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list integrations: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// --- cursors

func (s *sqlBase) GetCursor(ctx context.Context, cluster, integration string) (Cursor, error) {
	c := Cursor{Cluster: cluster, Integration: integration}
	var w, u dbTime
	err := s.queryRow(ctx, `SELECT watermark, updated_at FROM ingest_cursors WHERE cluster = ? AND integration = ?`, cluster, integration).Scan(&w, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("store: cursor %s/%s: %w", cluster, integration, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("store: get cursor: %w", err)
	}
	c.Watermark, c.UpdatedAt = w.T, u.T
	return c, nil
}

func (s *sqlBase) AdvanceCursor(ctx context.Context, cluster, integration string, watermark time.Time) error {
	if watermark.IsZero() {
		return errors.New("store: advance cursor: zero watermark")
	}
	_, err := s.exec(ctx, `INSERT INTO ingest_cursors (cluster, integration, watermark, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (cluster, integration) DO UPDATE SET
			watermark = `+s.d.greatest+`(ingest_cursors.watermark, EXCLUDED.watermark), updated_at = EXCLUDED.updated_at`,
		cluster, integration, s.d.t(watermark), s.d.t(s.now()))
	if err != nil {
		return fmt.Errorf("store: advance cursor: %w", err)
	}
	return nil
}

// --- templates

func (s *sqlBase) UpsertTemplates(ctx context.Context, ts []Template) error {
	if len(ts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: upsert templates: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	stmt, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO templates (cluster, integration, template_id, template, severity, count)
		VALUES (?, ?, ?, ?, ?, 0)
		ON CONFLICT (cluster, integration, template_id) DO UPDATE SET template = EXCLUDED.template, severity = EXCLUDED.severity`))
	if err != nil {
		return fmt.Errorf("store: upsert templates: %w", err)
	}
	defer stmt.Close()
	for _, t := range ts {
		if t.Cluster == "" || t.Integration == "" || t.ID == "" {
			return errors.New("store: template needs cluster, integration and id")
		}
		if _, err := stmt.ExecContext(ctx, t.Cluster, t.Integration, t.ID, t.Template, int(t.Severity)); err != nil {
			return fmt.Errorf("store: upsert template: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: upsert templates: %w", err)
	}
	return nil
}

func (s *sqlBase) ListTemplates(ctx context.Context, cluster, integration string) ([]Template, error) {
	rows, err := s.query(ctx, `SELECT cluster, integration, template_id, template, severity, count, first_seen, last_seen
		FROM templates WHERE cluster = ? AND (? = '' OR integration = ?)
		ORDER BY count DESC, integration, template_id`, cluster, integration, integration)
	if err != nil {
		return nil, fmt.Errorf("store: list templates: %w", err)
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		var sev int
		var f, l dbTime
		if err := rows.Scan(&t.Cluster, &t.Integration, &t.ID, &t.Template, &sev, &t.Count, &f, &l); err != nil {
			return nil, fmt.Errorf("store: list templates: %w", err)
		}
		t.Severity, t.FirstSeen, t.LastSeen = sdk.Severity(sev), f.T, l.T
		out = append(out, t)
	}
	return out, rows.Err()
}

// templateCount is one template's share of an insert.
type templateCount struct {
	cluster, integration, id, text string
	severity                       sdk.Severity
	n                              int64
	first, last                    time.Time
}

// addTemplateCounts adds an insert's counts to the templates, inside tx.
func (d dialect) templateCountSQL() string {
	return d.q(`INSERT INTO templates (cluster, integration, template_id, template, severity, count, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (cluster, integration, template_id) DO UPDATE SET
			count = templates.count + EXCLUDED.count,
			template = CASE WHEN EXCLUDED.template <> '' THEN EXCLUDED.template ELSE templates.template END,
			first_seen = ` + d.least + `(COALESCE(templates.first_seen, EXCLUDED.first_seen), EXCLUDED.first_seen),
			last_seen = ` + d.greatest + `(COALESCE(templates.last_seen, EXCLUDED.last_seen), EXCLUDED.last_seen)`)
}

func (d dialect) templateCountArgs(c *templateCount) []any {
	return []any{c.cluster, c.integration, c.id, c.text, int(c.severity), c.n, d.t(c.first), d.t(c.last)}
}

// --- findings

func (s *sqlBase) ReplaceFindings(ctx context.Context, runID int64, cluster, integration string, fs []Finding) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: replace findings: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM findings WHERE run_id = ? AND cluster = ? AND integration = ?`), runID, cluster, integration); err != nil {
		return fmt.Errorf("store: replace findings: %w", err)
	}
	now := s.now()
	for i, f := range fs {
		ex, err := json.Marshal(f.Examples)
		if err != nil {
			return fmt.Errorf("store: finding examples: %w", err)
		}
		kid, sealed, err := s.kr.Seal(ex, findingAAD(runID, cluster, integration, i))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO findings (run_id, seq, cluster, integration, kind, template_id, template,
			severity, service, first_seen, last_seen, count, score, explanation, key_id, examples_sealed, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			runID, i, cluster, integration, f.Kind, f.TemplateID, f.Template, int(f.Severity), f.Service,
			s.d.t(f.FirstSeen), s.d.t(f.LastSeen), f.Count, f.Score, f.Explanation, kid, sealed, s.d.t(now))
		if err != nil {
			return fmt.Errorf("store: insert finding: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: replace findings: %w", err)
	}
	return nil
}

func findingAAD(runID int64, cluster, integration string, seq int) []byte {
	return fmt.Appendf(nil, "finding\x00%d\x00%s\x00%s\x00%d", runID, cluster, integration, seq)
}

func (s *sqlBase) ListFindings(ctx context.Context, cluster string, since time.Time) ([]Finding, error) {
	// The latest run's copy of each (integration, kind, template).
	rows, err := s.query(ctx, `SELECT run_id, seq, cluster, integration, kind, template_id, template, severity, service,
			first_seen, last_seen, count, score, explanation, key_id, examples_sealed, created_at
		FROM (SELECT f.*, ROW_NUMBER() OVER (PARTITION BY integration, kind, template_id ORDER BY run_id DESC) AS rn
			FROM findings f WHERE cluster = ? AND (CAST(? AS `+s.d.timeType+`) IS NULL OR last_seen >= ?)) latest
		WHERE rn = 1 ORDER BY score DESC, last_seen DESC`, cluster, s.d.t(since), s.d.t(since))
	if err != nil {
		return nil, fmt.Errorf("store: list findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var seq, sev int
		var fs, ls, ca dbTime
		var kid string
		var sealed []byte
		if err := rows.Scan(&f.RunID, &seq, &f.Cluster, &f.Integration, &f.Kind, &f.TemplateID, &f.Template, &sev, &f.Service,
			&fs, &ls, &f.Count, &f.Score, &f.Explanation, &kid, &sealed, &ca); err != nil {
			return nil, fmt.Errorf("store: list findings: %w", err)
		}
		f.Severity, f.FirstSeen, f.LastSeen, f.CreatedAt = sdk.Severity(sev), fs.T, ls.T, ca.T
		pt, err := s.kr.Open(kid, sealed, findingAAD(f.RunID, f.Cluster, f.Integration, seq))
		if err != nil {
			return nil, fmt.Errorf("store: finding examples: %w", err)
		}
		if err := json.Unmarshal(pt, &f.Examples); err != nil {
			return nil, fmt.Errorf("store: finding examples: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// --- runs

const runCols = `id, cluster, integration, window_from, window_to, status, attempt, records_read, records_stored,
	duplicates_skipped, findings, error, started_at, updated_at, finished_at`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var from, to, st, up, fin dbTime
	err := sc.Scan(&r.ID, &r.Cluster, &r.Integration, &from, &to, &r.Status, &r.Attempt, &r.RecordsRead, &r.RecordsStored,
		&r.DuplicatesSkipped, &r.Findings, &r.Error, &st, &up, &fin)
	r.From, r.To, r.StartedAt, r.UpdatedAt, r.FinishedAt = from.T, to.T, st.T, up.T, fin.T
	return r, err
}

func (s *sqlBase) StartRun(ctx context.Context, r Run) (Run, error) {
	if r.ID == 0 || r.Cluster == "" || r.Integration == "" {
		return Run{}, errors.New("store: run needs id, cluster and integration")
	}
	now := s.now()
	_, err := s.exec(ctx, `INSERT INTO analysis_runs (id, cluster, integration, window_from, window_to, status, attempt, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, attempt = EXCLUDED.attempt, updated_at = EXCLUDED.updated_at,
			error = '', finished_at = NULL`,
		r.ID, r.Cluster, r.Integration, s.d.t(r.From), s.d.t(r.To), RunRunning, r.Attempt, s.d.t(now), s.d.t(now))
	if err != nil {
		return Run{}, fmt.Errorf("store: start run: %w", err)
	}
	return s.GetRun(ctx, r.ID)
}

func (s *sqlBase) UpdateRun(ctx context.Context, r Run) error {
	res, err := s.exec(ctx, `UPDATE analysis_runs SET status = ?, records_read = ?, records_stored = ?, duplicates_skipped = ?,
		findings = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?`,
		r.Status, r.RecordsRead, r.RecordsStored, r.DuplicatesSkipped, r.Findings, r.Error, s.d.t(s.now()), s.d.t(r.FinishedAt), r.ID)
	if err != nil {
		return fmt.Errorf("store: update run: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: run %d: %w", r.ID, ErrNotFound)
	}
	return nil
}

func (s *sqlBase) GetRun(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.queryRow(ctx, `SELECT `+runCols+` FROM analysis_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("store: run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: get run: %w", err)
	}
	return r, nil
}

// --- analyzer states

func stateAAD(cluster, integration string, version int64) []byte {
	return fmt.Appendf(nil, "analyzer\x00%s\x00%s\x00%d", cluster, integration, version)
}

func (s *sqlBase) GetAnalyzerState(ctx context.Context, cluster, integration string) (AnalyzerState, error) {
	st := AnalyzerState{Cluster: cluster, Integration: integration}
	var kid string
	var sealed []byte
	err := s.queryRow(ctx, `SELECT version, key_id, sealed FROM analyzer_states WHERE cluster = ? AND integration = ?`,
		cluster, integration).Scan(&st.Version, &kid, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("store: analyzer state %s/%s: %w", cluster, integration, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("store: get analyzer state: %w", err)
	}
	if st.Data, err = s.kr.Open(kid, sealed, stateAAD(cluster, integration, st.Version)); err != nil {
		return st, fmt.Errorf("store: analyzer state: %w", err)
	}
	return st, nil
}

func (s *sqlBase) PutAnalyzerState(ctx context.Context, st AnalyzerState) error {
	next := st.Version + 1
	kid, sealed, err := s.kr.Seal(st.Data, stateAAD(st.Cluster, st.Integration, next))
	if err != nil {
		return err
	}
	var res sql.Result
	if st.Version == 0 {
		res, err = s.exec(ctx, `INSERT INTO analyzer_states (cluster, integration, version, key_id, sealed, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (cluster, integration) DO NOTHING`,
			st.Cluster, st.Integration, next, kid, sealed, s.d.t(s.now()))
	} else {
		res, err = s.exec(ctx, `UPDATE analyzer_states SET version = ?, key_id = ?, sealed = ?, updated_at = ?
			WHERE cluster = ? AND integration = ? AND version = ?`,
			next, kid, sealed, s.d.t(s.now()), st.Cluster, st.Integration, st.Version)
	}
	if err != nil {
		return fmt.Errorf("store: put analyzer state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: analyzer state %s/%s version %d: %w", st.Cluster, st.Integration, st.Version, ErrConflict)
	}
	return nil
}

// --- leases

func (s *sqlBase) AcquireLease(ctx context.Context, key, holder string, limit int, ttl time.Duration) (bool, error) {
	if limit < 1 {
		limit = 1
	}
	now := s.now()
	// Renewing our own slot comes first, so a holder never takes two.
	for pass := 0; pass < 2; pass++ {
		for slot := 0; slot < limit; slot++ {
			var res sql.Result
			var err error
			if pass == 0 {
				res, err = s.exec(ctx, `UPDATE leases SET expires_at = ? WHERE key = ? AND slot = ? AND holder = ?`,
					s.d.t(now.Add(ttl)), key, slot, holder)
			} else {
				res, err = s.exec(ctx, `INSERT INTO leases (key, slot, holder, expires_at) VALUES (?, ?, ?, ?)
					ON CONFLICT (key, slot) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
					WHERE leases.expires_at < ?`,
					key, slot, holder, s.d.t(now.Add(ttl)), s.d.t(now))
			}
			if err != nil {
				return false, fmt.Errorf("store: acquire lease: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

func (s *sqlBase) ReleaseLease(ctx context.Context, key, holder string) error {
	if _, err := s.exec(ctx, `DELETE FROM leases WHERE key = ? AND holder = ?`, key, holder); err != nil {
		return fmt.Errorf("store: release lease: %w", err)
	}
	return nil
}

// --- encryption canaries

const canaryText = "faultmaven encryption canary"

// checkKeys proves the keyring opens what the database holds: each key id
// with a canary must decrypt it, and a database whose data was sealed only
// with keys absent from the keyring is refused. Nothing is written except
// the current key's canary when it has none.
func (s *sqlBase) checkKeys(ctx context.Context) (unknown []string, err error) {
	rows, err := s.query(ctx, `SELECT key_id, sealed FROM encryption_canaries`)
	if err != nil {
		return nil, fmt.Errorf("store: reading key canaries: %w", err)
	}
	known := map[string][]byte{}
	for rows.Next() {
		var id string
		var sealed []byte
		if err := rows.Scan(&id, &sealed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reading key canaries: %w", err)
		}
		known[id] = sealed
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading key canaries: %w", err)
	}
	matched := 0
	for id, sealed := range known {
		pt, err := s.kr.Open(id, sealed, []byte("canary\x00"+id))
		switch {
		case errors.Is(err, ErrUnknownKey):
			unknown = append(unknown, id)
		case err != nil || string(pt) != canaryText:
			return nil, fmt.Errorf("store: encryption key %q does not match the key that sealed the stored data (wrong key for this id); nothing was changed", id)
		default:
			matched++
		}
	}
	if len(known) > 0 && matched == 0 {
		return nil, fmt.Errorf("store: the stored data was sealed with key(s) %v and none of them is configured; supply the old key (first the new one, then the old one, to rotate); nothing was changed", unknown)
	}
	if _, ok := known[s.kr.CurrentID()]; !ok {
		_, sealed, err := s.kr.Seal([]byte(canaryText), []byte("canary\x00"+s.kr.CurrentID()))
		if err != nil {
			return nil, err
		}
		if _, err := s.exec(ctx, `INSERT INTO encryption_canaries (key_id, sealed, created_at) VALUES (?, ?, ?) ON CONFLICT (key_id) DO NOTHING`,
			s.kr.CurrentID(), sealed, s.d.t(s.now())); err != nil {
			return nil, fmt.Errorf("store: writing key canary: %w", err)
		}
	}
	return unknown, nil
}

// hasCanaries reports whether any data was ever sealed in this database.
func (s *sqlBase) hasCanaries(ctx context.Context) (bool, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT count(*) FROM encryption_canaries`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: reading key canaries: %w", err)
	}
	return n > 0, nil
}

// baseStats fills the counts both dialects compute the same way.
func (s *sqlBase) baseStats(ctx context.Context, st *Stats) error {
	for _, c := range []struct {
		table string
		dst   *int64
	}{
		{"clusters", &st.Clusters}, {"integrations", &st.Integrations}, {"records", &st.Records},
		{"templates", &st.Templates}, {"findings", &st.Findings}, {"analysis_runs", &st.Runs},
	} {
		if err := s.queryRow(ctx, `SELECT count(*) FROM `+c.table).Scan(c.dst); err != nil {
			return fmt.Errorf("store: stats %s: %w", c.table, err)
		}
	}
	var lo, hi dbTime
	if err := s.queryRow(ctx, `SELECT min(ts), max(ts) FROM records`).Scan(&lo, &hi); err != nil {
		return fmt.Errorf("store: stats: %w", err)
	}
	st.OldestRecord, st.NewestRecord = lo.T, hi.T
	rows, err := s.query(ctx, `SELECT key_id, count(*) FROM records GROUP BY key_id`)
	if err != nil {
		return fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	st.RecordsByKeyID = map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("store: stats: %w", err)
		}
		st.RecordsByKeyID[id] = n
	}
	st.KeyIDs = s.kr.IDs()
	st.Dialect = s.d.name
	return rows.Err()
}

// openRecord decrypts one stored record row.
func (s *sqlBase) openRecord(r *Record, keyID string, dedup, sealed []byte) error {
	pt, err := s.kr.Open(keyID, sealed, dedup)
	if err != nil {
		return err
	}
	return decodePayload(pt, &r.Record)
}

func (s *sqlBase) CountRecords(ctx context.Context, cluster, integration string) (int64, error) {
	var n int64
	err := s.queryRow(ctx, `SELECT count(*) FROM records WHERE cluster = ? AND (? = '' OR integration = ?)`, cluster, integration, integration).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count records: %w", err)
	}
	return n, nil
}

func (s *sqlBase) QueryRecords(ctx context.Context, q RecordQuery) ([]Record, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	rows, err := s.query(ctx, `SELECT cluster, integration, ts, dedup_key, severity, service, template_id, key_id, sealed
		FROM records WHERE cluster = ? AND (? = '' OR integration = ?)
			AND (CAST(? AS `+s.d.timeType+`) IS NULL OR ts >= ?) AND (CAST(? AS `+s.d.timeType+`) IS NULL OR ts < ?)
		ORDER BY ts, dedup_key LIMIT ?`,
		q.Cluster, q.Integration, q.Integration, s.d.t(q.Start), s.d.t(q.Start), s.d.t(q.End), s.d.t(q.End), q.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: query records: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var ts dbTime
		var sev int
		var kid string
		var dedup, sealed []byte
		if err := rows.Scan(&r.Cluster, &r.Integration, &ts, &dedup, &sev, &r.Service, &r.TemplateID, &kid, &sealed); err != nil {
			return nil, fmt.Errorf("store: query records: %w", err)
		}
		r.Timestamp, r.Severity = ts.T, sdk.Severity(sev)
		if err := s.openRecord(&r, kid, dedup, sealed); err != nil {
			return nil, fmt.Errorf("store: record of %s/%s at %s: %w", r.Cluster, r.Integration, r.Timestamp.Format(time.RFC3339Nano), err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// loadDedupSecret reads the database's dedup secret, creating it on first
// use, and re-seals it under the current key after a rotation. It must
// never change once records exist: their identities depend on it.
func (s *sqlBase) loadDedupSecret(ctx context.Context) error {
	read := func() (string, []byte, error) {
		var kid string
		var sealed []byte
		err := s.queryRow(ctx, `SELECT key_id, sealed FROM store_secrets WHERE name = 'dedup'`).Scan(&kid, &sealed)
		return kid, sealed, err
	}
	kid, sealed, err := read()
	if errors.Is(err, sql.ErrNoRows) {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("store: dedup secret: %w", err)
		}
		nkid, nsealed, serr := s.kr.Seal(secret, []byte("secret\x00dedup"))
		if serr != nil {
			return serr
		}
		// Replicas may race here: the first insert wins, everyone reads it.
		if _, err := s.exec(ctx, `INSERT INTO store_secrets (name, key_id, sealed) VALUES ('dedup', ?, ?) ON CONFLICT (name) DO NOTHING`,
			nkid, nsealed); err != nil {
			return fmt.Errorf("store: dedup secret: %w", err)
		}
		kid, sealed, err = read()
	}
	if err != nil {
		return fmt.Errorf("store: dedup secret: %w", err)
	}
	secret, err := s.kr.Open(kid, sealed, []byte("secret\x00dedup"))
	if err != nil {
		return fmt.Errorf("store: the record dedup secret cannot be opened: %w; nothing was changed", err)
	}
	if kid != s.kr.CurrentID() {
		nkid, nsealed, err := s.kr.Seal(secret, []byte("secret\x00dedup"))
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, `UPDATE store_secrets SET key_id = ?, sealed = ? WHERE name = 'dedup' AND key_id = ?`, nkid, nsealed, kid); err != nil {
			return fmt.Errorf("store: re-sealing the dedup secret: %w", err)
		}
	}
	s.dedupSecret = secret
	return nil
}

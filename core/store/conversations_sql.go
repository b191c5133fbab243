package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// forUpdate locks the selected rows until the transaction ends. SQLite has
// no row locks and needs none: its transactions begin IMMEDIATE (see
// openSQLite), so a writer holds the database from BEGIN.
func (d dialect) forUpdate() string {
	if d.name == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// page turns the interface's limit (<= 0: no limit) and offset into values
// both dialects take in LIMIT ? OFFSET ?.
func page(limit, offset int) (int64, int64) {
	l := int64(limit)
	if l <= 0 {
		l = math.MaxInt64
	}
	return l, int64(max(offset, 0))
}

// orNow returns t, or now when t is zero.
func orNow(t time.Time, now func() time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t
}

// --- tokens

func (s *sqlBase) PutToken(ctx context.Context, t AuthToken) error {
	if len(t.Hash) == 0 || t.UserID == "" || t.ExpiresAt.IsZero() {
		return errors.New("store: token needs hash, user id and expiry")
	}
	_, err := s.exec(ctx, `INSERT INTO auth_tokens (hash, user_id, kind, session_id, created_at, expires_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.UserID, t.Kind, t.SessionID, s.d.t(orNow(t.CreatedAt, s.now)), s.d.t(t.ExpiresAt), s.d.t(t.RevokedAt))
	if err != nil {
		return fmt.Errorf("store: put token: %w", err)
	}
	return nil
}

func (s *sqlBase) GetToken(ctx context.Context, hash []byte) (AuthToken, error) {
	t := AuthToken{}
	var c, e, r dbTime
	err := s.queryRow(ctx, `SELECT hash, user_id, kind, session_id, created_at, expires_at, revoked_at
		FROM auth_tokens WHERE hash = ?`, hash).Scan(&t.Hash, &t.UserID, &t.Kind, &t.SessionID, &c, &e, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return AuthToken{}, fmt.Errorf("store: token: %w", ErrNotFound)
	}
	if err != nil {
		return AuthToken{}, fmt.Errorf("store: get token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = c.T, e.T, r.T
	return t, nil
}

func (s *sqlBase) RevokeToken(ctx context.Context, hash []byte, at time.Time) error {
	// COALESCE keeps the first revocation time; the row still counts as
	// affected on both dialects, so 0 rows means an unknown hash.
	res, err := s.exec(ctx, `UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE hash = ?`,
		s.d.t(orNow(at, s.now)), hash)
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: token: %w", ErrNotFound)
	}
	return nil
}

func (s *sqlBase) RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int, error) {
	at = orNow(at, s.now)
	// Live = neither revoked nor expired at at.
	res, err := s.exec(ctx, `UPDATE auth_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
		s.d.t(at), userID, s.d.t(at))
	if err != nil {
		return 0, fmt.Errorf("store: revoke user tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (s *sqlBase) DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM auth_tokens WHERE expires_at < ?`, s.d.t(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// --- sessions

func (s *sqlBase) DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, s.d.t(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (s *sqlBase) PutSession(ctx context.Context, se Session) error {
	if se.ID == "" || se.ExpiresAt.IsZero() {
		return errors.New("store: session needs id and expiry")
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (id, client_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET client_id = EXCLUDED.client_id, user_id = EXCLUDED.user_id,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
		se.ID, se.ClientID, se.UserID, s.d.t(orNow(se.CreatedAt, s.now)), s.d.t(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: put session: %w", err)
	}
	return nil
}

func (s *sqlBase) GetSession(ctx context.Context, id string) (Session, error) {
	se := Session{}
	var c, e dbTime
	err := s.queryRow(ctx, `SELECT id, client_id, user_id, created_at, expires_at FROM sessions WHERE id = ?`, id).
		Scan(&se.ID, &se.ClientID, &se.UserID, &c, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: session %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: get session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = c.T, e.T
	return se, nil
}

// --- cases

const caseCols = `id, owner, title, state, cluster, current_turn, created_at, updated_at`

func scanCase(sc interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var cr, up dbTime
	err := sc.Scan(&c.ID, &c.Owner, &c.Title, &c.State, &c.Cluster, &c.CurrentTurn, &cr, &up)
	c.CreatedAt, c.UpdatedAt = cr.T, up.T
	return c, err
}

func (s *sqlBase) CreateCase(ctx context.Context, c Case) error {
	if c.ID == "" || c.Owner == "" {
		return errors.New("store: case needs id and owner")
	}
	c.CreatedAt = orNow(c.CreatedAt, s.now)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	res, err := s.exec(ctx, `INSERT INTO cases (`+caseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.Owner, c.Title, c.State, c.Cluster, c.CurrentTurn, s.d.t(c.CreatedAt), s.d.t(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: create case: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: case %q exists: %w", c.ID, ErrConflict)
	}
	return nil
}

func (s *sqlBase) GetCase(ctx context.Context, owner, id string) (Case, error) {
	c, err := scanCase(s.queryRow(ctx, `SELECT `+caseCols+` FROM cases WHERE id = ? AND owner = ?`, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, fmt.Errorf("store: case %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Case{}, fmt.Errorf("store: get case: %w", err)
	}
	return c, nil
}

func (s *sqlBase) ListCases(ctx context.Context, owner string, limit, offset int) ([]Case, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT count(*) FROM cases WHERE owner = ?`, owner).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: list cases: %w", err)
	}
	l, o := page(limit, offset)
	rows, err := s.query(ctx, `SELECT `+caseCols+` FROM cases WHERE owner = ? ORDER BY updated_at DESC, id LIMIT ? OFFSET ?`,
		owner, l, o)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list cases: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list cases: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list cases: %w", err)
	}
	return out, total, nil
}

func (s *sqlBase) UpdateCase(ctx context.Context, c Case) error {
	res, err := s.exec(ctx, `UPDATE cases SET title = ?, state = ?, cluster = ?, current_turn = ?, updated_at = ?
		WHERE id = ? AND owner = ?`,
		c.Title, c.State, c.Cluster, c.CurrentTurn, s.d.t(orNow(c.UpdatedAt, s.now)), c.ID, c.Owner)
	if err != nil {
		return fmt.Errorf("store: update case: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: case %q: %w", c.ID, ErrNotFound)
	}
	return nil
}

func (s *sqlBase) DeleteCase(ctx context.Context, owner, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: delete case: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM cases WHERE id = ? AND owner = ?`), id, owner)
	if err != nil {
		return fmt.Errorf("store: delete case: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: case %q: %w", id, ErrNotFound)
	}
	// The foreign key cascades too, but SQLite enforces foreign keys only
	// on connections that enabled them; this does not depend on that.
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM messages WHERE case_id = ?`), id); err != nil {
		return fmt.Errorf("store: delete case messages: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: delete case: %w", err)
	}
	return nil
}

// --- messages

// messageAAD binds a sealed content to its row, so a ciphertext copied to
// another case, position or message does not open.
func messageAAD(caseID string, seq int64, id string) []byte {
	return fmt.Appendf(nil, "message\x00%s\x00%d\x00%s", caseID, seq, id)
}

func (s *sqlBase) AppendMessages(ctx context.Context, caseID string, ms []Message) error {
	if len(ms) == 0 {
		return nil
	}
	for i := range ms {
		if ms[i].ID == "" || ms[i].Role == "" {
			return fmt.Errorf("store: message %d needs id and role", i)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: append messages: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	// Locking the case row serialises appends to one case, so two appends
	// never read the same max(seq); appends to other cases do not wait.
	var one int
	err = tx.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM cases WHERE id = ?`+s.d.forUpdate()), caseID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: case %q: %w", caseID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: append messages: %w", err)
	}
	var last int64
	if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COALESCE(max(seq), 0) FROM messages WHERE case_id = ?`), caseID).Scan(&last); err != nil {
		return fmt.Errorf("store: append messages: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO messages (case_id, seq, id, turn_number, role, key_id, sealed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return fmt.Errorf("store: append messages: %w", err)
	}
	defer stmt.Close()
	done := make([]Message, len(ms))
	for i, m := range ms {
		m.CaseID, m.Seq, m.CreatedAt = caseID, last+int64(i)+1, orNow(m.CreatedAt, s.now)
		kid, sealed, err := s.kr.Seal([]byte(m.Content), messageAAD(caseID, m.Seq, m.ID))
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, caseID, m.Seq, m.ID, m.TurnNumber, m.Role, kid, sealed, s.d.t(m.CreatedAt)); err != nil {
			return fmt.Errorf("store: append message: %w", err)
		}
		done[i] = m
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: append messages: %w", err)
	}
	// Only a committed append tells the caller its sequence numbers.
	copy(ms, done)
	return nil
}

func (s *sqlBase) ListMessages(ctx context.Context, caseID string, limit, offset int) ([]Message, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT count(*) FROM messages WHERE case_id = ?`, caseID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: list messages: %w", err)
	}
	l, o := page(limit, offset)
	rows, err := s.query(ctx, `SELECT case_id, seq, id, turn_number, role, key_id, sealed, created_at
		FROM messages WHERE case_id = ? ORDER BY seq LIMIT ? OFFSET ?`, caseID, l, o)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var kid string
		var sealed []byte
		var cr dbTime
		if err := rows.Scan(&m.CaseID, &m.Seq, &m.ID, &m.TurnNumber, &m.Role, &kid, &sealed, &cr); err != nil {
			return nil, 0, fmt.Errorf("store: list messages: %w", err)
		}
		m.CreatedAt = cr.T
		pt, err := s.kr.Open(kid, sealed, messageAAD(m.CaseID, m.Seq, m.ID))
		if err != nil {
			return nil, 0, fmt.Errorf("store: message %d of case %q: %w", m.Seq, m.CaseID, err)
		}
		m.Content = string(pt)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list messages: %w", err)
	}
	return out, total, nil
}

// --- idempotency

// idempotentAAD binds a sealed body to its key and to the clear columns
// replayed with it.
func idempotentAAD(r *IdempotentResponse) []byte {
	return fmt.Appendf(nil, "idempotent\x00%s\x00%s\x00%s\x00%d\x00%s", r.Owner, r.Key, r.Route, r.Status, r.Location)
}

func (s *sqlBase) GetIdempotent(ctx context.Context, owner, key string) (IdempotentResponse, error) {
	r := IdempotentResponse{}
	var kid string
	var sealed []byte
	var cr dbTime
	err := s.queryRow(ctx, `SELECT owner, key, route, status, location, key_id, sealed, created_at
		FROM idempotency WHERE owner = ? AND key = ?`, owner, key).
		Scan(&r.Owner, &r.Key, &r.Route, &r.Status, &r.Location, &kid, &sealed, &cr)
	if errors.Is(err, sql.ErrNoRows) {
		return IdempotentResponse{}, fmt.Errorf("store: idempotent response: %w", ErrNotFound)
	}
	if err != nil {
		return IdempotentResponse{}, fmt.Errorf("store: get idempotent response: %w", err)
	}
	r.CreatedAt = cr.T
	body, err := s.kr.Open(kid, sealed, idempotentAAD(&r))
	if err != nil {
		return IdempotentResponse{}, fmt.Errorf("store: idempotent response: %w", err)
	}
	if len(body) > 0 {
		r.Body = body
	}
	return r, nil
}

func (s *sqlBase) PutIdempotent(ctx context.Context, r IdempotentResponse) error {
	if r.Owner == "" || r.Key == "" {
		return errors.New("store: idempotent response needs owner and key")
	}
	kid, sealed, err := s.kr.Seal(r.Body, idempotentAAD(&r))
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO idempotency (owner, key, route, status, location, key_id, sealed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, key) DO NOTHING`,
		r.Owner, r.Key, r.Route, r.Status, r.Location, kid, sealed, s.d.t(orNow(r.CreatedAt, s.now)))
	if err != nil {
		return fmt.Errorf("store: put idempotent response: %w", err)
	}
	return nil
}

func (s *sqlBase) DeleteIdempotentBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.exec(ctx, `DELETE FROM idempotency WHERE created_at < ?`, s.d.t(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete idempotent responses: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

package store

import (
	"context"
	"time"
)

// Conversations is what the browser extension's contract needs kept:
// auth tokens, sessions, troubleshooting cases with their messages, and
// replayable responses for Idempotency-Key retries. Message contents and
// replayed bodies may quote logs, so they are sealed with the keyring like
// record bodies. A zero time passed in (a CreatedAt, a case's UpdatedAt, a
// revocation time) means now by the store's clock.
type Conversations interface {
	// PutToken stores a token (by the SHA-256 of its value; the value
	// itself is never stored).
	PutToken(ctx context.Context, t AuthToken) error
	// GetToken returns ErrNotFound for an unknown hash. Revoked and
	// expired tokens are returned as they are: the caller decides.
	GetToken(ctx context.Context, hash []byte) (AuthToken, error)
	// RevokeToken marks one token revoked at at (no-op if already revoked;
	// ErrNotFound if unknown).
	RevokeToken(ctx context.Context, hash []byte, at time.Time) error
	// RevokeUserTokens revokes every live token of a user (not revoked,
	// not expired at at) and returns how many it revoked.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int, error)
	// DeleteExpiredTokens removes tokens that expired before before.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int, error)

	// PutSession creates or replaces a session.
	PutSession(ctx context.Context, s Session) error
	// GetSession returns ErrNotFound for an unknown id.
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteExpiredSessions removes sessions that expired before before.
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error)

	// CreateCase stores a new case (ErrConflict if the id exists).
	CreateCase(ctx context.Context, c Case) error
	// GetCase returns the owner's case, ErrNotFound for an unknown id or
	// another owner's case.
	GetCase(ctx context.Context, owner, id string) (Case, error)
	// ListCases returns the owner's cases, most recently updated first
	// (ties by id), and the owner's total count. limit <= 0 means no limit.
	ListCases(ctx context.Context, owner string, limit, offset int) ([]Case, int, error)
	// UpdateCase saves title, state, cluster, current turn and updated
	// time of an existing case of c.Owner (ErrNotFound otherwise).
	UpdateCase(ctx context.Context, c Case) error
	// DeleteCase removes the owner's case and its messages (ErrNotFound if
	// there is no such case).
	DeleteCase(ctx context.Context, owner, id string) error

	// AppendMessages appends messages to a case in order, atomically; each
	// gets the next sequence number of the case, written back into ms
	// (with CaseID, and CreatedAt when zero) once committed. Each message
	// needs an ID and a Role. ErrNotFound if the case does not exist.
	AppendMessages(ctx context.Context, caseID string, ms []Message) error
	// ListMessages returns a case's messages oldest first (by sequence)
	// and the case's total message count (an unknown case has none). It
	// does not check ownership: GetCase first. limit <= 0 means no limit.
	ListMessages(ctx context.Context, caseID string, limit, offset int) ([]Message, int, error)

	// GetIdempotent returns the response stored for (owner, key), or
	// ErrNotFound.
	GetIdempotent(ctx context.Context, owner, key string) (IdempotentResponse, error)
	// PutIdempotent stores a response; the first one stored for (owner,
	// key) wins and later ones are ignored.
	PutIdempotent(ctx context.Context, r IdempotentResponse) error
	// DeleteIdempotentBefore removes responses stored before before.
	DeleteIdempotentBefore(ctx context.Context, before time.Time) (int, error)
}

// AuthToken is an issued access or refresh token, kept by hash.
type AuthToken struct {
	Hash      []byte // SHA-256 of the token value
	UserID    string
	Kind      string // "access" or "refresh"
	SessionID string // the login it belongs to, so logout can end it
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while live
}

// Session is one extension session (X-Session-Id).
type Session struct {
	ID        string
	ClientID  string
	UserID    string // "" for a session created before login
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Case is one troubleshooting conversation.
type Case struct {
	ID          string
	Owner       string // user id
	Title       string
	State       string // inquiry, investigating, resolved, closed
	Cluster     string // the cluster whose logs its turns search; "" = none
	CurrentTurn int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Message is one line of a case's transcript.
type Message struct {
	ID         string
	CaseID     string
	Seq        int64 // assigned by AppendMessages: 1, 2, ... per case
	TurnNumber int
	Role       string // user, assistant, system
	Content    string // sealed at rest
	CreatedAt  time.Time
}

// IdempotentResponse is a response replayed for a retried request with the
// same Idempotency-Key.
type IdempotentResponse struct {
	Owner     string
	Key       string
	Route     string // what the key was used for, e.g. "POST /cases"
	Status    int
	Location  string // for 201/202 responses
	Body      []byte // sealed at rest
	CreatedAt time.Time
}

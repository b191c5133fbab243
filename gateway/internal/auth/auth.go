// Package auth issues and checks the hub's API tokens: local accounts from
// the config (or, on a loopback-only hub with no accounts, any name), opaque
// bearer tokens kept by SHA-256 in the store, refresh-token rotation with a
// short grace for a lost response, and logout that ends every token of the
// user.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/core/store"
)

var (
	// ErrBadCredentials: unknown user or wrong password (never says which).
	ErrBadCredentials = errors.New("auth: wrong username or password")
	// ErrInvalidToken: unknown, expired, revoked or wrong-kind token.
	ErrInvalidToken = errors.New("auth: invalid or expired token")
)

// Token kinds.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// refreshGrace: a refresh token rotated this recently is still accepted
// once more, so a response lost on the way does not log the user out.
const refreshGrace = 30 * time.Second

// Account is one local user.
type Account struct {
	Username    string
	DisplayName string
	Email       string
	Roles       []string
	Password    string
}

// User is an authenticated user.
type User struct {
	ID          string    `json:"user_id"`
	Username    string    `json:"username"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	Roles       []string  `json:"roles"`
	IsDevUser   bool      `json:"is_dev_user"`
	CreatedAt   time.Time `json:"created_at"`
}

// Options configure a Service.
type Options struct {
	// Accounts are the users who may log in. None means open mode: any
	// username logs in without a password (a loopback-only hub).
	Accounts   []Account
	Store      store.Conversations
	AccessTTL  time.Duration // default 1h
	RefreshTTL time.Duration // default 30 days
	Now        func() time.Time
}

// Service issues and checks tokens.
type Service struct {
	opts     Options
	accounts map[string]Account
	started  time.Time

	mu        sync.Mutex
	lastPurge time.Time
}

// New returns a Service.
func New(o Options) *Service {
	if o.AccessTTL <= 0 {
		o.AccessTTL = time.Hour
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{opts: o, accounts: map[string]Account{}, started: o.Now().UTC()}
	for _, a := range o.Accounts {
		s.accounts[a.Username] = a
	}
	return s
}

// Open reports whether the hub runs without accounts.
func (s *Service) Open() bool { return len(s.accounts) == 0 }

// Tokens is a login's or refresh's result.
type Tokens struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	SessionID        string `json:"session_id"`
}

func userID(username string) string { return "user-" + username }

func (s *Service) user(username string) User {
	a := s.accounts[username]
	u := User{ID: userID(username), Username: username, Email: a.Email, DisplayName: a.DisplayName,
		Roles: append([]string{}, a.Roles...), CreatedAt: s.started}
	if u.DisplayName == "" {
		u.DisplayName = username
	}
	if s.Open() {
		u.IsDevUser = true
	}
	return u
}

// UserByID returns the user with that id.
func (s *Service) UserByID(id string) (User, bool) {
	name, ok := strings.CutPrefix(id, "user-")
	if !ok || name == "" {
		return User{}, false
	}
	if _, known := s.accounts[name]; !known && !s.Open() {
		return User{}, false
	}
	return s.user(name), true
}

// validName: what open mode accepts as a username.
func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return false
		}
	}
	return true
}

// Login checks the credentials and issues a token pair.
func (s *Service) Login(ctx context.Context, username, password string) (Tokens, User, error) {
	if s.Open() {
		if !validName(username) {
			return Tokens{}, User{}, ErrBadCredentials
		}
	} else {
		a, ok := s.accounts[username]
		// Compare even for an unknown user, so timing does not tell.
		want := sha256.Sum256([]byte(a.Password))
		got := sha256.Sum256([]byte(password))
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 || !ok || a.Password == "" {
			return Tokens{}, User{}, ErrBadCredentials
		}
	}
	sid, err := randomID("login_")
	if err != nil {
		return Tokens{}, User{}, err
	}
	t, err := s.issue(ctx, userID(username), sid)
	return t, s.user(username), err
}

func (s *Service) issue(ctx context.Context, uid, sid string) (Tokens, error) {
	now := s.opts.Now().UTC()
	access, err := randomToken()
	if err != nil {
		return Tokens{}, err
	}
	refresh, err := randomToken()
	if err != nil {
		return Tokens{}, err
	}
	for _, t := range []store.AuthToken{
		{Hash: hash(access), UserID: uid, Kind: KindAccess, SessionID: sid, CreatedAt: now, ExpiresAt: now.Add(s.opts.AccessTTL)},
		{Hash: hash(refresh), UserID: uid, Kind: KindRefresh, SessionID: sid, CreatedAt: now, ExpiresAt: now.Add(s.opts.RefreshTTL)},
	} {
		if err := s.opts.Store.PutToken(ctx, t); err != nil {
			return Tokens{}, fmt.Errorf("auth: storing a token: %w", err)
		}
	}
	s.purge(ctx, now)
	return Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(s.opts.AccessTTL.Seconds()),
		RefreshToken: refresh, RefreshExpiresIn: int(s.opts.RefreshTTL.Seconds()), SessionID: sid}, nil
}

// purge drops expired tokens now and then.
func (s *Service) purge(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastPurge) > time.Hour
	if due {
		s.lastPurge = now
	}
	s.mu.Unlock()
	if due {
		_, _ = s.opts.Store.DeleteExpiredTokens(ctx, now.Add(-refreshGrace))
	}
}

// Refresh rotates a refresh token: the old one is revoked and a new pair
// issued. ErrInvalidToken is definitive (the client logs out); other
// errors are transient.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	now := s.opts.Now().UTC()
	t, err := s.opts.Store.GetToken(ctx, hash(refresh))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Tokens{}, ErrInvalidToken
	case err != nil:
		return Tokens{}, err
	case t.Kind != KindRefresh || !now.Before(t.ExpiresAt):
		return Tokens{}, ErrInvalidToken
	case !t.RevokedAt.IsZero() && now.Sub(t.RevokedAt) > refreshGrace:
		return Tokens{}, ErrInvalidToken
	}
	if _, ok := s.UserByID(t.UserID); !ok {
		return Tokens{}, ErrInvalidToken // the account was removed from the config
	}
	if t.RevokedAt.IsZero() {
		if err := s.opts.Store.RevokeToken(ctx, t.Hash, now); err != nil {
			return Tokens{}, err
		}
	}
	return s.issue(ctx, t.UserID, t.SessionID)
}

// Authenticate returns the user of a live access token.
func (s *Service) Authenticate(ctx context.Context, access string) (User, error) {
	t, err := s.opts.Store.GetToken(ctx, hash(access))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return User{}, ErrInvalidToken
	case err != nil:
		return User{}, err
	case t.Kind != KindAccess || !t.RevokedAt.IsZero() || !s.opts.Now().Before(t.ExpiresAt):
		return User{}, ErrInvalidToken
	}
	u, ok := s.UserByID(t.UserID)
	if !ok {
		return User{}, ErrInvalidToken
	}
	return u, nil
}

// Logout revokes every token of the user.
func (s *Service) Logout(ctx context.Context, u User) error {
	_, err := s.opts.Store.RevokeUserTokens(ctx, u.ID, s.opts.Now().UTC())
	return err
}

type ctxKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the request's user.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// BearerToken returns the request's bearer token, or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// LocalUser is who an open hub's unauthenticated requests act as.
func (s *Service) LocalUser() User { return s.user("local") }

func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "fm_" + base64.RawURLEncoding.EncodeToString(b), nil
}

func randomID(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewID returns a random id with the prefix ("case_", "msg_"): never
// "opt_", which the extension reserves.
func NewID(prefix string) string {
	id, err := randomID(prefix)
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return id
}

// Middleware authenticates every request that public does not exempt:
// a valid bearer token, or on an open hub no token at all (acting as the
// local user). It answers 401 problem+json otherwise. On public routes a
// valid token still identifies the user.
func (s *Service) Middleware(public func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok := BearerToken(r)
			var u User
			var err error
			switch {
			case tok != "":
				u, err = s.Authenticate(r.Context(), tok)
			case s.Open():
				u = s.LocalUser()
			default:
				err = ErrInvalidToken
			}
			if err != nil {
				if public(r) && tok == "" {
					next.ServeHTTP(w, r)
					return
				}
				status, detail := http.StatusUnauthorized, "authentication required: log in and send Authorization: Bearer <access_token>"
				if tok != "" {
					detail = "invalid or expired token"
				}
				if !errors.Is(err, ErrInvalidToken) {
					status, detail = http.StatusServiceUnavailable, "cannot check the token now; retry"
				}
				if public(r) && status == http.StatusUnauthorized {
					next.ServeHTTP(w, r) // a stale token on a public route is ignored
					return
				}
				writeError(w, status, detail, "")
				return
			}
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
		})
	}
}

// writeError writes a problem+json body; code, when set, is the machine
// code the extension acts on (SESSION_EXPIRED).
func writeError(w http.ResponseWriter, status int, detail, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	body := map[string]any{"title": http.StatusText(status), "status": status, "detail": detail}
	if code != "" {
		body["code"] = code
	}
	_ = json.NewEncoder(w).Encode(body)
}

// WriteSessionExpired tells the extension to make a new session and retry
// (a plain 401 would log the user out).
func WriteSessionExpired(w http.ResponseWriter) {
	writeError(w, http.StatusUnauthorized, "session expired or not found", "SESSION_EXPIRED")
}

// Package copilot serves the browser extension's API contract (FaultMaven
// Copilot, contract 2.0.0 as the client uses it; see
// ../shared/reference/copilot-contract.md): capabilities, local login and
// token refresh, sessions, troubleshooting cases, turns answered by the
// agent, and the transcript. Turns and case creation honour
// Idempotency-Key, because the extension retries them.
package copilot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/agent"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
)

// Limits the extension enforces too (its build-time constants).
const (
	maxFileBytes  = 10 << 20
	maxTurnBytes  = 64 << 20
	maxJSONBytes  = 1 << 20
	maxListLimit  = 100
	sessionTTLMin = 60
	sessionTTLMax = 480
	// idempotencyTTL: how long a replayable response is kept.
	idempotencyTTL = 24 * time.Hour
)

var allowedExtensions = []string{".txt", ".log", ".json", ".csv", ".md"}

// Asker answers a question; *agent.Agent implements it.
type Asker interface {
	Ask(ctx context.Context, req agent.Request) (*agent.Report, error)
}

// Options configure the contract's handlers.
type Options struct {
	Auth  *auth.Service
	Store store.Conversations
	Asker Asker
	// Knowledge records resolved cases as incidents of their cluster; nil
	// records nothing.
	Knowledge Recorder
	// LogIntegrations lists a cluster's log integrations (instance ids).
	LogIntegrations func(cluster string) ([]string, bool)
	// MetricIntegrations lists a cluster's metric integrations, asked
	// which alerts fired; nil asks none.
	MetricIntegrations func(cluster string) []string
	// DefaultCluster is searched by turns of cases that name none ("" =
	// only attached logs).
	DefaultCluster string
	// DeploymentMode is shown in the extension's options ("self-hosted").
	DeploymentMode string
	Logger         *slog.Logger
	Now            func() time.Time
}

type handler struct {
	o Options

	// Stripes serialise work on one idempotency key and on one case; keys
	// share a stripe by hash, so memory stays bounded. Two arrays, because
	// a turn holds its key's stripe while it takes its case's.
	keyStripes, caseStripes [256]sync.Mutex

	mu          sync.Mutex
	lastCleanup time.Time
}

// cleanup drops expired sessions and old replayable responses, at most
// hourly.
func (h *handler) cleanup(ctx context.Context, now time.Time) {
	h.mu.Lock()
	due := now.Sub(h.lastCleanup) >= time.Hour
	if due {
		h.lastCleanup = now
	}
	h.mu.Unlock()
	if !due {
		return
	}
	if _, err := h.o.Store.DeleteExpiredSessions(ctx, now); err != nil {
		h.o.Logger.Warn("copilot: dropping expired sessions", "err", err)
	}
	if _, err := h.o.Store.DeleteIdempotentBefore(ctx, now.Add(-idempotencyTTL)); err != nil {
		h.o.Logger.Warn("copilot: dropping old idempotent responses", "err", err)
	}
}

// Register adds the contract's routes to r. Every route but the public
// ones (capabilities, health, auth config, login, refresh, sessions) sits
// behind the auth middleware the caller installs.
func Register(r *mux.Router, o Options) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeploymentMode == "" {
		o.DeploymentMode = "self-hosted"
	}
	h := &handler{o: o}
	r.HandleFunc("/v1/meta/capabilities", h.capabilities).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/meta/capabilities", h.capabilities).Methods(http.MethodGet)
	r.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/auth/config", h.authConfig).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/auth/login", h.login).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/auth/refresh", h.refresh).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/auth/logout", h.logout).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/auth/me", h.me).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/sessions", h.createSession).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/sessions/{id}/heartbeat", h.heartbeat).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/cases", h.withSession(h.listCases)).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/cases", h.withSession(h.createCase)).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/cases/{id}", h.withSession(h.getCase)).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/cases/{id}", h.withSession(h.renameCase)).Methods(http.MethodPut)
	r.HandleFunc("/api/v1/cases/{id}", h.withSession(h.deleteCase)).Methods(http.MethodDelete)
	r.HandleFunc("/api/v1/cases/{id}/ui", h.withSession(h.caseUI)).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/cases/{id}/title", h.withSession(h.generateTitle)).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/cases/{id}/messages", h.withSession(h.listMessages)).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/cases/{id}/turns", h.withSession(h.submitTurn)).Methods(http.MethodPost)
}

// Public reports whether a route needs no login: the middleware lets
// these through without a token.
func Public(r *http.Request) bool {
	switch r.URL.Path {
	case "/v1/meta/capabilities", "/api/v1/meta/capabilities", "/health", "/healthz", "/readyz", "/api/v1/openapi.yaml",
		"/metrics", "/api/v1/auth/config", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/sessions":
		return true
	}
	return strings.HasPrefix(r.URL.Path, "/api/v1/sessions/") && strings.HasSuffix(r.URL.Path, "/heartbeat")
}

func (h *handler) capabilities(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"deploymentMode": h.o.DeploymentMode,
		"dashboardUrl":   "",
		"kbManagement":   "api",
		"features": map[string]bool{
			"extensionKB": false, "adminKB": false, "teamSharing": false, "caseHistory": true, "sso": false,
		},
		"limits": map[string]any{"maxFileBytes": maxFileBytes, "allowedExtensions": allowedExtensions},
	})
}

func (h *handler) authConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"auth_mode":             "local",
		"supports_registration": false,
		"login_endpoint":        "/api/v1/auth/login",
		"register_endpoint":     nil,
		"open":                  h.o.Auth.Open(),
	})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	toks, u, err := h.o.Auth.Login(r.Context(), strings.TrimSpace(body.Username), body.Password)
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		writeProblem(w, http.StatusUnauthorized, "wrong username or password")
	case err != nil:
		h.o.Logger.Error("copilot: login", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "login is unavailable; retry")
	default:
		writeJSON(w, http.StatusOK, tokenResponse(toks, &u))
	}
}

func tokenResponse(t auth.Tokens, u *auth.User) map[string]any {
	out := map[string]any{
		"access_token": t.AccessToken, "token_type": t.TokenType, "expires_in": t.ExpiresIn,
		"refresh_token": t.RefreshToken, "refresh_expires_in": t.RefreshExpiresIn, "session_id": t.SessionID,
	}
	if u != nil {
		out["user"] = u
	}
	return out
}

func (h *handler) refresh(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	toks, err := h.o.Auth.Refresh(r.Context(), body.RefreshToken)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		writeProblem(w, http.StatusUnauthorized, "invalid or expired refresh token")
	case err != nil:
		// 5xx keeps the client's tokens: it retries.
		h.o.Logger.Error("copilot: refresh", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "token refresh is unavailable; retry")
	default:
		writeJSON(w, http.StatusOK, tokenResponse(toks, nil))
	}
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	u, ok := auth.FromContext(r.Context())
	if !ok {
		writeProblem(w, http.StatusUnauthorized, "not logged in")
		return
	}
	if err := h.o.Auth.Logout(r.Context(), u); err != nil {
		h.o.Logger.Error("copilot: logout", "err", err)
		writeProblem(w, http.StatusServiceUnavailable, "logout is unavailable; retry")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "logged out", "all_sessions_ended": true})
}

func (h *handler) me(w http.ResponseWriter, r *http.Request) {
	u, _ := auth.FromContext(r.Context())
	writeJSON(w, http.StatusOK, u)
}

func (h *handler) createSession(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClientID       string `json:"client_id"`
		TimeoutMinutes int    `json:"timeout_minutes"`
	}
	if !decodeLenient(w, r, &body) {
		return
	}
	ttl := min(max(body.TimeoutMinutes, sessionTTLMin), sessionTTLMax)
	if body.TimeoutMinutes == 0 {
		ttl = 180
	}
	u, _ := auth.FromContext(r.Context())
	now := h.o.Now().UTC()
	s := store.Session{ID: auth.NewID("sess_"), ClientID: body.ClientID, UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(ttl) * time.Minute)}
	if err := h.o.Store.PutSession(r.Context(), s); err != nil {
		h.storeError(w, "creating a session", err)
		return
	}
	h.cleanup(r.Context(), now)
	writeJSON(w, http.StatusCreated, map[string]any{
		"session_id": s.ID, "client_id": s.ClientID, "user_id": s.UserID, "status": "active",
		"session_resumed": false, "created_at": s.CreatedAt, "expires_at": s.ExpiresAt, "schema_version": "3.1.0",
	})
}

func (h *handler) heartbeat(w http.ResponseWriter, r *http.Request) {
	s, err := h.o.Store.GetSession(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) || err == nil && !h.o.Now().Before(s.ExpiresAt) {
		auth.WriteSessionExpired(w)
		return
	}
	if err != nil {
		h.storeError(w, "reading a session", err)
		return
	}
	s.ExpiresAt = h.o.Now().UTC().Add(s.ExpiresAt.Sub(s.CreatedAt))
	if err := h.o.Store.PutSession(r.Context(), s); err != nil {
		h.storeError(w, "extending a session", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"session_id": s.ID, "status": "active", "expires_at": s.ExpiresAt})
}

// withSession checks X-Session-Id when the client sends one: an unknown,
// expired or other user's session is SESSION_EXPIRED, which makes the
// extension create a new one and retry (never a plain 401, which would
// log the user out).
func (h *handler) withSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Session-Id")
		if id == "" {
			next(w, r)
			return
		}
		s, err := h.o.Store.GetSession(r.Context(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.storeError(w, "reading a session", err)
			return
		}
		u, _ := auth.FromContext(r.Context())
		if err != nil || !h.o.Now().Before(s.ExpiresAt) || s.UserID != "" && s.UserID != u.ID {
			auth.WriteSessionExpired(w)
			return
		}
		next(w, r)
	}
}

// lock returns the mutex for key; callers hold it around a
// read-modify-write of one case or one idempotency key. (Within one hub
// process: replicas behind a load balancer rely on the store's
// first-writer-wins replay and per-case sequence numbers.)
func (h *handler) lock(key string) *sync.Mutex {
	f := fnv.New32a()
	f.Write([]byte(key))
	i := f.Sum32() % 256
	if strings.HasPrefix(key, "case\x00") {
		return &h.caseStripes[i]
	}
	return &h.keyStripes[i]
}

func (h *handler) storeError(w http.ResponseWriter, what string, err error) {
	h.o.Logger.Error("copilot: "+what, "err", err)
	writeProblem(w, http.StatusServiceUnavailable, what+" failed; retry")
}

var idemKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,255}$`)

// idempotent runs fn once per (user, Idempotency-Key): a retry with the
// same key replays the stored response. Requests without a key just run.
func (h *handler) idempotent(w http.ResponseWriter, r *http.Request, route string, fn func() (int, any, string)) {
	u, _ := auth.FromContext(r.Context())
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		status, body, loc := fn()
		writeResult(w, status, body, loc)
		return
	}
	if !idemKeyRE.MatchString(key) {
		writeProblem(w, http.StatusBadRequest, "Idempotency-Key: want 8-255 letters, digits, - or _")
		return
	}
	m := h.lock("idem\x00" + u.ID + "\x00" + key)
	m.Lock()
	defer m.Unlock()
	prev, err := h.o.Store.GetIdempotent(r.Context(), u.ID, key)
	switch {
	case err == nil && prev.Route != route:
		writeProblem(w, http.StatusUnprocessableEntity, "this Idempotency-Key was used for another request")
		return
	case err == nil:
		if prev.Location != "" {
			w.Header().Set("Location", prev.Location)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		_, _ = w.Write(prev.Body)
		return
	case !errors.Is(err, store.ErrNotFound):
		h.storeError(w, "reading an idempotent response", err)
		return
	}
	status, body, loc := fn()
	if status < 500 {
		// Client errors replay too (the same request fails the same way);
		// server errors do not, so a retry gets a new chance.
		data, _ := json.Marshal(body)
		now := h.o.Now().UTC()
		if err := h.o.Store.PutIdempotent(r.Context(), store.IdempotentResponse{Owner: u.ID, Key: key, Route: route,
			Status: status, Location: loc, Body: data, CreatedAt: now}); err != nil {
			h.o.Logger.Warn("copilot: storing an idempotent response", "err", err)
		}
		h.cleanup(r.Context(), now)
	}
	writeResult(w, status, body, loc)
}

func writeResult(w http.ResponseWriter, status int, body any, location string) {
	if location != "" {
		w.Header().Set("Location", location)
	}
	if p, ok := body.(problem); ok {
		writeProblem(w, status, p.Detail)
		return
	}
	writeJSON(w, status, body)
}

// problem is an error result of an idempotent operation.
type problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func fail(status int, detail string) (int, any, string) {
	return status, problem{Title: http.StatusText(status), Status: status, Detail: detail}, ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Title: http.StatusText(status), Status: status, Detail: detail})
}

// decodeLenient reads an optional JSON body: unknown fields and nulls are
// fine (the extension sends fields the schema lacks), an empty body is an
// empty object.
func decodeLenient(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err != nil {
		writeProblem(w, http.StatusRequestEntityTooLarge, "request body over 1 MiB")
		return false
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return true
	}
	if err := json.Unmarshal(data, v); err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// pageParams reads limit (default and cap 100) and offset.
func pageParams(r *http.Request) (limit, offset int, err error) {
	limit, offset = maxListLimit, 0
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			return 0, 0, fmt.Errorf("limit %q: want a positive number", v)
		}
		limit = min(limit, maxListLimit)
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("offset %q: want 0 or more", v)
		}
	}
	return limit, offset, nil
}

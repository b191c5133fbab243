package auth_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
)

func newService(t *testing.T, accounts ...auth.Account) *auth.Service {
	t.Helper()
	st, err := store.Open(t.Context(), store.Options{DataDir: t.TempDir(), Getenv: func(string) string { return "" },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return auth.New(auth.Options{Accounts: accounts, Store: st})
}

func TestMiddleware(t *testing.T) {
	s := newService(t, auth.Account{Username: "alice", Password: "pw"})
	toks, _, err := s.Login(t.Context(), "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	h := s.Middleware(func(r *http.Request) bool { return r.URL.Path == "/public" })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.FromContext(r.Context())
		seen = u.Username
	}))
	for _, tt := range []struct {
		path, token string
		status      int
		user        string
	}{
		{"/public", "", 200, ""},
		{"/public", "fm_stale", 200, ""},
		{"/public", toks.AccessToken, 200, "alice"},
		{"/api/v1/ask", "", 401, ""},
		{"/api/v1/ask", "fm_forged", 401, ""},
		{"/api/v1/ask", toks.RefreshToken, 401, ""}, // a refresh token is not an access token
		{"/api/v1/ask", toks.AccessToken, 200, "alice"},
	} {
		seen = ""
		req := httptest.NewRequest("GET", tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status || seen != tt.user {
			t.Errorf("%s with %q: %d as %q, want %d as %q", tt.path, tt.token, rec.Code, seen, tt.status, tt.user)
		}
	}
}

func TestLoginNeverSaysWhichPartWasWrong(t *testing.T) {
	s := newService(t, auth.Account{Username: "alice", Password: "pw"})
	_, _, e1 := s.Login(t.Context(), "alice", "nope")
	_, _, e2 := s.Login(t.Context(), "mallory", "pw")
	_, _, e3 := s.Login(t.Context(), "mallory", "")
	if e1 != auth.ErrBadCredentials || e2 != auth.ErrBadCredentials || e3 != auth.ErrBadCredentials {
		t.Fatalf("errors: %v / %v / %v, want ErrBadCredentials for all", e1, e2, e3)
	}
}

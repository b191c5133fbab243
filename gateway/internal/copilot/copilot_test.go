package copilot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/faultmaven/faultmaven/core/agent"
	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/gateway/internal/auth"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hub is the contract's routes on a real SQLite store and the real agent
// (attached logs only), behind the auth middleware.
type hub struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clock
}

func newHub(t *testing.T, accounts ...auth.Account) *hub {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(t.Context(), store.Options{DataDir: dir, Getenv: func(string) string { return "" }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Now().UTC()}
	authn := auth.New(auth.Options{Accounts: accounts, Store: st, Now: clk.Now})
	r := mux.NewRouter()
	r.Use(authn.Middleware(Public))
	Register(r, Options{Auth: authn, Store: st, Asker: agent.New(agent.Options{}), Now: clk.Now,
		LogIntegrations: func(string) ([]string, bool) { return nil, false }})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &hub{t: t, srv: srv, clock: clk}
}

type call struct {
	method, path, token, session, idem, contentType string
	body                                            io.Reader
}

func (h *hub) do(c call) (int, map[string]any, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(c.method, h.srv.URL+c.path, c.body)
	if err != nil {
		h.t.Fatal(err)
	}
	// The extension sends this even on GETs.
	req.Header.Set("Content-Type", "application/json")
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.session != "" {
		req.Header.Set("X-Session-Id", c.session)
	}
	if c.idem != "" {
		req.Header.Set("Idempotency-Key", c.idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out, resp.Header
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

func (h *hub) login(user, password string) (access, refresh string) {
	h.t.Helper()
	st, out, _ := h.do(call{method: "POST", path: "/api/v1/auth/login", body: jsonBody(map[string]any{
		"username": user, "password": password, "email": nil, "display_name": nil})})
	if st != 200 {
		h.t.Fatalf("login %s: %d %v", user, st, out)
	}
	if out["expires_in"].(float64) <= 300 || out["refresh_token"] == "" || out["user"].(map[string]any)["user_id"] == "" {
		h.t.Fatalf("login response breaks the client: %v", out)
	}
	return out["access_token"].(string), out["refresh_token"].(string)
}

func turnBody(t *testing.T, query string, files map[string]string) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if query != "" {
		_ = mw.WriteField("query", query)
	}
	for name, content := range files {
		fw, err := mw.CreateFormFile("files", name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(content))
	}
	_ = mw.WriteField("input_type", "file")
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

// incidentLog: steady traffic, then the database fails from minute 40.
func incidentLog() string {
	var b strings.Builder
	for m := 0; m < 60; m++ {
		fmt.Fprintf(&b, "2024-06-01T10:%02d:01Z INFO request served path=/items/%d status=200\n", m, m)
		if m >= 40 {
			fmt.Fprintf(&b, "2024-06-01T10:%02d:05Z ERROR could not extend file: No space left on device\n", m)
		}
	}
	return b.String()
}

// TestExtensionFlow walks the extension's core flow: probe, login,
// session, case, a turn with a log file, the transcript, retries.
func TestExtensionFlow(t *testing.T) {
	h := newHub(t, auth.Account{Username: "alice", Password: "correct horse"}, auth.Account{Username: "bob", Password: "battery"})

	if st, out, _ := h.do(call{method: "GET", path: "/v1/meta/capabilities"}); st != 200 || out["deploymentMode"] != "self-hosted" {
		t.Fatalf("capabilities: %d %v", st, out)
	}
	if st, _, _ := h.do(call{method: "GET", path: "/health"}); st != 200 {
		t.Fatalf("health: %d", st)
	}
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/auth/config"}); st != 200 || out["auth_mode"] != "local" {
		t.Fatalf("auth config: %d %v", st, out)
	}
	if st, out, _ := h.do(call{method: "POST", path: "/api/v1/auth/login", body: jsonBody(map[string]string{"username": "alice", "password": "wrong"})}); st != 401 || out["detail"] == "" {
		t.Fatalf("wrong password: %d %v", st, out)
	}
	if st, _, _ := h.do(call{method: "GET", path: "/api/v1/cases?limit=100&offset=0"}); st != 401 {
		t.Fatalf("cases without a token: %d, want 401", st)
	}
	tok, _ := h.login("alice", "correct horse")

	// Sessions: created with the token; a bad X-Session-Id is SESSION_EXPIRED, not a plain 401.
	st, sess, _ := h.do(call{method: "POST", path: "/api/v1/sessions", token: tok, body: jsonBody(map[string]any{
		"client_id": "0b7c4c34-7a39-4e0e-9d43-5c2f3c1a9f10", "session_type": "troubleshooting", "timeout_minutes": 180})})
	if st != 201 || sess["session_id"] == "" {
		t.Fatalf("session: %d %v", st, sess)
	}
	sid := sess["session_id"].(string)
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/cases", token: tok, session: "sess_nope"}); st != 401 || out["code"] != "SESSION_EXPIRED" {
		t.Fatalf("unknown session: %d %v", st, out)
	}

	// Create a case, retried with the same key: one case.
	var caseID string
	for range 2 {
		st, c, hdr := h.do(call{method: "POST", path: "/api/v1/cases", token: tok, session: sid, idem: "opt_case_1732600000_1",
			body: jsonBody(map[string]any{"title": nil, "priority": "low", "metadata": map[string]any{}})})
		if st != 201 || c["case_id"] == "" || c["title"] == "" || strings.HasPrefix(c["case_id"].(string), "opt_") {
			t.Fatalf("create case: %d %v", st, c)
		}
		if caseID != "" && c["case_id"] != caseID {
			t.Fatalf("a retried create made a second case: %s and %s", caseID, c["case_id"])
		}
		caseID = c["case_id"].(string)
		if hdr.Get("Location") != "/api/v1/cases/"+caseID {
			t.Errorf("location = %q", hdr.Get("Location"))
		}
	}

	// A turn with a log file, retried: one answer, stored once.
	var first map[string]any
	for i := range 2 {
		body, ct := turnBody(t, "api errors since 10:40 UTC, why?", map[string]string{"db.log": incidentLog()})
		st, out, _ := h.do(call{method: "POST", path: "/api/v1/cases/" + caseID + "/turns", token: tok, session: sid,
			idem: "opt_msg_1732600001_1", contentType: ct, body: body})
		if st != 200 {
			t.Fatalf("turn: %d %v", st, out)
		}
		if i == 0 {
			first = out
			continue
		}
		a, _ := json.Marshal(first)
		b, _ := json.Marshal(out)
		if !bytes.Equal(a, b) {
			t.Errorf("a retried turn answered differently:\n%s\n%s", a, b)
		}
	}
	if !strings.Contains(first["agent_response"].(string), "No space left on device") || first["turn_number"] != 1.0 ||
		first["case_state"] != "investigating" || len(first["attachments_processed"].([]any)) != 1 {
		t.Fatalf("turn response: %v", first)
	}

	st, msgs, _ := h.do(call{method: "GET", path: "/api/v1/cases/" + caseID + "/messages?limit=100", token: tok, session: sid})
	list, _ := msgs["messages"].([]any)
	if st != 200 || msgs["total_count"] != 2.0 || len(list) != 2 {
		t.Fatalf("messages: %d %v", st, msgs)
	}
	for i, role := range []string{"user", "assistant"} {
		m := list[i].(map[string]any)
		if m["role"] != role || m["turn_number"] != 1.0 || strings.HasPrefix(m["message_id"].(string), "opt_") {
			t.Errorf("message %d = %v, want role %s of turn 1", i, m, role)
		}
	}
	st, c, _ := h.do(call{method: "GET", path: "/api/v1/cases/" + caseID, token: tok})
	if st != 200 || c["title"] != "api errors since 10:40 UTC, why?" || c["current_turn"] != 1.0 {
		t.Errorf("case after the turn: %d %v (the title should come from the first question)", st, c)
	}

	// Another user sees nothing of alice's.
	bobTok, _ := h.login("bob", "battery")
	if st, _, _ := h.do(call{method: "GET", path: "/api/v1/cases/" + caseID, token: bobTok}); st != 404 {
		t.Errorf("bob reads alice's case: %d, want 404", st)
	}
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/cases", token: bobTok}); st != 200 || len(out["cases"].([]any)) != 0 {
		t.Errorf("bob's case list: %d %v", st, out)
	}
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/cases", token: tok}); st != 200 || len(out["cases"].([]any)) != 1 {
		t.Errorf("alice's case list: %d %v", st, out)
	}

	// Logout ends the token.
	if st, out, _ := h.do(call{method: "POST", path: "/api/v1/auth/logout", token: tok}); st != 200 || out["all_sessions_ended"] != true {
		t.Fatalf("logout: %d %v", st, out)
	}
	if st, _, _ := h.do(call{method: "GET", path: "/api/v1/cases", token: tok}); st != 401 {
		t.Errorf("the token still works after logout: %d", st)
	}
}

func TestRefreshRotatesWithGrace(t *testing.T) {
	h := newHub(t, auth.Account{Username: "alice", Password: "pw"})
	_, refresh := h.login("alice", "pw")
	st, out, _ := h.do(call{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(map[string]string{"refresh_token": refresh})})
	if st != 200 || out["refresh_token"] == refresh || out["access_token"] == "" || out["expires_in"] == nil {
		t.Fatalf("refresh: %d %v", st, out)
	}
	// The old token works once more within the grace (a lost response)...
	if st, _, _ := h.do(call{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(map[string]string{"refresh_token": refresh})}); st != 200 {
		t.Fatalf("refresh within the grace: %d", st)
	}
	// ...and not after it.
	h.clock.Add(time.Minute)
	if st, _, _ := h.do(call{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(map[string]string{"refresh_token": refresh})}); st != 401 {
		t.Fatalf("refresh after the grace: %d, want 401", st)
	}
	// An access token expires.
	tok, _ := h.login("alice", "pw")
	h.clock.Add(2 * time.Hour)
	if st, _, _ := h.do(call{method: "GET", path: "/api/v1/auth/me", token: tok}); st != 401 {
		t.Errorf("an expired access token works: %d", st)
	}
}

func TestTurnRejectsBadInput(t *testing.T) {
	h := newHub(t, auth.Account{Username: "alice", Password: "pw"})
	tok, _ := h.login("alice", "pw")
	_, c, _ := h.do(call{method: "POST", path: "/api/v1/cases", token: tok, body: jsonBody(map[string]any{"title": "x"})})
	path := "/api/v1/cases/" + c["case_id"].(string) + "/turns"

	body, ct := turnBody(t, "", nil)
	if st, out, _ := h.do(call{method: "POST", path: path, token: tok, contentType: ct, body: body}); st != 422 || out["detail"] == "" {
		t.Errorf("empty turn: %d %v", st, out)
	}
	body, ct = turnBody(t, "why?", map[string]string{"huge.log": strings.Repeat("x", maxFileBytes+1)})
	if st, _, _ := h.do(call{method: "POST", path: path, token: tok, contentType: ct, body: body}); st != 413 {
		t.Errorf("file over 10 MiB: %d, want 413", st)
	}
	body, ct = turnBody(t, "why?", nil)
	if st, _, _ := h.do(call{method: "POST", path: "/api/v1/cases/case_nope/turns", token: tok, contentType: ct, body: body}); st != 404 {
		t.Errorf("unknown case: %d, want 404", st)
	}
	body, ct = turnBody(t, "why?", nil)
	if st, _, _ := h.do(call{method: "POST", path: path, token: tok, idem: "bad key!", contentType: ct, body: body}); st != 400 {
		t.Errorf("malformed idempotency key: %d, want 400", st)
	}
}

func TestOpenHubNeedsNoPassword(t *testing.T) {
	h := newHub(t)
	tok, _ := h.login("sre", "")
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/auth/me", token: tok}); st != 200 || out["username"] != "sre" {
		t.Fatalf("me: %d %v", st, out)
	}
	// Without a token an open hub acts as the local user.
	if st, out, _ := h.do(call{method: "GET", path: "/api/v1/cases"}); st != 200 || out["cases"] == nil {
		t.Fatalf("cases without a token on an open hub: %d %v", st, out)
	}
	if st, _, _ := h.do(call{method: "POST", path: "/api/v1/auth/login", body: jsonBody(map[string]string{"username": "a b/c"})}); st != 401 {
		t.Errorf("a malformed username logs in: %d", st)
	}
}

// A resolved case becomes a past incident of its cluster, and the next
// question about the same trouble lists it.
func TestResolvedCaseBecomesAnIncident(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(t.Context(), store.Options{DataDir: dir, Getenv: func(string) string { return "" }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := embedded.Open("", embedded.DefaultOptions(emb.Dimensions()))
	if err != nil {
		t.Fatal(err)
	}
	kb, err := knowledge.New(knowledge.Options{Embedder: emb, Store: vs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kb.Close() })
	authn := auth.New(auth.Options{Store: st})
	r := mux.NewRouter()
	r.Use(authn.Middleware(Public))
	Register(r, Options{Auth: authn, Store: st, Asker: agent.New(agent.Options{Knowledge: kb}), Knowledge: kb, DefaultCluster: "prod",
		LogIntegrations: func(c string) ([]string, bool) { return nil, c == "prod" }})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	h := &hub{t: t, srv: srv}
	tok, _ := h.login("sre", "")

	ask := func() (string, map[string]any) {
		_, c, _ := h.do(call{method: "POST", path: "/api/v1/cases", token: tok, body: jsonBody(map[string]any{"title": nil})})
		id := c["case_id"].(string)
		body, ct := turnBody(t, "db errors since 10:40 UTC, why?", map[string]string{"db.log": incidentLog()})
		st, out, _ := h.do(call{method: "POST", path: "/api/v1/cases/" + id + "/turns", token: tok, contentType: ct, body: body})
		if st != 200 {
			t.Fatalf("turn: %d %v", st, out)
		}
		return id, out
	}
	first, _ := ask()
	if st, out, _ := h.do(call{method: "PUT", path: "/api/v1/cases/" + first, token: tok, body: jsonBody(map[string]string{"state": "resolved"})}); st != 200 || out["state"] != "resolved" {
		t.Fatalf("resolve: %d %v", st, out)
	}
	d, err := kb.Get("incident-" + first)
	if err != nil || d.Kind != knowledge.KindIncident || d.Metadata.Cluster != "prod" || !strings.Contains(d.Body, "No space left on device") {
		t.Fatalf("incident document: %+v, %v", d, err)
	}
	_, again := ask()
	if !strings.Contains(again["agent_response"].(string), "incident-"+first) {
		t.Errorf("the second answer does not recall the resolved case:\n%s", again["agent_response"])
	}
}

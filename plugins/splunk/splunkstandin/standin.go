package splunkstandin

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
)

// Event is one indexed event.
type Event struct {
	Time       time.Time
	Raw        string
	Index      string
	Sourcetype string
	Source     string
	Host       string
	Fields     map[string]string // extracted fields, e.g. "level"
	cd         string
}

func (e *Event) field(name string) string {
	switch name {
	case "_raw":
		return e.Raw
	case "index":
		return e.Index
	case "sourcetype":
		return e.Sourcetype
	case "source":
		return e.Source
	case "host":
		return e.Host
	case "_cd":
		return e.cd
	}
	return e.Fields[name]
}

// Options configure a Server.
type Options struct {
	Token      string        // accepted Bearer token; empty accepts none
	Username   string        // accepted login (with Password); empty accepts none
	Password   string        //
	SessionTTL time.Duration // session key lifetime; 0 = one hour
	NoV2       bool          // answer 404 on /services/search/v2/... (Splunk < 9.0.1)
	FlushEvery int           // rows per flushed chunk; 0 = 100
	Version    string        // reported by server/info; "" = 9.1.2
}

// Fault makes the next requests misbehave. Counts are decremented per
// request that the fault applies to.
type Fault struct {
	RateLimit   int           // answer this many requests 429 ...
	RetryAfter  time.Duration // ... with this Retry-After (whole seconds)
	Unavailable int           // answer this many requests 503 (search concurrency limit)
	FatalAfter  int           // >0: exports write this many rows (at most), then a FATAL message line
	FatalText   string        // the FATAL text; "" = a generic search failure
	CutAfter    int           // >0: exports drop the connection after this many rows
	Malformed   bool          // exports write a non-JSON line after the first row
	Delay       time.Duration // wait this long (or until the client leaves) before answering
}

// Server is a running stand-in.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	events   []*Event // newest first
	sessions map[string]time.Time
	fault    Fault
	requests map[string]int
	logins   int
	searches []string
	commands []string
}

// New starts a stand-in over HTTPS. Close it when done.
func New(opts Options) *Server {
	if opts.SessionTTL == 0 {
		opts.SessionTTL = time.Hour
	}
	if opts.FlushEvery == 0 {
		opts.FlushEvery = 100
	}
	if opts.Version == "" {
		opts.Version = "9.1.2"
	}
	s := &Server{opts: opts, sessions: map[string]time.Time{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/auth/login", s.login)
	mux.HandleFunc("/services/server/info", s.authed(s.serverInfo))
	mux.HandleFunc("/services/search/v2/jobs/export", s.authed(s.exportV2))
	mux.HandleFunc("/services/search/jobs/export", s.authed(s.export))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessages(w, http.StatusNotFound, "ERROR", "Not Found")
	})
	s.Server = httptest.NewTLSServer(s.count(mux))
	return s
}

// Start starts a stand-in closed at the end of the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// WriteCAFile writes the server's self-signed certificate as PEM into dir
// and returns the file's path, for the adapter's ca_file.
func (s *Server) WriteCAFile(dir string) (string, error) {
	p := filepath.Join(dir, "splunk-standin-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return p, os.WriteFile(p, b, 0o600)
}

// Add indexes events.
func (s *Server) Add(events ...Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range events {
		e := events[i]
		e.Time = e.Time.UTC()
		if e.Index == "" {
			e.Index = "main"
		}
		e.cd = fmt.Sprintf("%d:%d", len(s.events)/1000, len(s.events))
		s.events = append(s.events, &e)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].Time.After(s.events[j].Time) })
}

// LoadScenario indexes the scenario's Splunk sources and returns how many
// events it added.
func (s *Server) LoadScenario(sc *scenariodata.Scenario) int {
	n := 0
	for _, src := range sc.BySource(scenariodata.BackendSplunk) {
		t := src.Splunk
		if t == nil {
			t = &scenariodata.SplunkTarget{Index: "main", Host: src.Service}
		}
		evs := make([]Event, len(src.Events))
		for i, e := range src.Events {
			evs[i] = Event{Time: e.Time, Raw: e.Raw, Index: t.Index, Sourcetype: t.Sourcetype, Source: t.Source, Host: t.Host}
		}
		s.Add(evs...)
		n += len(evs)
	}
	return n
}

// SetFault replaces the current fault.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// ExpireSessions invalidates every session key, as an idle timeout does.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	s.sessions = map[string]time.Time{}
	s.mu.Unlock()
}

// Requests returns how many requests reached path.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// Logins returns how many successful logins happened.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Searches returns the SPL of every export request, in order.
func (s *Server) Searches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.searches...)
}

// Commands returns the name of every SPL command parsed so far.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

func (s *Server) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func writeMessages(w http.ResponseWriter, status int, typ, text string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": []map[string]string{{"type": typ, "text": text}}})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeMessages(w, http.StatusMethodNotAllowed, "ERROR", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeMessages(w, http.StatusBadRequest, "ERROR", "bad form")
		return
	}
	if s.opts.Username == "" || r.PostForm.Get("username") != s.opts.Username || r.PostForm.Get("password") != s.opts.Password {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"messages":[{"type":"WARN","code":"incorrect_username_or_password","text":"Login failed"}]}` + "\n"))
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.sessions[key] = time.Now().Add(s.opts.SessionTTL)
	s.logins++
	s.mu.Unlock()
	if r.FormValue("output_mode") != "json" {
		w.Header().Set("Content-Type", "text/xml; charset=UTF-8")
		fmt.Fprintf(w, "<response>\n  <sessionKey>%s</sessionKey>\n</response>\n", key)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]string{"sessionKey": key, "message": "", "code": ""})
}

func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Reading the form consumes the body, which lets net/http notice a
		// client that hangs up while a fault delays the answer.
		_ = r.ParseForm()
		if !s.authOK(r) {
			writeMessages(w, http.StatusUnauthorized, "WARN", "call not properly authenticated")
			return
		}
		if !s.applyFault(w, r) {
			return
		}
		h(w, r)
	}
}

func (s *Server) authOK(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Bearer "):
		return s.opts.Token != "" && strings.TrimPrefix(h, "Bearer ") == s.opts.Token
	case strings.HasPrefix(h, "Splunk "):
		key := strings.TrimPrefix(h, "Splunk ")
		s.mu.Lock()
		defer s.mu.Unlock()
		exp, ok := s.sessions[key]
		if ok && time.Now().After(exp) {
			delete(s.sessions, key)
			return false
		}
		return ok
	}
	u, p, ok := r.BasicAuth()
	return ok && s.opts.Username != "" && u == s.opts.Username && p == s.opts.Password
}

// applyFault answers with the pending fault, if any, and reports whether
// the handler should go on.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	f := &s.fault
	delay := f.Delay
	var status int
	var retryAfter time.Duration
	switch {
	case f.RateLimit > 0:
		f.RateLimit--
		status, retryAfter = http.StatusTooManyRequests, f.RetryAfter
	case f.Unavailable > 0:
		f.Unavailable--
		status = http.StatusServiceUnavailable
	}
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		writeMessages(w, status, "ERROR", "Too many requests")
		return false
	case http.StatusServiceUnavailable:
		writeMessages(w, status, "FATAL", `Search not executed: The maximum number of concurrent historical searches on this instance has been reached., concurrency_category="historical", concurrency_context="instance-wide", current_concurrency=10, concurrency_limit=10`)
		return false
	}
	return true
}

func (s *Server) serverInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeMessages(w, http.StatusMethodNotAllowed, "ERROR", "Method not allowed")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	base := "https://" + r.Host
	_ = json.NewEncoder(w).Encode(map[string]any{
		"links": map[string]any{}, "origin": base + "/services/server/info", "updated": time.Now().Format(time.RFC3339),
		"generator": map[string]string{"build": "aa1c3a7b4f8e", "version": s.opts.Version},
		"entry": []map[string]any{{"name": "server-info", "id": base + "/services/server/info/server-info",
			"content": map[string]any{"version": s.opts.Version, "build": "aa1c3a7b4f8e", "serverName": "splunk-standin",
				"server_roles": []string{"indexer", "search_head"}, "health_info": "green"}}},
		"paging":   map[string]int{"total": 1, "perPage": 30, "offset": 0},
		"messages": []any{},
	})
}

func (s *Server) exportV2(w http.ResponseWriter, r *http.Request) {
	if s.opts.NoV2 {
		writeMessages(w, http.StatusNotFound, "ERROR", "Not Found")
		return
	}
	if r.Method != http.MethodPost {
		writeMessages(w, http.StatusMethodNotAllowed, "ERROR", "GET not available in the v2 iteration of this endpoint")
		return
	}
	s.export(w, r)
}

func parseEpoch(v string) (time.Time, bool, error) {
	if v == "" || v == "0" {
		return time.Time{}, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("Invalid value %q for time term; the stand-in only understands epoch seconds", v)
	}
	return time.UnixMicro(int64(f*1e6 + 0.5)).UTC(), true, nil
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeMessages(w, http.StatusMethodNotAllowed, "ERROR", "Method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeMessages(w, http.StatusBadRequest, "FATAL", "bad form body")
		return
	}
	spl := r.Form.Get("search")
	if spl == "" {
		writeMessages(w, http.StatusBadRequest, "FATAL", "Empty search.")
		return
	}
	if r.Form.Get("output_mode") != "json" {
		writeMessages(w, http.StatusBadRequest, "FATAL", "the stand-in only answers output_mode=json")
		return
	}
	ms, names, err := parsePipeline(spl)
	s.mu.Lock()
	s.searches = append(s.searches, spl)
	s.commands = append(s.commands, names...)
	fault := s.fault
	events := s.events
	s.mu.Unlock()
	if err != nil {
		writeMessages(w, http.StatusBadRequest, "FATAL", err.Error())
		return
	}
	earliest, hasE, err := parseEpoch(r.Form.Get("earliest_time"))
	if err != nil {
		writeMessages(w, http.StatusBadRequest, "FATAL", err.Error())
		return
	}
	latest, hasL, err := parseEpoch(r.Form.Get("latest_time"))
	if err != nil {
		writeMessages(w, http.StatusBadRequest, "FATAL", err.Error())
		return
	}
	micro := r.Form.Get("time_format") == "%Y-%m-%dT%H:%M:%S.%6N%:z"
	var hits []*Event
	for _, e := range events {
		if hasE && e.Time.Before(earliest) || hasL && !e.Time.Before(latest) {
			continue
		}
		ok := true
		for _, m := range ms {
			if !m(e) {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, e)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	enc := json.NewEncoder(w)
	if len(hits) == 0 {
		_, _ = w.Write([]byte(`{"preview":false,"lastrow":true}` + "\n"))
		return
	}
	for i, e := range hits {
		if r.Context().Err() != nil {
			return
		}
		if fault.CutAfter > 0 && i == fault.CutAfter {
			if fl != nil {
				fl.Flush()
			}
			_, _ = w.Write([]byte(`{"preview":false,"offset":` + strconv.Itoa(i) + `,"result":{"_raw":"cut her`))
			panic(http.ErrAbortHandler) // drops the connection mid-chunk
		}
		if fault.FatalAfter > 0 && i == fault.FatalAfter {
			text := fault.FatalText
			if text == "" {
				text = "Search process did not exit cleanly, exit_code=255, description=\"exited with code 255\"."
			}
			_ = enc.Encode(map[string]any{"preview": false, "messages": []map[string]string{{"type": "FATAL", "text": text}}})
			return
		}
		if fault.Malformed && i == 1 {
			_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>\n"))
		}
		row := map[string]any{"preview": false, "offset": i, "result": s.result(e, micro)}
		if i == len(hits)-1 {
			row["lastrow"] = true
		}
		_ = enc.Encode(row)
		if fl != nil && (i+1)%s.opts.FlushEvery == 0 {
			fl.Flush()
		}
	}
}

func (s *Server) result(e *Event, micro bool) map[string]any {
	layout := "2006-01-02T15:04:05.000-07:00"
	if micro {
		layout = "2006-01-02T15:04:05.000000-07:00"
	}
	res := map[string]any{
		"_time": e.Time.Format(layout), "_raw": e.Raw, "host": e.Host, "source": e.Source,
		"sourcetype": e.Sourcetype, "index": e.Index, "_cd": e.cd, "_bkt": e.Index + "~0~6D3E5F1A",
		"_serial": "0", "_si": []string{"splunk-standin", e.Index}, "splunk_server": "splunk-standin",
		"linecount": strconv.Itoa(strings.Count(e.Raw, "\n") + 1),
	}
	for k, v := range e.Fields {
		res[k] = v
	}
	return res
}

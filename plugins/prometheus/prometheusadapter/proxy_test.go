package prometheusadapter_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// faultKind is a failure the proxy injects in front of the real server.
type faultKind int

const (
	faultNone faultKind = iota
	faultStatus
	faultRateLimit
	faultCutOff
	faultSlow
	faultMalformed
	faultErrorIn200
)

type fault struct {
	kind       faultKind
	count      int // 0 = every request
	status     int
	retryAfter string
	delay      time.Duration
}

// proxy sits in front of the real Prometheus: it checks a bearer token
// (when set) and injects faults, so failures are tested against real
// answers rather than invented ones.
type proxy struct {
	srv   *httptest.Server
	token string

	mu       sync.Mutex
	f        fault
	left     int
	requests int
}

func newProxy(tb testing.TB, target, token string) *proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{token: token}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests++
		p.mu.Unlock()
		if p.token != "" && r.Header.Get("Authorization") != "Bearer "+p.token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="prometheus"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		r.Header.Del("Authorization")
		f, ok := p.take()
		if !ok {
			rp.ServeHTTP(w, r)
			return
		}
		switch f.kind {
		case faultStatus:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, `{"status":"error","errorType":"unavailable","error":"injected `+strconv.Itoa(f.status)+`"}`)
		case faultRateLimit:
			w.Header().Set("Retry-After", f.retryAfter)
			http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
		case faultCutOff:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			panic(http.ErrAbortHandler)
		case faultSlow:
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case <-r.Context().Done():
				return
			case <-time.After(f.delay):
			}
			rp.ServeHTTP(w, r)
		case faultMalformed:
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><body>Sign in to continue</body></html>")
		case faultErrorIn200:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`)
		}
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

func (p *proxy) set(f fault) {
	p.mu.Lock()
	p.f, p.left, p.requests = f, f.count, 0
	p.mu.Unlock()
}

func (p *proxy) take() (fault, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.f.kind == faultNone {
		return p.f, false
	}
	if p.f.count > 0 {
		if p.left <= 0 {
			return p.f, false
		}
		p.left--
	}
	return p.f, true
}

func (p *proxy) seen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

package opensearchadapter_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchadapter"
	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

const (
	testUser     = "sre-reader"
	testPassword = "s3cret-Pa55word-zz9"
)

// t0 is the start of the synthetic data: one document every 100ms.
var t0 = time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC)

var levels = []string{"INFO", "INFO", "DEBUG", "WARN", "ERROR", "info", "warning", "FATAL"}

// seed indexes n synthetic documents, alternating between two indices and
// between nested and dotted field layouts, one every 100ms from t0.
func seed(tb testing.TB, s *opensearchstandin.Standin, n int) {
	tb.Helper()
	var a, b []opensearchstandin.Doc
	for i := range n {
		ts := t0.Add(time.Duration(i) * 100 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		svc := []string{"orders-api", "checkout-api", "postgres-orders"}[i%3]
		msg := fmt.Sprintf("request %d handled by %s in %dms", i, svc, i%250)
		if i%7 == 0 {
			msg = fmt.Sprintf("connection pool exhausted after %d waits (request %d)", i%13, i)
		}
		var src map[string]any
		if i%2 == 0 {
			src = map[string]any{
				"@timestamp": ts, "message": msg,
				"service": map[string]any{"name": svc},
				"log":     map[string]any{"level": levels[i%len(levels)]},
				"host":    map[string]any{"name": fmt.Sprintf("node-%d", i%4)},
				"http":    map[string]any{"status": 200 + i%3, "method": "GET"},
				"seq":     i,
			}
			a = append(a, opensearchstandin.Doc{ID: fmt.Sprintf("doc-%06d", i), Source: src})
		} else {
			src = map[string]any{
				"@timestamp": ts, "message": msg,
				"service.name": svc, "log.level": levels[i%len(levels)], "host.name": fmt.Sprintf("node-%d", i%4),
				"trace_id": fmt.Sprintf("%016x", i), "seq": i,
			}
			b = append(b, opensearchstandin.Doc{ID: fmt.Sprintf("doc-%06d", i), Source: src})
		}
	}
	if err := s.Index("logs-app-2024.03.05", a...); err != nil {
		tb.Fatal(err)
	}
	if err := s.Index("logs-db-2024.03.05", b...); err != nil {
		tb.Fatal(err)
	}
}

// startStandin starts a basic-auth stand-in holding n documents.
func startStandin(tb testing.TB, n int, opts opensearchstandin.Options) (*opensearchstandin.Standin, *httptest.Server) {
	tb.Helper()
	if opts.Username == "" && opts.AWSAccessKeyID == "" {
		opts.Username, opts.Password = testUser, testPassword
	}
	s := opensearchstandin.New(opts)
	seed(tb, s, n)
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return s, srv
}

// cfg returns an instance config for srv with extra keys merged in.
func cfg(tb testing.TB, url string, extra map[string]any) json.RawMessage {
	tb.Helper()
	m := map[string]any{"url": url, "index": "logs-*", "username": testUser, "password": testPassword}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fastRetry keeps failure tests quick: waits of milliseconds.
func fastRetry() sdk.RetryPolicy {
	return sdk.RetryPolicy{BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRetryAfter: 5 * time.Second}
}

// logBuffer is a concurrency-safe buffer for captured logs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newAdapter returns an adapter logging (at debug) into buf, closed when
// the test ends.
func newAdapter(tb testing.TB, buf *logBuffer) *opensearchadapter.Adapter {
	var log *slog.Logger
	if buf != nil {
		log = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		log = slog.New(slog.DiscardHandler)
	}
	a := opensearchadapter.NewWithOptions(opensearchadapter.Options{Logger: log, Retry: fastRetry()})
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

// collector is an sdk.RecordWriter keeping every record, honouring a limit.
type collector struct {
	recs  []sdk.Record
	limit int
}

func (c *collector) Write(r sdk.Record) error {
	c.recs = append(c.recs, r)
	if c.limit > 0 && len(c.recs) >= c.limit {
		return sdk.ErrLimitReached
	}
	return nil
}

// startServer serves a stand-in until the test ends.
func startServer(tb testing.TB, s *opensearchstandin.Standin) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return srv
}

//go:build unix

package datadogadapter_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

const benchLogs = 20000

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(b *testing.B, records int, wall, cpu time.Duration) {
	b.ReportMetric(float64(records)/wall.Seconds(), "records/s")
	b.ReportMetric(cpu.Seconds()*1000/(float64(records)/1000), "cpu-ms/1k-records")
}

// BenchmarkSearch pages benchLogs logs (1000 per page) through the adapter
// and the official client from the stand-in, both in this process; compare
// with BenchmarkRawPages.
func BenchmarkSearch(b *testing.B) {
	e := newEnv(b, benchLogs)
	e.configure(b, "a", map[string]any{"page_size": 1000})
	q := sdk.LogQuery{Start: t0, End: t0.Add(benchLogs * 10 * time.Second)}
	total := 0
	c0, w0 := cpuTime(b), time.Now()
	for b.Loop() {
		recs, err := search(b.Context(), e.ad, "a", q)
		if err != nil || len(recs) != benchLogs {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		total += len(recs)
	}
	report(b, total, time.Since(w0), cpuTime(b)-c0)
}

// BenchmarkRawPages fetches the same pages with net/http, reading only the
// cursor: the stand-in and transport without the adapter and client.
func BenchmarkRawPages(b *testing.B) {
	e := newEnv(b, benchLogs)
	total := 0
	c0, w0 := cpuTime(b), time.Now()
	for b.Loop() {
		cursor := ""
		for {
			body := map[string]any{"filter": map[string]any{"query": "*", "from": "0", "to": "now"},
				"page": map[string]any{"limit": 1000, "cursor": cursor}, "sort": "timestamp"}
			if cursor == "" {
				body["page"] = map[string]any{"limit": 1000}
			}
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, e.srv.URL+"/api/v2/logs/events/search", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("DD-API-KEY", testAPIKey)
			req.Header.Set("DD-APPLICATION-KEY", testAppKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var page struct {
				Meta struct {
					Page struct{ After string } `json:"page"`
				} `json:"meta"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			if page.Meta.Page.After == "" {
				break
			}
			cursor = page.Meta.Page.After
		}
		total += benchLogs
	}
	report(b, total, time.Since(w0), cpuTime(b)-c0)
}

//go:build unix

package splunkadapter_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

const benchEvents = 20000

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

// BenchmarkSearch streams benchEvents records through the adapter from the
// stand-in (both in this process: the CPU figure covers both; compare with
// BenchmarkRawExport, the stand-in and transport alone).
func BenchmarkSearch(b *testing.B) {
	e := newEnv(b, splunkstandin.Options{}, benchEvents)
	e.configure(b, "a", nil)
	q := sdk.LogQuery{Start: t0, End: t0.Add(benchEvents * 10 * time.Second)}
	total := 0
	c0, w0 := cpuTime(b), time.Now()
	for b.Loop() {
		recs, err := search(b.Context(), e.ad, "a", q)
		if err != nil || len(recs) != benchEvents {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		total += len(recs)
	}
	report(b, total, time.Since(w0), cpuTime(b)-c0)
}

// BenchmarkRawExport fetches the same export and discards it: the cost of
// the stand-in and the transport without the adapter.
func BenchmarkRawExport(b *testing.B) {
	e := newEnv(b, splunkstandin.Options{}, benchEvents)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test stand-in
	form := url.Values{"search": {"search index=*"}, "output_mode": {"json"}, "earliest_time": {"0"}}.Encode()
	total := 0
	c0, w0 := cpuTime(b), time.Now()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, e.srv.URL+"/services/search/v2/jobs/export", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		total += benchEvents
	}
	report(b, total, time.Since(w0), cpuTime(b)-c0)
}

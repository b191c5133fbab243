package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
	"github.com/faultmaven/faultmaven/sdk"
)

const e2eLines = 200_000

var e2eStart = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// writeE2EFile writes e2eLines lines shaped like a service log: request
// lines at INFO, some WARN, an ERROR every 50 lines.
func writeE2EFile(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "checkout.log")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t := e2eStart
	for n := range e2eLines {
		t = t.Add(20 * time.Millisecond)
		stamp := t.Format("2006-01-02T15:04:05.000Z")
		switch {
		case n%50 == 49:
			fmt.Fprintf(w, "%s ERROR [worker-%d] payment gateway 10.2.%d.%d timed out after %d ms for order %d\n", stamp, n%8, n%4, n%250, 1000+n%3000, n)
		case n%10 == 3:
			fmt.Fprintf(w, "%s WARN [worker-%d] slow query on orders took %d ms rows=%d\n", stamp, n%8, 200+n%800, n%90)
		default:
			fmt.Fprintf(w, "%s INFO [worker-%d] POST /api/v2/orders/%d status=200 duration_ms=%d user=%d\n", stamp, n%8, n, n%300, n%5000)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// filesHost builds the files plugin, launches it through pluginhost as the
// hub does, and configures instance prod/files on path.
func filesHost(tb testing.TB, path string) *pluginhost.Host {
	tb.Helper()
	dir := tb.TempDir()
	_, self, _, _ := runtime.Caller(0)
	pkg := filepath.Join(filepath.Dir(self), "..", "..", "plugins", "files")
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "faultmaven-plugin-files"), ".")
	cmd.Dir = pkg
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building the files plugin: %v\n%s", err, out)
	}
	h, err := pluginhost.New(pluginhost.Options{PluginDir: dir, CallTimeout: 10 * time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	if err := h.Start(context.Background(), "files"); err != nil {
		tb.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"paths": []string{path}, "timezone": "UTC"})
	if err := h.Configure(context.Background(), "prod/files", "files", cfg); err != nil {
		tb.Fatal(err)
	}
	return h
}

var e2eQuery = sdk.LogQuery{Start: e2eStart, End: e2eStart.Add(24 * time.Hour), Limit: 10 * e2eLines}

// BenchmarkEndToEnd compares, on the same file of e2eLines lines:
//
//	analyzer-only        records already in memory -> analyzer
//	plugin+analyzer      files plugin (go-plugin gRPC) -> analyzer
//	ingest/<backend>     files plugin -> analyzer -> store, as an ingest job
//
// Each reports records/s. Figures: docs/benchmarks/store.md.
func BenchmarkEndToEnd(b *testing.B) {
	path := writeE2EFile(b)
	host := filesHost(b, path)
	newAn := jobs.NewLogAnalysis(loganalysis.DefaultOptions())

	var recs []sdk.Record
	if err := host.SearchLogs(b.Context(), "prod/files", e2eQuery, func(batch []sdk.Record) error {
		recs = append(recs, batch...)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if len(recs) != e2eLines {
		b.Fatalf("plugin returned %d records, want %d", len(recs), e2eLines)
	}

	b.Run("analyzer-only", func(b *testing.B) {
		cpu := processCPU()
		for b.Loop() {
			an, err := newAn()
			if err != nil {
				b.Fatal(err)
			}
			for i := range recs {
				an.Observe("prod", "files", recs[i])
			}
			_ = an.Findings("prod")
		}
		b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*len(recs))/1e3, "hub-cpu-µs/record")
	})

	b.Run("plugin+analyzer", func(b *testing.B) {
		cpu := processCPU()
		for b.Loop() {
			an, err := newAn()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			err = host.SearchLogs(b.Context(), "prod/files", e2eQuery, func(batch []sdk.Record) error {
				for i := range batch {
					an.Observe("prod", "files", batch[i])
				}
				n += len(batch)
				return nil
			})
			if err != nil || n != e2eLines {
				b.Fatal(err, n)
			}
			_ = an.Findings("prod")
		}
		b.ReportMetric(float64(b.N*e2eLines)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*e2eLines)/1e3, "hub-cpu-µs/record")
	})

	for _, be := range storetest.Backends() {
		b.Run("ingest/"+be.Name, func(b *testing.B) {
			var stored int64
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				st := storetest.Open(b, be.Fresh(b), storetest.NewKeyring(b))
				if err := st.UpsertIntegration(b.Context(), store.Integration{Cluster: "prod", Name: "files", Plugin: "files"}); err != nil {
					b.Fatal(err)
				}
				q, err := jobs.New(b.Context(), jobs.Options{Store: st, Source: host, NewAnalyzer: newAn, Retention: -1,
					PollInterval: 100 * time.Millisecond, MaxRecordsPerJob: 10 * e2eLines})
				if err != nil {
					b.Fatal(err)
				}
				if err := q.Start(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				c0 := processCPU()
				id, err := q.EnqueueIngest(b.Context(), jobs.IngestRequest{Cluster: "prod", Integration: "files", From: e2eQuery.Start, To: e2eQuery.End})
				if err != nil {
					b.Fatal(err)
				}
				s, err := q.Wait(b.Context(), id, nil)
				if err != nil || !s.Succeeded() || s.RecordsStored != e2eLines {
					b.Fatalf("%v %+v", err, s)
				}
				stored += s.RecordsStored
				cpu += processCPU() - c0
				b.StopTimer()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = q.Stop(ctx)
				cancel()
				b.StartTimer()
			}
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(cpu)/float64(stored)/1e3, "hub-cpu-µs/record")
		})
	}
}

// processCPU is this process's user+system CPU time so far (the hub's
// side; the plugin and PostgreSQL run in other processes).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

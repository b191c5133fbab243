package filesadapter_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// benchLines is the size of the benchmark file, as the issue asks: 1M lines.
const benchLines = 1_000_000

// writeBenchFile writes benchLines lines shaped like a Spring service log:
// mostly INFO/DEBUG request lines, with an ERROR and its stack trace every
// 100 lines. It returns the path and the file's size in bytes.
func writeBenchFile(tb testing.TB) (string, int64) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "checkout.log")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for n := 0; n < benchLines; {
		t = t.Add(37 * time.Millisecond)
		stamp := t.Format("2006-01-02 15:04:05.000")
		switch {
		case n%100 == 99 && n+4 <= benchLines:
			fmt.Fprintf(w, "%s ERROR [http-nio-8080-exec-%d] c.f.checkout.OrderController - checkout failed for order %d\n", stamp, n%8, n)
			fmt.Fprintf(w, "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms\n")
			fmt.Fprintf(w, "\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)\n")
			fmt.Fprintf(w, "\tat com.faultmaven.checkout.service.OrderService.placeOrder(OrderService.java:87)\n")
			n += 4
		case n%5 == 0:
			fmt.Fprintf(w, "%s DEBUG [http-nio-8080-exec-%d] c.f.checkout.cart.CartService - cart %d priced with %d promotions\n", stamp, n%8, n*7, n%3)
			n++
		default:
			fmt.Fprintf(w, "%s INFO  [http-nio-8080-exec-%d] c.f.checkout.OrderController - order %d placed items=%d total=%d.%02d EUR in %dms\n", stamp, n%8, n, n%6+1, n%400, n%100, 40+n%150)
			n++
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, info.Size()
}

// counter is the cheapest possible consumer: the in-process figure is the
// adapter's own speed.
type counter struct{ n int }

func (c *counter) Write(sdk.Record) error { c.n++; return nil }

// BenchmarkSearch1M streams every line of a 1M-line file, in-process
// through the adapter and through the plugin boundary (the built binary
// launched as the hub launches it: go-plugin, gRPC, AutoMTLS, default
// batches of 500 records / 1 MiB). The ratio of the two records/s figures
// is the cost of the boundary; see docs/benchmarks/files-plugin.md.
func BenchmarkSearch1M(b *testing.B) {
	path, size := writeBenchFile(b)
	cfg := jsonConfig(b, map[string]any{"paths": []string{path}, "timezone": "UTC"})
	queries := []struct {
		name string
		q    sdk.LogQuery
	}{
		{"all", sdk.LogQuery{Limit: 2 * benchLines}},
		// A selective query: scanning dominates, few records cross.
		{"regex-1pct", sdk.LogQuery{Limit: 2 * benchLines, Query: "/ERROR .* checkout failed/"}},
	}
	report := func(b *testing.B, records int) {
		b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
		b.ReportMetric(float64(records), "records/op")
	}

	for _, qc := range queries {
		b.Run("in-process/"+qc.name, func(b *testing.B) {
			a := filesadapter.New(filesadapter.Options{})
			if err := a.Configure(b.Context(), "bench", cfg); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpuStart := procCPU("self")
			var records int
			for b.Loop() {
				c := &counter{}
				if err := a.SearchLogs(b.Context(), "bench", qc.q, c); err != nil {
					b.Fatal(err)
				}
				records = c.n
			}
			report(b, records)
			if cpu := procCPU("self") - cpuStart; cpu > 0 {
				b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			}
		})
	}

	bin := plugintest.BuildPlugin(b, "..")
	for _, qc := range queries {
		b.Run("plugin/"+qc.name, func(b *testing.B) {
			before := childPIDs()
			c := plugintest.Launch(b, bin)
			if err := c.Configure(b.Context(), "bench", cfg); err != nil {
				b.Fatal(err)
			}
			// CPU seconds on each side of the boundary: unlike records/s
			// they do not depend on what else the machine is running.
			plugin := newPIDs(before, childPIDs())
			hostStart, pluginStart := procCPU("self"), procCPU(plugin)
			b.ReportAllocs() // host side only
			var records int
			for b.Loop() {
				n := 0
				err := c.SearchLogs(b.Context(), "bench", qc.q, sdk.SearchOptions{}, func(batch []sdk.Record) error {
					n += len(batch)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				records = n
			}
			report(b, records)
			if plugin != "" {
				n := float64(b.N)
				b.ReportMetric((procCPU("self")-hostStart).Seconds()/n, "host-cpu-s/op")
				b.ReportMetric((procCPU(plugin)-pluginStart).Seconds()/n, "plugin-cpu-s/op")
			}
		})
	}
}

// childPIDs lists the test process's children (Linux; nil elsewhere).
func childPIDs() []string {
	var pids []string
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		pids = append(pids, strings.Fields(string(b))...)
	}
	return pids
}

// newPIDs returns the one pid in after but not in before, or "".
func newPIDs(before, after []string) string {
	var found []string
	for _, p := range after {
		if !slices.Contains(before, p) {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}

// procCPU is the user+system CPU time of a process from /proc/<pid>/stat
// (zero when unavailable). Ticks are assumed to be 1/100 s, the value of
// USER_HZ on every Linux architecture Go supports.
func procCPU(pid string) time.Duration {
	if pid == "" {
		return 0
	}
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// BenchmarkParseTimestamp measures the per-line recognisers on the line
// shapes they meet most: a timestamped text line, a stack frame (no
// timestamp: the worst case, every position is tried) and a JSON line.
func BenchmarkParseTimestamp(b *testing.B) {
	lines := map[string]string{
		"logback":     "2026-11-24 14:07:09.123 INFO  [http-nio-8080-exec-3] c.f.checkout.OrderController - order 88213 placed",
		"stack-frame": "\tat com.faultmaven.checkout.service.OrderService.placeOrder(OrderService.java:87)",
		"json":        `{"time":"2026-11-24T14:07:09.250Z","level":"warn","msg":"checkout callback timed out","timeout_ms":5000}`,
	}
	for name, text := range lines {
		line := []byte(text)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				filesadapter.ParseTimestamp(line, time.UTC, time.Time{})
				filesadapter.SeverityOf(line)
			}
		})
	}
}

package opensearchadapter_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchadapter"
	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

const benchDocs = 50000

// BenchmarkSearchInProcess reads 50,000 documents per op through PIT +
// search_after pages of 1,000 from the stand-in over loopback HTTP. The
// CPU figure is the whole test process: adapter, HTTP and the stand-in.
func BenchmarkSearchInProcess(b *testing.B) {
	_, srv := startStandin(b, benchDocs, opensearchstandin.Options{})
	a := newAdapter(b, nil)
	if err := a.Configure(b.Context(), "c", cfg(b, srv.URL, map[string]any{"page_size": 1000})); err != nil {
		b.Fatal(err)
	}
	q := sdk.LogQuery{Start: t0, End: t0.Add(24 * time.Hour), Limit: benchDocs}
	cpu0 := selfCPU()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := a.SearchLogs(b.Context(), "c", q, writerFunc(func(sdk.Record) error { n++; return nil })); err != nil || n != benchDocs {
			b.Fatalf("%d records, %v", n, err)
		}
	}
	b.StopTimer()
	report(b, benchDocs, selfCPU()-cpu0, "cpu-ms/1k-records(process)")
}

// BenchmarkSearchBinary runs the same search through the plugin binary
// launched as the hub does (gRPC batches), and measures the plugin
// process's own CPU from /proc: the plugin's share of the cost.
func BenchmarkSearchBinary(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc")
	}
	_, srv := startStandin(b, benchDocs, opensearchstandin.Options{})
	before := childPIDs()
	c := plugintest.Launch(b, plugintest.BuildPlugin(b, ".."))
	pid := newChild(before)
	if pid == 0 {
		b.Skip("cannot find the plugin process")
	}
	if err := c.Configure(b.Context(), "c", cfg(b, srv.URL, map[string]any{"page_size": 1000})); err != nil {
		b.Fatal(err)
	}
	q := sdk.LogQuery{Start: t0, End: t0.Add(24 * time.Hour), Limit: benchDocs}
	cpu0 := procCPU(pid)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		err := c.SearchLogs(b.Context(), "c", q, sdk.SearchOptions{}, func(r []sdk.Record) error { n += len(r); return nil })
		if err != nil || n != benchDocs {
			b.Fatalf("%d records, %v", n, err)
		}
	}
	b.StopTimer()
	report(b, benchDocs, procCPU(pid)-cpu0, "plugin-cpu-ms/1k-records")
}

// BenchmarkMapPage decodes a recorded 1,000-hit page and maps it to
// records: the adapter's per-record work without HTTP or backend.
func BenchmarkMapPage(b *testing.B) {
	_, srv := startStandin(b, 1000, opensearchstandin.Options{Username: "-", Password: "-"})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/logs-*/_search",
		strings.NewReader(`{"size":1000,"sort":[{"@timestamp":"asc"},{"_id":"asc"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("-", "-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.SetBytes(int64(len(page)))
	cpu0 := selfCPU()
	b.ResetTimer()
	for b.Loop() {
		if n, err := opensearchadapter.MapPage(page, "https://dash.example.com"); err != nil || n != 1000 {
			b.Fatalf("%d, %v", n, err)
		}
	}
	b.StopTimer()
	report(b, 1000, selfCPU()-cpu0, "cpu-ms/1k-records(decode+map)")
}

func report(b *testing.B, perOp int, cpu time.Duration, cpuUnit string) {
	b.Helper()
	recs := float64(perOp) * float64(b.N)
	b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Milliseconds())/(recs/1000), cpuUnit)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childPIDs lists the processes whose parent is this one.
func childPIDs() map[int]bool {
	out := map[int]bool{}
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fields := statFields(b)
		if len(fields) > 2 {
			if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
				out[pid] = true
			}
		}
	}
	return out
}

func newChild(before map[int]bool) int {
	for pid := range childPIDs() {
		if !before[pid] {
			return pid
		}
	}
	return 0
}

// statFields returns the fields of /proc/<pid>/stat after the command
// name (which may hold spaces): state, ppid, ...
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// procCPU is a process's user+system CPU time from /proc (clock ticks of
// 10ms, the Linux USER_HZ).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := statFields(b)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

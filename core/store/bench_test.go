package store_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
	"github.com/faultmaven/faultmaven/sdk"
)

// benchRecords makes n realistic records (~180-byte bodies, two
// attributes, native ids) of one integration.
func benchRecords(n int, start time.Time, offset int) []store.Record {
	out := make([]store.Record, n)
	for i := range out {
		k := offset + i
		r := store.Record{Cluster: "prod", Integration: "files", TemplateID: fmt.Sprintf("t%d", k%40),
			Template: fmt.Sprintf("template %d <*> <*>", k%40)}
		r.Timestamp = start.Add(time.Duration(k) * time.Millisecond)
		r.Severity = sdk.SeverityInfo
		r.Service = "checkout"
		r.Host = "ip-10-0-3-17.ec2.internal"
		r.Body = fmt.Sprintf("2026-11-25T10:00:00.%06dZ INFO [checkout-7f9c] request_id=%08x method=POST path=/api/v2/orders/%d status=200 duration_ms=%d user=%d",
			k%1000000, k*2654435761, k, k%500, k%10000)
		r.Attributes = map[string]string{"pod": fmt.Sprintf("checkout-%d", k%8), "container": "app"}
		r.Source = sdk.SourceRef{Instance: "prod/files", NativeID: fmt.Sprintf("/var/log/checkout.log:%d", k*180)}
		out[i] = r
	}
	return out
}

// BenchmarkInsertRecords measures bulk inserts of new records, sealed
// (AES-256-GCM) and deduplicated, in batches of 5000, on each backend.
// SQLite seals on other goroutines when it can: run with -cpu 1,2.
// Figures: docs/benchmarks/store.md.
func BenchmarkInsertRecords(b *testing.B) {
	const batch = 5000
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			opts := be.Fresh(b)
			if be.Name == store.DialectPostgres {
				// Tagged connections, so the server backends' CPU can be read.
				opts.URL += "&application_name=fmbench"
			}
			s := storetest.Open(b, opts, storetest.NewKeyring(b))
			start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
			// Pre-build the batches so the loop measures the store only.
			batches := make([][]store.Record, 0, b.N)
			for i := range b.N {
				batches = append(batches, benchRecords(batch, start, i*batch))
			}
			// Warm up (and open the pool's connections) before measuring.
			if _, err := s.InsertRecords(b.Context(), benchRecords(batch, start.Add(-time.Hour), 0)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			server := backendCPU(b, be.Name)
			client := processCPU()
			b.ResetTimer()
			for i := range b.N {
				res, err := s.InsertRecords(b.Context(), batches[i])
				if err != nil {
					b.Fatal(err)
				}
				if res.Stored != batch {
					b.Fatalf("stored %d of %d", res.Stored, batch)
				}
			}
			b.StopTimer()
			n := float64(b.N * batch)
			b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(processCPU()-client)/n/1e3, "client-cpu-µs/record")
			if server != nil {
				b.ReportMetric(float64(server()-0)/n/1e3, "server-cpu-µs/record")
			}
		})
	}
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU finds the benchmark's PostgreSQL backends (application_name
// fmbench, on this machine) and returns a func giving the CPU they used
// since now; nil when it cannot be read.
func backendCPU(b *testing.B, dialect string) func() time.Duration {
	if dialect != store.DialectPostgres {
		return nil
	}
	conn, err := pgx.Connect(b.Context(), storetest.TestDatabaseURL())
	if err != nil {
		return nil
	}
	defer conn.Close(b.Context())
	rows, err := conn.Query(b.Context(), `SELECT pid FROM pg_stat_activity WHERE application_name = 'fmbench'`)
	if err != nil {
		return nil
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) == 0 {
		return nil
	}
	read := func() time.Duration {
		var total time.Duration
		for _, pid := range pids {
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				continue
			}
			f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(ut+st) * time.Second / 100 // USER_HZ
		}
		return total
	}
	base := read()
	return func() time.Duration { return read() - base }
}

// BenchmarkInsertDuplicates measures a re-ingest: every record is already
// stored.
func BenchmarkInsertDuplicates(b *testing.B) {
	const batch = 5000
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			s := storetest.Open(b, be.Fresh(b), storetest.NewKeyring(b))
			recs := benchRecords(batch, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 0)
			if _, err := s.InsertRecords(b.Context(), recs); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				res, err := s.InsertRecords(b.Context(), recs)
				if err != nil || res.Duplicates != batch {
					b.Fatal(err, res)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

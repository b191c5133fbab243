package prometheusadapter_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// BenchmarkQueryRange runs a range query over every series of the scrape
// target ({job="hub"}) since the server started, at a 10ms step, so each
// op returns tens of thousands of samples from the real server. The CPU
// figure is this process only (the adapter: HTTP client, JSON decoding,
// conversion); Prometheus runs in its own process.
func BenchmarkQueryRange(b *testing.B) {
	env := promServer(b)
	a := newAdapter(nil)
	if err := a.Configure(b.Context(), "p", rawConfig(b, map[string]any{"url": env.URL, "max_samples": 10000000})); err != nil {
		b.Fatal(err)
	}
	end := time.Now()
	q := sdk.MetricQuery{Query: `{job="hub"}`, Start: env.Started, End: end, Step: 10 * time.Millisecond}
	samples := 0
	cpu0 := selfCPU()
	b.ResetTimer()
	for b.Loop() {
		s, err := a.QueryMetrics(b.Context(), "p", q)
		if err != nil || len(s) == 0 {
			b.Fatalf("%d series, %v", len(s), err)
		}
		for _, sr := range s {
			samples += len(sr.Samples)
		}
	}
	b.StopTimer()
	cpu := selfCPU() - cpu0
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
	b.ReportMetric(float64(cpu.Milliseconds())/(float64(samples)/1000), "cpu-ms/1k-samples")
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

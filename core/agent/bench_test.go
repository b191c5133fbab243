package agent

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// BenchmarkAsk answers one question over n records pulled from one
// integration: 20 services, steady traffic with ids and latencies, a
// failure in one service for the last third. It reports records/s.
func BenchmarkAsk(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			recs := benchRecords(n)
			src := &fakeSource{records: map[string][]sdk.Record{"prod/logs": recs}}
			a := New(Options{Source: src, MaxRecords: n})
			req := Request{Question: "errors since 10:40 UTC", Integrations: []string{"prod/logs"}, From: t0, To: t0.Add(time.Hour)}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rep, err := a.Ask(context.Background(), req)
				if err != nil || rep.Cause == nil || rep.Cause.Service != "svc-7" {
					b.Fatalf("cause %+v, err %v", rep.Cause, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func benchRecords(n int) []sdk.Record {
	out := make([]sdk.Record, 0, n)
	step := time.Hour / time.Duration(n)
	for i := range n {
		ts := t0.Add(time.Duration(i) * step)
		svc := fmt.Sprintf("svc-%d", i%20)
		body := fmt.Sprintf("%s INFO request id=%d path=/items/%d status=200 took=%dms", ts.Format(time.RFC3339Nano), i, i%977, i%300)
		if svc == "svc-7" && ts.After(t0.Add(40*time.Minute)) && i%3 == 0 {
			body = fmt.Sprintf("%s ERROR write to volume /data failed: no space left on device (segment %d)", ts.Format(time.RFC3339Nano), i)
		}
		out = append(out, sdk.Record{Timestamp: ts, Body: body, Service: svc})
	}
	return out
}

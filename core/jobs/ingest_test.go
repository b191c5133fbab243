package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/core/store/storetest"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)

func waitJob(tb testing.TB, q *jobs.Queue, id int64) jobs.JobStatus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := q.Wait(ctx, id, nil)
	require.NoError(tb, err, "waiting for job %d (last status %+v)", id, st)
	return st
}

func sumTemplateCounts(tb testing.TB, st store.Store, cluster, integration string) int64 {
	tb.Helper()
	ts, err := st.ListTemplates(context.Background(), cluster, integration)
	require.NoError(tb, err)
	var n int64
	for _, t := range ts {
		n += t.Count
	}
	return n
}

func TestIngest(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("stores every record once and the same ingest twice stores nothing new", func(t *testing.T) {
				for _, native := range []bool{true, false} {
					st, _ := openStore(t, b, "prod", "files")
					src := &fakeSource{recs: genRecords(t0, 50*time.Millisecond, 3000, native), batch: 700}
					q := startQueue(t, jobs.Options{Store: st, Source: src, BatchSize: 1000})
					ctx := t.Context()
					req := jobs.IngestRequest{Cluster: "prod", Integration: "files", From: t0, To: t0.Add(time.Hour)}
					id, err := q.EnqueueIngest(ctx, req)
					require.NoError(t, err)
					s1 := waitJob(t, q, id)
					require.True(t, s1.Succeeded(), "job: %+v", s1)
					require.EqualValues(t, 3000, s1.RecordsRead)
					require.EqualValues(t, 3000, s1.RecordsStored)
					require.EqualValues(t, 0, s1.DuplicatesSkipped)
					require.Positive(t, s1.Findings)

					id2, err := q.EnqueueIngest(ctx, req)
					require.NoError(t, err)
					require.NotEqual(t, id, id2, "a finished job does not block a new one")
					s2 := waitJob(t, q, id2)
					require.True(t, s2.Succeeded(), "job: %+v", s2)
					require.EqualValues(t, 3000, s2.RecordsRead)
					require.EqualValues(t, 0, s2.RecordsStored)
					require.EqualValues(t, 3000, s2.DuplicatesSkipped)

					n, err := st.CountRecords(ctx, "prod", "files")
					require.NoError(t, err)
					require.EqualValues(t, 3000, n)
					require.EqualValues(t, 3000, sumTemplateCounts(t, st, "prod", "files"))
					require.EqualValues(t, 3000, analyzerTotal(t, st, "prod", "files"), "a re-ingest must not feed the analyzer twice")
					fs, err := st.ListFindings(ctx, "prod", time.Time{})
					require.NoError(t, err)
					require.NotEmpty(t, fs)
				}
			})

			t.Run("a failing pull is retried and stores each record once", func(t *testing.T) {
				st, _ := openStore(t, b, "prod", "files")
				src := &fakeSource{recs: genRecords(t0, 10*time.Millisecond, 4000, false), batch: 500}
				src.failures.Store(2)  // the first two attempts fail...
				src.failAfter.Store(3) // ...after three batches went through
				reg := prometheus.NewRegistry()
				q := startQueue(t, jobs.Options{Store: st, Source: src, BatchSize: 500, Registerer: reg})
				id, err := q.EnqueueIngest(t.Context(), jobs.IngestRequest{Cluster: "prod", Integration: "files", From: t0, To: t0.Add(time.Hour)})
				require.NoError(t, err)
				s := waitJob(t, q, id)
				require.True(t, s.Succeeded(), "job: %+v", s)
				require.Equal(t, 3, s.Attempt)
				require.Len(t, s.Errors, 2)
				require.Contains(t, s.Errors[0], "backend unavailable")
				n, err := st.CountRecords(t.Context(), "prod", "files")
				require.NoError(t, err)
				require.EqualValues(t, 4000, n)
				require.EqualValues(t, 4000, sumTemplateCounts(t, st, "prod", "files"))
				require.EqualValues(t, 4000, analyzerTotal(t, st, "prod", "files"), "the analyzer must see each record once")
				require.EqualValues(t, 4000, metricValue(t, reg, "faultmaven_ingest_records_total", "stored"))
				require.EqualValues(t, 2, metricValue(t, reg, "faultmaven_ingest_runs_total", "failed"))
				require.EqualValues(t, 1, metricValue(t, reg, "faultmaven_ingest_runs_total", "succeeded"))
			})

			t.Run("a job that keeps failing is parked with its error", func(t *testing.T) {
				st, _ := openStore(t, b, "prod", "files")
				src := &fakeSource{recs: genRecords(t0, time.Second, 100, true)}
				src.failures.Store(-1)
				q := startQueue(t, jobs.Options{Store: st, Source: src, MaxAttempts: 3})
				id, err := q.EnqueueIngest(t.Context(), jobs.IngestRequest{Cluster: "prod", Integration: "files", From: t0, To: t0.Add(time.Hour)})
				require.NoError(t, err)
				s := waitJob(t, q, id)
				require.Equal(t, "discarded", s.State)
				require.Len(t, s.Errors, 3)
				run, err := st.GetRun(t.Context(), id)
				require.NoError(t, err)
				require.Equal(t, store.RunFailed, run.Status)
				require.Contains(t, run.Error, "backend unavailable")
			})

			t.Run("periodic pulls follow the watermark without gaps or repeats", func(t *testing.T) {
				st, _ := openStore(t, b, "prod", "files")
				src := &fakeSource{recs: genRecords(t0, time.Second, 7200, true)} // two hours
				clk := storetest.NewClock(t0.Add(30 * time.Minute))
				q := startQueue(t, jobs.Options{Store: st, Source: src, Now: clk.Now, Lag: time.Minute, InitialLookback: time.Hour})
				ctx := t.Context()
				for _, at := range []time.Duration{30 * time.Minute, 50 * time.Minute, 50 * time.Minute, 95 * time.Minute} {
					clk.Set(t0.Add(at))
					id, err := q.EnqueuePull(ctx, "prod", "files")
					require.NoError(t, err)
					s := waitJob(t, q, id)
					require.True(t, s.Succeeded(), "job: %+v", s)
					require.EqualValues(t, 0, s.DuplicatesSkipped, "a pull must not re-read what the previous one stored")
				}
				cur, err := st.GetCursor(ctx, "prod", "files")
				require.NoError(t, err)
				require.True(t, cur.Watermark.Equal(t0.Add(94*time.Minute)), "watermark %v", cur.Watermark)
				n, err := st.CountRecords(ctx, "prod", "files")
				require.NoError(t, err)
				require.EqualValues(t, src.count(time.Time{}, t0.Add(94*time.Minute)), n)
			})

			t.Run("one integration is pulled by at most the limit at once", func(t *testing.T) {
				st, _ := openStore(t, b, "prod", "files")
				src := &fakeSource{recs: genRecords(t0, 100*time.Millisecond, 2000, true), batch: 100, delay: 20 * time.Millisecond}
				q := startQueue(t, jobs.Options{Store: st, Source: src, Workers: 4, PerIntegrationLimit: 1})
				var ids []int64
				for i := range 4 {
					from := t0.Add(time.Duration(i) * 50 * time.Second)
					id, err := q.EnqueueIngest(t.Context(), jobs.IngestRequest{Cluster: "prod", Integration: "files", From: from, To: from.Add(50 * time.Second)})
					require.NoError(t, err)
					ids = append(ids, id)
				}
				for _, id := range ids {
					s := waitJob(t, q, id)
					require.True(t, s.Succeeded(), "job: %+v", s)
				}
				require.EqualValues(t, 1, src.maxFlight.Load(), "concurrent pulls of one integration")
				n, err := st.CountRecords(t.Context(), "prod", "files")
				require.NoError(t, err)
				require.EqualValues(t, 2000, n)
			})

			t.Run("bad requests are refused", func(t *testing.T) {
				st, _ := openStore(t, b, "prod", "files")
				q := startQueue(t, jobs.Options{Store: st, Source: &fakeSource{}})
				for name, r := range map[string]jobs.IngestRequest{
					"no cluster":          {Integration: "files", From: t0, To: t0.Add(time.Hour)},
					"empty window":        {Cluster: "prod", Integration: "files", From: t0, To: t0},
					"unknown integration": {Cluster: "prod", Integration: "nope", From: t0, To: t0.Add(time.Hour)},
				} {
					_, err := q.EnqueueIngest(t.Context(), r)
					require.Error(t, err, name)
				}
				_, err := q.Job(t.Context(), 987654)
				require.ErrorIs(t, err, jobs.ErrJobNotFound)
			})
		})
	}
}

func TestPeriodicScheduleRunsOnStart(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st, _ := openStore(t, b, "prod", "files")
			src := &fakeSource{recs: genRecords(t0, time.Second, 3600, true)}
			clk := storetest.NewClock(t0.Add(40 * time.Minute))
			startQueue(t, jobs.Options{Store: st, Source: src, Now: clk.Now, Lag: time.Minute, InitialLookback: time.Hour,
				Periodic: []jobs.PeriodicPull{{Cluster: "prod", Integration: "files", Interval: time.Hour}}})
			var cur store.Cursor
			require.Eventually(t, func() bool {
				var err error
				cur, err = st.GetCursor(t.Context(), "prod", "files")
				return err == nil
			}, 60*time.Second, 100*time.Millisecond, "the periodic pull never ran")
			require.True(t, cur.Watermark.Equal(t0.Add(39*time.Minute)), "watermark %v", cur.Watermark)
			n, err := st.CountRecords(t.Context(), "prod", "files")
			require.NoError(t, err)
			require.EqualValues(t, src.count(time.Time{}, t0.Add(39*time.Minute)), n)
		})
	}
}

// metricValue reads one labelled counter from reg.
func metricValue(tb testing.TB, reg *prometheus.Registry, name, label string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	require.NoError(tb, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

package jobs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/faultmaven/faultmaven/core/store"
	"github.com/faultmaven/faultmaven/sdk"
)

// IngestArgs is an ingest job: one window of one integration, or, when
// Periodic, the next window after the integration's watermark.
type IngestArgs struct {
	Cluster     string    `json:"cluster"`
	Integration string    `json:"integration"`
	From        time.Time `json:"from,omitzero"`
	To          time.Time `json:"to,omitzero"`
	Periodic    bool      `json:"periodic,omitempty"`
}

// Kind is the River job kind.
func (IngestArgs) Kind() string { return "faultmaven.ingest" }

// InsertOpts puts ingest jobs on their queue and refuses a second copy of
// a job that is still pending or running.
func (IngestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueIngest, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type ingestWorker struct {
	river.WorkerDefaults[IngestArgs]
	q *Queue
}

// stateEnvelope wraps the analyzer snapshot with the id of the run that
// saved it, so a retried run knows whether its window is already in.
// Layout: 8 bytes big-endian run id, then the snapshot.
func wrapState(runID int64, snap []byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(snap)), uint64(runID))
	return append(out, snap...)
}

func unwrapState(b []byte) (int64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, errors.New("jobs: analyzer state too short")
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], nil
}

func (w *ingestWorker) Work(ctx context.Context, job *river.Job[IngestArgs]) error {
	o := w.q.opts
	a := job.Args
	st := o.Store
	instance := a.Cluster + "/" + a.Integration
	log := o.Logger.With("job_id", job.ID, "instance", instance, "attempt", job.Attempt)

	leaseKey, holder := "ingest:"+instance, strconv.FormatInt(job.ID, 10)
	ok, err := st.AcquireLease(ctx, leaseKey, holder, o.PerIntegrationLimit, o.LeaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		w.q.metrics.runs.WithLabelValues("snoozed").Inc()
		wait := time.Second + rand.N(2*time.Second)
		log.Debug("jobs: integration busy, snoozing", "for", wait)
		return river.JobSnooze(wait)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := st.ReleaseLease(rctx, leaseKey, holder); err != nil {
			log.Warn("jobs: releasing lease", "err", err)
		}
	}()

	if _, err := st.GetIntegration(ctx, a.Cluster, a.Integration); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return river.JobCancel(fmt.Errorf("integration %s is not configured", instance))
		}
		return err
	}

	from, to := a.From, a.To
	if a.Periodic {
		now := o.Now()
		to = now.Add(-o.Lag)
		cur, err := st.GetCursor(ctx, a.Cluster, a.Integration)
		switch {
		case err == nil:
			from = cur.Watermark
		case errors.Is(err, store.ErrNotFound):
			from = to.Add(-o.InitialLookback)
		default:
			return err
		}
	}
	run, err := st.StartRun(ctx, store.Run{ID: job.ID, Cluster: a.Cluster, Integration: a.Integration, From: from, To: to, Attempt: job.Attempt})
	if err != nil {
		return err
	}
	began := time.Now()
	err = w.ingest(ctx, log, &run, leaseKey, holder, a.Periodic)
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
	}
	w.q.metrics.runs.WithLabelValues(outcome).Inc()
	w.q.metrics.duration.WithLabelValues(outcome).Observe(time.Since(began).Seconds())
	if err != nil {
		run.Status, run.Error = store.RunFailed, err.Error()
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if uerr := st.UpdateRun(uctx, run); uerr != nil {
			log.Warn("jobs: recording failure", "err", uerr)
		}
		return err
	}
	return nil
}

// ingest does one run: pull, analyze, store, then the bookkeeping. Every
// step is safe to repeat.
func (w *ingestWorker) ingest(ctx context.Context, log interface {
	Info(string, ...any)
}, run *store.Run, leaseKey, holder string, periodic bool) error {
	o := w.q.opts
	st := o.Store
	cluster, integration := run.Cluster, run.Integration

	an, err := o.NewAnalyzer()
	if err != nil {
		return fmt.Errorf("analyzer: %w", err)
	}
	state, err := st.GetAnalyzerState(ctx, cluster, integration)
	alreadyIn := false
	switch {
	case err == nil:
		savedBy, snap, err := unwrapState(state.Data)
		if err != nil {
			return err
		}
		if savedBy == run.ID {
			alreadyIn = true // a previous attempt finished the analysis
		} else if err := an.Restore(bytes.NewReader(snap)); err != nil {
			return fmt.Errorf("analyzer: restoring state: %w", err)
		}
	case errors.Is(err, store.ErrNotFound):
	default:
		return err
	}

	var (
		read, stored, dups int64
		last               time.Time
		nFindings          int64
	)
	if !alreadyIn && run.From.Before(run.To) {
		ordinals := map[[32]byte]int{}
		pending := make([]store.Record, 0, o.BatchSize)
		// One writer goroutine stores batch n while this one pulls and
		// analyzes batch n+1: the two halves use about one core each
		// (BenchmarkEndToEnd).
		pctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		var readN atomic.Int64
		var seenN atomic.Int64 // records an earlier run stored (and its analyzer saw)
		batches := make(chan []store.Record, 1)
		writerDone := make(chan error, 1)
		go func() {
			var werr error
			lastProgress := time.Now()
			for b := range batches {
				if werr != nil {
					continue // drain
				}
				werr = func() error {
					res, err := st.InsertRecords(pctx, b)
					if err != nil {
						return err
					}
					stored += int64(res.Stored)
					dups += int64(res.Duplicates)
					w.q.metrics.records.WithLabelValues("stored").Add(float64(res.Stored))
					w.q.metrics.records.WithLabelValues("duplicate").Add(float64(res.Duplicates))
					if ok, err := st.AcquireLease(pctx, leaseKey, holder, o.PerIntegrationLimit, o.LeaseTTL); err != nil {
						return err
					} else if !ok {
						return errors.New("lost the integration lease (the job ran longer than the lease TTL without renewing)")
					}
					if time.Since(lastProgress) > 500*time.Millisecond {
						lastProgress = time.Now()
						run.RecordsRead, run.RecordsStored, run.DuplicatesSkipped = readN.Load(), stored, dups+seenN.Load()
						return st.UpdateRun(pctx, *run)
					}
					return nil
				}()
				if werr != nil {
					cancel(werr)
				}
			}
			writerDone <- werr
		}()
		flush := func() error {
			if len(pending) == 0 {
				return nil
			}
			select {
			case batches <- pending:
			case <-pctx.Done():
				return context.Cause(pctx)
			}
			pending = make([]store.Record, 0, o.BatchSize)
			return nil
		}
		q := sdk.LogQuery{Start: run.From, End: run.To, Limit: o.MaxRecordsPerJob}
		err := o.Source.SearchLogs(pctx, cluster+"/"+integration, q, func(batch []sdk.Record) error {
			recs := make([]store.Record, 0, len(batch))
			for _, rec := range batch {
				if !q.InRange(rec.Timestamp) {
					continue // a source must not, but we never store outside the window
				}
				read++
				r := store.Record{Cluster: cluster, Integration: integration, Record: rec, RunID: run.ID}
				if rec.Source.NativeID == "" {
					k := store.ContentKey(&r)
					r.Ordinal = ordinals[k]
					ordinals[k]++
				}
				if rec.Timestamp.After(last) {
					last = rec.Timestamp
				}
				recs = append(recs, r)
			}
			readN.Store(read)
			w.q.metrics.records.WithLabelValues("read").Add(float64(len(recs)))
			// Records another run already stored were observed by that run's
			// analyzer: observing them again would count them twice (a
			// re-ingest would raise false spikes).
			seen, err := st.Seen(pctx, recs)
			if err != nil {
				return err
			}
			for i := range recs {
				if seen[i] {
					seenN.Add(1)
					continue
				}
				r := recs[i]
				obs := an.Observe(cluster, integration, r.Record)
				r.TemplateID, r.Template = obs.TemplateID, obs.Template
				if r.Severity == sdk.SeverityUnspecified {
					r.Severity = obs.Severity
				}
				pending = append(pending, r)
				if len(pending) >= o.BatchSize {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		close(batches)
		if werr := <-writerDone; werr != nil {
			return werr // the pull's error, if any, is only the cancellation
		}
		if err != nil {
			return fmt.Errorf("pulling %s/%s: %w", cluster, integration, err)
		}
		dups += seenN.Load()
		w.q.metrics.records.WithLabelValues("duplicate").Add(float64(seenN.Load()))
		run.RecordsRead, run.RecordsStored, run.DuplicatesSkipped = read, stored, dups

		var tpls []store.Template
		for _, t := range an.Templates(cluster, integration) {
			tpls = append(tpls, store.Template{Cluster: cluster, Integration: integration, ID: t.ID, Template: t.Template, Severity: t.Severity})
		}
		if err := st.UpsertTemplates(ctx, tpls); err != nil {
			return err
		}
		var fs []store.Finding
		for _, f := range an.Findings(cluster) {
			fs = append(fs, store.Finding{Kind: f.Kind, TemplateID: f.TemplateID, Template: f.Template, Severity: f.Severity,
				Service: f.Service, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, Count: f.Count, Examples: f.Examples,
				Score: f.Score, Explanation: f.Explanation})
		}
		if err := st.ReplaceFindings(ctx, run.ID, cluster, integration, fs); err != nil {
			return err
		}
		nFindings = int64(len(fs))
		var snap bytes.Buffer
		if err := an.Snapshot(&snap); err != nil {
			return fmt.Errorf("analyzer: snapshot: %w", err)
		}
		state.Data = wrapState(run.ID, snap.Bytes())
		if err := st.PutAnalyzerState(ctx, state); err != nil {
			return err // ErrConflict: another run saved first; the retry re-observes over its state
		}
	} else if alreadyIn {
		read, stored, dups = run.RecordsRead, run.RecordsStored, run.DuplicatesSkipped
		nFindings = run.Findings
	}

	// The watermark: a periodic pull always advances it; a manual window
	// only when it continues from the watermark, so it never skips a gap.
	// A truncated pull advances only to its last record.
	mark := run.To
	if read >= int64(o.MaxRecordsPerJob) && !last.IsZero() {
		mark = last
	}
	advance := periodic
	if !periodic {
		cur, err := st.GetCursor(ctx, cluster, integration)
		advance = err == nil && !run.From.After(cur.Watermark)
	}
	if advance && !mark.IsZero() {
		if err := st.AdvanceCursor(ctx, cluster, integration, mark); err != nil {
			return err
		}
	}
	run.Status, run.Error, run.FinishedAt = store.RunSucceeded, "", o.Now()
	run.RecordsRead, run.RecordsStored, run.DuplicatesSkipped, run.Findings = read, stored, dups, nFindings
	if err := st.UpdateRun(ctx, *run); err != nil {
		return err
	}
	log.Info("jobs: ingest done", "records_read", read, "records_stored", stored, "duplicates_skipped", dups, "findings", nFindings)
	return nil
}

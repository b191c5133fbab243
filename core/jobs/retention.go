package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// RetentionArgs is the retention job: drop records older than
// Options.Retention and create the coming days' partitions.
type RetentionArgs struct{}

// Kind is the River job kind.
func (RetentionArgs) Kind() string { return "faultmaven.retention" }

// InsertOpts puts the job on the maintenance queue, one at a time.
func (RetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: nil}}
}

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	q *Queue
}

func (w *retentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	o := w.q.opts
	if o.Retention <= 0 {
		return nil
	}
	n, err := o.Store.ApplyRetention(ctx, o.Now().Add(-o.Retention))
	if err != nil {
		return err
	}
	o.Logger.Info("jobs: retention done", "records_deleted", n, "retention", o.Retention)
	return nil
}

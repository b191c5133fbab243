package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/faultmaven/faultmaven/core/store"
)

// Queue names.
const (
	QueueIngest      = "ingest"
	QueueMaintenance = "maintenance"
)

// ErrJobNotFound means no job has the id.
var ErrJobNotFound = errors.New("jobs: job not found")

// ErrInvalidRequest marks a request that can never succeed as asked.
var ErrInvalidRequest = errors.New("jobs: invalid request")

// riverClient is the part of river.Client[TTx] we use, whatever TTx.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// Queue enqueues, works and reports jobs.
type Queue struct {
	opts    Options
	client  riverClient
	metrics *metrics
}

type pooler interface{ Pool() *pgxpool.Pool }
type dber interface{ DB() *sql.DB }

// Migrate applies River's migrations to the store's database.
func Migrate(ctx context.Context, st store.Store) error {
	switch s := st.(type) {
	case pooler:
		m, err := rivermigrate.New(riverpgxv5.New(s.Pool()), nil)
		if err != nil {
			return fmt.Errorf("jobs: queue migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: queue migrations: %w", err)
		}
	case dber:
		m, err := rivermigrate.New(riversqlite.New(s.DB()), nil)
		if err != nil {
			return fmt.Errorf("jobs: queue migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: queue migrations: %w", err)
		}
	default:
		return fmt.Errorf("jobs: store %T has no database handle River can use", st)
	}
	return nil
}

// New builds a Queue on the store's database and applies River's
// migrations. It starts nothing.
func New(ctx context.Context, opts Options) (*Queue, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, o.Store); err != nil {
		return nil, err
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, fmt.Errorf("jobs: registering metrics: %w", err)
	}
	q := &Queue{opts: o, metrics: m}
	cfg := &river.Config{
		Logger:               o.Logger.With("component", "river"),
		MaxAttempts:          o.MaxAttempts,
		JobTimeout:           o.JobTimeout,
		RescueStuckJobsAfter: o.RescueAfter,
		FetchPollInterval:    o.PollInterval,
		ErrorHandler:         &errorLogger{log: o.Logger},
	}
	if o.RetryDelay != nil {
		cfg.RetryPolicy = retryPolicy(o.RetryDelay)
	}
	if !o.InsertOnly {
		workers := river.NewWorkers()
		river.AddWorker(workers, &ingestWorker{q: q})
		river.AddWorker(workers, &retentionWorker{q: q})
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{
			QueueIngest:      {MaxWorkers: o.Workers},
			QueueMaintenance: {MaxWorkers: 1},
		}
		cfg.PeriodicJobs = q.periodicJobs()
	}
	switch s := o.Store.(type) {
	case pooler:
		c, err := river.NewClient[pgx.Tx](riverpgxv5.New(s.Pool()), cfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.client = c
	case dber:
		c, err := river.NewClient[*sql.Tx](riversqlite.New(s.DB()), cfg)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.client = c
	default:
		return nil, fmt.Errorf("jobs: store %T has no database handle River can use", o.Store)
	}
	return q, nil
}

func (q *Queue) periodicJobs() []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, p := range q.opts.Periodic {
		args := IngestArgs{Cluster: p.Cluster, Integration: p.Integration, Periodic: true}
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(p.Interval),
			func() (river.JobArgs, *river.InsertOpts) { return args, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "ingest:" + p.Cluster + "/" + p.Integration}))
	}
	if q.opts.Retention > 0 {
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "retention"}))
	}
	return out
}

// Start starts working jobs (a no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if q.opts.InsertOnly {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: starting: %w", err)
	}
	return nil
}

// Stop waits for running jobs to finish until ctx is done, then cancels
// them (they will be retried).
func (q *Queue) Stop(ctx context.Context) error {
	if q.opts.InsertOnly {
		return nil
	}
	err := q.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(stopCtx)
	}
	if err != nil && !strings.Contains(err.Error(), "not started") {
		return fmt.Errorf("jobs: stopping: %w", err)
	}
	return nil
}

// IngestRequest asks for one window of one integration.
type IngestRequest struct {
	Cluster     string
	Integration string
	From, To    time.Time
}

// EnqueueIngest enqueues an ingest job and returns its id. An identical
// request still queued or running is not duplicated: its id is returned.
func (q *Queue) EnqueueIngest(ctx context.Context, r IngestRequest) (int64, error) {
	if r.Cluster == "" || r.Integration == "" {
		return 0, fmt.Errorf("%w: ingest needs a cluster and an integration", ErrInvalidRequest)
	}
	if r.From.IsZero() || r.To.IsZero() || !r.From.Before(r.To) {
		return 0, fmt.Errorf("%w: ingest needs a window with from before to", ErrInvalidRequest)
	}
	if _, err := q.opts.Store.GetIntegration(ctx, r.Cluster, r.Integration); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("jobs: integration %s/%s is not configured: %w", r.Cluster, r.Integration, err)
		}
		return 0, err
	}
	args := IngestArgs{Cluster: r.Cluster, Integration: r.Integration, From: r.From.UTC(), To: r.To.UTC()}
	res, err := q.client.Insert(ctx, args, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue ingest: %w", err)
	}
	return res.Job.ID, nil
}

// JobStatus is a job's state and, for ingest jobs, its run's progress.
type JobStatus struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"` // River's: available, running, retryable, completed, discarded…
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"max_attempts"`
	Errors      []string  `json:"errors,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`

	Cluster           string    `json:"cluster,omitempty"`
	Integration       string    `json:"integration,omitempty"`
	From              time.Time `json:"from,omitzero"`
	To                time.Time `json:"to,omitzero"`
	RecordsRead       int64     `json:"records_read"`
	RecordsStored     int64     `json:"records_stored"`
	DuplicatesSkipped int64     `json:"duplicates_skipped"`
	Findings          int64     `json:"findings"`
}

// Done reports whether the job reached a final state.
func (s JobStatus) Done() bool {
	switch rivertype.JobState(s.State) {
	case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return true
	}
	return false
}

// Succeeded reports whether the job completed.
func (s JobStatus) Succeeded() bool { return s.State == string(rivertype.JobStateCompleted) }

// Job returns a job's status.
func (q *Queue) Job(ctx context.Context, id int64) (JobStatus, error) {
	row, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return JobStatus{}, fmt.Errorf("%w: %d", ErrJobNotFound, id)
	}
	if err != nil {
		return JobStatus{}, fmt.Errorf("jobs: job %d: %w", id, err)
	}
	st := JobStatus{ID: row.ID, Kind: row.Kind, State: string(row.State), Attempt: row.Attempt,
		MaxAttempts: row.MaxAttempts, CreatedAt: row.CreatedAt}
	if row.FinalizedAt != nil {
		st.FinishedAt = *row.FinalizedAt
	}
	for _, e := range row.Errors {
		st.Errors = append(st.Errors, e.Error)
	}
	if row.Kind == (IngestArgs{}).Kind() {
		run, err := q.opts.Store.GetRun(ctx, id)
		switch {
		case err == nil:
			st.Cluster, st.Integration, st.From, st.To = run.Cluster, run.Integration, run.From, run.To
			st.RecordsRead, st.RecordsStored, st.DuplicatesSkipped, st.Findings = run.RecordsRead, run.RecordsStored, run.DuplicatesSkipped, run.Findings
		case errors.Is(err, store.ErrNotFound): // not started yet
		default:
			return st, err
		}
	}
	return st, nil
}

// Wait polls the job until it is done or ctx ends, calling progress (if
// not nil) after each poll.
func (q *Queue) Wait(ctx context.Context, id int64, progress func(JobStatus)) (JobStatus, error) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := q.Job(ctx, id)
		if err != nil {
			return st, err
		}
		if progress != nil {
			progress(st)
		}
		if st.Done() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

type retryPolicy func(attempt int) time.Duration

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p(job.Attempt))
}

// errorLogger logs job errors; River keeps them on the job row too.
type errorLogger struct {
	log interface{ Warn(string, ...any) }
}

func (e *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.log.Warn("jobs: job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", err)
	return nil
}

func (e *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.log.Warn("jobs: job panicked", "job_id", job.ID, "kind", job.Kind, "panic", fmt.Sprint(panicVal))
	return nil
}

// EnqueuePull enqueues a pull of one integration from its watermark to
// now (what the periodic schedule does) and returns the job id.
func (q *Queue) EnqueuePull(ctx context.Context, cluster, integration string) (int64, error) {
	if _, err := q.opts.Store.GetIntegration(ctx, cluster, integration); err != nil {
		return 0, err
	}
	res, err := q.client.Insert(ctx, IngestArgs{Cluster: cluster, Integration: integration, Periodic: true}, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: enqueue pull: %w", err)
	}
	return res.Job.ID, nil
}

package jobs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/faultmaven/faultmaven/core/store"
)

// PeriodicPull asks for a pull of one integration every Interval.
type PeriodicPull struct {
	Cluster     string
	Integration string
	Interval    time.Duration
}

// Options configures a Queue. Store is required; Source and NewAnalyzer
// are required unless InsertOnly. Zero values take the defaults.
type Options struct {
	Store       store.Store
	Source      LogSource
	NewAnalyzer NewAnalyzerFunc
	Logger      *slog.Logger
	Now         func() time.Time
	// Registerer receives the ingest metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer

	// InsertOnly makes a client that enqueues and reads jobs but works none.
	InsertOnly bool
	// Workers is how many jobs this process works at once. Default 4.
	Workers int
	// PerIntegrationLimit is how many ingest jobs may pull from one
	// integration at once, across all processes. Default 1.
	PerIntegrationLimit int
	// LeaseTTL is how long an ingest job's hold on an integration lasts
	// without renewal (renewed every batch). Default 2m.
	LeaseTTL time.Duration
	// MaxAttempts before a job is discarded (parked). Default 8.
	MaxAttempts int
	// JobTimeout cancels a job running longer. Default 30m.
	JobTimeout time.Duration
	// RescueAfter is when a job whose worker vanished (killed, crashed) is
	// retried. Must be at least JobTimeout. Default JobTimeout + 5m.
	RescueAfter time.Duration
	// MaxRecordsPerJob bounds one pull; a periodic pull that hits it
	// continues from the last timestamp next time. Default 1,000,000.
	MaxRecordsPerJob int
	// BatchSize is how many records go to the store per transaction.
	// Default 5000.
	BatchSize int
	// Periodic pulls; each follows its integration's watermark.
	Periodic []PeriodicPull
	// InitialLookback is how far back a periodic pull with no watermark
	// starts. Default 1h.
	InitialLookback time.Duration
	// Lag keeps periodic pulls this far behind now, for late records.
	// Default 30s.
	Lag time.Duration
	// Retention is how long records are kept; the retention job runs
	// hourly. Default 30 days; negative disables it.
	Retention time.Duration
	// PollInterval is how often workers look for new jobs besides
	// notifications. Default 1s; at least 100ms (River's fetch cooldown).
	PollInterval time.Duration
	// RetryDelay overrides River's backoff (attempt^4 seconds) when set;
	// tests use it.
	RetryDelay func(attempt int) time.Duration
}

// DefaultOptions returns the defaults (without Store, Source, NewAnalyzer).
func DefaultOptions() Options {
	return Options{
		Workers: 4, PerIntegrationLimit: 1, LeaseTTL: 2 * time.Minute, MaxAttempts: 8,
		JobTimeout: 30 * time.Minute, MaxRecordsPerJob: 1_000_000, BatchSize: 5000,
		InitialLookback: time.Hour, Lag: 30 * time.Second, Retention: 30 * 24 * time.Hour,
		PollInterval: time.Second,
	}
}

func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&o.Workers, d.Workers)
	set(&o.PerIntegrationLimit, d.PerIntegrationLimit)
	set(&o.MaxAttempts, d.MaxAttempts)
	set(&o.MaxRecordsPerJob, d.MaxRecordsPerJob)
	set(&o.BatchSize, d.BatchSize)
	setD(&o.LeaseTTL, d.LeaseTTL)
	setD(&o.JobTimeout, d.JobTimeout)
	setD(&o.InitialLookback, d.InitialLookback)
	setD(&o.Lag, d.Lag)
	setD(&o.PollInterval, d.PollInterval)
	if o.PollInterval < 100*time.Millisecond {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.Retention == 0 {
		o.Retention = d.Retention
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = o.JobTimeout + 5*time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Store == nil {
		return o, errors.New("jobs: Options.Store is required")
	}
	if !o.InsertOnly && (o.Source == nil || o.NewAnalyzer == nil) {
		return o, errors.New("jobs: Options.Source and Options.NewAnalyzer are required to work jobs")
	}
	if o.RescueAfter < o.JobTimeout {
		return o, errors.New("jobs: RescueAfter must be at least JobTimeout")
	}
	for _, p := range o.Periodic {
		if p.Cluster == "" || p.Integration == "" || p.Interval <= 0 {
			return o, errors.New("jobs: a periodic pull needs cluster, integration and a positive interval")
		}
	}
	return o, nil
}

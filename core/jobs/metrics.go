package jobs

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the ingest jobs, registered on Options.Registerer.
type metrics struct {
	records  *prometheus.CounterVec   // result: read, stored, duplicate
	runs     *prometheus.CounterVec   // outcome: succeeded, failed, snoozed
	duration *prometheus.HistogramVec // outcome
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_ingest_records_total",
			Help: "Records handled by ingest jobs, by result (read, stored, duplicate).",
		}, []string{"result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_ingest_runs_total",
			Help: "Ingest job attempts by outcome (succeeded, failed, snoozed).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faultmaven_ingest_run_duration_seconds",
			Help:    "Duration of ingest job attempts.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14),
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.records, m.runs, m.duration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
		}
	}
	return m, nil
}

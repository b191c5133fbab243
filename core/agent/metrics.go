package agent

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the agent's Prometheus series; nil-safe so that an Agent
// built without a Registerer records nothing.
type metrics struct {
	answers  *prometheus.CounterVec
	latency  prometheus.Histogram
	records  prometheus.Counter
	failures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_ask_answers_total",
			Help: "Questions answered, by confidence (high, medium, low, none) or outcome (invalid, error).",
		}, []string{"confidence"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "faultmaven_ask_duration_seconds",
			Help:    "Time to answer a question: pulling logs, analysis, knowledge search.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "faultmaven_ask_records_analyzed_total",
			Help: "Log records read to answer questions.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_ask_source_failures_total",
			Help: "Integrations that failed while answering a question, by integration.",
		}, []string{"integration"}),
	}
	for _, c := range []prometheus.Collector{m.answers, m.latency, m.records, m.failures} {
		if err := reg.Register(c); err != nil {
			// A second Agent on the same registry shares the first's series.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
	return m
}

func (m *metrics) answered(rep *Report, seconds float64, err error) {
	if m == nil {
		return
	}
	switch {
	case errors.Is(err, ErrInvalid):
		m.answers.WithLabelValues("invalid").Inc()
		return
	case err != nil:
		m.answers.WithLabelValues("error").Inc()
		return
	}
	m.answers.WithLabelValues(rep.Confidence).Inc()
	m.latency.Observe(seconds)
	for _, s := range rep.Sources {
		m.records.Add(float64(s.Records))
		if s.Error != "" {
			m.failures.WithLabelValues(s.Name).Inc()
		}
	}
}

package knowledge

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the knowledge base's Prometheus series; nil-safe so that a
// Service built without a Registerer records nothing.
type metrics struct {
	ingested *prometheus.CounterVec
	searches *prometheus.CounterVec
	latency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_knowledge_chunks_ingested_total",
			Help: "Chunks embedded and stored, by document kind.",
		}, []string{"kind"}),
		searches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_knowledge_searches_total",
			Help: "Knowledge searches by outcome (ok, invalid, error).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "faultmaven_knowledge_search_duration_seconds",
			Help:    "Hybrid search latency (embedding, vector search, BM25, fusion).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	for _, c := range []prometheus.Collector{m.ingested, m.searches, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("knowledge: registering metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) chunks(kind Kind, n int) {
	if m != nil {
		m.ingested.WithLabelValues(string(kind)).Add(float64(n))
	}
}

func (m *metrics) search(seconds float64, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	switch {
	case errors.Is(err, ErrInvalid):
		outcome = "invalid"
	case err != nil:
		outcome = "error"
	}
	m.searches.WithLabelValues(outcome).Inc()
	if err == nil {
		m.latency.Observe(seconds)
	}
}

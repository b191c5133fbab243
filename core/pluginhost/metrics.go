package pluginhost

import "github.com/prometheus/client_golang/prometheus"

// metrics are the host's Prometheus metrics, registered on the injected
// Registerer (never the global one).
type metrics struct {
	up           *prometheus.GaugeVec
	restarts     *prometheus.CounterVec
	breakerOpen  *prometheus.GaugeVec
	callDuration *prometheus.HistogramVec
	records      *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	dropped      *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faultmaven_plugin_up", Help: "1 when the plugin process is running and connected.",
		}, []string{"plugin"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_plugin_restarts_total", Help: "Plugin restarts after a crash.",
		}, []string{"plugin"}),
		breakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faultmaven_plugin_breaker_open", Help: "1 while the plugin's circuit breaker is open.",
		}, []string{"plugin"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faultmaven_plugin_call_duration_seconds",
			Help:    "Latency of calls to plugins by method and outcome code.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"plugin", "method", "code"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_plugin_records_streamed_total", Help: "Log records received from plugins.",
		}, []string{"plugin"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_plugin_bytes_streamed_total", Help: "Approximate bytes of log records received from plugins.",
		}, []string{"plugin"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faultmaven_plugin_records_dropped_total", Help: "Records a plugin sent that broke the query (outside the time range or past the limit).",
		}, []string{"plugin", "reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.up, m.restarts, m.breakerOpen, m.callDuration, m.records, m.bytes, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

package sdk

import (
	"context"
	"encoding/json"
)

// Adapter is what every plugin implements. Methods may be called
// concurrently, for the same or different instances.
type Adapter interface {
	// Metadata describes the plugin. Capabilities are filled by the SDK.
	Metadata() Metadata
	// Validate checks an instance config without keeping it. Problems with
	// particular fields are reported as a [*ConfigError].
	Validate(ctx context.Context, config json.RawMessage) error
	// Configure validates config and creates or replaces the named instance.
	Configure(ctx context.Context, instance string, config json.RawMessage) error
	// Remove forgets an instance. Removing an unknown instance is not an error.
	Remove(ctx context.Context, instance string) error
	// Health checks that the instance can do its job: credentials work, the
	// backend answers. An unknown instance is an [*Error] with CodeNotFound.
	Health(ctx context.Context, instance string) (HealthReport, error)
}

// LogSearcher is implemented by adapters with the logs capability.
type LogSearcher interface {
	// SearchLogs writes the records matching q to w, oldest first where the
	// backend allows it. It must stop and return ctx.Err() when ctx is done,
	// and stop (returning nil) when w.Write returns [ErrLimitReached].
	SearchLogs(ctx context.Context, instance string, q LogQuery, w RecordWriter) error
}

// RecordWriter receives search results. The SDK batches records by count and
// bytes before they cross the process boundary, and enforces the limit.
type RecordWriter interface {
	Write(r Record) error
}

// MetricsQuerier is implemented by adapters with the metrics capability.
type MetricsQuerier interface {
	QueryMetrics(ctx context.Context, instance string, q MetricQuery) ([]Series, error)
}

// CapabilitiesOf lists the optional capabilities a implements.
func CapabilitiesOf(a Adapter) []Capability {
	var caps []Capability
	if _, ok := a.(LogSearcher); ok {
		caps = append(caps, CapabilityLogs)
	}
	if _, ok := a.(MetricsQuerier); ok {
		caps = append(caps, CapabilityMetrics)
	}
	return caps
}

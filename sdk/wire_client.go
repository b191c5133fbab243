package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Client is the host's typed view of a connected plugin. It is safe for
// concurrent use. Hosts get one from [Dispense].
type Client struct {
	meta    pluginpb.MetadataClient
	inst    pluginpb.InstancesClient
	health  pluginpb.HealthClient
	logs    pluginpb.LogsClient
	metrics pluginpb.MetricsClient
	proto   encoding.CodecV2 // gRPC's protobuf codec
}

// batchCodec is gRPC's protobuf codec, except that it decodes a log batch
// received into a *batchDecoder straight into Records (see
// wire_convert_record.go). Its name is the protobuf codec's, so what goes
// on the wire does not change.
type batchCodec struct{ encoding.CodecV2 }

func (c batchCodec) Unmarshal(data mem.BufferSlice, v any) error {
	d, ok := v.(*batchDecoder)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	if len(data) == 1 {
		return d.decode(data[0].ReadOnlyData())
	}
	// A batch larger than one HTTP/2 frame arrives in pieces. Join them in
	// the decoder's own buffer: gRPC's pool would hand out (and zero) a
	// 1 MiB buffer for anything over 32 KiB.
	d.joined = d.joined[:0]
	for _, b := range data {
		d.joined = append(d.joined, b.ReadOnlyData()...)
	}
	return d.decode(d.joined)
}

func newClient(cc *grpc.ClientConn) *Client {
	return &Client{
		meta:    pluginpb.NewMetadataClient(cc),
		inst:    pluginpb.NewInstancesClient(cc),
		health:  pluginpb.NewHealthClient(cc),
		logs:    pluginpb.NewLogsClient(cc),
		metrics: pluginpb.NewMetricsClient(cc),
		proto:   encoding.GetCodecV2(grpcproto.Name),
	}
}

// Metadata asks the plugin to describe itself.
func (c *Client) Metadata(ctx context.Context) (Metadata, error) {
	resp, err := c.meta.GetMetadata(ctx, &pluginpb.GetMetadataRequest{})
	if err != nil {
		return Metadata{}, errorFromStatus(ctx, err)
	}
	m := Metadata{
		Name:            resp.GetName(),
		Version:         resp.GetVersion(),
		Description:     resp.GetDescription(),
		ConfigSchema:    json.RawMessage(resp.GetConfigSchemaJson()),
		SDKVersion:      resp.GetSdkVersion(),
		ProtocolVersion: int(resp.GetProtocolVersion()),
	}
	for _, c := range resp.GetCapabilities() {
		m.Capabilities = append(m.Capabilities, Capability(c))
	}
	return m, nil
}

// Validate checks a config; field problems come back as a *ConfigError.
func (c *Client) Validate(ctx context.Context, config json.RawMessage) error {
	resp, err := c.inst.Validate(ctx, &pluginpb.ValidateRequest{ConfigJson: config})
	if err != nil {
		return errorFromStatus(ctx, err)
	}
	if len(resp.GetErrors()) > 0 {
		return &ConfigError{Fields: fieldsFromPB(resp.GetErrors())}
	}
	return nil
}

// Configure creates or replaces an instance.
func (c *Client) Configure(ctx context.Context, instance string, config json.RawMessage) error {
	_, err := c.inst.Configure(ctx, &pluginpb.ConfigureRequest{InstanceId: instance, ConfigJson: config})
	return errorFromStatus(ctx, err)
}

// Remove forgets an instance.
func (c *Client) Remove(ctx context.Context, instance string) error {
	_, err := c.inst.Remove(ctx, &pluginpb.RemoveRequest{InstanceId: instance})
	return errorFromStatus(ctx, err)
}

// Health checks an instance.
func (c *Client) Health(ctx context.Context, instance string) (HealthReport, error) {
	resp, err := c.health.Check(ctx, &pluginpb.HealthRequest{InstanceId: instance})
	if err != nil {
		return HealthReport{}, errorFromStatus(ctx, err)
	}
	st := HealthStatus(resp.GetStatus())
	if st < HealthUnknown || st > HealthDown {
		st = HealthUnknown
	}
	return HealthReport{
		Status:  st,
		Message: resp.GetMessage(),
		Latency: time.Duration(resp.GetLatencyNs()),
		Details: resp.GetDetails(),
	}, nil
}

// SearchOptions bound the batches a search streams back.
type SearchOptions struct {
	MaxBatchRecords int
	MaxBatchBytes   int64
}

// SearchLogs streams the records of q, calling fn once per batch in order.
// The slice passed to fn is fn's to keep. An error returned by fn stops the
// search and is returned as is.
func (c *Client) SearchLogs(ctx context.Context, instance string, q LogQuery, opts SearchOptions, fn func([]Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.logs.Search(ctx, queryToPB(instance, q, opts.MaxBatchRecords, opts.MaxBatchBytes), grpc.ForceCodecV2(batchCodec{c.proto}))
	if err != nil {
		return errorFromStatus(ctx, err)
	}
	var dec batchDecoder
	for {
		err := stream.RecvMsg(&dec)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errorFromStatus(ctx, err)
		}
		recs := dec.recs
		dec.recs = nil
		if err := fn(recs); err != nil {
			return err
		}
		// Batches already in flight still arrive after a cancel; the
		// caller asked to stop, so stop here.
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// QueryMetrics runs a range query.
func (c *Client) QueryMetrics(ctx context.Context, instance string, q MetricQuery) ([]Series, error) {
	resp, err := c.metrics.Query(ctx, &pluginpb.MetricsQueryRequest{
		InstanceId: instance,
		Query:      q.Query,
		StartNs:    nsOf(q.Start),
		EndNs:      nsOf(q.End),
		StepNs:     q.Step.Nanoseconds(),
	})
	if err != nil {
		return nil, errorFromStatus(ctx, err)
	}
	out := make([]Series, len(resp.GetSeries()))
	for i, s := range resp.GetSeries() {
		out[i] = Series{Name: s.GetName(), Labels: s.GetLabels(), Samples: make([]Sample, len(s.GetSamples()))}
		for j, smp := range s.GetSamples() {
			out[i].Samples[j] = Sample{Timestamp: time.Unix(0, smp.GetTimestampNs()).UTC(), Value: smp.GetValue()}
		}
	}
	return out, nil
}

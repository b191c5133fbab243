package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Batch bounds. A host may ask for smaller batches; larger requests are
// clamped so one message stays well under gRPC's 4 MiB default.
const (
	DefaultBatchRecords = 500
	DefaultBatchBytes   = 1 << 20
	MaxBatchRecords     = 10000
	MaxBatchBytes       = 3 << 20
	// MaxBodyBytes bounds one record's body; longer bodies are cut and the
	// record gets the attribute "truncated"="true".
	MaxBodyBytes = 1 << 20
)

// grpcPlugin is the go-plugin glue. impl is nil on the host side.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Adapter
}

// GRPCServer registers the services the adapter implements. Optional
// services are registered only when present, so a host calling one that is
// absent gets Unimplemented.
func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	srv := &server{a: p.impl}
	pluginpb.RegisterMetadataServer(s, srv)
	pluginpb.RegisterInstancesServer(s, srv)
	pluginpb.RegisterHealthServer(s, srv)
	if ls, ok := p.impl.(LogSearcher); ok {
		pluginpb.RegisterLogsServer(s, &logsServer{ls: ls})
	}
	if mq, ok := p.impl.(MetricsQuerier); ok {
		pluginpb.RegisterMetricsServer(s, &metricsServer{mq: mq})
	}
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return newClient(cc), nil
}

type server struct {
	pluginpb.UnimplementedMetadataServer
	pluginpb.UnimplementedInstancesServer
	pluginpb.UnimplementedHealthServer
	a Adapter
}

// metadataOf fills the SDK-owned fields of an adapter's metadata.
func metadataOf(a Adapter) Metadata {
	m := a.Metadata()
	m.SDKVersion = Version
	m.ProtocolVersion = ProtocolVersion
	m.Capabilities = CapabilitiesOf(a)
	return m
}

func (s *server) GetMetadata(context.Context, *pluginpb.GetMetadataRequest) (*pluginpb.GetMetadataResponse, error) {
	m := metadataOf(s.a)
	caps := make([]string, len(m.Capabilities))
	for i, c := range m.Capabilities {
		caps[i] = string(c)
	}
	return &pluginpb.GetMetadataResponse{
		Name:             m.Name,
		Version:          m.Version,
		SdkVersion:       m.SDKVersion,
		ProtocolVersion:  uint32(m.ProtocolVersion),
		Capabilities:     caps,
		ConfigSchemaJson: string(m.ConfigSchema),
		Description:      m.Description,
	}, nil
}

func (s *server) Validate(ctx context.Context, req *pluginpb.ValidateRequest) (*pluginpb.ValidateResponse, error) {
	err := s.a.Validate(ctx, json.RawMessage(req.GetConfigJson()))
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &pluginpb.ValidateResponse{Errors: fieldsToPB(ce.Fields)}, nil
	}
	return &pluginpb.ValidateResponse{}, errorToStatus(err)
}

func (s *server) Configure(ctx context.Context, req *pluginpb.ConfigureRequest) (*pluginpb.ConfigureResponse, error) {
	if req.GetInstanceId() == "" {
		return nil, errorToStatus(FieldErrorf("instance_id", "must not be empty"))
	}
	return &pluginpb.ConfigureResponse{}, errorToStatus(s.a.Configure(ctx, req.GetInstanceId(), json.RawMessage(req.GetConfigJson())))
}

func (s *server) Remove(ctx context.Context, req *pluginpb.RemoveRequest) (*pluginpb.RemoveResponse, error) {
	return &pluginpb.RemoveResponse{}, errorToStatus(s.a.Remove(ctx, req.GetInstanceId()))
}

func (s *server) Check(ctx context.Context, req *pluginpb.HealthRequest) (*pluginpb.HealthResponse, error) {
	rep, err := s.a.Health(ctx, req.GetInstanceId())
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pluginpb.HealthResponse{
		Status:    pluginpb.HealthStatus(rep.Status),
		Message:   rep.Message,
		LatencyNs: rep.Latency.Nanoseconds(),
		Details:   rep.Details,
	}, nil
}

type logsServer struct {
	pluginpb.UnimplementedLogsServer
	ls LogSearcher
}

func (s *logsServer) Search(req *pluginpb.SearchLogsRequest, stream grpc.ServerStreamingServer[pluginpb.LogBatch]) error {
	q := queryFromPB(req)
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	w := newBatchWriter(stream, req.GetInstanceId(), q.Limit, int(req.GetMaxBatchRecords()), req.GetMaxBatchBytes())
	err := s.ls.SearchLogs(stream.Context(), req.GetInstanceId(), q, w)
	if errors.Is(err, ErrLimitReached) {
		err = nil
	}
	if err == nil {
		err = w.flush()
	}
	return errorToStatus(err)
}

// batchWriter turns single records into bounded batches on the stream.
// Records are encoded as they arrive, into one buffer reused from batch to
// batch, and sent as an EncodedLogBatch: the same bytes as a LogBatch
// without a LogRecord message per record (see wire_convert_record.go).
type batchWriter struct {
	stream     grpc.ServerStreamingServer[pluginpb.LogBatch]
	instance   string
	limit      int
	maxRecords int
	maxBytes   int
	written    int

	enc  recordEncoder
	buf  []byte // the batch's records, encoded back to back
	ends []int  // where each record of the batch ends in buf
	// msg is reused: SendMsg has encoded it by the time it returns.
	msg pluginpb.EncodedLogBatch
}

func newBatchWriter(stream grpc.ServerStreamingServer[pluginpb.LogBatch], instance string, limit, maxRecords int, maxBytes int64) *batchWriter {
	if maxRecords <= 0 {
		maxRecords = DefaultBatchRecords
	}
	maxRecords = min(maxRecords, MaxBatchRecords)
	if maxBytes <= 0 {
		maxBytes = DefaultBatchBytes
	}
	maxBytes = min(maxBytes, MaxBatchBytes)
	return &batchWriter{
		stream:     stream,
		instance:   instance,
		limit:      limit,
		maxRecords: maxRecords,
		maxBytes:   int(maxBytes),
		ends:       make([]int, 0, min(maxRecords, DefaultBatchRecords)),
	}
}

func (w *batchWriter) Write(r Record) error {
	if w.written >= w.limit {
		return ErrLimitReached
	}
	if err := w.stream.Context().Err(); err != nil {
		return err
	}
	r.Source.Instance = w.instance
	// appendRecord repairs invalid UTF-8, which can triple a body's
	// length; repair a body that could outgrow MaxBodyBytes here, before
	// it is cut. Shorter bodies are checked once, by appendRecord.
	if len(r.Body) > MaxBodyBytes/3 {
		r.Body = validUTF8(r.Body)
	}
	if len(r.Body) > MaxBodyBytes {
		cut := MaxBodyBytes
		for cut > 0 && !utf8.RuneStart(r.Body[cut]) {
			cut-- // cut on a character boundary
		}
		r.Body = r.Body[:cut]
		attrs := make(map[string]string, len(r.Attributes)+1)
		for k, v := range r.Attributes {
			attrs[k] = v
		}
		attrs["truncated"] = "true"
		r.Attributes = attrs
	}
	start := len(w.buf)
	w.buf = w.enc.appendRecord(w.buf, &r)
	if len(w.ends) > 0 && len(w.buf) > w.maxBytes {
		// r overflows the batch: send the records before it, and r
		// starts the next batch.
		if err := w.send(); err != nil {
			return err
		}
		w.buf = append(w.buf[:0], w.buf[start:]...)
	}
	w.ends = append(w.ends, len(w.buf))
	w.written++
	if len(w.ends) >= w.maxRecords || len(w.buf) >= w.maxBytes {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.written >= w.limit {
		return ErrLimitReached
	}
	return nil
}

func (w *batchWriter) flush() error {
	err := w.send()
	w.buf = w.buf[:0]
	return err
}

// send sends the records listed in w.ends and forgets them; their bytes
// stay in w.buf for the caller to drop.
func (w *batchWriter) send() error {
	if len(w.ends) == 0 {
		return nil
	}
	recs, start := w.msg.Records[:0], 0
	for _, end := range w.ends {
		recs = append(recs, w.buf[start:end])
		start = end
	}
	w.msg.Records = recs
	w.ends = w.ends[:0]
	return w.stream.SendMsg(&w.msg)
}

type metricsServer struct {
	pluginpb.UnimplementedMetricsServer
	mq MetricsQuerier
}

func (s *metricsServer) Query(ctx context.Context, req *pluginpb.MetricsQueryRequest) (*pluginpb.MetricsQueryResponse, error) {
	series, err := s.mq.QueryMetrics(ctx, req.GetInstanceId(), MetricQuery{
		Query: req.GetQuery(),
		Start: timeOf(req.GetStartNs()),
		End:   timeOf(req.GetEndNs()),
		Step:  time.Duration(req.GetStepNs()),
	})
	if err != nil {
		return nil, errorToStatus(err)
	}
	out := &pluginpb.MetricsQueryResponse{Series: make([]*pluginpb.Series, len(series))}
	for i, s := range series {
		ps := &pluginpb.Series{Name: s.Name, Labels: s.Labels, Samples: make([]*pluginpb.Sample, len(s.Samples))}
		for j, smp := range s.Samples {
			ps.Samples[j] = &pluginpb.Sample{TimestampNs: smp.Timestamp.UnixNano(), Value: smp.Value}
		}
		out.Series[i] = ps
	}
	return out, nil
}

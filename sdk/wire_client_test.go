package sdk

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// These tests run the log stream through real gRPC (in memory), against
// peers built the way the SDK was before the record codec: a host that
// receives LogBatch with the generated code, and a plugin that sends it.

// dialLogs serves srv and returns a connection to it.
func dialLogs(t *testing.T, srv pluginpb.LogsServer) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	pluginpb.RegisterLogsServer(s, srv)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	cc, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// searcher is a LogSearcher that writes recs.
type searcher struct {
	Adapter
	recs []Record
}

func (s searcher) SearchLogs(_ context.Context, _ string, _ LogQuery, w RecordWriter) error {
	for _, r := range s.recs {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// streamRecords is what the test adapters send: the codec's edge cases,
// a batch's worth of files-like records, and a body with invalid UTF-8.
func streamRecords() []Record {
	recs := filesLikeBatch(1200)
	for _, r := range wireRecords() {
		recs = append(recs, r)
	}
	return append(recs, Record{Body: "bad \xff byte", Service: "s"})
}

// asReceived is r as a host should see it after the plugin's SDK set the
// instance and repaired the UTF-8.
func asReceived(r Record, instance string) Record {
	r.Source.Instance = instance
	r.Body = strings.ToValidUTF8(r.Body, "\uFFFD")
	if r.Severity < SeverityUnspecified || r.Severity > SeverityFatal {
		r.Severity = SeverityUnspecified
	}
	if len(r.Attributes) == 0 {
		r.Attributes = nil
	}
	return r
}

func TestSearchLogsOverGRPC(t *testing.T) {
	recs := streamRecords()
	want := make([]Record, len(recs))
	for i, r := range recs {
		want[i] = asReceived(r, "p/i")
	}
	q := &pluginpb.SearchLogsRequest{InstanceId: "p/i", Limit: int64(len(recs)), MaxBatchBytes: 64 << 10}

	t.Run("new-plugin-to-new-host", func(t *testing.T) {
		cc := dialLogs(t, &logsServer{ls: searcher{recs: recs}})
		var got []Record
		var sizes []int
		err := newClient(cc).SearchLogs(t.Context(), "p/i", LogQuery{Limit: len(recs)}, SearchOptions{MaxBatchBytes: 64 << 10}, func(b []Record) error {
			got = append(got, b...)
			sizes = append(sizes, len(b))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, got, want)
		if len(sizes) < 3 {
			t.Errorf("batch sizes %v: want the 64 KiB bound to split the stream", sizes)
		}
	})

	t.Run("new-plugin-to-old-host", func(t *testing.T) {
		cc := dialLogs(t, &logsServer{ls: searcher{recs: recs}})
		stream, err := pluginpb.NewLogsClient(cc).Search(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		var got []Record
		for {
			batch, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("the generated code refuses a batch: %v", err)
			}
			for _, p := range batch.GetRecords() {
				got = append(got, recordFromPB(p))
			}
		}
		checkRecords(t, got, want)
	})

	t.Run("old-plugin-to-new-host", func(t *testing.T) {
		old := make([]Record, 0, len(recs))
		for _, r := range recs {
			old = append(old, asReceived(r, "p/i")) // an old plugin refuses to send invalid UTF-8
		}
		cc := dialLogs(t, oldLogsServer{recs: old})
		var got []Record
		err := newClient(cc).SearchLogs(t.Context(), "p/i", LogQuery{}, SearchOptions{}, func(b []Record) error {
			got = append(got, b...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, got, want)
	})
}

func checkRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// oldLogsServer sends LogBatch through the generated code, 500 records a
// batch, as the SDK did before the record codec.
type oldLogsServer struct {
	pluginpb.UnimplementedLogsServer
	recs []Record
}

func (s oldLogsServer) Search(_ *pluginpb.SearchLogsRequest, stream grpc.ServerStreamingServer[pluginpb.LogBatch]) error {
	for len(s.recs) > 0 {
		n := min(len(s.recs), DefaultBatchRecords)
		batch := &pluginpb.LogBatch{}
		for i := range s.recs[:n] {
			batch.Records = append(batch.Records, recordToPB(&s.recs[i]))
		}
		if err := stream.Send(batch); err != nil {
			return err
		}
		s.recs = s.recs[n:]
	}
	return nil
}

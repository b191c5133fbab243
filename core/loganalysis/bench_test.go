package loganalysis_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/sdk"
)

// loghubCorpus returns the Loghub samples concatenated, or skips.
func loghubCorpus(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	for _, d := range []string{"HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "HealthApp", "OpenStack"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "loghub", d, d+"_2k.log"))
		if err != nil {
			tb.Skipf("Loghub samples absent at ../shared/loghub: %v", err)
		}
		buf.Write(bytes.ReplaceAll(b, []byte("\r"), nil))
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// BenchmarkParserRun measures the raw-text path (split, header, mine);
// lines/s is reported as a metric. "mixed" is the eight Loghub samples in
// one stream (the worst case: one learnt layout, seven formats falling
// back to per-line reading); "HDFS" is one format.
func BenchmarkParserRun(b *testing.B) {
	all := loghubCorpus(b)
	hdfs := all[:bytes.Index(all, []byte("\n2015-10-18"))+1] // the HDFS sample comes first
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"mixed", bytes.Repeat(all, 8)},
		{"HDFS", bytes.Repeat(hdfs, 64)},
	} {
		b.Run(bc.name, func(b *testing.B) { benchParse(b, bc.data) })
	}
}

func benchParse(b *testing.B, data []byte) {
	lines := strings.Count(string(data), "\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := loganalysis.NewParser(loganalysis.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Run(b.Context(), bytes.NewReader(data), func(loganalysis.ParsedRecord) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkObserve measures the streaming path, one record at a time.
func BenchmarkObserve(b *testing.B) {
	data := loghubCorpus(b)
	lines := strings.Split(string(data), "\n")
	a, err := loganalysis.New(loganalysis.Options{})
	if err != nil {
		b.Fatal(err)
	}
	key := loganalysis.StreamKey{Cluster: "bench", Source: "loghub"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Observe(key, sdk.Record{Body: lines[i%len(lines)]})
	}
}

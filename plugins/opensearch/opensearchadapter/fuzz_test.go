package opensearchadapter_test

import (
	"testing"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchadapter"
)

// FuzzMapPage feeds arbitrary bytes to the page decoder and record mapper:
// whatever a broken proxy or cluster sends, the adapter returns an error or
// records, never a panic.
func FuzzMapPage(f *testing.F) {
	for _, seed := range []string{
		`{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[{"_index":"i","_id":"1","_source":{"@timestamp":"2024-01-01T00:00:00Z","message":"m","log":{"level":"warn"}},"sort":[1704067200000,"1"]}]}}`,
		`{"hits":{"hits":[{"_index":"i","_id":"1","_source":"not an object","sort":[]}]}}`,
		`{"hits":{"hits":[{"_source":{"@timestamp":12345,"message":["a",{"b":null}],"service":{"name":{"x":1}}},"sort":["x"]}]}}`,
		`{"hits":{"hits":[{"_source":{"@timestamp":"yesterday"},"sort":[null]}]}}`,
		`{"hits":null}`, `[]`, `{"hits":{"hits":[{"_source":{"a.b":{"c":1},"a":{"b.c":2}}}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		_, _ = opensearchadapter.MapPage(page, "https://dash.example.com")
	})
}

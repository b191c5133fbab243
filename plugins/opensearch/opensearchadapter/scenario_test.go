package opensearchadapter_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
)

// corpusDir is the shared scenario corpus next to the checkout;
// FAULTMAVEN_SCENARIOS points elsewhere.
func corpusDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("FAULTMAVEN_SCENARIOS"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../../../shared/scenarios/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("scenario corpus not found at %s (set FAULTMAVEN_SCENARIOS)", d)
	}
	return d
}

// TestScenarioCorpus serves each scenario's opensearch sources from the
// stand-in, as sources.yaml places them, and reads them back through the
// adapter: every event arrives exactly once, with its time, its text
// (multi-line events whole) and its service.
func TestScenarioCorpus(t *testing.T) {
	root := corpusDir(t)
	dirs, err := filepath.Glob(filepath.Join(root, "*", "sources.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenario under %s: %v", root, err)
	}
	served := 0
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			sc, err := scenariodata.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			srcs := sc.BySource(scenariodata.BackendOpenSearch)
			if len(srcs) == 0 {
				t.Skip("no opensearch source")
			}
			s := opensearchstandin.New(opensearchstandin.Options{Username: testUser, Password: testPassword})
			n, err := s.LoadScenario(sc)
			if err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, s)
			a := newAdapter(t, nil)
			for _, src := range srcs {
				os := src.OpenSearch
				conf := cfg(t, srv.URL, map[string]any{"index": os.Index, "page_size": 500,
					"fields": map[string]any{"timestamp": os.TimestampField, "message": os.MessageField, "service": os.ServiceField}})
				if err := a.Configure(t.Context(), "c", conf); err != nil {
					t.Fatal(err)
				}
				w := &collector{}
				if err := a.SearchLogs(t.Context(), "c", sdk.LogQuery{Limit: n + 1}, w); err != nil {
					t.Fatal(err)
				}
				want := map[string]int{}
				for _, ev := range src.Events {
					want[ev.Time.Format(time.RFC3339Nano)+"\x00"+ev.Raw]++
				}
				for _, r := range w.recs {
					k := r.Timestamp.Format(time.RFC3339Nano) + "\x00" + r.Body
					if want[k] == 0 {
						t.Fatalf("%s: record not in the source, or duplicated: %s %q", src.File, r.Timestamp, firstLine(r.Body))
					}
					want[k]--
					if wantSvc := or(os.ServiceValue, src.Service); r.Service != wantSvc {
						t.Fatalf("%s: service %q, want %q", src.File, r.Service, wantSvc)
					}
				}
				if len(w.recs) != len(src.Events) {
					t.Fatalf("%s: %d records, want the %d events", src.File, len(w.recs), len(src.Events))
				}
				served += len(w.recs)
			}
		})
	}
	t.Logf("%d events served and read back", served)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

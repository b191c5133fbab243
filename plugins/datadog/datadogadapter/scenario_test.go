package datadogadapter_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
	"github.com/faultmaven/faultmaven/sdk"
)

func scenarioDir(t testing.TB, id string) string {
	t.Helper()
	root := os.Getenv("FAULTMAVEN_SCENARIOS")
	if root == "" {
		root, _ = filepath.Abs("../../../../shared/scenarios/scenarios")
	}
	d := filepath.Join(root, id)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("scenario %s not found under %s (set FAULTMAVEN_SCENARIOS)", id, root)
	}
	return d
}

// TestScenarioServedExactlyOnce serves a scenario's Datadog sources and
// metrics from the stand-in and checks every event comes back once, with
// its service and time, through several pages.
func TestScenarioServedExactlyOnce(t *testing.T) {
	sc, err := scenariodata.Load(scenarioDir(t, "s01-orders-hikari-pool-leak"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, 0)
	e.srv.LoadScenario(sc)
	want := map[string]int{}
	total := 0
	for _, src := range sc.BySource(scenariodata.BackendDatadog) {
		for _, ev := range src.Events {
			if !ev.Time.Before(sc.Start) && ev.Time.Before(sc.End) {
				// The stand-in keeps milliseconds, as Datadog does.
				want[src.Datadog.Service+"|"+ev.Time.Truncate(1e6).String()+"|"+ev.Raw]++
				total++
			}
		}
	}
	if total == 0 {
		t.Fatal("scenario has no Datadog event in its window")
	}
	e.configure(t, "a", map[string]any{"page_size": 1000})
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: sc.Start, End: sc.End})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs {
		got[r.Service+"|"+r.Timestamp.String()+"|"+r.Body]++
	}
	for k, c := range want {
		if got[k] != c {
			t.Fatalf("event %q: got %d times, want %d", k, got[k], c)
		}
	}
	if len(recs) != total {
		t.Fatalf("got %d records, want %d", len(recs), total)
	}
	if pages := e.srv.Requests("/api/v2/logs/events/search"); pages < 2 {
		t.Fatalf("%d pages; the scenario should need several", pages)
	}
	series, err := e.ad.QueryMetrics(t.Context(), "a", sdk.MetricQuery{Query: "hikaricp_connections_active{app:orders-api}", Start: sc.Start, End: sc.End})
	if err != nil || len(series) == 0 || len(series[0].Samples) == 0 {
		t.Fatalf("metrics = %v, %v", series, err)
	}
}

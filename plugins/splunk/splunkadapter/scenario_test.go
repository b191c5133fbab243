package splunkadapter_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
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

// TestScenarioServedExactlyOnce serves a scenario's Splunk sources from the
// stand-in and checks every event comes back once, with its host and time.
func TestScenarioServedExactlyOnce(t *testing.T) {
	sc, err := scenariodata.Load(scenarioDir(t, "s01-orders-hikari-pool-leak"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, splunkstandin.Options{}, 0)
	n := e.srv.LoadScenario(sc)
	want := map[string]int{}
	for _, src := range sc.BySource(scenariodata.BackendSplunk) {
		for _, ev := range src.Events {
			if !ev.Time.Before(sc.Start) && ev.Time.Before(sc.End) {
				want[src.Splunk.Host+"|"+ev.Time.String()+"|"+ev.Raw]++
			}
		}
	}
	if n == 0 || len(want) == 0 {
		t.Fatalf("scenario has no Splunk event in its window (%d loaded)", n)
	}
	e.configure(t, "a", map[string]any{"indexes": []string{"prod_web"}})
	recs, err := search(t.Context(), e.ad, "a", sdk.LogQuery{Start: sc.Start, End: sc.End})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs {
		got[r.Service+"|"+r.Timestamp.String()+"|"+r.Body]++
	}
	total := 0
	for k, c := range want {
		total += c
		if got[k] != c {
			t.Fatalf("event %q: got %d times, want %d", k, got[k], c)
		}
	}
	if len(recs) != total {
		t.Fatalf("got %d records, want %d", len(recs), total)
	}
}

package knowledge_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/faultmaven/faultmaven/core/knowledge"
	"github.com/faultmaven/faultmaven/core/knowledge/embed"
	"github.com/faultmaven/faultmaven/core/knowledge/vector/embedded"
)

// scenariosDir is the evaluation corpus: FAULTMAVEN_SCENARIOS, or the
// shared checkout next to the repository.
func scenariosDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FAULTMAVEN_SCENARIOS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "scenarios")
	}
	if _, err := os.Stat(filepath.Join(dir, "runbooks")); err != nil {
		t.Skipf("evaluation corpus not found at %s (set FAULTMAVEN_SCENARIOS): %v", dir, err)
	}
	return dir
}

type scenario struct {
	ID       string `yaml:"id"`
	Question string `yaml:"question"`
	Expected struct {
		RunbookIDs []string `yaml:"runbook_ids"`
	} `yaml:"expected"`
}

func loadScenarios(t testing.TB, dir string) []scenario {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "scenarios", "*", "scenario.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenarios under %s: %v", dir, err)
	}
	slices.Sort(paths)
	var out []scenario
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var sc scenario
		if err := yaml.Unmarshal(data, &sc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if sc.Question == "" || len(sc.Expected.RunbookIDs) == 0 {
			t.Fatalf("%s: no question or expected runbook ids", p)
		}
		out = append(out, sc)
	}
	return out
}

func newBuiltinService(t testing.TB, dir string) *knowledge.Service {
	t.Helper()
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	storeDir := ""
	if dir != "" {
		storeDir = filepath.Join(dir, "vectors")
	}
	st, err := embedded.Open(storeDir, embedded.DefaultOptions(emb.Dimensions()))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// errorLineRE picks log lines that report a problem, across the formats
// of the corpus (plain levels, JSON levels, Kubernetes warning events).
var errorLineRE = regexp.MustCompile(`(?i)"level":"(error|fatal|panic|warn)|\b(ERROR|FATAL|WARN|WARNING|CRITICAL|SEVERE)\b|panic:|Exception|"type":"Warning"`)

// evidence returns up to max problem-line templates that are new in the
// window: absent from the first quarter of their file. This is the generic
// novelty rule an analyzer applies; it knows nothing about any scenario.
func evidence(t testing.TB, scenarioDir string, max int) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(scenarioDir, "logs", "*.log"))
	type tpl struct {
		text  string
		count int
	}
	var out []tpl
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		early := map[string]bool{}
		counts := map[string]int{}
		var order []string
		for i, l := range lines {
			if !errorLineRE.MatchString(l) {
				continue
			}
			key := templateKey(l)
			if i < len(lines)/4 {
				early[key] = true
				continue
			}
			if early[key] {
				continue
			}
			if counts[key] == 0 {
				order = append(order, l)
			}
			counts[key]++
		}
		for _, l := range order {
			key := templateKey(l)
			if !early[key] {
				out = append(out, tpl{l, counts[key]})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].count > out[j].count })
	var res []string
	for _, o := range out[:min(max, len(out))] {
		if len(o.text) > 400 {
			o.text = o.text[:400]
		}
		res = append(res, o.text)
	}
	return res
}

var digitsRE = regexp.MustCompile(`[A-Za-z_]*[0-9][A-Za-z0-9_]*`)

// templateKey is a crude log template: the line's words with every digit-bearing
// word (ids, counters, hashes) removed, so lines differing only in ids
// and numbers share a key.
func templateKey(line string) string {
	return strings.Join(embed.Tokens(digitsRE.ReplaceAllString(line, " ")), " ")
}

// TestRetrievalQuality searches each scenario's question against the
// runbooks with the builtin embedder and requires an expected runbook in
// the top 3 for at least 90% of scenarios. It prints recall@1, recall@3
// and MRR (run with -v to see the table).
func TestRetrievalQuality(t *testing.T) {
	dir := scenariosDir(t)
	docs, err := knowledge.LoadDir(filepath.Join(dir, "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	svc := newBuiltinService(t, "")
	if _, err := svc.Ingest(t.Context(), docs, nil); err != nil {
		t.Fatal(err)
	}
	scs := loadScenarios(t, dir)
	evaluate(t, svc, scs, "question only", func(sc scenario) string { return sc.Question })
	r3 := evaluate(t, svc, scs, "question + log evidence", func(sc scenario) string {
		return sc.Question + "\n" + strings.Join(evidence(t, filepath.Join(dir, "scenarios", sc.ID), 8), "\n")
	})
	if r3 < 0.9 {
		t.Errorf("recall@3 with log evidence = %.3f, want >= 0.90", r3)
	}
}

func evaluate(t *testing.T, svc *knowledge.Service, scs []scenario, mode string, query func(scenario) string) float64 {
	t.Helper()
	var r1, r3, mrr float64
	var table strings.Builder
	fmt.Fprintf(&table, "mode: %s\n| scenario | expected | rank | top 3 |\n|---|---|---|---|\n", mode)
	for _, sc := range scs {
		hits, err := svc.Search(t.Context(), knowledge.Query{Text: query(sc), Limit: 40, Kinds: []knowledge.Kind{knowledge.KindRunbook}})
		if err != nil {
			t.Fatal(err)
		}
		rank := 0
		for i, h := range hits {
			if slices.Contains(sc.Expected.RunbookIDs, h.ID) {
				rank = i + 1
				break
			}
		}
		if rank == 1 {
			r1++
		}
		if rank >= 1 && rank <= 3 {
			r3++
		}
		if rank > 0 {
			mrr += 1 / float64(rank)
		}
		var top []string
		for _, h := range hits[:min(3, len(hits))] {
			top = append(top, h.ID)
		}
		rs := "-"
		if rank > 0 {
			rs = fmt.Sprint(rank)
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", sc.ID, strings.Join(sc.Expected.RunbookIDs, ", "), rs, strings.Join(top, ", "))
	}
	n := float64(len(scs))
	fmt.Fprintf(&table, "\nscenarios %d, recall@1 %.3f, recall@3 %.3f, MRR %.3f\n", len(scs), r1/n, r3/n, mrr/n)
	t.Log("\n" + table.String())
	return r3 / n
}

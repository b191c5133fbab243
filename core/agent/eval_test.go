package agent_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/faultmaven/faultmaven/core/agent"
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
	Window   struct {
		Start time.Time `yaml:"start"`
		End   time.Time `yaml:"end"`
	} `yaml:"time_window"`
	Expected struct {
		Facts        []string  `yaml:"root_cause_facts"`
		Culprit      string    `yaml:"culprit_service"`
		Aliases      []string  `yaml:"culprit_aliases"`
		FirstBad     time.Time `yaml:"first_bad_time"`
		RunbookIDs   []string  `yaml:"runbook_ids"`
		RedHerrrings []struct {
			Pattern string `yaml:"pattern"`
		} `yaml:"red_herrings"`
	} `yaml:"expected"`
	dir string
}

func loadScenarios(t testing.TB, dir string) []scenario {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "scenarios", "*", "scenario.yaml"))
	if len(paths) == 0 {
		t.Fatalf("no scenarios under %s", dir)
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
		sc.dir = filepath.Dir(p)
		out = append(out, sc)
	}
	return out
}

func attachments(t testing.TB, sc scenario) []agent.Attachment {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(sc.dir, "logs", "*.log"))
	var out []agent.Attachment
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, agent.Attachment{Name: filepath.Base(f), Text: string(data)})
	}
	return out
}

func runbookService(t testing.TB, dir string) *knowledge.Service {
	t.Helper()
	emb, err := embed.NewBuiltin(embed.BuiltinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open("", embedded.DefaultOptions(emb.Dimensions()))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := knowledge.New(knowledge.Options{Embedder: emb, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	docs, err := knowledge.LoadDir(filepath.Join(dir, "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ingest(t.Context(), docs, nil); err != nil {
		t.Fatal(err)
	}
	return svc
}

// causeSection is the part of the answer that states the cause, where a
// red herring must not appear.
func causeSection(answer string) string {
	rest, ok := strings.CutPrefix(answer, "## Likely cause")
	if !ok {
		return answer
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		return rest[:i]
	}
	return rest
}

type score struct{ facts, culprit, runbook, onset, noHerring bool }

func (s score) total() int {
	n := 0
	for _, b := range []bool{s.facts, s.culprit, s.runbook, s.onset, s.noHerring} {
		if b {
			n++
		}
	}
	return n
}

// judge applies the corpus's five deterministic checks to a report.
func judge(t testing.TB, sc scenario, rep *agent.Report) (score, int) {
	t.Helper()
	var s score
	s.facts = true
	for _, f := range sc.Expected.Facts {
		if !regexp.MustCompile("(?i)" + f).MatchString(rep.Answer) {
			s.facts = false
		}
	}
	if rep.Cause != nil {
		for _, name := range append([]string{sc.Expected.Culprit}, sc.Expected.Aliases...) {
			if strings.Contains(strings.ToLower(rep.Cause.Service), strings.ToLower(name)) {
				s.culprit = true
			}
		}
		d := rep.Cause.Onset.Sub(sc.Expected.FirstBad)
		s.onset = d >= -time.Minute && d <= time.Minute
	}
	rank := 0
	for i, r := range rep.Runbooks {
		if slices.Contains(sc.Expected.RunbookIDs, r.ID) {
			rank = i + 1
			break
		}
	}
	s.runbook = rank >= 1 && rank <= 3
	s.noHerring = true
	cause := causeSection(rep.Answer)
	for _, h := range sc.Expected.RedHerrrings {
		if regexp.MustCompile("(?i)" + h.Pattern).MatchString(cause) {
			s.noHerring = false
		}
	}
	return s, rank
}

// TestScenarioEvaluation asks each scenario's question with the
// scenario's logs attached and scores the answer with the corpus's five
// checks. It asserts the runbook check (the knowledge base's target:
// >= 90% top 3) and reports the rest (go test -v prints the table).
func TestScenarioEvaluation(t *testing.T) {
	evaluateScenarios(t, "question as written", func(q string) string { return q }, 0.9)
	// Without the time the question names, the analyzer falls back to
	// its per-stream baseline; reported, not asserted.
	evaluateScenarios(t, "times removed from the question", func(q string) string {
		return timeRE.ReplaceAllString(q, "recently")
	}, 0)
}

var timeRE = regexp.MustCompile(`(?i)(since |at )?(about )?\b\d{1,2}:\d{2}( UTC)?`)

func evaluateScenarios(t *testing.T, mode string, question func(string) string, wantRecall3 float64) {
	t.Helper()
	dir := scenariosDir(t)
	kb := runbookService(t, dir)
	ag := agent.New(agent.Options{Knowledge: kb})
	scs := loadScenarios(t, dir)
	var table strings.Builder
	fmt.Fprintf(&table, "mode: %s\n", mode)
	table.WriteString("| scenario | facts | culprit | runbook rank | onset | no red herring | ms | cause given |\n|---|---|---|---|---|---|---|---|\n")
	var sums [5]int
	var r1, r3, mrr float64
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	for _, sc := range scs {
		atts := attachments(t, sc)
		start := time.Now()
		rep, err := ag.Ask(t.Context(), agent.Request{Question: question(sc.Question), Attachments: atts})
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", sc.ID, err)
		}
		s, rank := judge(t, sc, rep)
		for i, b := range []bool{s.facts, s.culprit, s.runbook, s.onset, s.noHerring} {
			if b {
				sums[i]++
			}
		}
		if rank == 1 {
			r1++
		}
		if s.runbook {
			r3++
		}
		if rank > 0 {
			mrr += 1 / float64(rank)
		}
		given := "-"
		if rep.Cause != nil {
			given = fmt.Sprintf("%s @ %s: %s", rep.Cause.Service, rep.Cause.Onset.Format("15:04:05"), clipText(rep.Cause.Summary, 70))
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %d | %s | %s | %d | %s |\n", sc.ID, yn(s.facts), yn(s.culprit), rank, yn(s.onset), yn(s.noHerring), took.Milliseconds(), given)
	}
	n := float64(len(scs))
	fmt.Fprintf(&table, "\npass rates over %d scenarios: facts %.2f, culprit %.2f, runbook top-3 %.2f, onset %.2f, no red herring %.2f; mean score %.2f / 5\n",
		len(scs), float64(sums[0])/n, float64(sums[1])/n, float64(sums[2])/n, float64(sums[3])/n, float64(sums[4])/n,
		float64(sums[0]+sums[1]+sums[2]+sums[3]+sums[4])/n)
	fmt.Fprintf(&table, "runbooks: recall@1 %.3f, recall@3 %.3f, MRR %.3f\n", r1/n, r3/n, mrr/n)
	t.Log("\n" + table.String())
	if r3/n < wantRecall3 {
		t.Errorf("%s: runbook recall@3 = %.3f, want >= %.2f", mode, r3/n, wantRecall3)
	}
}

func clipText(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

package loghub_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current parser")

// TestGolden parses every Loghub sample zero-config and compares the
// templates found (with their line counts) with testdata/golden, so that
// any change in parsing shows up as a reviewable diff. Refresh with
// go test ./core/loganalysis/loghub -run TestGolden -update.
// It also holds each dataset to GA >= 0.85 (the floor).
func TestGolden(t *testing.T) {
	dir := dataDir(t)
	for _, name := range loghub.Names {
		t.Run(name, func(t *testing.T) {
			d, err := loghub.Load(dir, name)
			if err != nil {
				t.Skipf("Loghub data absent (%v): put the Loghub-2k samples at ../shared/loghub", err)
			}
			pred, _, _, _ := parseDataset(t, d, false)
			if ga, _ := loghub.GroupAccuracy(pred, d.EventV0); ga < 0.85 {
				t.Errorf("GA %.3f below 0.85", ga)
			}
			counts := map[string]int{}
			for _, p := range pred {
				counts[p]++
			}
			var lines []string
			for tmpl, n := range counts {
				lines = append(lines, fmt.Sprintf("%5d %s", n, tmpl))
			}
			sort.Strings(lines)
			got := strings.Join(lines, "\n") + "\n"
			path := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("templates of %s differ from %s (run with -update after review):\n%s", name, path, diff(string(want), got))
			}
		})
	}
}

// diff lists lines only in a (-) or only in b (+).
func diff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

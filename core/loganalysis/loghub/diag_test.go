//go:build loghub

package loghub_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
)

// TestLoghubDiag prints the wrongly grouped templates of $LOGHUB_DS.
func TestLoghubDiag(t *testing.T) {
	name := os.Getenv("LOGHUB_DS")
	if name == "" {
		t.Skip("set LOGHUB_DS")
	}
	d, err := loghub.Load(dataDir(t), name)
	if err != nil {
		t.Skip(err)
	}
	pred, _, _, _ := parseDataset(t, d, os.Getenv("LOGHUB_PROTOCOL") != "")
	truth := d.TmplV2
	if os.Getenv("LOGHUB_V0") != "" {
		truth = d.TmplV0
	}
	pg := map[string]map[string]int{}
	tg := map[string]map[string]int{}
	for i := range pred {
		if pg[pred[i]] == nil {
			pg[pred[i]] = map[string]int{}
		}
		pg[pred[i]][truth[i]]++
		if tg[truth[i]] == nil {
			tg[truth[i]] = map[string]int{}
		}
		tg[truth[i]][pred[i]]++
	}
	for p, m := range pg {
		if len(m) > 1 {
			fmt.Printf("MERGED pred %q\n", p)
			for tt, n := range m {
				fmt.Printf("     %4d %q\n", n, tt)
			}
		}
	}
	for tt, m := range tg {
		if len(m) > 1 {
			fmt.Printf("SPLIT truth %q\n", tt)
			for p, n := range m {
				fmt.Printf("     %4d %q\n", n, p)
			}
		}
	}
	if os.Getenv("LOGHUB_PA") != "" {
		for p, m := range pg {
			for tt, n := range m {
				if p != tt {
					fmt.Printf("PA %4d\n   pred %q\n   true %q\n", n, p, tt)
				}
			}
		}
	}
}

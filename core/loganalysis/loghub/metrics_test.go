package loghub_test

import (
	"math"
	"testing"

	"github.com/faultmaven/faultmaven/core/loganalysis/loghub"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMetrics(t *testing.T) {
	truth := []string{"A", "A", "B", "B", "C"}
	tests := []struct {
		name        string
		pred        []string
		ga, pa, fta float64
	}{
		{"perfect", []string{"A", "A", "B", "B", "C"}, 1, 1, 1},
		// {A,A} right; X mixes B and C: GA 2/5; template strings right on 2 lines.
		{"merged B and C", []string{"A", "A", "X", "X", "X"}, 0.4, 0.4, 0.4},
		// Z and A each hold part of A: for FTA the pure group "A" counts (3 of 4
		// predicted right, all 3 true found), for GA it does not.
		{"split A", []string{"A", "Z", "B", "B", "C"}, 0.6, 0.8, 6.0 / 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ga, _ := loghub.GroupAccuracy(tt.pred, truth)
			pa, fta := loghub.ParsingAccuracy(tt.pred, truth)
			if !near(ga, tt.ga) || !near(pa, tt.pa) || !near(fta, tt.fta) {
				t.Errorf("GA %v PA %v FTA %v; want %v %v %v", ga, pa, fta, tt.ga, tt.pa, tt.fta)
			}
		})
	}
	// FGA by hand for "merged B and C": predicted groups {A,A} right, {X,X,X}
	// wrong: precision 1/2, recall 1/3, F1 0.4.
	if _, fga := loghub.GroupAccuracy([]string{"A", "A", "X", "X", "X"}, truth); !near(fga, 0.4) {
		t.Errorf("FGA %v; want 0.4", fga)
	}
	if ga, _ := loghub.GroupAccuracy([]string{"A"}, truth); ga != 0 {
		t.Errorf("GA of mismatched lengths %v; want 0", ga)
	}
	p, r, f := loghub.Detection([]bool{true, true, false, false}, []bool{true, false, true, false})
	if !near(p, 0.5) || !near(r, 0.5) || !near(f, 0.5) {
		t.Errorf("Detection = %v %v %v; want 0.5 each", p, r, f)
	}
}

package loghub

import "strings"

// Scores are the four Loghub metrics for one run.
type Scores struct {
	GA, FGA, PA, FTA float64
}

// GroupAccuracy returns GA and FGA of predicted groups (keyed by predicted
// template) against true groups (keyed by event id or template), rows
// matched by position.
func GroupAccuracy(pred, truth []string) (ga, fga float64) {
	n := len(truth)
	if n == 0 || len(pred) != n {
		return 0, 0
	}
	pg := groups(pred)
	tg := groups(truth)
	correctLines, correctGroups := 0, 0
	for _, rows := range pg {
		t := truth[rows[0]]
		if len(tg[t]) != len(rows) {
			continue
		}
		ok := true
		for _, r := range rows {
			if truth[r] != t {
				ok = false
				break
			}
		}
		if ok {
			correctLines += len(rows)
			correctGroups++
		}
	}
	ga = float64(correctLines) / float64(n)
	fga = f1(float64(correctGroups)/float64(len(pg)), float64(correctGroups)/float64(len(tg)))
	return ga, fga
}

// ParsingAccuracy returns PA (share of lines whose template string equals
// the true one) and FTA (F1 over predicted templates that are pure and
// whose string equals their true template). Strings are compared with runs
// of white space collapsed.
func ParsingAccuracy(pred, truth []string) (pa, fta float64) {
	n := len(truth)
	if n == 0 || len(pred) != n {
		return 0, 0
	}
	ok := 0
	for i := range truth {
		if norm(pred[i]) == norm(truth[i]) {
			ok++
		}
	}
	pa = float64(ok) / float64(n)
	pg := groups(pred)
	tg := groups(truth)
	correct := 0
	for p, rows := range pg {
		t := truth[rows[0]]
		pure := true
		for _, r := range rows {
			if truth[r] != t {
				pure = false
				break
			}
		}
		if pure && norm(p) == norm(t) {
			correct++
		}
	}
	fta = f1(float64(correct)/float64(len(pg)), float64(correct)/float64(len(tg)))
	return pa, fta
}

func groups(keys []string) map[string][]int {
	g := map[string][]int{}
	for i, k := range keys {
		g[k] = append(g[k], i)
	}
	return g
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// Detection scores a binary detector: precision, recall and F1.
func Detection(flagged, truth []bool) (p, r, f float64) {
	tp, fp, fn := 0, 0, 0
	for i := range truth {
		switch {
		case flagged[i] && truth[i]:
			tp++
		case flagged[i]:
			fp++
		case truth[i]:
			fn++
		}
	}
	if tp+fp > 0 {
		p = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		r = float64(tp) / float64(tp+fn)
	}
	return p, r, f1(p, r)
}

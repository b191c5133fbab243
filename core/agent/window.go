package agent

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// maxWindow bounds a request's window: a week of logs is already more
// than one answer should pull.
const maxWindow = 7 * 24 * time.Hour

// timeHintRE finds a time of day in a question: "since about 13:41 UTC",
// "at 9:05Z", "around 14:10 CET", "15:02 +02:00". No zone reads as UTC.
var timeHintRE = regexp.MustCompile(`(?i)\b([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?:\s*(utc|z|gmt|[a-z]{3,4}\b|[+-]\d{2}:?\d{2}))?`)

// zoneOffsets are the common abbreviations' offsets from UTC, in minutes.
// Abbreviations are ambiguous in general (IST); these are the usual
// readings in operations chat.
var zoneOffsets = map[string]int{
	"utc": 0, "z": 0, "gmt": 0, "wet": 0, "bst": 60, "cet": 60, "cest": 120, "eet": 120, "eest": 180,
	"est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
	"ist": 330, "jst": 540, "aest": 600, "aedt": 660,
}

// onsetHint returns the last moment at or before now with the time of day
// the question names, if it names one.
func onsetHint(question string, now time.Time) (time.Time, bool) {
	m := timeHintRE.FindStringSubmatch(question)
	if m == nil {
		return time.Time{}, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	offset := 0 // minutes east of UTC
	if z := strings.ToLower(m[3]); z != "" {
		if o, ok := zoneOffsets[z]; ok {
			offset = o
		} else if z[0] == '+' || z[0] == '-' {
			digits := strings.ReplaceAll(z[1:], ":", "")
			oh, _ := strconv.Atoi(digits[:2])
			om, _ := strconv.Atoi(digits[2:])
			offset = oh*60 + om
			if z[0] == '-' {
				offset = -offset
			}
		}
		// Any other word after the time ("13:41 and") is not a zone.
	}
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), h, mi, 0, 0, time.UTC).Add(-time.Duration(offset) * time.Minute)
	for t.After(now) {
		t = t.AddDate(0, 0, -1)
	}
	for now.Sub(t) >= 24*time.Hour {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

// window returns the time range to pull logs for: the request's own, or
// one that starts a lookback before the time the question names, or the
// last lookback. Logs the user attached are read whole, so a request with
// only attachments and no range gets a zero window.
func window(req Request, now time.Time, lookback time.Duration) (from, to time.Time, err error) {
	from, to = req.From.UTC(), req.To.UTC()
	if from.IsZero() && to.IsZero() && len(req.Integrations) == 0 {
		return time.Time{}, time.Time{}, nil
	}
	switch {
	case !from.IsZero() && !to.IsZero():
	case !from.IsZero():
		to = now
	case !to.IsZero():
		from = to.Add(-lookback)
	default:
		to = now
		from = now.Add(-lookback)
		if hint, ok := onsetHint(req.Question, now); ok {
			from = hint.Add(-lookback)
		}
	}
	switch {
	case !from.Before(to):
		return from, to, fmt.Errorf("%w: the window's start %s is not before its end %s", ErrInvalid, from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > maxWindow:
		return from, to, fmt.Errorf("%w: the window spans %s, at most %s", ErrInvalid, to.Sub(from).Round(time.Minute), maxWindow)
	}
	return from, to, nil
}

const (
	// causeLead is how long before the time the question names the
	// baseline ends: users notice symptoms, and causes (a leak, a job
	// eating a quota, a bad deploy) often start minutes to tens of
	// minutes earlier. What first appears after the baseline is new.
	causeLead = 30 * time.Minute
	// minBaselineShare keeps at least this share of the data as baseline,
	// so that "new" still means something when the window starts late.
	minBaselineShare = 0.15
)

// baselineEnd returns when the baseline ends for the data [first, last]:
// causeLead before the time of day the question names (resolved to its
// last occurrence within the data: a question carries no date), or before
// the moment the error rate shifted up when the question names no time;
// never before minBaselineShare of the data. Zero when neither is known:
// the analyzer's per-stream default applies.
func baselineEnd(question string, errs errorTimeline, first, last time.Time) time.Time {
	if first.IsZero() || !first.Before(last) {
		return time.Time{}
	}
	hint, ok := onsetHint(question, last)
	if !ok || hint.Before(first) {
		hint, ok = errs.shift()
	}
	if !ok {
		return time.Time{}
	}
	end := hint.Add(-causeLead)
	if floor := first.Add(time.Duration(float64(last.Sub(first)) * minBaselineShare)); end.Before(floor) {
		end = floor
	}
	return end
}

// errorTimeline counts error records per minute (unix minute -> count).
type errorTimeline map[int64]int

// shift returns the minute where the mean error rate changes most upward
// (a single mean-shift change point, least squares), if the rate after it
// is at least twice the rate before. It ignores the first and last tenth
// of the span, where one minute's noise decides the means.
func (e errorTimeline) shift() (time.Time, bool) {
	if len(e) == 0 {
		return time.Time{}, false
	}
	lo, hi := int64(1<<62), int64(-1<<62)
	total := 0
	for m, n := range e {
		lo, hi = min(lo, m), max(hi, m)
		total += n
	}
	span := hi - lo + 1
	if span < 10 {
		return time.Time{}, false
	}
	best, bestGain := int64(0), 0.0
	before := 0
	for m := lo; m <= hi; m++ {
		if m-lo >= span/10 && hi-m >= span/10 {
			nb, na := float64(m-lo), float64(hi-m+1)
			mb, ma := float64(before)/nb, float64(total-before)/na
			// Between-group sum of squares of a two-segment fit.
			if gain := nb * na / (nb + na) * (ma - mb) * (ma - mb); ma >= 2*mb && ma > mb && gain > bestGain {
				best, bestGain = m, gain
			}
		}
		before += e[m]
	}
	if bestGain == 0 {
		return time.Time{}, false
	}
	return time.Unix(best*60, 0).UTC(), true
}

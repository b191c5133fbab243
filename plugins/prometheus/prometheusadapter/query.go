package prometheusadapter

import (
	"context"
	"sort"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/faultmaven/faultmaven/sdk"
)

// Query shape limits.
const (
	// maxPoints is Prometheus's own limit per series of a range query
	// ("exceeded maximum resolution of 11,000 points per timeseries");
	// the step is raised to stay under it rather than fail.
	maxPoints = 11000
	// autoPoints is the resolution chosen when the query names no step.
	autoPoints = 250
	// defaultLookback is the range when only End is given.
	defaultLookback = time.Hour
)

// QueryMetrics runs q as a PromQL query.
//
//   - Start == End (both set, or both zero meaning "now") is an instant
//     query at that time: each series holds one sample.
//   - Otherwise it is a range query over [Start, End] (zero End = now, zero
//     Start = End - 1h) with q.Step, or a step giving about 250 points when
//     Step is zero; a step that would give more than 11,000 points per
//     series is raised to fit, since Prometheus refuses such queries.
//
// Series come sorted by name and labels, samples by time. Native histogram
// samples are not carried (sdk.Sample holds a float); query their
// histogram_count / histogram_sum instead.
func (a *Adapter) QueryMetrics(ctx context.Context, name string, q sdk.MetricQuery) ([]sdk.Series, error) {
	in, err := a.instances.Get(name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(q.Query) == "" {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "prometheus: empty query")
	}
	if q.Step < 0 {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "prometheus: negative step %s", q.Step)
	}
	opts := []v1.Option{v1.WithTimeout(in.cfg.RequestTimeout)}
	var (
		val      model.Value
		warnings v1.Warnings
	)
	if q.Start.Equal(q.End) {
		at := q.Start
		if at.IsZero() {
			at = time.Now()
		}
		err = in.call(ctx, "instant query", func(ctx context.Context) error {
			var err error
			val, warnings, _, err = in.api.Query(ctx, q.Query, at, opts...)
			return err
		})
	} else {
		r, rerr := rangeOf(q)
		if rerr != nil {
			return nil, rerr
		}
		if r.Step != q.Step && q.Step > 0 {
			in.log.Info("step raised to stay under Prometheus's 11,000 points per series", "asked", q.Step.String(), "used", r.Step.String())
		}
		err = in.call(ctx, "range query", func(ctx context.Context) error {
			var err error
			val, warnings, _, err = in.api.QueryRange(ctx, q.Query, r, opts...)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		in.log.Warn("prometheus answered with warnings", "query", q.Query, "warnings", strings.Join(warnings, "; "))
	}
	return convert(val, in.cfg.MaxSamples)
}

func rangeOf(q sdk.MetricQuery) (v1.Range, error) {
	end := q.End
	if end.IsZero() {
		end = time.Now()
	}
	start := q.Start
	if start.IsZero() {
		start = end.Add(-defaultLookback)
	}
	if !end.After(start) {
		return v1.Range{}, sdk.Errorf(sdk.CodeBadQuery, "prometheus: end %s is before start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	span := end.Sub(start)
	step := q.Step
	if step <= 0 {
		step = max((span / autoPoints).Round(time.Second), time.Second)
	}
	if floor := ceilSecond(span / maxPoints); step < floor {
		step = floor
	}
	return v1.Range{Start: start, End: end, Step: step}, nil
}

// ceilSecond rounds d up to a whole second (at least 1ms for tiny spans).
func ceilSecond(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	if r := d % time.Second; r != 0 && d > time.Second {
		return d - r + time.Second
	}
	return d
}

// convert maps a query result to series, bounded by maxSamples.
func convert(val model.Value, maxSamples int) ([]sdk.Series, error) {
	var out []sdk.Series
	total := 0
	add := func(s sdk.Series) error {
		total += len(s.Samples)
		if total > maxSamples {
			return sdk.Errorf(sdk.CodeBadQuery, "prometheus: the answer holds more than %d samples (max_samples); aggregate the query or raise the step", maxSamples)
		}
		out = append(out, s)
		return nil
	}
	switch v := val.(type) {
	case model.Matrix:
		for _, ss := range v {
			s := series(ss.Metric)
			s.Samples = make([]sdk.Sample, 0, len(ss.Values))
			for _, p := range ss.Values {
				s.Samples = append(s.Samples, sdk.Sample{Timestamp: p.Timestamp.Time().UTC(), Value: float64(p.Value)})
			}
			if len(s.Samples) == 0 && len(ss.Histograms) > 0 {
				continue // native histograms only: nothing a float sample can carry
			}
			if err := add(s); err != nil {
				return nil, err
			}
		}
	case model.Vector:
		for _, smp := range v {
			if smp.Histogram != nil {
				continue
			}
			s := series(smp.Metric)
			s.Samples = []sdk.Sample{{Timestamp: smp.Timestamp.Time().UTC(), Value: float64(smp.Value)}}
			if err := add(s); err != nil {
				return nil, err
			}
		}
	case *model.Scalar:
		if err := add(sdk.Series{Name: "scalar", Samples: []sdk.Sample{{Timestamp: v.Timestamp.Time().UTC(), Value: float64(v.Value)}}}); err != nil {
			return nil, err
		}
	case *model.String:
		return nil, sdk.Errorf(sdk.CodeBadQuery, "prometheus: the query evaluates to a string, not a metric")
	case nil:
		return nil, sdk.Errorf(sdk.CodeInternal, "prometheus: malformed response: no result")
	default:
		return nil, sdk.Errorf(sdk.CodeInternal, "prometheus: unsupported result type %s", val.Type())
	}
	sort.Slice(out, func(i, j int) bool { return seriesKey(out[i]) < seriesKey(out[j]) })
	for i := range out {
		sort.SliceStable(out[i].Samples, func(a, b int) bool { return out[i].Samples[a].Timestamp.Before(out[i].Samples[b].Timestamp) })
	}
	return out, nil
}

func series(m model.Metric) sdk.Series {
	s := sdk.Series{Name: string(m[model.MetricNameLabel])}
	if len(m) > 0 {
		s.Labels = make(map[string]string, len(m))
		for k, v := range m {
			if k != model.MetricNameLabel {
				s.Labels[string(k)] = string(v)
			}
		}
	}
	if s.Name == "" && len(s.Labels) == 0 {
		s.Name = "{}" // an aggregation without labels, e.g. sum(rate(x[5m]))
	}
	return s
}

func seriesKey(s sdk.Series) string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Name)
	for _, k := range keys {
		b.WriteString("\x00" + k + "=" + s.Labels[k])
	}
	return b.String()
}

package datadogadapter

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/faultmaven/faultmaven/sdk"
)

// QueryMetrics runs a v1 timeseries query; see the package doc.
func (a *Adapter) QueryMetrics(ctx context.Context, name string, q sdk.MetricQuery) ([]sdk.Series, error) {
	in, err := a.instances.Get(name)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(q.Query) == "" {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "datadog metrics: empty query")
	}
	if q.Start.IsZero() || q.End.IsZero() || !q.End.After(q.Start) {
		return nil, sdk.Errorf(sdk.CodeBadQuery, "datadog metrics: need a start before the end")
	}
	from, to := q.Start.Unix(), (q.End.UnixNano()+int64(time.Second)-1)/int64(time.Second)
	var resp datadogV1.MetricsQueryResponse
	err = in.call(ctx, "datadog metrics query", func(ctx context.Context) (*http.Response, error) {
		var httpResp *http.Response
		var err error
		resp, httpResp, err = in.metrics.QueryMetrics(ctx, from, to, q.Query)
		return httpResp, err
	})
	if err != nil {
		return nil, err
	}
	if resp.UnparsedObject != nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "datadog metrics query: the answer does not match the API schema")
	}
	if st := resp.GetStatus(); st != "" && st != "ok" {
		msg := resp.GetError()
		if msg == "" {
			msg = resp.GetMessage()
		}
		return nil, sdk.Errorf(sdk.CodeBadQuery, "datadog metrics query failed (status %q): %s", st, msg)
	}
	out := make([]sdk.Series, 0, len(resp.Series))
	for i := range resp.Series {
		s := &resp.Series[i]
		if s.UnparsedObject != nil {
			return nil, sdk.Errorf(sdk.CodeUnavailable, "datadog metrics query: series %d does not match the API schema", i)
		}
		sr := sdk.Series{Name: s.GetMetric(), Labels: map[string]string{}}
		for _, tag := range s.TagSet {
			k, v, _ := strings.Cut(tag, ":")
			sr.Labels[k] = v
		}
		if e := s.GetExpression(); e != "" {
			sr.Labels["__expression__"] = e
		}
		for _, p := range s.Pointlist {
			if len(p) < 2 || p[0] == nil || p[1] == nil {
				continue
			}
			t := time.UnixMilli(int64(*p[0])).UTC()
			if t.Before(q.Start) || t.After(q.End) {
				continue
			}
			sr.Samples = append(sr.Samples, sdk.Sample{Timestamp: t, Value: *p[1]})
		}
		sort.Slice(sr.Samples, func(i, j int) bool { return sr.Samples[i].Timestamp.Before(sr.Samples[j].Timestamp) })
		out = append(out, sr)
	}
	return out, nil
}

package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// MetricSource runs range queries on one integration; the plugin host
// satisfies it.
type MetricSource interface {
	QueryMetrics(ctx context.Context, instanceID string, q sdk.MetricQuery) ([]sdk.Series, error)
}

// firingAlertsQuery is Prometheus's own record of its alerts: a series per
// alert instance, 1 while it fires. It needs no knowledge of the cluster's
// metric names, and the alert names are words the runbooks use.
const firingAlertsQuery = `ALERTS{alertstate="firing"}`

// Alert is an alert that fired in the window.
type Alert struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	FirstFiring time.Time         `json:"first_firing"`
	LastFiring  time.Time         `json:"last_firing"`
	Source      string            `json:"source"`
}

// alertLabelsShown are the labels worth repeating in an answer.
var alertLabelsShown = []string{"severity", "service", "job", "namespace", "pod", "instance", "deployment"}

// firingAlerts asks each metrics integration which alerts fired in the
// window. A failing source is noted in the report; it never fails the
// answer.
func (a *Agent) firingAlerts(ctx context.Context, req Request, from, to time.Time, rep *Report) {
	if a.opts.Metrics == nil || len(req.MetricIntegrations) == 0 || from.IsZero() {
		return
	}
	step := max(to.Sub(from)/300, 15*time.Second).Truncate(time.Second)
	for _, id := range req.MetricIntegrations {
		series, err := a.opts.Metrics.QueryMetrics(ctx, id, sdk.MetricQuery{Query: firingAlertsQuery, Start: from, End: to, Step: step})
		switch {
		case errors.Is(err, sdk.ErrUnsupported):
			continue
		case err != nil:
			rep.Limits = append(rep.Limits, fmt.Sprintf("%s: firing alerts not read: %v", id, err))
			continue
		}
		for _, s := range series {
			al := Alert{Name: s.Labels["alertname"], Source: id, Labels: map[string]string{}}
			if al.Name == "" {
				continue
			}
			for _, k := range alertLabelsShown {
				if v := s.Labels[k]; v != "" {
					al.Labels[k] = v
				}
			}
			for _, p := range s.Samples {
				if p.Value == 0 {
					continue
				}
				if al.FirstFiring.IsZero() || p.Timestamp.Before(al.FirstFiring) {
					al.FirstFiring = p.Timestamp.UTC()
				}
				if p.Timestamp.After(al.LastFiring) {
					al.LastFiring = p.Timestamp.UTC()
				}
			}
			if !al.FirstFiring.IsZero() {
				rep.Alerts = append(rep.Alerts, al)
			}
		}
	}
	sort.SliceStable(rep.Alerts, func(i, j int) bool { return rep.Alerts[i].FirstFiring.Before(rep.Alerts[j].FirstFiring) })
}

// alertWords are the fired alerts' names and services, for the knowledge
// query: "HikariPoolExhausted" says more than most log lines.
func alertWords(alerts []Alert) string {
	var words []string
	for _, al := range alerts {
		w := al.Name
		if svc := al.Labels["service"]; svc != "" {
			w += " " + svc
		}
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return strings.Join(words, "\n")
}

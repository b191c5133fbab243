package app

import (
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/jobs"
	"github.com/faultmaven/faultmaven/gateway/internal/config"
)

func TestIngestOptions(t *testing.T) {
	cfg := config.Default()
	cfg.Ingest = config.Ingest{Workers: 2, JobTimeout: 10 * time.Minute, RescueAfter: 12 * time.Minute, Retention: -1}
	cfg.Clusters = []config.Cluster{{Name: "prod", Integrations: []config.Integration{
		{Name: "splunk", Plugin: "splunk", PullEvery: 5 * time.Minute},
		{Name: "prom", Plugin: "prometheus"},
	}}}
	o := IngestOptions(cfg, jobs.Options{})
	if o.Workers != 2 || o.JobTimeout != 10*time.Minute || o.RescueAfter != 12*time.Minute || o.Retention != -1 {
		t.Errorf("options = %+v", o)
	}
	if len(o.Periodic) != 1 || o.Periodic[0] != (jobs.PeriodicPull{Cluster: "prod", Integration: "splunk", Interval: 5 * time.Minute}) {
		t.Errorf("periodic = %+v, want only prod/splunk every 5m", o.Periodic)
	}
}

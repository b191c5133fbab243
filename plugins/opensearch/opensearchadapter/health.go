package opensearchadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/faultmaven/faultmaven/sdk"
)

// Health checks, in order: the info endpoint (reachability, credentials,
// version), cluster health (red = Down, yellow = Degraded), and a zero-hit
// search on the index patterns (read permission on the indices; a pattern
// matching no document is Degraded: searches would come back empty). A
// cluster-health 403 is tolerated: a read-only role often lacks
// cluster:monitor/health, and searching is what the adapter needs.
func (a *Adapter) Health(ctx context.Context, name string) (sdk.HealthReport, error) {
	in, err := a.instances.Get(name)
	if err != nil {
		return sdk.HealthReport{}, err
	}
	start := time.Now()
	rep := sdk.HealthReport{Details: map[string]string{"url": in.cfg.URL.Redacted(), "auth": authKind(in.cfg)}}
	down := func(err error) (sdk.HealthReport, error) {
		rep.Status = sdk.HealthDown
		rep.Message = err.Error()
		rep.Details["error_code"] = sdk.CodeOf(err).String()
		rep.Latency = time.Since(start)
		return rep, nil
	}

	body, err := in.do(ctx, "info", http.MethodGet, opensearchapi.InfoReq{})
	if err != nil {
		return down(err)
	}
	var info struct {
		ClusterName string `json:"cluster_name"`
		Version     struct {
			Distribution string `json:"distribution"`
			Number       string `json:"number"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Version.Number == "" {
		return down(sdk.Errorf(sdk.CodeInternal, "opensearch info: the answer at %s is not an OpenSearch info document", in.cfg.URL.Redacted()))
	}
	rep.Details["cluster_name"] = info.ClusterName
	rep.Details["version"] = info.Version.Number
	if info.Version.Distribution != "" {
		rep.Details["distribution"] = info.Version.Distribution
	}
	rep.Status = sdk.HealthOK

	body, err = in.do(ctx, "cluster health", http.MethodGet, &opensearchapi.ClusterHealthReq{})
	var se *sdk.Error
	switch {
	case errors.As(err, &se) && se.Code == sdk.CodeAuth:
		rep.Details["cluster_status"] = "not permitted"
	case err != nil:
		return down(err)
	default:
		var ch struct {
			Status     string `json:"status"`
			Unassigned int    `json:"unassigned_shards"`
		}
		if err := json.Unmarshal(body, &ch); err != nil {
			return down(malformed("cluster health", body, err))
		}
		rep.Details["cluster_status"] = ch.Status
		switch ch.Status {
		case "green":
		case "yellow":
			rep.Status = sdk.HealthDegraded
			rep.Message = fmt.Sprintf("cluster status yellow: %d replica shards unassigned; searches work", ch.Unassigned)
		case "red":
			rep.Status = sdk.HealthDown
			rep.Message = fmt.Sprintf("cluster status red: %d shards unassigned; searches on those indices fail or miss data", ch.Unassigned)
		default:
			return down(sdk.Errorf(sdk.CodeInternal, "opensearch cluster health: unknown status %q", ch.Status))
		}
	}

	// Can we read the indices? size=0 costs the cluster next to nothing.
	req := &opensearchapi.SearchReq{Indices: in.cfg.Indices, Params: opensearchapi.SearchParams{
		Size: opensearchapi.ToPointer(0),
	}}
	if body, err = in.do(ctx, "search", http.MethodPost, req); err != nil {
		return down(err)
	}
	var sr struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &sr); err != nil {
		return down(malformed("search", body, err))
	}
	rep.Details["documents"] = strconv.Itoa(sr.Hits.Total.Value)
	if sr.Hits.Total.Value == 0 && rep.Status == sdk.HealthOK {
		rep.Status = sdk.HealthDegraded
		rep.Message = fmt.Sprintf("index pattern %q matches no documents; check index", strings.Join(in.cfg.Indices, ","))
	}
	rep.Latency = time.Since(start)
	return rep, nil
}

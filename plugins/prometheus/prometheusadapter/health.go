package prometheusadapter

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/faultmaven/faultmaven/sdk"
)

// Health asks /-/ready (503 while the TSDB is starting or replaying its
// WAL: Down, since queries fail until then), then the build info through
// the API, which proves the query API answers with these credentials (a
// proxy may guard /api separately) and reports the version.
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

	var ready string
	err = in.call(ctx, "ready check", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.cfg.URL.String()+"/-/ready", nil)
		if err != nil {
			return err
		}
		resp, err := in.http.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		ready = strings.TrimSpace(string(body))
		if resp.StatusCode == http.StatusServiceUnavailable {
			return errNotReady
		}
		if resp.StatusCode != http.StatusOK {
			return &v1.Error{Type: v1.ErrClient, Msg: fmt.Sprintf("GET /-/ready: HTTP %d", resp.StatusCode), Detail: ready}
		}
		return nil
	})
	if err != nil {
		return down(err)
	}
	rep.Details["ready"] = ready

	var bi v1.BuildinfoResult
	err = in.call(ctx, "build info", func(ctx context.Context) error {
		var err error
		bi, err = in.api.Buildinfo(ctx)
		return err
	})
	if err != nil {
		return down(err)
	}
	rep.Details["version"] = bi.Version
	rep.Status = sdk.HealthOK
	rep.Latency = time.Since(start)
	return rep, nil
}

// errNotReady is a 503 from /-/ready; classify sees the status and reports
// it as unavailable, retried within the call's bounds.
var errNotReady = fmt.Errorf("server not ready (starting up or replaying its write-ahead log)")

package agent

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/core/loganalysis"
	"github.com/faultmaven/faultmaven/core/loganalysis/records"
	"github.com/faultmaven/faultmaven/sdk"
)

// maxParallelPulls bounds the integrations pulled at once for one answer.
const maxParallelPulls = 4

// errClipped stops a pull at the record bound.
var errClipped = errors.New("record bound reached")

// gather feeds the window's logs of every named integration, then the
// attachments, into a fresh analyzer. A source that fails is reported in
// rep.Sources and the others still count: one dead plugin does not sink
// the answer.
func (a *Agent) gather(ctx context.Context, req Request, from, to time.Time, rep *Report) (*loganalysis.Analyzer, errorTimeline, error) {
	an, err := loganalysis.New(loganalysis.Options{})
	if err != nil {
		return nil, nil, err
	}
	// Integrations are pulled in parallel (backends answer slowly, the
	// analyzer takes a lock per record); mu guards the error timeline and
	// serialises progress calls.
	var mu sync.Mutex
	errs := errorTimeline{}
	observe := func(key loganalysis.StreamKey, r sdk.Record) {
		if o := an.Observe(key, r); o.Severity >= sdk.SeverityError || o.Anomalous {
			mu.Lock()
			errs[o.Timestamp.Unix()/60]++
			mu.Unlock()
		}
	}
	report := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		req.progress(p)
	}
	cluster := clusterKey(req.Cluster)
	sums := make([]SourceSummary, len(req.Integrations))
	results := make([]error, len(req.Integrations))
	sem := make(chan struct{}, maxParallelPulls)
	var wg sync.WaitGroup
	for i, id := range req.Integrations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sum := &sums[i]
			sum.Name = id
			key := loganalysis.StreamKey{Cluster: cluster, Source: id}
			q := sdk.LogQuery{Start: from, End: to, Limit: a.opts.MaxRecords}
			results[i] = a.opts.Source.SearchLogs(ctx, id, q, func(batch []sdk.Record) error {
				for _, r := range batch {
					if sum.Records >= a.opts.MaxRecords {
						return errClipped
					}
					observe(key, r)
					sum.Records++
				}
				report(Progress{Stage: "pull", Source: id, Records: sum.Records})
				return nil
			})
			report(Progress{Stage: "pull", Source: id, Records: sum.Records, Done: true})
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	total, failed := 0, 0
	for i, id := range req.Integrations {
		sum, err := sums[i], results[i]
		switch {
		case errors.Is(err, sdk.ErrUnsupported):
			continue // a metrics-only integration has no logs to give
		case errors.Is(err, errClipped):
			sum.Clipped = true
		case err != nil:
			sum.Error = err.Error()
			failed++
			a.opts.Logger.Warn("agent: pulling logs failed", "integration", id, "err", err)
		}
		if sum.Clipped || sum.Records == a.opts.MaxRecords {
			sum.Clipped = true
			rep.Limits = append(rep.Limits, fmt.Sprintf("%s: only the first %d records of the window were read", id, a.opts.MaxRecords))
		}
		total += sum.Records
		rep.Sources = append(rep.Sources, sum)
	}
	for i, at := range req.Attachments {
		name := at.Name
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
		}
		svc := at.Service
		if svc == "" {
			svc = serviceFromName(name)
		}
		key := loganalysis.StreamKey{Cluster: cluster, Source: "attachment:" + name}
		var r io.Reader = strings.NewReader(at.Text)
		if at.Reader != nil {
			r = at.Reader
		}
		r, err := maybeGunzip(r)
		if err != nil {
			return nil, nil, fmt.Errorf("agent: reading %s: %w", name, err)
		}
		sp := records.NewSplitter(r, records.Options{})
		sum := SourceSummary{Name: name}
		for {
			r, err := sp.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("agent: reading %s: %w", name, err)
			}
			observe(key, sdk.Record{Body: r.Text, Service: svc})
			sum.Records++
			if sum.Records%10000 == 0 {
				report(Progress{Stage: "pull", Source: name, Records: sum.Records})
			}
		}
		total += sum.Records
		rep.Sources = append(rep.Sources, sum)
		report(Progress{Stage: "pull", Source: name, Records: sum.Records, Done: true})
	}
	switch {
	case len(req.Integrations) == 0 && len(req.Attachments) == 0:
		rep.Limits = append(rep.Limits, "no logs: no integration and no attachment was given, so the answer rests on the knowledge base alone")
	case failed > 0 && failed == len(req.Integrations) && len(req.Attachments) == 0:
		rep.Limits = append(rep.Limits, "every integration failed; see sources for the errors")
	case total == 0:
		rep.Limits = append(rep.Limits, "the sources returned no records in the window")
	}
	return an, errs, nil
}

// maybeGunzip decompresses a gzip stream (rotated logs: app.log.1.gz)
// and passes anything else through.
func maybeGunzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// rotationRE matches a rotation suffix: app.log.1, app.log-20241105.
var rotationRE = regexp.MustCompile(`([.-]\d+)+$`)

// serviceFromName derives a service name from a file name:
// "logs/orders-api.log" -> "orders-api".
func serviceFromName(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, ".gz")
	base = rotationRE.ReplaceAllString(base, "")
	for _, ext := range []string{".txt", ".log", ".json", ".jsonl", ".ndjson", ".out"} {
		base = strings.TrimSuffix(base, ext)
	}
	if base == "" || base == "." || base == "/" {
		return name
	}
	return base
}

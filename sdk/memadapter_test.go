package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// memAdapter serves a fixed in-memory log to exercise the SDK and the
// conformance kit. Config: {"records": N, "fail_health": bool}.
type memAdapter struct {
	mu        sync.Mutex
	instances map[string]memConfig
}

type memConfig struct {
	Records    int  `json:"records"`
	FailHealth bool `json:"fail_health"`
}

var memBase = time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC)

func newMem() *memAdapter { return &memAdapter{instances: map[string]memConfig{}} }

func (m *memAdapter) Metadata() sdk.Metadata {
	return sdk.Metadata{
		Name:         "mem",
		Version:      "0.1.0",
		ConfigSchema: json.RawMessage(`{"type":"object","properties":{"records":{"type":"integer","minimum":1},"fail_health":{"type":"boolean"}},"required":["records"],"additionalProperties":false}`),
	}
}

func (m *memAdapter) parse(raw json.RawMessage) (memConfig, error) {
	var c memConfig
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, sdk.FieldErrorf("", "invalid JSON: %v", err)
	}
	if c.Records < 1 {
		return c, sdk.FieldErrorf("records", "must be at least 1, got %d", c.Records)
	}
	return c, nil
}

func (m *memAdapter) Validate(_ context.Context, raw json.RawMessage) error {
	_, err := m.parse(raw)
	return err
}

func (m *memAdapter) Configure(_ context.Context, inst string, raw json.RawMessage) error {
	c, err := m.parse(raw)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.instances[inst] = c
	return nil
}

func (m *memAdapter) Remove(_ context.Context, inst string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.instances, inst)
	return nil
}

func (m *memAdapter) get(inst string) (memConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.instances[inst]
	if !ok {
		return c, sdk.Errorf(sdk.CodeNotFound, "no instance %q", inst)
	}
	return c, nil
}

func (m *memAdapter) Health(_ context.Context, inst string) (sdk.HealthReport, error) {
	c, err := m.get(inst)
	if err != nil {
		return sdk.HealthReport{}, err
	}
	if c.FailHealth {
		return sdk.HealthReport{Status: sdk.HealthDown, Message: "backend refused the credentials"}, nil
	}
	return sdk.HealthReport{Status: sdk.HealthOK, Latency: time.Millisecond}, nil
}

func memRecord(i int) sdk.Record {
	sev := sdk.SeverityInfo
	if i%7 == 0 {
		sev = sdk.SeverityError
	}
	return sdk.Record{
		Timestamp: memBase.Add(time.Duration(i) * time.Second),
		Body:      fmt.Sprintf("request %d served by checkout in %dms", i, i%50),
		Severity:  sev,
		Service:   "checkout",
		Source:    sdk.SourceRef{NativeID: fmt.Sprint(i)},
	}
}

func (m *memAdapter) SearchLogs(ctx context.Context, inst string, q sdk.LogQuery, w sdk.RecordWriter) error {
	c, err := m.get(inst)
	if err != nil {
		return err
	}
	if q.Query == "ratelimit:" {
		return sdk.RateLimited(45*time.Second, "backend says slow down")
	}
	if strings.HasPrefix(q.Query, "bad:") {
		return sdk.Errorf(sdk.CodeBadQuery, "cannot parse %q", q.Query)
	}
	for i := 0; i < c.Records; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := memRecord(i)
		if !q.InRange(r.Timestamp) || !q.Filters.Match(&r) {
			continue
		}
		if err := w.Write(r); err != nil {
			return err
		}
	}
	return nil
}

package pluginhost_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
	plugin "github.com/hashicorp/go-plugin"
)

// The test binary doubles as every fixture plugin (go-plugin's helper
// process idiom): copied into a plugin dir as faultmaven-plugin-<mode>, it
// serves the fixture whose behaviour <mode> names.

var fixtureBase = time.Date(2024, 3, 5, 13, 0, 0, 0, time.UTC)

func serveFixture() {
	mode := strings.TrimPrefix(filepath.Base(os.Args[0]), "faultmaven-plugin-")
	switch mode {
	case "stdout":
		fmt.Println("hello from a chatty plugin")
	case "future":
		// A plugin built with a future SDK that only speaks protocol v2.
		hs := sdk.Handshake
		hs.ProtocolVersion = 2
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  hs,
			VersionedPlugins: map[int]plugin.PluginSet{2: sdk.PluginMap()[sdk.ProtocolVersion]},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
		return
	}
	sdk.Serve(&fixture{name: mode, instances: map[string]fixtureConfig{}})
}

type fixtureConfig struct {
	Records int `json:"records"`
}

type fixture struct {
	name      string
	mu        sync.Mutex
	instances map[string]fixtureConfig
}

func (f *fixture) Metadata() sdk.Metadata {
	return sdk.Metadata{Name: f.name, Version: "1.2.3", ConfigSchema: json.RawMessage(`{"type":"object","properties":{"records":{"type":"integer"}}}`)}
}

func (f *fixture) Validate(_ context.Context, raw json.RawMessage) error {
	var c fixtureConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return sdk.FieldErrorf("", "invalid JSON: %v", err)
	}
	if c.Records < 0 {
		return sdk.FieldErrorf("records", "must not be negative")
	}
	return nil
}

func (f *fixture) Configure(ctx context.Context, inst string, raw json.RawMessage) error {
	if err := f.Validate(ctx, raw); err != nil {
		return err
	}
	var c fixtureConfig
	_ = json.Unmarshal(raw, &c)
	f.mu.Lock()
	f.instances[inst] = c
	f.mu.Unlock()
	sdk.Logger().Info("configured instance", "instance", inst)
	return nil
}

func (f *fixture) Remove(_ context.Context, inst string) error {
	f.mu.Lock()
	delete(f.instances, inst)
	f.mu.Unlock()
	return nil
}

func (f *fixture) Health(_ context.Context, inst string) (sdk.HealthReport, error) {
	f.mu.Lock()
	_, ok := f.instances[inst]
	f.mu.Unlock()
	if !ok {
		return sdk.HealthReport{}, sdk.Errorf(sdk.CodeNotFound, "no instance %q", inst)
	}
	secret := "absent"
	if os.Getenv("FAULTMAVEN_TEST_HOST_SECRET") != "" {
		secret = "present"
	}
	return sdk.HealthReport{Status: sdk.HealthOK, Details: map[string]string{"host_secret": secret, "pid": fmt.Sprint(os.Getpid())}}, nil
}

func (f *fixture) SearchLogs(ctx context.Context, inst string, q sdk.LogQuery, w sdk.RecordWriter) error {
	f.mu.Lock()
	c, ok := f.instances[inst]
	f.mu.Unlock()
	if !ok {
		return sdk.Errorf(sdk.CodeNotFound, "no instance %q", inst)
	}
	switch q.Query {
	case "crash":
		for i := 0; i < 3; i++ {
			_ = w.Write(sdk.Record{Timestamp: fixtureBase, Body: "about to crash"})
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "lie":
		// Ignores the time range: half its records are outside it.
		for i := 0; i < c.Records; i++ {
			ts := fixtureBase.Add(time.Duration(i) * time.Minute)
			if err := w.Write(sdk.Record{Timestamp: ts, Body: fmt.Sprintf("record %d", i)}); err != nil {
				return err
			}
		}
		return nil
	case "slow":
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
		}
	}
	for i := 0; i < c.Records; i++ {
		ts := fixtureBase.Add(time.Duration(i) * time.Second)
		if !q.InRange(ts) {
			continue
		}
		if err := w.Write(sdk.Record{Timestamp: ts, Body: fmt.Sprintf("record %d", i), Service: "svc"}); err != nil {
			return err
		}
	}
	return nil
}

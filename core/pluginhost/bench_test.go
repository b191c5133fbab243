package pluginhost_test

import (
	"encoding/json"
	"testing"

	"github.com/faultmaven/faultmaven/core/pluginhost"
	"github.com/faultmaven/faultmaven/sdk"
)

// BenchmarkPluginStart measures a cold plugin start as the hub does it:
// checksum of the binary, process launch, AutoMTLS handshake, metadata.
func BenchmarkPluginStart(b *testing.B) {
	dir := pluginDir(b, "mem")
	for b.Loop() {
		h, err := pluginhost.New(pluginhost.Options{PluginDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Start(b.Context()); err != nil {
			b.Fatal(err)
		}
		if st, _ := h.Plugin("mem"); st.State != pluginhost.StateRunning {
			b.Fatalf("state %s: %s", st.State, st.LastError)
		}
		b.StopTimer()
		_ = h.Close()
		b.StartTimer()
	}
}

// BenchmarkRestartAfterCrash measures crash-to-serving for a first crash
// (backoff RestartBackoffMin): the plugin kills itself mid-call, and the
// clock runs until a call succeeds again. Later crashes in a row back off
// exponentially by design.
func BenchmarkRestartAfterCrash(b *testing.B) {
	dir := pluginDir(b, "crashy")
	ctx := b.Context()
	for b.Loop() {
		b.StopTimer()
		h, err := pluginhost.New(pluginhost.Options{PluginDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Start(ctx); err != nil {
			b.Fatal(err)
		}
		if err := h.Configure(ctx, "c/app", "crashy", json.RawMessage(`{"records": 1}`)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_ = h.SearchLogs(ctx, "c/app", sdk.LogQuery{Query: "crash"}, func([]sdk.Record) error { return nil })
		if _, err := h.Health(ctx, "c/app"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = h.Close()
		b.StartTimer()
	}
}

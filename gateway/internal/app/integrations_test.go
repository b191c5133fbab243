package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/core/pluginhost"
)

// A hub with no integrations is ready at once and survives its health
// loop (it used to close the ready channel twice and panic).
func TestNoIntegrationsIsReadyAndSurvivesChecks(t *testing.T) {
	host, err := pluginhost.New(pluginhost.Options{PluginDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })
	in := newIntegrations(host, slog.New(slog.DiscardHandler), nil)
	if !in.isReady() {
		t.Fatal("no integrations: not ready")
	}
	in.checkAll(t.Context(), time.Second)
	in.checkAll(t.Context(), time.Second)
	if ids, known := in.LogIntegrations("prod"); known || len(ids) != 0 {
		t.Errorf("LogIntegrations on an empty hub = %v, %v", ids, known)
	}
}

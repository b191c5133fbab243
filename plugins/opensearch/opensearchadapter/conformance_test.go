package opensearchadapter_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/opensearch/opensearchstandin"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// TestConformance runs the SDK's conformance kit against the stand-in, in
// process and through the built plugin binary launched as the hub does.
// The window holds 3,000 documents read in pages of 500, so every search
// pages through a point in time.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	_, srv := startStandin(t, 12000, opensearchstandin.Options{})
	plugintest.Run(t, plugintest.Suite{
		New:        func() sdk.Adapter { return newAdapter(t, nil) },
		Binary:     plugintest.BuildPlugin(t, ".."),
		GoodConfig: cfg(t, srv.URL, map[string]any{"page_size": 500}),
		BadConfigs: []plugintest.BadConfig{
			{Name: "no url", Config: json.RawMessage(`{"index":"logs-*"}`), Field: "url"},
			{Name: "bad index", Config: json.RawMessage(`{"url":"http://x","index":"Logs"}`), Field: "index"},
			{Name: "password alone", Config: json.RawMessage(`{"url":"http://x","index":"l","password":"p"}`), Field: "username"},
			{Name: "page size", Config: json.RawMessage(`{"url":"http://x","index":"l","page_size":0}`), Field: "page_size"},
		},
		UnhealthyConfig: cfg(t, srv.URL, map[string]any{"password": "not-the-password"}),
		LogQuery:        sdk.LogQuery{Start: t0.Add(time.Minute), End: t0.Add(6 * time.Minute)},
		MinRecords:      3000,
	})
}

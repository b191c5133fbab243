// Package plugintest is the conformance kit every FaultMaven adapter plugin
// must pass. A plugin author calls [Run] from a test with their adapter and
// a backend (real, or a wire-faithful stand-in):
//
//	func TestConformance(t *testing.T) {
//		srv := mystandin.Start(t)
//		plugintest.Run(t, plugintest.Suite{
//			New:        func() sdk.Adapter { return myadapter.New() },
//			Binary:     plugintest.BuildPlugin(t, ".."), // the plugin's main package
//			GoodConfig: json.RawMessage(`{"url": "` + srv.URL + `"}`),
//			LogQuery:   sdk.LogQuery{Start: t0, End: t1},
//			MinRecords: 10,
//		})
//	}
//
// The same checks run twice: in-process against the adapter, and against
// the built binary launched the way the hub launches it (go-plugin over
// gRPC, AutoMTLS, SHA-256 checksum, no host environment but an allowlist).
// The binary run is what proves the plugin works across the boundary:
// batching, error codes and Unimplemented answers only exist there.
//
// What is checked: metadata (name, version, capabilities consistent with
// the services the plugin answers, a structurally valid JSON Schema for the
// instance config), field-level config errors, instance lifecycle, health
// on a good and a bad instance, an unknown instance answering not_found,
// log search (time range, limit, sub-window, filters, cancellation,
// deadline, bounded batches, source references), metrics shape, and that
// capabilities not advertised answer sdk.ErrUnsupported.
//
// The schema check is structural (an object schema whose required keys are
// declared properties and which accepts the good config's keys); the hub
// validates configs against the full JSON Schema at configure time.
package plugintest

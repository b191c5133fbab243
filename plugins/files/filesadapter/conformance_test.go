package filesadapter_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/faultmaven/faultmaven/plugins/files/filesadapter"
	"github.com/faultmaven/faultmaven/sdk"
	"github.com/faultmaven/faultmaven/sdk/plugintest"
)

// examplePaths selects the bundled sample logs (examples/logs), which hold
// a checkout incident on 2026-11-24 between 14:00 and 14:16 UTC.
func examplePaths(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "logs", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func jsonConfig(t testing.TB, cfg map[string]any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestPlugin runs the conformance kit in-process and, except with -short,
// against the plugin binary launched the way the hub launches it.
func TestPlugin(t *testing.T) {
	var bin string
	if !testing.Short() {
		bin = plugintest.BuildPlugin(t, "..")
	}
	t.Run("conformance", func(t *testing.T) {
		plugintest.Run(t, plugintest.Suite{
			New:        func() sdk.Adapter { return filesadapter.New(filesadapter.Options{}) },
			Binary:     bin,
			GoodConfig: jsonConfig(t, map[string]any{"paths": []string{examplePaths(t)}, "timezone": "UTC"}),
			BadConfigs: []plugintest.BadConfig{
				{Name: "no paths", Config: json.RawMessage(`{}`), Field: "paths"},
				{Name: "empty paths", Config: json.RawMessage(`{"paths": []}`), Field: "paths"},
				{Name: "bad glob", Config: json.RawMessage(`{"paths": ["/var/log/[.log"]}`), Field: "paths"},
				{Name: "unknown field", Config: json.RawMessage(`{"paths": ["a"], "path": "b"}`), Field: "path"},
				{Name: "max_line_bytes out of range", Config: json.RawMessage(`{"paths": ["a"], "max_line_bytes": 0}`), Field: "max_line_bytes"},
				{Name: "bad multiline", Config: json.RawMessage(`{"paths": ["a"], "multiline": "sometimes"}`), Field: "multiline"},
				{Name: "unknown timezone", Config: json.RawMessage(`{"paths": ["a"], "timezone": "Nowhere/Atlantis"}`), Field: "timezone"},
			},
			UnhealthyConfig: jsonConfig(t, map[string]any{"paths": []string{filepath.Join(t.TempDir(), "missing", "*.log")}}),
			LogQuery: sdk.LogQuery{
				Start: time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC),
				End:   time.Date(2026, 11, 24, 14, 10, 0, 0, time.UTC),
			},
			MinRecords: 100,
		})
	})
	if bin == "" {
		return
	}

	// Bytes that are fine in a file but not in a protobuf string must not
	// break the stream (the conformance kit's sample data is all clean).
	t.Run("bad bytes over the wire", func(t *testing.T) {
		dir := t.TempDir()
		content := "2026-11-24T10:00:00Z ERROR caf\xe9 \xff\xfe NUL\x00 " + strings.Repeat("y", 2<<20) + "\n" +
			"2026-11-24T10:00:01Z INFO next\n"
		path := writeFile(t, dir, "bad.log", []byte(content), time.Time{})
		c := plugintest.Launch(t, bin)
		if err := c.Configure(t.Context(), "bad", jsonConfig(t, map[string]any{"paths": []string{path}})); err != nil {
			t.Fatal(err)
		}
		var recs []sdk.Record
		err := c.SearchLogs(t.Context(), "bad", sdk.LogQuery{}, sdk.SearchOptions{}, func(b []sdk.Record) error {
			recs = append(recs, b...)
			return nil
		})
		if err != nil {
			t.Fatalf("SearchLogs: %v", err)
		}
		if len(recs) != 2 {
			t.Fatalf("got %d records, want 2", len(recs))
		}
		r := recs[0]
		if !utf8.ValidString(r.Body) || !strings.HasPrefix(r.Body, "2026-11-24T10:00:00Z ERROR caf\uFFFD \uFFFD NUL\x00 yyy") {
			t.Errorf("body %.60q, want invalid bytes replaced and NUL kept", r.Body)
		}
		if r.Attributes["truncated"] != "true" || len(r.Body) > sdk.MaxBodyBytes {
			t.Errorf("2 MiB line: %d bytes, attributes %v; want cut to %d and marked truncated", len(r.Body), r.Attributes, sdk.MaxBodyBytes)
		}
		if recs[1].Body != "2026-11-24T10:00:01Z INFO next" || recs[1].Source.Instance != "bad" {
			t.Errorf("second record %q from %q", recs[1].Body, recs[1].Source.Instance)
		}
	})
}

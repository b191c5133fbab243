package datadogstandin_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/datadog/datadogstandin"
)

func TestSearchWire(t *testing.T) {
	s := datadogstandin.Start(t, datadogstandin.Options{APIKey: "k", AppKey: "a"})
	t0 := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		s.Add(datadogstandin.Log{Time: t0.Add(time.Duration(i) * time.Second), Message: "boom", Service: "web", Status: "error", Tags: []string{"env:prod"}})
	}
	do := func(body string, key string) (*http.Response, map[string]any) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/api/v2/logs/events/search", bytes.NewBufferString(body))
		req.Header.Set("DD-API-KEY", key)
		req.Header.Set("DD-APPLICATION-KEY", "a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	if resp, _ := do(`{}`, "wrong"); resp.StatusCode != 403 {
		t.Fatalf("bad key: %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(`{"page":{"limit":1001}}`, "k"); resp.StatusCode != 400 {
		t.Fatalf("limit 1001: %d, want 400", resp.StatusCode)
	}
	q := `{"filter":{"query":"service:(web OR api) env:prod -status:info","from":"2024-01-15T10:00:00Z","to":"1705312804000"},"page":{"limit":2}}`
	resp, out := do(q, "k")
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Reset") == "" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	if n := len(out["data"].([]any)); n != 2 {
		t.Fatalf("page 1 holds %d logs, want 2", n)
	}
	after := out["meta"].(map[string]any)["page"].(map[string]any)["after"].(string)
	// The cursor belongs to its filter.
	if resp, _ := do(`{"filter":{"query":"*"},"page":{"limit":2,"cursor":"`+after+`"}}`, "k"); resp.StatusCode != 400 {
		t.Fatalf("foreign cursor: %d, want 400", resp.StatusCode)
	}
	total := 2
	for after != "" {
		var page map[string]any
		_, page = do(q[:len(q)-2]+`,"cursor":"`+after+`"}}`, "k")
		total += len(page["data"].([]any))
		after = ""
		if p, ok := page["meta"].(map[string]any)["page"].(map[string]any); ok {
			after, _ = p["after"].(string)
		}
	}
	if total != 4 {
		t.Fatalf("%d logs over all pages, want 4 (to is exclusive)", total)
	}
}

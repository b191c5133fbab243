package splunkstandin_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/splunk/splunkstandin"
)

func post(t *testing.T, s *splunkstandin.Server, method, path string, form url.Values, auth string) *http.Response {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // stand-in
	var req *http.Request
	if method == http.MethodGet {
		req, _ = http.NewRequestWithContext(t.Context(), method, s.URL+path+"?"+form.Encode(), nil)
	} else {
		req, _ = http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestExportWire(t *testing.T) {
	s := splunkstandin.Start(t, splunkstandin.Options{Token: "tok"})
	t0 := time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)
	s.Add(splunkstandin.Event{Time: t0, Raw: "a ERROR one", Host: "h1"}, splunkstandin.Event{Time: t0.Add(time.Second), Raw: "b two", Host: "h2"})
	ok := url.Values{"search": {"search index=main"}, "output_mode": {"json"}}
	cases := []struct {
		name, method, path string
		form               url.Values
		auth               string
		status             int
		lines              int
	}{
		{"no auth", http.MethodPost, "/services/search/v2/jobs/export", ok, "", 401, 0},
		{"v2 is POST only", http.MethodGet, "/services/search/v2/jobs/export", ok, "Bearer tok", 405, 0},
		{"v1 GET", http.MethodGet, "/services/search/jobs/export", ok, "Bearer tok", 200, 2},
		{"bare index fails", http.MethodPost, "/services/search/v2/jobs/export", url.Values{"search": {"index=main"}, "output_mode": {"json"}}, "Bearer tok", 400, 0},
		{"unknown command", http.MethodPost, "/services/search/v2/jobs/export", url.Values{"search": {"search x | delete"}, "output_mode": {"json"}}, "Bearer tok", 400, 0},
		{"quoted pipe is a literal", http.MethodPost, "/services/search/v2/jobs/export", url.Values{"search": {`search "x | delete"`}, "output_mode": {"json"}}, "Bearer tok", 200, 0},
		{"latest is exclusive", http.MethodPost, "/services/search/v2/jobs/export", url.Values{"search": {"search *"}, "output_mode": {"json"}, "latest_time": {"1705312801"}}, "Bearer tok", 200, 1},
		{"OR and fields", http.MethodPost, "/services/search/v2/jobs/export", url.Values{"search": {`search (host=h1 OR host="H2") error`}, "output_mode": {"json"}}, "Bearer tok", 200, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := post(t, s, c.method, c.path, c.form, c.auth)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.status != 200 {
				var m struct{ Messages []struct{ Type, Text string } }
				if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Messages) == 0 {
					t.Fatalf("error body is not Splunk's envelope: %v", err)
				}
				return
			}
			sc := bufio.NewScanner(resp.Body)
			rows, last := 0, false
			for sc.Scan() {
				var l struct {
					LastRow bool           `json:"lastrow"`
					Result  map[string]any `json:"result"`
				}
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				if l.Result != nil {
					rows++
				}
				last = last || l.LastRow
			}
			if rows != c.lines || !last {
				t.Fatalf("%d rows (lastrow %v), want %d with a last row", rows, last, c.lines)
			}
		})
	}
}

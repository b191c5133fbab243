package datadogadapter_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/plugins/datadog/datadogadapter"
	"github.com/faultmaven/faultmaven/sdk"
)

// hostRecorder answers every call with an empty last page and records the
// URL, so the site selection can be checked without a network.
type hostRecorder struct {
	mu   sync.Mutex
	urls []string
	keys []string
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.urls = append(h.urls, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	h.keys = append(h.keys, r.Header.Get("DD-API-KEY")+"/"+r.Header.Get("DD-APPLICATION-KEY"))
	h.mu.Unlock()
	body := `{"data":[],"meta":{"status":"done","elapsed":1}}`
	return &http.Response{StatusCode: 200, Status: "200 OK", Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func TestSiteSelection(t *testing.T) {
	cases := map[string]string{
		"datadoghq.com":     "https://api.datadoghq.com/api/v2/logs/events/search",
		"us3.datadoghq.com": "https://api.us3.datadoghq.com/api/v2/logs/events/search",
		"us5.datadoghq.com": "https://api.us5.datadoghq.com/api/v2/logs/events/search",
		"datadoghq.eu":      "https://api.datadoghq.eu/api/v2/logs/events/search",
		"ap1.datadoghq.com": "https://api.ap1.datadoghq.com/api/v2/logs/events/search",
		"ddog-gov.com":      "https://api.ddog-gov.com/api/v2/logs/events/search",
		"us2.ddog-gov.com":  "https://api.us2.ddog-gov.com/api/v2/logs/events/search",
	}
	for site, want := range cases {
		t.Run(site, func(t *testing.T) {
			rt := &hostRecorder{}
			ad := datadogadapter.New(datadogadapter.Options{Transport: rt, Logger: slog.New(slog.DiscardHandler)})
			cfg, _ := json.Marshal(map[string]any{"site": site, "api_key": "k1", "app_key": "k2"})
			if err := ad.Configure(t.Context(), "a", cfg); err != nil {
				t.Fatal(err)
			}
			if _, err := search(t.Context(), ad, "a", sdk.LogQuery{Start: t0, End: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if len(rt.urls) != 1 || rt.urls[0] != want || rt.keys[0] != "k1/k2" {
				t.Fatalf("calls = %v (keys %v), want one to %s with both keys", rt.urls, rt.keys, want)
			}
		})
	}
}

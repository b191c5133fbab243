package opensearchadapter

import (
	"encoding/json"
	"log/slog"
	"net/url"
)

// MapPage decodes one _search answer and maps its hits the way SearchLogs
// does, for the decode-and-map benchmark: the adapter's own share of the
// cost of a page, without HTTP or the backend.
func MapPage(body []byte, dashboards string) (int, error) {
	c, err := parseConfig(json.RawMessage(`{"url":"http://x","index":"logs-*"}`))
	if err != nil {
		return 0, err
	}
	if dashboards != "" {
		c.DashboardsURL, _ = url.Parse(dashboards)
	}
	in := &instance{cfg: c, log: slog.New(slog.DiscardHandler)}
	resp, err := in.decodePage(body)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range resp.Hits.Hits {
		if _, ok := in.record(&resp.Hits.Hits[i]); ok {
			n++
		}
	}
	return n, nil
}

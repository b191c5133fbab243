package splunkadapter

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// timeFormat pins _time to UTC-offset ISO-8601 with microseconds, whatever
// the Splunk user's own time settings are.
const timeFormat = "%Y-%m-%dT%H:%M:%S.%6N%:z"

// maxLine bounds one streamed row; Splunk's own default event size limit
// (TRUNCATE) is 10,000 bytes, so this is generous.
const maxLine = 32 << 20

// SearchLogs runs one streaming export search; see the package doc.
func (a *Adapter) SearchLogs(ctx context.Context, instance string, q sdk.LogQuery, w sdk.RecordWriter) error {
	c, err := a.instances.Get(instance)
	if err != nil {
		return err
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.End.After(q.Start) {
		return nil
	}
	spl := buildSearch(c.s, q)
	form := url.Values{"search": {spl}, "output_mode": {"json"}, "time_format": {timeFormat}}
	if !q.Start.IsZero() {
		form.Set("earliest_time", epoch(q.Start))
	} else {
		form.Set("earliest_time", "0")
	}
	if !q.End.IsZero() {
		form.Set("latest_time", epoch(q.End))
	}
	resp, err := c.do(ctx, "splunk export search", request{method: http.MethodPost, path: "/services/search/v2/jobs/export", form: form})
	var nf *notFoundError
	if errors.As(err, &nf) {
		c.log.Debug("splunk v2 export not found; falling back to v1")
		resp, err = c.do(ctx, "splunk export search (v1)", request{method: http.MethodPost, path: "/services/search/jobs/export", form: form})
	}
	if err != nil {
		return asSDK(err)
	}
	defer resp.Body.Close()
	st := &streamState{c: c, q: q, w: w}
	return st.read(ctx, resp.Body)
}

func epoch(t time.Time) string {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	return fmt.Sprintf("%d.%06d", sec, frac)
}

// exportLine is one line of the export stream.
type exportLine struct {
	Preview  bool             `json:"preview"`
	LastRow  bool             `json:"lastrow"`
	Result   map[string]any   `json:"result"`
	Results  []map[string]any `json:"results"`
	Messages []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"messages"`
}

type streamState struct {
	c       *client
	q       sdk.LogQuery
	w       sdk.RecordWriter
	lines   int
	lastRow bool
	rows    int
}

func (st *streamState) read(ctx context.Context, body io.Reader) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		st.lines++
		var el exportLine
		if err := json.Unmarshal(line, &el); err != nil {
			return sdk.Errorf(sdk.CodeUnavailable, "splunk export stream line %d is not JSON (%v): the response is malformed or was cut off", st.lines, err)
		}
		if err := st.messages(&el); err != nil {
			return err
		}
		if el.Preview {
			continue // previews of transforming searches repeat rows
		}
		st.lastRow = st.lastRow || el.LastRow
		rows := el.Results
		if el.Result != nil {
			rows = append(rows, el.Result)
		}
		for _, row := range rows {
			st.rows++
			rec, err := st.record(row)
			if err != nil {
				return err
			}
			if !st.q.InRange(rec.Timestamp) || !st.q.Filters.Match(&rec) {
				continue
			}
			if err := st.w.Write(rec); err != nil {
				if errors.Is(err, sdk.ErrLimitReached) {
					return nil
				}
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return sdk.Errorf(sdk.CodeUnavailable, "splunk export stream line %d is longer than %d bytes", st.lines+1, maxLine)
		}
		return sdk.Errorf(sdk.CodeUnavailable, "splunk export stream broke after %d rows: %w", st.rows, err)
	}
	if st.lines > 0 && !st.lastRow {
		return sdk.Errorf(sdk.CodeUnavailable, "splunk export stream ended after %d rows without its last row: the response was cut off", st.rows)
	}
	return nil
}

// messages fails the search on FATAL/ERROR lines inside the 200 stream.
func (st *streamState) messages(el *exportLine) error {
	for _, m := range el.Messages {
		switch strings.ToUpper(m.Type) {
		case "FATAL", "ERROR":
			code := sdk.CodeUnavailable
			if isQueryError(m.Text) {
				code = sdk.CodeBadQuery
			}
			return sdk.Errorf(code, "splunk search failed inside the stream: %s %s", m.Type, m.Text)
		default:
			st.c.log.Debug("splunk search message", "type", m.Type, "text", m.Text)
		}
	}
	return nil
}

func isQueryError(text string) bool {
	l := strings.ToLower(text)
	for _, s := range []string{"error in '", "unknown search command", "unable to parse", "syntax", "unbalanced"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// internalFields are Splunk bookkeeping fields left out of attributes.
var internalFields = map[string]bool{
	"_raw": true, "_time": true, "_cd": true, "_bkt": true, "_serial": true, "_si": true,
	"_indextime": true, "_sourcetype": true, "_kv": true, "_eventtype_color": true, "punct": true,
	"linecount": true, "timestartpos": true, "timeendpos": true, "splunk_server_group": true,
}

// levelFields are read, in order, for the record's severity.
var levelFields = []string{"level", "log_level", "severity", "loglevel", "status_level", "lvl"}

// levelWordRe finds a level word near the start of a raw event, as written
// by most logging libraries ("ERROR", "[warn]", "level=info", "E0102").
var levelWordRe = regexp.MustCompile(`(?i)(?:^|[\s\[\]|":=(])(trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|panic|emerg|alert|severe)(?:$|[\s\[\]|":,)])`)

func (st *streamState) record(row map[string]any) (sdk.Record, error) {
	var rec sdk.Record
	get := func(k string) string { return fieldString(row[k]) }
	tm := get("_time")
	if tm == "" {
		return rec, sdk.Errorf(sdk.CodeBadQuery, "splunk returned a row without _time: log search needs events, not a transforming search (stats, table...)")
	}
	ts, err := parseSplunkTime(tm)
	if err != nil {
		return rec, sdk.Errorf(sdk.CodeUnavailable, "splunk returned _time %q that is not a time", tm)
	}
	rec.Timestamp = ts
	rec.Body = get("_raw")
	rec.Host = get("host")
	rec.Service = get(st.c.s.serviceField)
	for _, f := range levelFields {
		if v := get(f); v != "" {
			rec.Severity = sdk.ParseSeverity(v)
			if rec.Severity != sdk.SeverityUnspecified {
				break
			}
		}
	}
	if rec.Severity == sdk.SeverityUnspecified {
		rec.Severity = severityFromRaw(rec.Body)
	}
	rec.Attributes = make(map[string]string, len(row))
	for k, v := range row {
		if internalFields[k] || strings.HasPrefix(k, "date_") {
			continue
		}
		if s := fieldString(v); s != "" {
			rec.Attributes[k] = s
		}
	}
	cd, bkt, index := get("_cd"), get("_bkt"), get("index")
	if cd != "" {
		rec.Source.NativeID = cd
		if bkt != "" {
			rec.Source.NativeID = bkt + ":" + cd
		}
		if st.c.s.webURL != nil && index != "" {
			rec.Source.Link = st.link(index, cd, ts)
		}
	}
	if rec.Body == "" {
		// A row from a search that dropped _raw (fields -_raw): keep the
		// fields readable rather than write an empty record.
		keys := make([]string, 0, len(rec.Attributes))
		for k := range rec.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + rec.Attributes[k]
		}
		rec.Body = strings.Join(parts, " ")
	}
	return rec, nil
}

// link points Splunk Web at the one event.
func (st *streamState) link(index, cd string, ts time.Time) string {
	u := *st.c.s.webURL
	u.Path += "/app/" + st.c.s.app + "/search"
	sec := ts.Unix()
	u.RawQuery = url.Values{
		"q":        {"search index=" + quoteLiteral(index) + " _cd=" + quoteLiteral(cd)},
		"earliest": {strconv.FormatInt(sec, 10)},
		"latest":   {strconv.FormatInt(sec+1, 10)},
	}.Encode()
	return u.String()
}

func severityFromRaw(raw string) sdk.Severity {
	if len(raw) > 256 {
		raw = raw[:256]
	}
	if m := levelWordRe.FindStringSubmatch(raw); m != nil {
		return sdk.ParseSeverity(m[1])
	}
	return sdk.SeverityUnspecified
}

// fieldString reads a Splunk field value: a string, or an array of strings
// for multi-value fields (joined with ", ").
func fieldString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			if s := fieldString(x); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64) // non-standard servers
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

func parseSplunkTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999-0700", s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMicro(int64(f * 1e6)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("unknown time format")
}

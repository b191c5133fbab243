package opensearchadapter

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/sdk"
)

// maxAttributes bounds the attributes taken from one document; a document
// with thousands of fields would otherwise dominate a batch.
const maxAttributes = 64

// record maps one hit to an sdk.Record. ok is false when the hit has no
// usable timestamp (neither in _source nor as its first sort value).
func (in *instance) record(h *hit) (sdk.Record, bool) {
	f := in.cfg.Fields
	var src map[string]any
	if len(h.Source) > 0 {
		dec := json.NewDecoder(bytes.NewReader(h.Source))
		dec.UseNumber()
		_ = dec.Decode(&src) // a non-object _source leaves src nil: the raw text becomes the body
	}
	rec := sdk.Record{
		Source: sdk.SourceRef{NativeID: h.Index + "/" + h.ID},
	}
	ts, ok := parseTime(lookup(src, f.Timestamp))
	if !ok && len(h.Sort) > 0 {
		// A date field's sort value is epoch milliseconds.
		var ms json.Number
		if json.Unmarshal(h.Sort[0], &ms) == nil {
			ts, ok = parseTime(ms, true)
		}
	}
	if !ok {
		return rec, false
	}
	rec.Timestamp = ts
	if m, ok := lookup(src, f.Message); ok {
		rec.Body = scalar(m)
	} else {
		rec.Body = string(h.Source)
	}
	if v, ok := lookup(src, f.Service); ok {
		rec.Service = scalar(v)
	}
	if v, ok := lookup(src, f.Host); ok {
		rec.Host = scalar(v)
	}
	if v, ok := lookup(src, f.Level); ok {
		rec.Severity = sdk.ParseSeverity(scalar(v))
	}
	mapped := map[string]bool{f.Timestamp: true, f.Message: true, f.Service: true, f.Host: true, f.Level: true}
	attrs := map[string]string{}
	flatten(attrs, "", src, mapped)
	attrs["opensearch.index"] = h.Index
	if len(attrs) > 0 {
		rec.Attributes = attrs
	}
	rec.Source.Link = in.link(h, ts)
	return rec, true
}

// lookup finds a dotted path in a document, whether it is written as nested
// objects ({"log":{"level":"x"}}), as a dotted key ({"log.level":"x"}), or a
// mix of both.
func lookup(m map[string]any, path string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[path]; ok && v != nil {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := lookup(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// parseTime reads a timestamp: an ISO-8601 string (with or without zone,
// "T" or space) or epoch milliseconds (a number or a numeric string).
func parseTime(v any, present bool) (time.Time, bool) {
	if !present {
		return time.Time{}, false
	}
	switch x := v.(type) {
	case json.Number:
		return epochMillis(string(x))
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), true
			}
		}
		return epochMillis(x)
	}
	return time.Time{}, false
}

func epochMillis(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(n).UTC(), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMicro(int64(f * 1000)).UTC(), true
	}
	return time.Time{}, false
}

// scalar renders a value as text: strings as they are, everything else as
// compact JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// flatten copies the document's fields into attrs with dotted keys,
// skipping the fields already mapped to the record. Arrays stay JSON text.
func flatten(attrs map[string]string, prefix string, m map[string]any, skip map[string]bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(attrs) >= maxAttributes {
			return
		}
		key := prefix + k
		if skip[key] {
			continue
		}
		if sub, ok := m[k].(map[string]any); ok {
			flatten(attrs, key+".", sub, skip)
			continue
		}
		if m[k] == nil {
			continue
		}
		attrs[key] = cut(scalar(m[k]), 4096)
	}
}

// link points at the document in OpenSearch Dashboards: the single-document
// view when the index pattern id is configured, else Discover filtered to
// the document's _id around its timestamp.
func (in *instance) link(h *hit, ts time.Time) string {
	base := in.cfg.DashboardsURL
	if base == nil {
		return ""
	}
	if in.cfg.DashboardsIndexPattern != "" {
		return base.String() + "/app/discover#/doc/" + url.PathEscape(in.cfg.DashboardsIndexPattern) + "/" +
			url.PathEscape(h.Index) + "?id=" + url.QueryEscape(h.ID)
	}
	from := ts.Add(-time.Minute).Format(time.RFC3339Nano)
	to := ts.Add(time.Minute).Format(time.RFC3339Nano)
	g := "(time:(from:" + rison(from) + ",to:" + rison(to) + "))"
	a := "(query:(language:kuery,query:" + rison("_id:"+strconv.Quote(h.ID)) + "))"
	return base.String() + "/app/data-explorer/discover#?_g=" + url.QueryEscape(g) + "&_q=" + url.QueryEscape(a)
}

// rison quotes s as a Rison string, the encoding of Dashboards URL state.
func rison(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '!' || s[i] == '\'' {
			b.WriteByte('!')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

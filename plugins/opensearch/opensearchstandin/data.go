package opensearchstandin

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/faultmaven/faultmaven/plugins/internal/scenariodata"
)

// Doc is one document to index.
type Doc struct {
	ID     string         // "" = generated
	Source map[string]any // the _source; dotted keys and nested objects both work
}

// doc is a stored document.
type doc struct {
	index  string
	id     string
	seq    int64 // global insertion order: the _doc / _shard_doc sort value
	raw    []byte
	source map[string]any // decoded with UseNumber
}

const longMax = math.MaxInt64 // sort value of a missing field, ascending

// Index adds documents to an index, creating it. It returns an error when a
// source does not encode as JSON.
func (s *Standin) Index(index string, docs ...Doc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indices[index]; !ok {
		s.indices[index] = nil
	}
	for _, d := range docs {
		raw, err := json.Marshal(d.Source)
		if err != nil {
			return fmt.Errorf("opensearchstandin: document %q: %w", d.ID, err)
		}
		var src map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&src); err != nil {
			return fmt.Errorf("opensearchstandin: document %q: %w", d.ID, err)
		}
		s.seq++
		id := d.ID
		if id == "" {
			id = "gen-" + strconv.FormatInt(s.seq, 36)
		}
		s.indices[index] = append(s.indices[index], &doc{index: index, id: id, seq: s.seq, raw: raw, source: src})
	}
	return nil
}

// LoadScenario indexes the scenario's opensearch sources as sources.yaml
// says: each event becomes one document in the source's index, with the
// event text under message_field, its time (RFC 3339 in UTC, full precision: _source keeps it, sort values and ranges use milliseconds as a date field does)
// under timestamp_field, and service_value under service_field. Document ids
// are stable hashes of file and line, so reloading gives the same ids. It
// returns how many documents it indexed.
func (s *Standin) LoadScenario(sc *scenariodata.Scenario) (int, error) {
	n := 0
	for _, src := range sc.BySource(scenariodata.BackendOpenSearch) {
		t := src.OpenSearch
		if t == nil || t.Index == "" {
			return n, fmt.Errorf("opensearchstandin: %s: source %s has no opensearch index", sc.ID, src.File)
		}
		tsField := or(t.TimestampField, "@timestamp")
		msgField := or(t.MessageField, "message")
		s.AddDateField(tsField)
		docs := make([]Doc, 0, len(src.Events))
		for _, ev := range src.Events {
			body := map[string]any{}
			setPath(body, tsField, ev.Time.UTC().Format(time.RFC3339Nano))
			setPath(body, msgField, ev.Raw)
			if t.ServiceField != "" {
				setPath(body, t.ServiceField, or(t.ServiceValue, src.Service))
			}
			sum := sha1.Sum([]byte(sc.ID + "\x00" + src.File + "\x00" + strconv.Itoa(ev.Line)))
			docs = append(docs, Doc{ID: hex.EncodeToString(sum[:10]), Source: body})
		}
		if err := s.Index(t.Index, docs...); err != nil {
			return n, err
		}
		n += len(docs)
	}
	return n, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// setPath writes v at a dotted path as nested objects, the way ingest
// pipelines usually store ECS fields.
func setPath(m map[string]any, p string, v any) {
	parts := strings.Split(p, ".")
	for _, k := range parts[:len(parts)-1] {
		sub, ok := m[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[k] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}

// lookup finds a dotted path as nested objects, a dotted key, or a mix.
func lookup(m map[string]any, p string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[p]; ok && v != nil {
		return v, true
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			if sub, ok := m[p[:i]].(map[string]any); ok {
				if v, ok := lookup(sub, p[i+1:]); ok {
					return v, true
				}
			}
		}
	}
	return nil, false
}

// field returns a document field's value; _id and _index are meta fields.
func (d *doc) field(name string) (any, bool) {
	switch name {
	case "_id":
		return d.id, true
	case "_index":
		return d.index, true
	}
	return lookup(d.source, name)
}

// texts returns the string forms of a field's values (arrays flattened).
func texts(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, texts(e)...)
		}
		return out
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

// allTexts returns every leaf string of a document, for queries without a
// field ("*").
func allTexts(m map[string]any) []string {
	var out []string
	for _, v := range m {
		if sub, ok := v.(map[string]any); ok {
			out = append(out, allTexts(sub)...)
			continue
		}
		out = append(out, texts(v)...)
	}
	return out
}

// parseDate reads a date the way a date field with the default format
// (strict_date_optional_time||epoch_millis) does, plus an explicit format.
func parseDate(v any, format string) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			if format == "epoch_second" {
				return n * 1000, true
			}
			return n, true
		}
		if f, err := x.Float64(); err == nil {
			return int64(f), true
		}
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case string:
		if format == "epoch_millis" || format == "epoch_second" || isDigits(x) {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil {
				if format == "epoch_second" {
					return n * 1000, true
				}
				return n, true
			}
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UnixMilli(), true
			}
		}
	}
	return 0, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// globMatch matches an index pattern or a wildcard term (* and ?).
func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

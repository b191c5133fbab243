package opensearchstandin

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// searchRequest is the _search body subset the stand-in understands.
type searchRequest struct {
	Size        *int              `json:"size"`
	From        *int              `json:"from"`
	Query       json.RawMessage   `json:"query"`
	Sort        json.RawMessage   `json:"sort"`
	SearchAfter []json.RawMessage `json:"search_after"`
	PIT         *struct {
		ID        string `json:"id"`
		KeepAlive string `json:"keep_alive"`
	} `json:"pit"`
	TrackTotalHits json.RawMessage `json:"track_total_hits"`
	Source         json.RawMessage `json:"_source"`
}

var knownBodyKeys = []string{"size", "from", "query", "sort", "search_after", "pit", "track_total_hits", "_source", "timeout", "track_scores", "version", "seq_no_primary_term"}

// sortKey is one sort criterion.
type sortKey struct {
	field string
	desc  bool
}

func (s *Standin) search(w http.ResponseWriter, r *http.Request, index string) {
	if bad := unknownParams(r, "size", "from", "ignore_unavailable", "allow_no_indices", "expand_wildcards",
		"track_total_hits", "timeout", "typed_keys", "rest_total_hits_as_int", "preference", "routing", "search_type"); bad != "" {
		writeUnrecognized(w, r, bad)
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", "request body unreadable", nil)
		return
	}
	var req searchRequest
	if len(bytes.TrimSpace(raw)) > 0 {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "[1:1] failed to parse search body: "+err.Error(), nil)
			return
		}
		for k := range keys {
			if !slices.Contains(knownBodyKeys, k) {
				writeError(w, http.StatusBadRequest, "parsing_exception", fmt.Sprintf("Unknown key for a START_OBJECT in [%s].", k), nil)
				return
			}
		}
		if err := json.Unmarshal(raw, &req); err != nil {
			writeError(w, http.StatusBadRequest, "x_content_parse_exception", "[1:1] "+err.Error(), nil)
			return
		}
	}
	qp := r.URL.Query()
	size, from := 10, 0
	if req.Size != nil {
		size = *req.Size
	} else if v := qp.Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	if req.From != nil {
		from = *req.From
	} else if v := qp.Get("from"); v != "" {
		from, _ = strconv.Atoi(v)
	}
	if size < 0 || from < 0 {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "[size] and [from] must be positive", nil)
		return
	}
	s.mu.Lock()
	if size > s.stats.MaxSize {
		s.stats.MaxSize = size
	}
	s.mu.Unlock()
	if from+size > s.opts.MaxResultWindow {
		reason := fmt.Sprintf("Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. "+
			"See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the "+
			"[index.max_result_window] index level setting.", s.opts.MaxResultWindow, from+size)
		writeError(w, http.StatusBadRequest, "search_phase_execution_exception", "all shards failed",
			&rootCause{Type: "illegal_argument_exception", Reason: reason})
		return
	}
	keys, err := parseSort(req.Sort)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parsing_exception", err.Error(), nil)
		return
	}
	if len(req.SearchAfter) > 0 {
		if len(keys) == 0 {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "Sort must contain at least one field.", nil)
			return
		}
		if len(req.SearchAfter) != len(keys) {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception",
				fmt.Sprintf("search_after has %d value(s) but sort has %d.", len(req.SearchAfter), len(keys)), nil)
			return
		}
		if from > 0 {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "[from] parameter must be set to 0 when [search_after] is used.", nil)
			return
		}
	}

	// The documents: a PIT's snapshot, or the live indices.
	var docs []*doc
	pitID := ""
	s.mu.Lock()
	if req.PIT != nil {
		if index != "" {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "[indices] cannot be used with point in time. Do not specify any index with point in time.", nil)
			return
		}
		s.expirePITs()
		p, ok := s.pits[req.PIT.ID]
		if !ok {
			s.mu.Unlock()
			reason := "No search context found for id [" + cut(req.PIT.ID, 24) + "]"
			writeError(w, http.StatusNotFound, "search_phase_execution_exception", "all shards failed",
				&rootCause{Type: "search_context_missing_exception", Reason: reason})
			return
		}
		if req.PIT.KeepAlive != "" {
			d, err := parseKeepAlive(req.PIT.KeepAlive)
			if err != nil {
				s.mu.Unlock()
				writeError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error(), nil)
				return
			}
			p.expires = s.now().Add(d)
		}
		docs, pitID = p.docs, req.PIT.ID
	} else {
		var missing string
		docs, missing = s.resolve(index, qp.Get("ignore_unavailable") == "true")
		if missing != "" {
			s.mu.Unlock()
			writeIndexNotFound(w, missing)
			return
		}
	}
	dates := make(map[string]bool, len(s.dateFields))
	for k, v := range s.dateFields {
		dates[k] = v
	}
	s.mu.Unlock()

	key := string(req.Query) + "\x00" + string(req.Sort)
	rows, ok := []sorted(nil), false
	if pitID != "" {
		rows, ok = s.cached(pitID, key)
	}
	if !ok {
		var q query = matchAll{}
		if len(req.Query) > 0 {
			if q, err = parseQuery(req.Query, dates); err != nil {
				if qe, ok := err.(*queryStringError); ok {
					writeError(w, http.StatusBadRequest, "search_phase_execution_exception", "all shards failed",
						&rootCause{Type: "query_shard_exception", Reason: qe.Error()})
					return
				}
				writeError(w, http.StatusBadRequest, "parsing_exception", err.Error(), nil)
				return
			}
		}
		for _, d := range docs {
			if q.match(d) {
				rows = append(rows, sorted{d: d, vals: sortValues(d, keys, dates)})
			}
		}
		if len(keys) > 0 {
			slices.SortStableFunc(rows, func(a, b sorted) int { return compareRows(a.vals, b.vals, keys) })
		}
		if pitID != "" {
			s.cache(pitID, key, rows)
		}
	}
	total := len(rows)
	if len(req.SearchAfter) > 0 {
		after := make([]any, len(req.SearchAfter))
		for i, v := range req.SearchAfter {
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(&after[i]); err != nil {
				writeError(w, http.StatusBadRequest, "parsing_exception", "bad search_after value", nil)
				return
			}
			if n, ok := after[i].(json.Number); ok {
				if iv, err := n.Int64(); err == nil {
					after[i] = iv
				} else if f, err := n.Float64(); err == nil {
					after[i] = f
				}
			}
		}
		i, _ := slices.BinarySearchFunc(rows, after, func(r sorted, a []any) int {
			if compareRows(r.vals, a, keys) <= 0 {
				return -1
			}
			return 1
		})
		rows = rows[i:]
	}
	if from > len(rows) {
		from = len(rows)
	}
	rows = rows[from:]
	if size < len(rows) {
		rows = rows[:size]
	}

	hits := make([]json.RawMessage, 0, len(rows))
	for _, row := range rows {
		h := map[string]any{"_index": row.d.index, "_id": row.d.id, "_score": nil, "_source": json.RawMessage(row.d.raw)}
		if string(req.Source) == "false" {
			delete(h, "_source")
		}
		if len(keys) > 0 {
			h["sort"] = row.vals
		}
		b, _ := json.Marshal(h)
		hits = append(hits, b)
	}
	hitsObj := map[string]any{"max_score": nil, "hits": hits}
	switch tt := strings.TrimSpace(string(req.TrackTotalHits)); {
	case tt == "false":
	case tt == "true":
		hitsObj["total"] = map[string]any{"value": total, "relation": "eq"}
	default:
		limit := 10000
		if n, err := strconv.Atoi(tt); err == nil {
			limit = n
		}
		if total > limit {
			hitsObj["total"] = map[string]any{"value": limit, "relation": "gte"}
		} else {
			hitsObj["total"] = map[string]any{"value": total, "relation": "eq"}
		}
	}
	resp := map[string]any{
		"took": 1, "timed_out": false,
		"_shards": map[string]any{"total": 1, "successful": 1, "skipped": 0, "failed": 0},
		"hits":    hitsObj,
	}
	if pitID != "" {
		resp["pit_id"] = pitID
	}
	writeJSON(w, http.StatusOK, resp)
}

// sorted is a matching document with its sort values.
type sorted struct {
	d    *doc
	vals []any
}

// cached returns the matching, sorted documents of a PIT for one query and
// sort, computed by an earlier page. A PIT is an immutable snapshot, so
// the answer cannot change; a real cluster gets the same effect from its
// segment-level sort and caches.
func (s *Standin) cached(pitID, key string) ([]sorted, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pits[pitID]
	if !ok || p.rows == nil {
		return nil, false
	}
	rows, ok := p.rows[key]
	return rows, ok
}

func (s *Standin) cache(pitID, key string, rows []sorted) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pits[pitID]; ok {
		if p.rows == nil {
			p.rows = map[string][]sorted{}
		}
		p.rows[key] = rows
	}
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseSort reads the sort array: "field", {"field":"asc"} or
// {"field":{"order":"desc", ...}}.
func parseSort(raw json.RawMessage) ([]sortKey, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		items = []json.RawMessage{raw}
	}
	var keys []sortKey
	for _, it := range items {
		var name string
		if json.Unmarshal(it, &name) == nil {
			keys = append(keys, sortKey{field: name})
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it, &m); err != nil || len(m) != 1 {
			return nil, fmt.Errorf("malformed sort entry %s", it)
		}
		for field, spec := range m {
			var order string
			if json.Unmarshal(spec, &order) != nil {
				var o struct {
					Order string `json:"order"`
				}
				if err := json.Unmarshal(spec, &o); err != nil {
					return nil, fmt.Errorf("malformed sort options for [%s]", field)
				}
				order = o.Order
			}
			switch order {
			case "", "asc", "desc":
			default:
				return nil, fmt.Errorf("[sort] unknown order [%s]", order)
			}
			keys = append(keys, sortKey{field: field, desc: order == "desc"})
		}
	}
	return keys, nil
}

// sortValues computes a document's sort values as they go on the wire.
func sortValues(d *doc, keys []sortKey, dates map[string]bool) []any {
	vals := make([]any, len(keys))
	for i, k := range keys {
		switch k.field {
		case "_doc", "_shard_doc":
			vals[i] = d.seq
			continue
		case "_id":
			vals[i] = d.id
			continue
		}
		v, ok := d.field(k.field)
		if dates[k.field] {
			if ms, ok2 := parseDate(v, ""); ok && ok2 {
				vals[i] = ms
			} else {
				vals[i] = missingValue(k)
			}
			continue
		}
		if !ok {
			vals[i] = missingValue(k)
			continue
		}
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				vals[i] = n
			} else {
				f, _ := x.Float64()
				vals[i] = f
			}
		default:
			t := texts(x)
			if len(t) == 0 {
				vals[i] = nil
			} else {
				vals[i] = t[0]
			}
		}
	}
	return vals
}

func missingValue(k sortKey) any {
	if k.desc {
		return int64(-longMax - 1)
	}
	return int64(longMax)
}

func compareRows(a, b []any, keys []sortKey) int {
	for i, k := range keys {
		c := compareValue(a[i], b[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// compareValue orders numbers numerically and strings lexically; a
// search_after value arrives as json.Number or string.
func compareValue(a, b any) int {
	if as, ok := a.(string); ok {
		if bs, ok := b.(string); ok {
			return strings.Compare(as, bs)
		}
	}
	af, aNum := num(a)
	bf, bNum := num(b)
	if aNum && bNum {
		ai, aInt := a.(int64)
		bi, bInt := b.(int64)
		if aInt && bInt {
			return cmp.Compare(ai, bi)
		}
		return cmp.Compare(af, bf)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		if n, err := x.Int64(); err == nil {
			// keep exactness for longs: compare as int64 via the caller
			return float64(n), true
		}
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

package datadogadapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV2"

	"github.com/faultmaven/faultmaven/sdk"
)

// quote returns v as a Datadog quoted value: backslashes and double quotes
// escaped, control characters turned into spaces, so a filter value can
// never add a term or an operator.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// statuses are Datadog's log statuses with the severity each maps to.
var statuses = []string{"debug", "trace", "info", "ok", "notice", "warn", "warning", "error", "critical", "alert", "emergency", "fatal"}

// buildQuery returns the log search query for q.
func buildQuery(q sdk.LogQuery) string {
	base := strings.TrimSpace(q.Query)
	var terms []string
	if base != "" && base != "*" {
		terms = append(terms, "("+base+")")
	}
	if len(q.Filters.Services) > 0 {
		alts := make([]string, len(q.Filters.Services))
		for i, s := range q.Filters.Services {
			alts[i] = quote(s)
		}
		terms = append(terms, "service:("+strings.Join(alts, " OR ")+")")
	}
	if q.Filters.MinSeverity > sdk.SeverityTrace {
		var alts []string
		for _, s := range statuses {
			if statusSeverity(s) >= q.Filters.MinSeverity {
				alts = append(alts, s)
			}
		}
		terms = append(terms, "status:("+strings.Join(alts, " OR ")+")")
	}
	if q.Filters.Contains != "" {
		terms = append(terms, quote(q.Filters.Contains))
	}
	if len(terms) == 0 {
		return "*"
	}
	return strings.Join(terms, " ")
}

func statusSeverity(s string) sdk.Severity {
	switch strings.ToLower(s) {
	case "ok", "success":
		return sdk.SeverityInfo
	}
	return sdk.ParseSeverity(s)
}

func (in *instance) listRequest(from, to time.Time, query string, limit int, cursor string) datadogV2.LogsListRequest {
	f := datadogV2.NewLogsQueryFilter()
	f.SetQuery(query)
	if from.IsZero() {
		f.SetFrom("0")
	} else {
		f.SetFrom(strconv.FormatInt(from.UnixMilli(), 10))
	}
	if to.IsZero() {
		f.SetTo("now")
	} else {
		// Round up: the window is re-checked record by record.
		f.SetTo(strconv.FormatInt((to.UnixNano()+999_999)/1e6, 10))
	}
	if len(in.s.indexes) > 0 {
		f.SetIndexes(in.s.indexes)
	}
	if in.s.storageTier != "" {
		f.SetStorageTier(datadogV2.LogsStorageTier(in.s.storageTier))
	}
	req := datadogV2.NewLogsListRequest()
	req.SetFilter(*f)
	page := datadogV2.NewLogsListRequestPage()
	page.SetLimit(int32(limit))
	if cursor != "" {
		page.SetCursor(cursor)
	}
	req.SetPage(*page)
	req.SetSort(datadogV2.LOGSSORT_TIMESTAMP_ASCENDING)
	return *req
}

// SearchLogs pages through Logs Search v2; see the package doc.
func (a *Adapter) SearchLogs(ctx context.Context, name string, q sdk.LogQuery, w sdk.RecordWriter) error {
	in, err := a.instances.Get(name)
	if err != nil {
		return err
	}
	if !q.Start.IsZero() && !q.End.IsZero() && !q.End.After(q.Start) {
		return nil
	}
	query := buildQuery(q)
	limit := in.s.pageSize
	if q.Limit > 0 && q.Limit < limit {
		limit = q.Limit
	}
	cursor := ""
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		body := in.listRequest(q.Start, q.End, query, limit, cursor)
		var resp datadogV2.LogsListResponse
		var httpResp *http.Response
		err := in.call(ctx, "datadog logs search", func(ctx context.Context) (*http.Response, error) {
			var err error
			resp, httpResp, err = in.logs.ListLogs(ctx, *datadogV2.NewListLogsOptionalParameters().WithBody(body))
			return httpResp, err
		})
		if err != nil {
			return err
		}
		if err := checkPage(&resp, httpResp, page); err != nil {
			return err
		}
		for _, wr := range resp.Meta.Warnings {
			in.log.Debug("datadog search warning", "code", wr.GetCode(), "title", wr.GetTitle(), "detail", wr.GetDetail())
		}
		for i := range resp.Data {
			rec := in.record(&resp.Data[i])
			if !q.InRange(rec.Timestamp) || !q.Filters.Match(&rec) {
				continue
			}
			if err := w.Write(rec); err != nil {
				if errors.Is(err, sdk.ErrLimitReached) {
					return nil
				}
				return err
			}
		}
		next := ""
		if resp.Meta.Page != nil {
			next = resp.Meta.Page.GetAfter()
		}
		if next == "" {
			return nil
		}
		if next == cursor {
			return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search: page %d returned the same cursor again", page)
		}
		cursor = next
	}
}

// checkPage rejects answers that decoded only partly or report trouble
// inside a 200.
func checkPage(resp *datadogV2.LogsListResponse, httpResp *http.Response, page int) error {
	if resp.UnparsedObject != nil || (resp.Meta != nil && resp.Meta.UnparsedObject != nil) {
		return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search page %d: the answer does not match the Logs API schema", page)
	}
	if resp.Meta == nil {
		if bodyLen(httpResp) == 0 {
			return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search page %d: empty answer", page)
		}
		return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search page %d: the answer has no meta", page)
	}
	for i := range resp.Data {
		d := &resp.Data[i]
		if d.UnparsedObject != nil || d.Attributes == nil || d.Attributes.UnparsedObject != nil || d.Attributes.Timestamp == nil {
			return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search page %d: log %d does not match the Logs API schema", page, i)
		}
	}
	if st := resp.Meta.GetStatus(); st == datadogV2.LOGSAGGREGATERESPONSESTATUS_TIMEOUT {
		return sdk.Errorf(sdk.CodeUnavailable, "datadog logs search page %d: Datadog timed out and returned partial results (meta.status=timeout); narrow the window or the query", page)
	}
	return nil
}

func (in *instance) record(l *datadogV2.Log) sdk.Record {
	at := l.Attributes
	rec := sdk.Record{
		Timestamp: at.Timestamp.UTC(),
		Body:      at.GetMessage(),
		Service:   at.GetService(),
		Host:      at.GetHost(),
		Severity:  statusSeverity(at.GetStatus()),
		Source:    sdk.SourceRef{NativeID: l.GetId()},
	}
	rec.Attributes = make(map[string]string, len(at.Attributes)+2)
	flatten(rec.Attributes, "", at.Attributes, 0)
	if len(at.Tags) > 0 {
		tags := append([]string(nil), at.Tags...)
		sort.Strings(tags)
		rec.Attributes["tags"] = strings.Join(tags, ",")
	}
	if s := at.GetStatus(); s != "" {
		rec.Attributes["status"] = s
	}
	if id := l.GetId(); id != "" {
		ms := rec.Timestamp.UnixMilli()
		rec.Source.Link = (&url.URL{Scheme: "https", Host: uiHost(in.s.site), Path: "/logs", RawQuery: url.Values{
			"event": {id}, "from_ts": {strconv.FormatInt(ms-1, 10)}, "to_ts": {strconv.FormatInt(ms+1, 10)},
		}.Encode()}).String()
	}
	if rec.Body == "" {
		rec.Body = rec.Attributes["message"]
	}
	return rec
}

// flatten writes nested attributes as dotted keys, bounded in depth.
func flatten(dst map[string]string, prefix string, v map[string]any, depth int) {
	for k, x := range v {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch t := x.(type) {
		case map[string]any:
			if depth < 8 {
				flatten(dst, key, t, depth+1)
			}
		case string:
			dst[key] = t
		case nil:
		case float64:
			dst[key] = strconv.FormatFloat(t, 'f', -1, 64)
		default:
			dst[key] = fmt.Sprint(t)
		}
	}
}

package sdk

import (
	"maps"
	"slices"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
)

// The conversions through the generated LogRecord type: the reference
// that the hand-written record codec (wire_convert_record.go) is held to,
// and what a host or plugin built before that codec sends and expects.

func recordToPB(r *Record) *pluginpb.LogRecord {
	return &pluginpb.LogRecord{
		TimestampNs: nsOf(r.Timestamp),
		Body:        r.Body,
		Severity:    pluginpb.Severity(r.Severity),
		Service:     r.Service,
		Host:        r.Host,
		Attributes:  attrsToPB(r.Attributes),
		Source: &pluginpb.SourceRef{
			InstanceId: r.Source.Instance,
			NativeId:   r.Source.NativeID,
			Link:       r.Source.Link,
		},
	}
}

func recordFromPB(p *pluginpb.LogRecord) Record {
	r := Record{
		Timestamp:  timeOf(p.GetTimestampNs()),
		Body:       p.GetBody(),
		Severity:   Severity(p.GetSeverity()),
		Service:    p.GetService(),
		Host:       p.GetHost(),
		Attributes: attrsFromPB(p.GetAttributes()),
	}
	if s := p.GetSource(); s != nil {
		r.Source = SourceRef{Instance: s.GetInstanceId(), NativeID: s.GetNativeId(), Link: s.GetLink()}
	}
	if r.Severity < SeverityUnspecified || r.Severity > SeverityFatal {
		r.Severity = SeverityUnspecified
	}
	return r
}

// attrsToPB lists attributes sorted by key.
func attrsToPB(m map[string]string) []*pluginpb.Attr {
	if len(m) == 0 {
		return nil
	}
	var out []*pluginpb.Attr
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &pluginpb.Attr{Key: k, Value: m[k]})
	}
	return out
}

// attrsFromPB keeps the last value of a repeated key, as a proto map does.
func attrsFromPB(as []*pluginpb.Attr) map[string]string {
	if len(as) == 0 {
		return nil
	}
	m := make(map[string]string, len(as))
	for _, a := range as {
		m[a.GetKey()] = a.GetValue()
	}
	return m
}

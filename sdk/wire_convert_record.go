package sdk

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// A log search crosses the boundary once per record, and protobuf's
// generic encoder and decoder cost several times the adapter's own work
// per record (docs/benchmarks/files-plugin.md). So records skip the
// generated LogRecord type: recordEncoder writes a Record straight into
// LogRecord's wire format, and batchDecoder reads a LogBatch straight into
// Records. The bytes are the ones the generated code writes for the same
// record; wire_convert_record_test.go holds the two to that.

// Field numbers from plugin.proto.
const (
	fieldBatchRecords protowire.Number = 1

	fieldRecTimestamp protowire.Number = 1
	fieldRecBody      protowire.Number = 2
	fieldRecSeverity  protowire.Number = 3
	fieldRecService   protowire.Number = 4
	fieldRecHost      protowire.Number = 5
	fieldRecAttr      protowire.Number = 6
	fieldRecSource    protowire.Number = 7

	fieldAttrKey   protowire.Number = 1
	fieldAttrValue protowire.Number = 2

	fieldSrcInstance protowire.Number = 1
	fieldSrcNativeID protowire.Number = 2
	fieldSrcLink     protowire.Number = 3
)

// recordEncoder appends Records in LogRecord's wire format. It keeps
// scratch space from one record to the next, so it is not safe for
// concurrent use.
type recordEncoder struct {
	attrs []attrPair

	// The last value of each field that repeats from record to record,
	// once checked for UTF-8: the same value again needs no new check
	// (comparing a string with itself is one pointer comparison).
	service, host, instance checked
	attrKeys, attrValues    []checked // by position in the sorted list
}

type checked struct{ s string }

// valid returns s, repaired if it is not valid UTF-8.
func (c *checked) valid(s string) string {
	if s != c.s {
		c.s = validUTF8(s)
	}
	return c.s
}

type attrPair struct{ key, value string }

// appendRecord appends r, encoded as a LogRecord, to b. Attributes go out
// sorted by key, so equal records encode to equal bytes. A string that is
// not valid UTF-8 is repaired rather than sent: protobuf peers refuse the
// whole message for one bad string.
func (e *recordEncoder) appendRecord(b []byte, r *Record) []byte {
	if ns := nsOf(r.Timestamp); ns != 0 {
		b = appendTag(b, fieldRecTimestamp, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(ns))
	}
	b = appendString(b, fieldRecBody, validUTF8(r.Body))
	// The wire's enum is 32 bits and negative values are sign-extended,
	// as the generated code does.
	if sev := int32(r.Severity); sev != 0 {
		b = appendTag(b, fieldRecSeverity, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(sev)))
	}
	b = appendString(b, fieldRecService, e.service.valid(r.Service))
	b = appendString(b, fieldRecHost, e.host.valid(r.Host))
	if len(r.Attributes) > 0 {
		e.attrs = e.attrs[:0]
		for k, v := range r.Attributes {
			e.attrs = append(e.attrs, attrPair{k, v})
		}
		if len(e.attrs) > 1 {
			slices.SortFunc(e.attrs, func(x, y attrPair) int { return strings.Compare(x.key, y.key) })
		}
		if n := len(e.attrs); len(e.attrKeys) < n {
			e.attrKeys = append(e.attrKeys, make([]checked, n-len(e.attrKeys))...)
			e.attrValues = append(e.attrValues, make([]checked, n-len(e.attrValues))...)
		}
		for i, a := range e.attrs {
			a.key, a.value = e.attrKeys[i].valid(a.key), e.attrValues[i].valid(a.value)
			b = appendTag(b, fieldRecAttr, protowire.BytesType)
			b = appendLen(b, stringSize(a.key)+stringSize(a.value))
			b = appendString(b, fieldAttrKey, a.key)
			b = appendString(b, fieldAttrValue, a.value)
		}
	}
	// Source is always present, as the generated conversion always set it.
	inst, id, link := e.instance.valid(r.Source.Instance), validUTF8(r.Source.NativeID), validUTF8(r.Source.Link)
	b = appendTag(b, fieldRecSource, protowire.BytesType)
	b = appendLen(b, stringSize(inst)+stringSize(id)+stringSize(link))
	b = appendString(b, fieldSrcInstance, inst)
	b = appendString(b, fieldSrcNativeID, id)
	b = appendString(b, fieldSrcLink, link)
	return b
}

// appendTag writes a tag in its one byte: every field number this codec
// writes is below 16.
func appendTag(b []byte, num protowire.Number, typ protowire.Type) []byte {
	return append(b, byte(num)<<3|byte(typ))
}

// appendLen writes a length; most fit in one byte.
func appendLen(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	return protowire.AppendVarint(b, uint64(n))
}

// appendString appends a proto3 string field; the empty string is the
// default and is not sent.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = appendLen(appendTag(b, num, protowire.BytesType), len(s))
	return append(b, s...)
}

// stringSize is the encoded size of a string field numbered below 16.
func stringSize(s string) int {
	if s == "" {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(len(s))) + len(s)
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// errMalformed reports a LogBatch that is not valid protobuf.
var errMalformed = errors.New("sdk: malformed log batch")

// String fields of a record, as indexes into batchDecoder's per-slot
// slices; attribute i's key and value follow at slotAttrs+2i and +2i+1.
const (
	slotBody = iota
	slotService
	slotHost
	slotInstance
	slotNativeID
	slotLink
	slotAttrs
)

// sharedBlockMax bounds the bytes of one record's strings that share one
// allocation. A string remembered for reuse keeps its whole block alive,
// so a block must stay small.
const sharedBlockMax = 4 << 10

// span is where a string field lies in the batch being decoded. It holds
// no pointer, so filling one costs no GC write barrier.
type span struct{ lo, hi int }

// batchDecoder decodes LogBatch messages into Records.
//
// Allocation is what the host pays for most per record, so it is kept to
// one block per record for the strings that are new (body, line number,
// native id...) plus the attribute map. Each string field remembers its
// value in the previous record; a value that repeats (service, host,
// instance, attribute keys, a file name) is shared, not copied again.
//
// It keeps scratch space and the previous values from one batch to the
// next, so one decoder serves one stream and is not safe for concurrent
// use.
type batchDecoder struct {
	// recs is the last batch decoded. It is the caller's: the decoder
	// never writes to it again.
	recs []Record

	spans   []span   // a record's string fields, by slot
	pending []bool   // the slot's string is new: it goes in the block
	last    []string // the strings of the record being decoded, then of the previous one, by slot

	joined []byte // a batch that arrived in pieces, joined (see batchCodec)
}

// decode replaces d.recs with the records of one encoded LogBatch. Nothing
// decoded refers to data, which the caller may reuse.
func (d *batchDecoder) decode(data []byte) error {
	n, err := countRecords(data)
	if err != nil {
		return err
	}
	recs := make([]Record, n)
	i := 0
	for pos := 0; pos < len(data); {
		num, typ, n := protowire.ConsumeTag(data[pos:])
		if n < 0 {
			return errMalformed
		}
		pos += n
		if num != fieldBatchRecords || typ != protowire.BytesType {
			// Unknown fields, and known ones of the wrong wire type, are
			// skipped as the generated code skips them.
			pos += protowire.ConsumeFieldValue(num, typ, data[pos:]) // valid: countRecords checked
			continue
		}
		v, n := protowire.ConsumeBytes(data[pos:])
		start := pos + n - len(v)
		pos += n
		if err := d.record(data, start, pos, &recs[i]); err != nil {
			return err
		}
		i++
	}
	d.recs = recs
	return nil
}

// countRecords counts a batch's records, so the slice handed to the caller
// is allocated once and at its size. It also checks the batch's framing.
func countRecords(data []byte) (int, error) {
	count := 0
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return 0, errMalformed
		}
		data = data[n:]
		n = protowire.ConsumeFieldValue(num, typ, data)
		if n < 0 {
			return 0, errMalformed
		}
		data = data[n:]
		if num == fieldBatchRecords && typ == protowire.BytesType {
			count++
		}
	}
	return count, nil
}

// record decodes the LogRecord in data[pos:end] into r. Protobuf's rules
// apply: the last value of a scalar wins, SourceRefs merge, unknown fields
// are skipped.
func (d *batchDecoder) record(data []byte, pos, end int, r *Record) error {
	d.spans = slices.Grow(d.spans[:0], slotAttrs)[:slotAttrs]
	clear(d.spans)
	for pos < end {
		num, typ, n := protowire.ConsumeTag(data[pos:end])
		if n < 0 {
			return errMalformed
		}
		pos += n
		switch {
		case typ == protowire.VarintType && (num == fieldRecTimestamp || num == fieldRecSeverity):
			v, n := protowire.ConsumeVarint(data[pos:end])
			if n < 0 {
				return errMalformed
			}
			pos += n
			if num == fieldRecTimestamp {
				r.Timestamp = timeOf(int64(v))
			} else {
				r.Severity = Severity(int32(v))
			}
		case typ == protowire.BytesType && num >= fieldRecBody && num <= fieldRecSource && num != fieldRecSeverity:
			v, n := protowire.ConsumeBytes(data[pos:end])
			if n < 0 {
				return errMalformed
			}
			sp := span{pos + n - len(v), pos + n}
			pos += n
			switch num {
			case fieldRecBody:
				d.spans[slotBody] = sp
			case fieldRecService:
				d.spans[slotService] = sp
			case fieldRecHost:
				d.spans[slotHost] = sp
			case fieldRecAttr:
				var kv [2]span
				if err := decodeStrings(data, sp, kv[:]); err != nil {
					return err
				}
				d.spans = append(d.spans, kv[0], kv[1])
			case fieldRecSource:
				if err := decodeStrings(data, sp, d.spans[slotInstance:slotAttrs]); err != nil {
					return err
				}
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, data[pos:end])
			if n < 0 {
				return errMalformed
			}
			pos += n
		}
	}
	if r.Severity < SeverityUnspecified || r.Severity > SeverityFatal {
		r.Severity = SeverityUnspecified
	}

	d.strings(data)
	r.Body = d.last[slotBody]
	r.Service = d.last[slotService]
	r.Host = d.last[slotHost]
	r.Source = SourceRef{Instance: d.last[slotInstance], NativeID: d.last[slotNativeID], Link: d.last[slotLink]}
	if n := len(d.spans); n > slotAttrs {
		r.Attributes = make(map[string]string, (n-slotAttrs)/2)
		for i := slotAttrs; i < n; i += 2 {
			r.Attributes[d.last[i]] = d.last[i+1] // a repeated key: the last wins, as in a proto map
		}
	}
	return nil
}

// decodeStrings decodes the message at data[sp] whose fields 1..len(dst)
// are strings (Attr, SourceRef) into dst; fields absent leave dst as it
// was, which is how protobuf merges a message field that repeats.
func decodeStrings(data []byte, sp span, dst []span) error {
	for pos, end := sp.lo, sp.hi; pos < end; {
		num, typ, n := protowire.ConsumeTag(data[pos:end])
		if n < 0 {
			return errMalformed
		}
		pos += n
		if typ == protowire.BytesType && num >= 1 && int(num) <= len(dst) {
			v, n := protowire.ConsumeBytes(data[pos:end])
			if n < 0 {
				return errMalformed
			}
			dst[num-1] = span{pos + n - len(v), pos + n}
			pos += n
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, data[pos:end])
		if n < 0 {
			return errMalformed
		}
		pos += n
	}
	return nil
}

// strings sets d.last to the record's strings. A value equal to the
// previous record's keeps its string; the new ones are copied out of data
// into one block. Only changed slots are written, which matters because
// each write of a pointer costs a GC write barrier while a collection runs.
func (d *batchDecoder) strings(data []byte) {
	n := len(d.spans)
	d.pending = slices.Grow(d.pending[:0], n)[:n]
	if len(d.last) < n {
		d.last = append(d.last, make([]string, n-len(d.last))...)
	}
	size := 0
	for i, sp := range d.spans {
		b := data[sp.lo:sp.hi]
		d.pending[i] = false
		switch {
		case len(b) == 0:
			if d.last[i] != "" {
				d.last[i] = ""
			}
		case i != slotBody && string(b) == d.last[i]: // a body rarely repeats: not worth comparing
		case !utf8.Valid(b):
			// Protobuf peers refuse invalid UTF-8; a host keeps the record.
			d.last[i] = strings.ToValidUTF8(string(b), "\uFFFD")
		default:
			d.pending[i] = true
			size += len(b)
		}
	}
	if size == 0 {
		return
	}
	if size > sharedBlockMax {
		for i, sp := range d.spans {
			if d.pending[i] {
				d.last[i] = string(data[sp.lo:sp.hi])
			}
		}
		return
	}
	var block strings.Builder
	block.Grow(size)
	for i, sp := range d.spans {
		if d.pending[i] {
			block.Write(data[sp.lo:sp.hi])
		}
	}
	all, at := block.String(), 0
	for i, sp := range d.spans {
		if d.pending[i] {
			d.last[i] = all[at : at+sp.hi-sp.lo]
			at += sp.hi - sp.lo
		}
	}
}

package sdk

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultmaven/faultmaven/sdk/internal/pluginpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

var wireBase = time.Date(2026, 11, 24, 14, 7, 9, 123456789, time.UTC)

// wireRecords covers what the codec must get right: defaults left out,
// sorted attributes, empty keys and values, negative and unknown
// severities, unicode, and the largest field sizes.
func wireRecords() map[string]Record {
	return map[string]Record{
		"zero": {},
		"full": {
			Timestamp: wireBase, Body: "order 88213 placed in 42ms", Severity: SeverityInfo,
			Service: "checkout", Host: "node-1",
			Attributes: map[string]string{"line": "17", "file": "/var/log/app.log", "zone": "eu-1"},
			Source:     SourceRef{Instance: "prod/files", NativeID: "/var/log/app.log:17", Link: "https://logs.example/17"},
		},
		"empty-attribute-key-and-value": {Body: "x", Attributes: map[string]string{"": "v", "k": ""}},
		"before-1970":                   {Timestamp: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Body: "moon"},
		"negative-severity":             {Body: "odd", Severity: -3},
		"severity-out-of-range":         {Body: "odd", Severity: 99},
		"unicode":                       {Body: "ünïcødé ✓ 日本語", Service: "caf\u00e9", Attributes: map[string]string{"ключ": "значение"}},
		"long-body":                     {Body: strings.Repeat("b", 70000), Attributes: map[string]string{"truncated": "true"}},
	}
}

func marshalPB(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("proto.Marshal: %v", err)
	}
	return b
}

func TestRecordEncoderWritesTheGeneratedCodesBytes(t *testing.T) {
	var enc recordEncoder
	for name, r := range wireRecords() {
		t.Run(name, func(t *testing.T) {
			got := enc.appendRecord(nil, &r)
			want := marshalPB(t, recordToPB(&r))
			if !bytes.Equal(got, want) {
				t.Fatalf("appendRecord:\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestRecordEncoderRepairsInvalidUTF8(t *testing.T) {
	bad := "ok\xffbad\xc3"
	r := Record{Body: bad, Service: bad, Host: bad, Attributes: map[string]string{bad: bad}, Source: SourceRef{Instance: bad, NativeID: bad, Link: bad}}
	fixed := "ok\uFFFDbad\uFFFD"
	want := Record{Body: fixed, Service: fixed, Host: fixed, Attributes: map[string]string{fixed: fixed}, Source: SourceRef{Instance: fixed, NativeID: fixed, Link: fixed}}
	var enc recordEncoder
	// Twice: the second time, the encoder has seen the values before.
	for round := range 2 {
		var p pluginpb.LogRecord
		if err := proto.Unmarshal(enc.appendRecord(nil, &r), &p); err != nil {
			t.Fatalf("round %d: the generated code refuses the encoded record: %v", round, err)
		}
		if got := recordFromPB(&p); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: got %+v, want %+v", round, got, want)
		}
	}
}

// encodedBatch encodes records with the generated code, as a plugin built
// before the record codec does.
func encodedBatch(t testing.TB, recs ...Record) []byte {
	t.Helper()
	batch := &pluginpb.LogBatch{}
	for i := range recs {
		batch.Records = append(batch.Records, recordToPB(&recs[i]))
	}
	return marshalPB(t, batch)
}

func TestBatchDecoderReadsWhatTheGeneratedCodeWrites(t *testing.T) {
	var recs []Record
	for _, name := range []string{"zero", "full", "empty-attribute-key-and-value", "before-1970", "negative-severity", "severity-out-of-range", "unicode", "long-body"} {
		recs = append(recs, wireRecords()[name])
	}
	var d batchDecoder
	// Twice: the second batch meets the first one's remembered values.
	for round := range 2 {
		if err := d.decode(encodedBatch(t, recs...)); err != nil {
			t.Fatalf("round %d: decode: %v", round, err)
		}
		if len(d.recs) != len(recs) {
			t.Fatalf("round %d: got %d records, want %d", round, len(d.recs), len(recs))
		}
		for i := range recs {
			want := recordFromPB(recordToPB(&recs[i]))
			if !reflect.DeepEqual(d.recs[i], want) {
				t.Errorf("round %d, record %d:\n got %+v\nwant %+v", round, i, d.recs[i], want)
			}
		}
	}
}

// TestBatchDecoderFollowsProtobufRules feeds bytes that the SDK never
// writes but another implementation may: fields out of order or repeated,
// unknown fields of every wire type, known fields with the wrong wire type.
func TestBatchDecoderFollowsProtobufRules(t *testing.T) {
	str := func(b []byte, n protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, n, protowire.BytesType), s)
	}
	msg := func(b []byte, n protowire.Number, body []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, n, protowire.BytesType), body)
	}
	varint := func(b []byte, n protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
	}
	var rec []byte
	rec = str(rec, fieldRecHost, "first-host")
	rec = msg(rec, fieldRecSource, str(str(nil, fieldSrcInstance, "inst"), fieldSrcLink, "link-1"))
	rec = str(rec, fieldRecBody, "body")
	rec = varint(rec, fieldRecSeverity, 5)
	rec = str(rec, fieldRecHost, "second-host")                      // the last wins
	rec = msg(rec, fieldRecSource, str(nil, fieldSrcNativeID, "id")) // merges into the first
	rec = msg(rec, fieldRecAttr, str(str(nil, fieldAttrKey, "k"), fieldAttrValue, "1"))
	rec = msg(rec, fieldRecAttr, str(str(nil, fieldAttrValue, "2"), fieldAttrKey, "k")) // a repeated key: the last wins
	rec = str(rec, fieldRecTimestamp, "a string where a varint belongs")                // wrong wire type: skipped
	rec = varint(rec, 99, 7)                                                            // unknown fields of every wire type
	rec = protowire.AppendFixed32(protowire.AppendTag(rec, 98, protowire.Fixed32Type), 1)
	rec = protowire.AppendFixed64(protowire.AppendTag(rec, 97, protowire.Fixed64Type), 1)
	rec = protowire.AppendTag(varint(protowire.AppendTag(rec, 96, protowire.StartGroupType), 1, 1), 96, protowire.EndGroupType)
	rec = varint(rec, fieldRecTimestamp, uint64(wireBase.UnixNano()))
	batch := msg(varint(nil, 5, 1), fieldBatchRecords, rec)

	var p pluginpb.LogBatch
	if err := proto.Unmarshal(batch, &p); err != nil {
		t.Fatalf("the generated code refuses the test batch: %v", err)
	}
	want := recordFromPB(p.GetRecords()[0])
	var d batchDecoder
	if err := d.decode(batch); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(d.recs) != 1 || !reflect.DeepEqual(d.recs[0], want) {
		t.Fatalf("got %+v, want [%+v]", d.recs, want)
	}
	if want.Host != "second-host" || want.Source.Link != "link-1" || want.Source.NativeID != "id" || want.Attributes["k"] != "2" {
		t.Fatalf("the test batch does not test what it says: %+v", want)
	}
}

func TestBatchDecoderRefusesMalformedInput(t *testing.T) {
	good := encodedBatch(t, wireRecords()["full"])
	for name, data := range map[string][]byte{
		"truncated":         good[:len(good)-3],
		"length-past-end":   {0x0a, 0x7f, 0x01},
		"field-number-zero": {0x02, 0x00},
		"bad-varint":        {0x0a, 0x02, 0x08, 0xff},
		"bad-attr":          {0x0a, 0x03, 0x32, 0x01, 0x0a},
	} {
		t.Run(name, func(t *testing.T) {
			var d batchDecoder
			if err := d.decode(data); err == nil {
				t.Fatalf("decode(%x): got %d records and no error, want an error", data, len(d.recs))
			}
			if proto.Unmarshal(data, &pluginpb.LogBatch{}) == nil {
				t.Fatalf("the generated code accepts %x: the case tests nothing", data)
			}
		})
	}
}

func TestBatchDecoderRepairsInvalidUTF8(t *testing.T) {
	var rec []byte
	rec = protowire.AppendString(protowire.AppendTag(rec, fieldRecBody, protowire.BytesType), "ok\xff")
	rec = protowire.AppendString(protowire.AppendTag(rec, fieldRecService, protowire.BytesType), "svc\xff")
	batch := protowire.AppendBytes(protowire.AppendTag(nil, fieldBatchRecords, protowire.BytesType), rec)
	var d batchDecoder
	if err := d.decode(batch); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got := d.recs[0]; got.Body != "ok\uFFFD" || got.Service != "svc\uFFFD" {
		t.Fatalf("got body %q service %q, want the bad bytes replaced by U+FFFD", got.Body, got.Service)
	}
}

// filesLikeBatch is shaped like the files adapter's output: service, host,
// instance and file repeat; body, line and native id do not.
func filesLikeBatch(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		line := fmt.Sprint(i + 1)
		recs[i] = Record{
			Timestamp: wireBase.Add(time.Duration(i) * time.Millisecond), Severity: SeverityInfo,
			Body:    fmt.Sprintf("2026-11-24 14:07:09.123 INFO  [http-nio-8080-exec-3] c.f.checkout.OrderController - order %d placed", i),
			Service: "checkout", Host: "node-1",
			Attributes: map[string]string{"file": "/var/log/checkout/app.log", "line": line},
			Source:     SourceRef{Instance: "prod/files", NativeID: "/var/log/checkout/app.log:" + line},
		}
	}
	return recs
}

func TestBatchDecoderCopiesOutOfTheBuffer(t *testing.T) {
	want := filesLikeBatch(20)
	data := encodedBatch(t, want...)
	var d batchDecoder
	if err := d.decode(data); err != nil {
		t.Fatal(err)
	}
	clear(data) // gRPC reuses its receive buffers
	if !reflect.DeepEqual(d.recs, want) {
		t.Fatalf("records changed with the buffer they were decoded from:\n got %+v\nwant %+v", d.recs[0], want[0])
	}
}

// TestBatchDecoderAllocations pins the point of the codec: per record, one
// block for the strings that are new plus the attribute map.
func TestBatchDecoderAllocations(t *testing.T) {
	const n = 100
	data := encodedBatch(t, filesLikeBatch(n)...)
	var d batchDecoder
	allocs := testing.AllocsPerRun(20, func() {
		if err := d.decode(data); err != nil {
			t.Fatal(err)
		}
	})
	mapAllocs := testing.AllocsPerRun(20, func() {
		m := make(map[string]string, 2)
		m["file"], m["line"] = "a", "b"
		sink = m
	})
	if limit := n*(1+mapAllocs) + 1; allocs > limit {
		t.Fatalf("decoding %d records: %.0f allocations, want at most %.0f (one string block and one map per record, one slice per batch)", n, allocs, limit)
	}
}

var sink any

// oldSchemaLogBatch is LogBatch as published before attributes became a
// list: plugin.proto with `map<string, string> attributes = 6`. It is
// built from the current descriptor, so the two differ in nothing else.
func oldSchemaLogBatch(t testing.TB) protoreflect.MessageType {
	t.Helper()
	fdp := protodesc.ToFileDescriptorProto(pluginpb.File_faultmaven_plugin_v1_plugin_proto)
	for _, m := range fdp.GetMessageType() {
		if m.GetName() != "LogRecord" {
			continue
		}
		m.NestedType = append(m.NestedType, &descriptorpb.DescriptorProto{
			Name: proto.String("AttributesEntry"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("key"), JsonName: proto.String("key"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
				{Name: proto.String("value"), JsonName: proto.String("value"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
			},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		})
		for _, f := range m.GetField() {
			if f.GetName() == "attributes" {
				f.TypeName = proto.String(".faultmaven.plugin.v1.LogRecord.AttributesEntry")
			}
		}
	}
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		t.Fatalf("building the old schema: %v", err)
	}
	batch := fd.Messages().ByName("LogBatch")
	if attrs := batch.Fields().ByName("records").Message().Fields().ByName("attributes"); !attrs.IsMap() {
		t.Fatalf("old schema: attributes is %v, want a map", attrs.Kind())
	}
	return dynamicpb.NewMessageType(batch)
}

// TestAttributesListIsWireCompatibleWithTheMap proves that hosts and
// plugins built when attributes were a map<string, string> interoperate
// with the list: each side decodes what the other encodes.
func TestAttributesListIsWireCompatibleWithTheMap(t *testing.T) {
	oldType := oldSchemaLogBatch(t)
	attrs := map[string]string{"file": "/var/log/app.log", "line": "17", "": "empty key", "empty value": ""}
	rec := Record{Body: "b", Attributes: attrs, Source: SourceRef{Instance: "i"}}

	t.Run("old-plugin-to-new-host", func(t *testing.T) {
		old := oldType.New()
		records := old.Mutable(old.Descriptor().Fields().ByName("records")).List()
		r := records.NewElement()
		r.Message().Set(r.Message().Descriptor().Fields().ByName("body"), protoreflect.ValueOfString("b"))
		m := r.Message().Mutable(r.Message().Descriptor().Fields().ByName("attributes")).Map()
		for k, v := range attrs {
			m.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(v))
		}
		records.Append(r)
		data := marshalPB(t, old.Interface())

		var p pluginpb.LogBatch
		if err := proto.Unmarshal(data, &p); err != nil {
			t.Fatalf("generated code: %v", err)
		}
		if got := attrsFromPB(p.GetRecords()[0].GetAttributes()); !reflect.DeepEqual(got, attrs) {
			t.Errorf("generated code: got %v, want %v", got, attrs)
		}
		var d batchDecoder
		if err := d.decode(data); err != nil {
			t.Fatalf("batchDecoder: %v", err)
		}
		if got := d.recs[0].Attributes; !reflect.DeepEqual(got, attrs) {
			t.Errorf("batchDecoder: got %v, want %v", got, attrs)
		}
	})

	t.Run("new-plugin-to-old-host", func(t *testing.T) {
		var enc recordEncoder
		data := protowire.AppendBytes(protowire.AppendTag(nil, fieldBatchRecords, protowire.BytesType), enc.appendRecord(nil, &rec))
		for name, data := range map[string][]byte{"recordEncoder": data, "generated code": encodedBatch(t, rec)} {
			old := oldType.New()
			if err := proto.Unmarshal(data, old.Interface()); err != nil {
				t.Fatalf("%s: the old schema refuses it: %v", name, err)
			}
			r := old.Get(old.Descriptor().Fields().ByName("records")).List().Get(0).Message()
			got := map[string]string{}
			r.Get(r.Descriptor().Fields().ByName("attributes")).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				got[k.String()] = v.String()
				return true
			})
			if !reflect.DeepEqual(got, attrs) {
				t.Errorf("%s: the old schema reads %v, want %v", name, got, attrs)
			}
		}
	})
}

// randomRecord draws a record from a small alphabet, so that values repeat
// from record to record as they do in real batches.
func randomRecord(rng *rand.Rand) Record {
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	r := Record{
		Body:     pick("", "a", "boom", "ü✓", strings.Repeat("x", rng.IntN(300))),
		Severity: Severity(rng.IntN(9) - 1),
		Service:  pick("", "checkout", "cart"),
		Host:     pick("", "node-1", "node-22"),
		Source:   SourceRef{Instance: pick("", "p/x"), NativeID: pick("", "1", "22"), Link: pick("", "l")},
	}
	if rng.IntN(4) > 0 {
		r.Timestamp = wireBase.Add(time.Duration(rng.Int64N(1e15) - 5e14))
	}
	if n := rng.IntN(4); n > 0 {
		r.Attributes = map[string]string{}
		for range n {
			r.Attributes[pick("file", "line", "", "k")] = pick("", "1", "/a.log", "v")
		}
	}
	return r
}

func TestRecordCodecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var enc recordEncoder
	var d batchDecoder
	for batch := range 50 {
		var data []byte
		var want []Record
		for range rng.IntN(40) {
			r := randomRecord(rng)
			data = protowire.AppendBytes(protowire.AppendTag(data, fieldBatchRecords, protowire.BytesType), enc.appendRecord(nil, &r))
			want = append(want, recordFromPB(recordToPB(&r)))
		}
		if err := d.decode(data); err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		if len(want) == 0 {
			want = []Record{}
		}
		if !reflect.DeepEqual(d.recs, want) {
			t.Fatalf("batch %d:\n got %+v\nwant %+v", batch, d.recs, want)
		}
	}
}

// FuzzBatchDecoder holds the decoder to the generated code on any input
// the generated code accepts.
func FuzzBatchDecoder(f *testing.F) {
	f.Add(encodedBatch(f, filesLikeBatch(3)...))
	for _, r := range wireRecords() {
		if len(r.Body) < 1000 {
			f.Add(encodedBatch(f, r))
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p pluginpb.LogBatch
		if proto.Unmarshal(data, &p) != nil {
			return // the decoder may differ only in repairing invalid UTF-8
		}
		var d batchDecoder
		if err := d.decode(data); err != nil {
			t.Fatalf("decode: %v; the generated code accepts it", err)
		}
		if len(d.recs) != len(p.GetRecords()) {
			t.Fatalf("got %d records, want %d", len(d.recs), len(p.GetRecords()))
		}
		for i, pr := range p.GetRecords() {
			if want := recordFromPB(pr); !reflect.DeepEqual(d.recs[i], want) {
				t.Fatalf("record %d:\n got %+v\nwant %+v", i, d.recs[i], want)
			}
		}
	})
}

func BenchmarkRecordCodec(b *testing.B) {
	recs := filesLikeBatch(DefaultBatchRecords)
	b.Run("encode", func(b *testing.B) {
		var enc recordEncoder
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for i := range recs {
				buf = enc.appendRecord(buf, &recs[i])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
	b.Run("encode-generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			batch := &pluginpb.LogBatch{}
			for i := range recs {
				batch.Records = append(batch.Records, recordToPB(&recs[i]))
			}
			marshalPB(b, batch)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
	data := encodedBatch(b, recs...)
	b.Run("decode", func(b *testing.B) {
		var d batchDecoder
		b.ReportAllocs()
		for b.Loop() {
			if err := d.decode(data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
	b.Run("decode-generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p pluginpb.LogBatch
			if err := proto.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
			out := make([]Record, len(p.Records))
			for i, r := range p.Records {
				out[i] = recordFromPB(r)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
	})
}

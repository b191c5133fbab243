package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"slices"
	"strconv"

	"github.com/faultmaven/faultmaven/sdk"
)

// payload is the sealed part of a record: everything that may hold raw log
// text. Timestamp, severity, service and template id stay in clear for
// queries and retention.
//
// Encoding (version 1): 0x01, then uvarint-length-prefixed body, host,
// native id, link, instance, then a uvarint attribute count and the
// key/value pairs. A hand-rolled format: encoding/json cost a third of the
// bulk-insert budget in BenchmarkInsertRecords.
func encodePayload(dst []byte, r *sdk.Record) []byte {
	dst = append(dst, 1)
	for _, s := range [...]string{r.Body, r.Host, r.Source.NativeID, r.Source.Link, r.Source.Instance} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Attributes)))
	for k, v := range r.Attributes {
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

var errPayload = errors.New("store: corrupt record payload")

func decodePayload(b []byte, r *sdk.Record) error {
	if len(b) == 0 || b[0] != 1 {
		return errPayload
	}
	b = b[1:]
	next := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	var ok bool
	for _, p := range [...]*string{&r.Body, &r.Host, &r.Source.NativeID, &r.Source.Link, &r.Source.Instance} {
		if *p, ok = next(); !ok {
			return errPayload
		}
	}
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return errPayload
	}
	b = b[w:]
	if n > 0 {
		r.Attributes = make(map[string]string, n)
	}
	for range n {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			return errPayload
		}
		r.Attributes[k] = v
	}
	return nil
}

// identity writes a record's identity to h: its cluster, integration and
// the source's native id when it has one, else its timestamp, content and
// ordinal.
func identity(h hash.Hash, r *Record, withOrdinal bool) {
	var buf [64]byte
	h.Write([]byte(r.Cluster))
	h.Write([]byte{0})
	h.Write([]byte(r.Integration))
	h.Write([]byte{0})
	if r.Source.NativeID != "" {
		h.Write([]byte("n\x00"))
		h.Write([]byte(r.Source.NativeID))
		return
	}
	h.Write([]byte("c\x00"))
	h.Write(strconv.AppendInt(buf[:0], r.Timestamp.UnixNano(), 10))
	for _, s := range [...]string{r.Service, r.Host, r.Body} {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	if len(r.Attributes) > 0 {
		keys := make([]string, 0, len(r.Attributes))
		for k := range r.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			h.Write([]byte{0})
			h.Write([]byte(k))
			h.Write([]byte{'='})
			h.Write([]byte(r.Attributes[k]))
		}
	}
	if withOrdinal {
		h.Write([]byte{0, '#'})
		h.Write(strconv.AppendInt(buf[:0], int64(r.Ordinal), 10))
	}
}

// dedupHasher computes the stored identity of records: HMAC-SHA-256 of
// their identity under the database's dedup secret (itself sealed by the
// keyring), so the clear hash in a dump cannot be used to confirm a guessed
// log line. Not safe for concurrent use; one per batch.
type dedupHasher struct{ h hash.Hash }

func newDedupHasher(secret []byte) dedupHasher {
	return dedupHasher{h: hmac.New(sha256.New, secret)}
}

func (d dedupHasher) key(r *Record) [32]byte {
	d.h.Reset()
	identity(d.h, r, true)
	var out [32]byte
	d.h.Sum(out[:0])
	return out
}

// ContentKey hashes a record's identity without its ordinal. Callers use
// it in memory to number identical records within one pull; it is never
// stored.
func ContentKey(r *Record) [32]byte {
	h := sha256.New()
	identity(h, r, false)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

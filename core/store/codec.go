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

// appendIdentity appends a record's identity to dst: its cluster,
// integration and the source's native id when it has one, else its
// timestamp, content and ordinal. The bytes are fixed: stored dedup keys
// hash them (TestIdentityIsStable).
func appendIdentity(dst []byte, r *Record, withOrdinal bool) []byte {
	dst = append(dst, r.Cluster...)
	dst = append(dst, 0)
	dst = append(dst, r.Integration...)
	dst = append(dst, 0)
	if r.Source.NativeID != "" {
		dst = append(dst, "n\x00"...)
		return append(dst, r.Source.NativeID...)
	}
	dst = append(dst, "c\x00"...)
	dst = strconv.AppendInt(dst, r.Timestamp.UnixNano(), 10)
	for _, s := range [...]string{r.Service, r.Host, r.Body} {
		dst = append(dst, 0)
		dst = append(dst, s...)
	}
	if len(r.Attributes) > 0 {
		keys := make([]string, 0, len(r.Attributes))
		for k := range r.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			dst = append(dst, 0)
			dst = append(dst, k...)
			dst = append(dst, '=')
			dst = append(dst, r.Attributes[k]...)
		}
	}
	if withOrdinal {
		dst = append(dst, 0, '#')
		dst = strconv.AppendInt(dst, int64(r.Ordinal), 10)
	}
	return dst
}

// dedupHasher computes the stored identity of records: HMAC-SHA-256 of
// their identity under the database's dedup secret (itself sealed by the
// keyring), so the clear hash in a dump cannot be used to confirm a guessed
// log line. Not safe for concurrent use; one per goroutine. It reuses its
// buffers: writing the identity piecewise through the hash.Hash interface
// cost four allocations per record in BenchmarkInsertRecords.
type dedupHasher struct {
	h   hash.Hash
	buf *[]byte
}

func newDedupHasher(secret []byte) dedupHasher {
	return dedupHasher{h: hmac.New(sha256.New, secret), buf: new([]byte)}
}

func (d dedupHasher) key(r *Record) [32]byte {
	*d.buf = appendIdentity((*d.buf)[:0], r, true)
	d.h.Reset()
	d.h.Write(*d.buf)
	var out [32]byte
	// Summing into the buffer (large enough by now) keeps out on the stack.
	*d.buf = d.h.Sum((*d.buf)[:0])
	copy(out[:], *d.buf)
	return out
}

// ContentKey hashes a record's identity without its ordinal. Callers use
// it in memory to number identical records within one pull; it is never
// stored.
func ContentKey(r *Record) [32]byte {
	return sha256.Sum256(appendIdentity(make([]byte, 0, 256), r, false))
}

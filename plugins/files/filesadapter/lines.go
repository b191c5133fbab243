package filesadapter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// readBufferSize is the bufio buffer under the line reader. Most lines fit
// in it and are handed out without a copy; 256 KiB also keeps read system
// calls rare.
const readBufferSize = 256 << 10

// gzipMagic starts every gzip stream (RFC 1952). Compression is detected
// from content, not from the name: rotation tools name files
// app.log.1.gz, app.log-20240305 or app.log.1 depending on their options,
// and a name that lies must not turn a file into binary noise.
var gzipMagic = []byte{0x1f, 0x8b}

// lineReader splits a (possibly gzip-compressed) stream into lines of at
// most max bytes. A longer line is cut and the rest of it skipped, so one
// pathological line (a minified JSON blob, a binary file) cannot exhaust
// the plugin's memory or fail the search.
type lineReader struct {
	raw  *bufio.Reader // over the file; peeked for the gzip magic
	gz   *gzip.Reader  // over raw, for gzip files
	unz  *bufio.Reader // over gz
	br   *bufio.Reader // what lines are read from: raw or unz
	max  int
	long []byte // assembles lines longer than the bufio buffer
}

// newLineReader returns a reader whose buffers are reused for every file
// of a search; the gzip side is allocated on the first gzip file.
func newLineReader(max int) *lineReader {
	return &lineReader{
		raw:  bufio.NewReaderSize(nil, readBufferSize),
		max:  max,
		long: make([]byte, 0, 64<<10),
	}
}

// reset starts reading r, decompressing it when it is gzip.
func (lr *lineReader) reset(r io.Reader) error {
	lr.raw.Reset(r)
	lr.br = lr.raw
	if magic, _ := lr.raw.Peek(len(gzipMagic)); !bytes.Equal(magic, gzipMagic) {
		return nil
	}
	var err error
	if lr.gz == nil {
		lr.gz, err = gzip.NewReader(lr.raw)
	} else {
		err = lr.gz.Reset(lr.raw)
	}
	if err != nil {
		return fmt.Errorf("reading gzip header: %w", err)
	}
	if lr.unz == nil {
		lr.unz = bufio.NewReaderSize(lr.gz, readBufferSize)
	} else {
		lr.unz.Reset(lr.gz)
	}
	lr.br = lr.unz
	return nil
}

// next returns the next line without its "\n" or "\r\n", and whether it
// was cut to max bytes. The slice is only valid until the next call. At
// the end of the stream it returns io.EOF; a last line without a newline
// is still returned first.
func (lr *lineReader) next() (line []byte, cut bool, err error) {
	line, err = lr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, cut, err = lr.longLine(line)
	} else {
		line = trimEOL(line)
	}
	if err == io.EOF && len(line) > 0 {
		err = nil // hand out the unterminated last line; EOF comes next call
	}
	if err != nil {
		return nil, false, err
	}
	if len(line) > lr.max {
		// Cut on a character boundary so that a valid UTF-8 line stays
		// valid and needs no conversion in bodyOf. A boundary is at most
		// UTFMax-1 bytes back; further back the bytes are not UTF-8 at
		// all, and bodyOf will replace them anyway.
		i := lr.max
		for i > lr.max-utf8.UTFMax+1 && !utf8.RuneStart(line[i]) {
			i--
		}
		if !utf8.RuneStart(line[i]) {
			i = lr.max
		}
		line, cut = line[:i], true
	}
	return line, cut, nil
}

// longLine assembles a line that overflowed the bufio buffer, keeping
// enough of it for next to cut it to max bytes and skipping the rest. It
// reports whether bytes were skipped.
func (lr *lineReader) longLine(first []byte) ([]byte, bool, error) {
	lr.long = append(lr.long[:0], first...)
	skipped := false
	for {
		chunk, err := lr.br.ReadSlice('\n')
		room := lr.max + 2 - len(lr.long) // +2 leaves room for "\r\n"
		if room >= len(chunk) {
			lr.long = append(lr.long, chunk...)
		} else {
			lr.long = append(lr.long, chunk[:max(room, 0)]...)
			skipped = true
		}
		if err != bufio.ErrBufferFull {
			if skipped {
				return lr.long, true, err
			}
			return trimEOL(lr.long), false, err
		}
	}
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'})
}

// bodyOf turns a line into a record body that is valid UTF-8 and at most
// max bytes. Protobuf strings must be valid UTF-8: one stray Latin-1 byte
// would otherwise make the whole batch fail to marshal at the plugin
// boundary, losing every record in it. NUL and other control bytes are
// valid UTF-8 and are kept as they are.
func bodyOf(line []byte, max int) (body string, cut bool) {
	if utf8.Valid(line) {
		return string(line), false
	}
	body = strings.ToValidUTF8(string(line), "\uFFFD")
	if len(body) <= max {
		return body, false
	}
	// Replacement characters are 3 bytes, so the body can outgrow max.
	return cutUTF8(body, max), true
}

// cutUTF8 cuts s to at most max bytes without splitting a character.
func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

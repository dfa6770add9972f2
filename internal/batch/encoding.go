package batch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// detectLen is how much of the file Encoding "auto" inspects before it decides: enough for
// the header and the first few hundred rows, and a bounded amount whatever the file.
const detectLen = 64 << 10

// Byte order marks.
var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16LE = []byte{0xff, 0xfe}
	bomUTF16BE = []byte{0xfe, 0xff}
)

// decodeText returns a reader of the file's text in UTF-8 and the name of the encoding the
// file was in. A byte order mark decides the encoding and is dropped; without one, mode
// decides, and in auto mode a file whose first detectLen bytes are not valid UTF-8 is read
// as Windows-1252. Only a bounded prefix is peeked at: decoding streams. The reason is
// non-empty when the byte order mark contradicts a forced encoding.
func decodeText(src io.Reader, mode string) (text *bufio.Reader, enc, reason string) {
	br := bufio.NewReaderSize(src, detectLen)
	n := len(bomUTF8)
	if mode == EncodingAuto {
		n = detectLen
	}
	// Any read error comes back on the next read: sizeLimiter keeps errors.
	prefix, err := br.Peek(n)

	bom, bomLen := byteOrderMark(prefix)
	if bom != "" && mode != EncodingAuto && bom != mode {
		return nil, "", fmt.Sprintf("file starts with a %s byte order mark, but the "+
			"encoding is set to %s: use %s", bom, mode, EncodingAuto)
	}
	if bom != "" {
		_, _ = br.Discard(bomLen)
		return decoded(br, bom), bom, ""
	}

	complete := errors.Is(err, io.EOF)
	if mode == EncodingWindows1252 || mode == EncodingAuto && !validPrefix(prefix, complete) {
		return decoded(br, EncodingWindows1252), EncodingWindows1252, ""
	}
	return br, EncodingUTF8, ""
}

// byteOrderMark names the encoding whose byte order mark starts prefix, and its length.
func byteOrderMark(prefix []byte) (string, int) {
	switch {
	case bytes.HasPrefix(prefix, bomUTF8):
		return EncodingUTF8, len(bomUTF8)
	case bytes.HasPrefix(prefix, bomUTF16LE):
		return EncodingUTF16LE, len(bomUTF16LE)
	case bytes.HasPrefix(prefix, bomUTF16BE):
		return EncodingUTF16BE, len(bomUTF16BE)
	}
	return "", 0
}

// decoded wraps br in a decoder from enc to UTF-8; UTF-8 comes back as it is.
func decoded(br *bufio.Reader, enc string) *bufio.Reader {
	var e encoding.Encoding
	switch enc {
	case EncodingUTF16LE:
		e = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case EncodingUTF16BE:
		e = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case EncodingWindows1252:
		e = charmap.Windows1252
	default:
		return br
	}
	return bufio.NewReaderSize(transform.NewReader(br, e.NewDecoder()), detectLen)
}

// validPrefix reports whether a prefix of the file is valid UTF-8. Unless the prefix is
// the complete file, it may end inside a character, which is not held against it.
func validPrefix(p []byte, complete bool) bool {
	if !complete {
		for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:]) {
					p = p[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(p)
}

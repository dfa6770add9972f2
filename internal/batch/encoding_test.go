package batch

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cp1252File is a file saved by Excel on Windows: "Zoë Müller" and "Café" in Windows-1252.
const cp1252File = "msisdn,amount,currency,name,payer_message\n" +
	"256772123456,10,UGX,Zo\xeb M\xfcller,Caf\xe9 \x80 bonus\n"

func TestReader_AutoDetectsWindows1252(t *testing.T) {
	r, err := NewReader(strings.NewReader(cp1252File), Options{})
	require.NoError(t, err)
	assert.Equal(t, EncodingWindows1252, r.Encoding())

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "Zoë Müller", row.Name)
	assert.Equal(t, "Café € bonus", row.PayerMessage)
}

func TestReader_ForcedWindows1252DecodesValidUTF8AsWell(t *testing.T) {
	in := "msisdn,amount,currency,name\n256772123456,10,UGX,Zo\xc3\xab\n"
	r, err := NewReader(strings.NewReader(in), Options{Encoding: EncodingWindows1252})
	require.NoError(t, err)
	assert.Equal(t, EncodingWindows1252, r.Encoding())

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "ZoÃ«", row.Name, "the operator said Windows-1252")
}

func TestReader_AutoKeepsValidUTF8(t *testing.T) {
	in := "msisdn,amount,currency,name\n256772123456,10,UGX,Zoë Ọkafor\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	assert.Equal(t, EncodingUTF8, r.Encoding())

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "Zoë Ọkafor", row.Name)
}

func TestReader_AutoDetectionLooksOnlyAtTheFirst64KiB(t *testing.T) {
	var b strings.Builder
	b.WriteString("msisdn,amount,currency,name\n")
	for b.Len() < detectLen+100 {
		b.WriteString("256772123456,10,UGX,Zoë\n")
	}
	b.WriteString("256772123456,10,UGX,caf\xe9\n")
	r, err := NewReader(strings.NewReader(b.String()), Options{File: "f.csv"})
	require.NoError(t, err)
	assert.Equal(t, EncodingUTF8, r.Encoding())

	rows, rejects := readAll(t, r)
	require.Len(t, rejects, 1)
	last := rows[len(rows)-1].Line + 1
	assert.Equal(t, last, rejects[0].Line)
	assert.Equal(t, []FieldError{{"name", "cell is not valid UTF-8 text (byte 4); if the file " +
		"is not UTF-8, read it with -encoding windows-1252"}}, rejects[0].Fields)
}

func TestReader_MultiByteCharacterAcrossThePeekBoundaryIsNotInvalid(t *testing.T) {
	prefix := "msisdn,amount,currency,name\n256772123456,10,UGX,"
	// Put the two bytes of "ë" on both sides of the detectLen boundary.
	pad := strings.Repeat("x", detectLen-len(prefix)-1)
	in := prefix + pad + "ë\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	assert.Equal(t, EncodingUTF8, r.Encoding())
}

func TestReader_ByteOrderMarkMustNotContradictAForcedEncoding(t *testing.T) {
	tests := []struct {
		in, enc, want string
	}{
		{"\xff\xfem\x00", EncodingUTF8, "batch: f.csv: line 1: file starts with a utf-16le " +
			"byte order mark, but the encoding is set to utf-8: use auto"},
		{"\xef\xbb\xbfmsisdn", EncodingWindows1252, "batch: f.csv: line 1: file starts with " +
			"a utf-8 byte order mark, but the encoding is set to windows-1252: use auto"},
	}
	for _, tt := range tests {
		_, err := NewReader(strings.NewReader(tt.in), Options{File: "f.csv", Encoding: tt.enc})
		var headerErr *HeaderError
		require.ErrorAs(t, err, &headerErr)
		assert.Equal(t, tt.want, err.Error())
	}
}

func TestReader_UnknownEncodingIsAnOptionsError(t *testing.T) {
	_, err := NewReader(strings.NewReader("msisdn,amount,currency\n"), Options{Encoding: "latin9"})
	require.Error(t, err)
	assert.Equal(t, `batch: options: unknown encoding "latin9" (use auto, utf-8 or windows-1252)`,
		err.Error())
}

func TestReader_UTF16WithoutByteOrderMarkGetsAHint(t *testing.T) {
	in := "m\x00s\x00i\x00s\x00d\x00n\x00,\x00a\x00\n\x00"
	_, err := NewReader(strings.NewReader(in), Options{Encoding: EncodingUTF8})
	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.Contains(t, err.Error(), "the header holds NUL bytes: if the file is UTF-16 "+
		"without a byte order mark, save it as UTF-8 CSV")
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReader_DecodingStreams(t *testing.T) {
	for _, enc := range []string{EncodingAuto, EncodingWindows1252} {
		t.Run(enc, func(t *testing.T) {
			data, err := io.ReadAll(&rowGenerator{total: 20_000})
			require.NoError(t, err)
			src := &countingReader{r: bytes.NewReader(data)}
			r, err := NewReader(src, Options{Country: "UG", Encoding: enc})
			require.NoError(t, err)
			_, err = r.Next()
			require.NoError(t, err)
			assert.Less(t, src.n, 3*detectLen, "only a bounded prefix is read ahead")
		})
	}
}

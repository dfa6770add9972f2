package batch

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readUntilFatal reads rows until a fatal error and returns it with the rows read before.
func readUntilFatal(t *testing.T, r *Reader) (int, error) {
	t.Helper()
	rows := 0
	for {
		_, err := r.Next()
		var rowErr *RowError
		switch {
		case err == nil:
			rows++
		case errors.As(err, &rowErr):
		default:
			return rows, err
		}
	}
}

func TestReader_MaxFileBytesIsEnforcedWhileStreaming(t *testing.T) {
	data, err := io.ReadAll(&rowGenerator{total: 10_000})
	require.NoError(t, err)
	src := &countingReader{r: bytes.NewReader(data)}
	r, err := NewReader(src, Options{File: "big.csv", Country: "UG", MaxFileBytes: 100_000})
	require.NoError(t, err)

	rows, err := readUntilFatal(t, r)
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	assert.ErrorIs(t, err, ErrFileTooLarge)
	assert.Equal(t, "batch: big.csv: line "+itoa(readErr.Line)+": file is larger than the "+
		"limit of 100000 bytes", err.Error())
	assert.Equal(t, 100_001, src.n, "reading stops one byte past the limit")
	assert.Greater(t, rows, 2000)
	assert.Less(t, rows, 2500)
	assert.Equal(t, generatedLine(rows), readErr.Line, "the line where the limit was passed")

	_, again := r.Next()
	assert.Equal(t, err, again, "the error sticks")
}

func TestReader_FileOfExactlyMaxFileBytesIsRead(t *testing.T) {
	in := "msisdn,amount,currency\n256772123456,10,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{MaxFileBytes: int64(len(in))})
	require.NoError(t, err)
	rows, rejects := readAll(t, r)
	assert.Len(t, rows, 1)
	assert.Empty(t, rejects)
}

func TestReader_MaxFileBytesDuringTheHeader(t *testing.T) {
	_, err := NewReader(strings.NewReader("msisdn,amount,currency\n"),
		Options{File: "f.csv", MaxFileBytes: 10})
	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.ErrorIs(t, err, ErrFileTooLarge)
	assert.Equal(t, "batch: f.csv: line 1: file is larger than the limit of 10 bytes",
		err.Error())
}

func TestReader_MaxRows(t *testing.T) {
	in := "msisdn,amount,currency\n256772123456,1,UGX\n\n256772123456,x,UGX\n" +
		"msisdn,amount,currency\n256772123456,3,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "f.csv", MaxRows: 2})
	require.NoError(t, err)

	rows, err := readUntilFatal(t, r)
	assert.Equal(t, 1, rows)
	assert.ErrorIs(t, err, ErrTooManyRows)
	assert.Equal(t, "batch: f.csv: line 6: file has more than the limit of 2 data rows",
		err.Error(), "blank rows and repeated headers do not count")
	assert.Equal(t, 2, r.RowsRead())
}

func TestReader_NegativeLimitsMeanNone(t *testing.T) {
	data, err := io.ReadAll(&rowGenerator{total: 3000})
	require.NoError(t, err)
	r, err := NewReader(bytes.NewReader(data), Options{Country: "UG", MaxRows: -1,
		MaxFileBytes: -1})
	require.NoError(t, err)
	_, err = readUntilFatal(t, r)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, 3000, r.RowsRead())
}

func TestReader_MaxLineBytes(t *testing.T) {
	long := strings.Repeat("x", 200)
	in := "msisdn,amount,currency,name\n256772123456,1,UGX,ok\n256772123456,1,UGX," + long +
		"\n256772123456,1,UGX,never read\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "f.csv", MaxLineBytes: 100})
	require.NoError(t, err)

	rows, err := readUntilFatal(t, r)
	assert.Equal(t, 1, rows)
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	assert.ErrorIs(t, err, ErrRecordTooLong)
	assert.Equal(t, "batch: f.csv: line 3: record is longer than the limit of 100 bytes",
		err.Error())
}

func TestReader_UnterminatedQuoteCannotSwallowTheFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("msisdn,amount,currency,note\n256772123456,1,UGX,ok\n256772123456,1,UGX,\"oops\n")
	for range 10_000 {
		b.WriteString("256772123456,1,UGX,short line\n")
	}
	r, err := NewReader(strings.NewReader(b.String()), Options{File: "f.csv"})
	require.NoError(t, err)

	_, err = readUntilFatal(t, r)
	assert.ErrorIs(t, err, ErrRecordTooLong)
	assert.Equal(t, "batch: f.csv: line 3: record is longer than the limit of 64 KiB",
		err.Error(), "the line the runaway record starts on")
}

func TestReader_QuotedNewlinesCountTowardsTheRecord(t *testing.T) {
	in := "msisdn,amount,currency,note\n256772123456,1,UGX,\"" +
		strings.Repeat("line\n", 30) + "\"\n"
	r, err := NewReader(strings.NewReader(in), Options{MaxLineBytes: 100})
	require.NoError(t, err)
	_, err = r.Next()
	assert.ErrorIs(t, err, ErrRecordTooLong)
}

func TestReader_ControlCharactersAreRowErrors(t *testing.T) {
	in := "msisdn,amount,currency,name,Branch Office,\n" +
		"256772123456,1,UGX,Ali\x00ce,Kampala,\n" +
		"256772123456,1,UGX,Alice,Kam\x1bpala,\n" +
		"2567721\x0723456,1,UGX,Alice,Kampala,x\x7f\n" +
		"256772123456,1,UGX,Al\u0085ice,Kampala,\n" +
		"256772123456,1,UGX,\"Alice\tand\r\nBob\",Kampala,\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "f.csv"})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	require.Len(t, rows, 1, "tab, CR and LF inside a quoted cell are fine")
	assert.Equal(t, "Alice\tand\nBob", rows[0].Name)
	require.Len(t, rejects, 4)
	assert.Equal(t, "batch: f.csv: line 2, column name: cell contains control character "+
		"U+0000 at character 4", rejects[0].Error())
	assert.Equal(t, `batch: f.csv: line 3, column "Branch Office": cell contains control `+
		"character U+001B at character 4", rejects[1].Error())
	assert.Equal(t, "batch: f.csv: line 4, column msisdn: cell contains control character "+
		"U+0007 at character 8; column 6: cell contains control character U+007F at "+
		"character 2", rejects[2].Error(), "a bad cell gets one reason, not two")
	assert.Equal(t, "batch: f.csv: line 5, column name: cell contains control character "+
		"U+0085 at character 3", rejects[3].Error())
}

func itoa(n int) string { return strconv.Itoa(n) }

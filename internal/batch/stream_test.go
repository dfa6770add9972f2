package batch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rowGenerator is an io.Reader that makes a beneficiary file on the fly, so that a test
// can read a large file without it ever existing whole in memory. Row i pays i%5000+1 UGX
// to a local number; every 1000th row is preceded by a blank row and every 10000th row
// has an invalid amount.
type rowGenerator struct {
	total    int
	produced int
	buf      []byte
	started  bool
}

func (g *rowGenerator) Read(p []byte) (int, error) {
	if !g.started {
		g.buf = append(g.buf, "Phone Number,Amount,Currency,External ID,Payer Message\n"...)
		g.started = true
	}
	for len(g.buf) < len(p) && g.produced < g.total {
		g.buf = appendGeneratedRow(g.buf, g.produced)
		g.produced++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}

	n := copy(p, g.buf)
	g.buf = append(g.buf[:0], g.buf[n:]...)
	return n, nil
}

// appendGeneratedRow appends row i of the generated file.
func appendGeneratedRow(b []byte, i int) []byte {
	if i > 0 && i%1000 == 0 {
		b = append(b, ",,,,\n"...)
	}
	amount := strconv.Itoa(i%5000 + 1)
	if i%10000 == 9999 {
		amount = `"12,5"`
	}
	return fmt.Appendf(b, "07%08d,%s,UGX,id-%d,\"salary, row %d\"\n", i, amount, i, i)
}

// generatedLine is the physical line of row i: the header is line 1 and a blank row
// precedes every 1000th row.
func generatedLine(i int) int {
	return 2 + i + i/1000
}

func TestReader_StreamsLargeGeneratedFile(t *testing.T) {
	const total = 200_000
	gen := &rowGenerator{total: total}
	r, err := NewReader(gen, Options{Country: "UG", TargetEnvironment: "mtnuganda"})
	require.NoError(t, err)

	valid, invalid := 0, 0
	var sum int64
	for i := 0; ; i++ {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if i == 0 {
			assert.Less(t, gen.produced, total/10, "the reader must not read ahead far")
		}

		var rowErr *RowError
		if errors.As(err, &rowErr) {
			invalid++
			require.Equal(t, generatedLine(i), rowErr.Line)
			require.Equal(t, "amount", rowErr.Fields[0].Column)
			continue
		}
		require.NoError(t, err)
		valid++
		sum += row.Amount.Minor
		require.Equal(t, generatedLine(i), row.Line)
		require.Equal(t, fmt.Sprintf("2567%08d", i), row.PartyID)
		require.Equal(t, "id-"+strconv.Itoa(i), row.ExternalID)
	}

	assert.Equal(t, total, r.RowsRead())
	assert.Equal(t, total/10000, invalid)
	assert.Equal(t, total-total/10000, valid)
	assert.Equal(t, total, gen.produced)

	var wantSum int64
	for i := range total {
		if i%10000 != 9999 {
			wantSum += int64(i%5000 + 1)
		}
	}
	assert.Equal(t, wantSum, sum)
}

func BenchmarkReader(b *testing.B) {
	const total = 100_000
	data, err := io.ReadAll(&rowGenerator{total: total})
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()

	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), Options{Country: "UG"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var rowErr *RowError
			if err != nil && !errors.As(err, &rowErr) {
				b.Fatal(err)
			}
		}
		if r.RowsRead() != total {
			b.Fatalf("read %d rows, want %d", r.RowsRead(), total)
		}
	}
}

package batch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReader_HeaderLineSkipsGuidanceText(t *testing.T) {
	in := "Fill in \"one\" row per payee, don't change the header\n" +
		"\n" +
		"msisdn,amount,currency\n256772123456,10,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{HeaderLine: 3})
	require.NoError(t, err)

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 4, row.Line)
	assert.Equal(t, []string{"msisdn", "amount", "currency"}, r.Header())
}

func TestReader_HeaderLineSkipsLinesLongerThanTheRecordLimit(t *testing.T) {
	in := strings.Repeat("guidance ", 20_000) + "\nmsisdn,amount,currency\n256772123456,10,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{HeaderLine: 2})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 3, row.Line)
}

func TestReader_HeaderLineErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		want string
	}{
		{"guidance\n", 3, "batch: f.csv: line 2: file ends before header line 3"},
		{"guidance", 3, "batch: f.csv: line 1: file ends before header line 3"},
		{"guidance\n\nmsisdn,amount,currency\n", 2, "batch: f.csv: line 2: header line is blank"},
		{"guidance\nmsisdn,amount,currency\n", 1, "batch: f.csv: line 1: missing required " +
			"columns msisdn, amount, currency"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), Options{File: "f.csv",
				HeaderLine: tt.line})
			var headerErr *HeaderError
			require.ErrorAs(t, err, &headerErr)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestReader_HeaderLineCountsTheLinesOfAQuotedHeaderCell(t *testing.T) {
	in := "guidance\nmsisdn,amount,currency,\"long\nname\"\n256772123456,10,UGX,x\n"
	r, err := NewReader(strings.NewReader(in), Options{HeaderLine: 2})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 4, row.Line)
}

func TestReader_RepeatedHeaderIsSkippedOnlyWhenEveryCellMatches(t *testing.T) {
	in := "Phone Number,Amount,Currency,,\n" +
		"256772123456,1,UGX,,\n" +
		"phone_number, AMOUNT ,currency\n" +
		"\u00a0Phone-Number,amount\u200b,CURRENCY,,,\n" +
		"Phone Number,Amount,Currency,Note\n" +
		"Phone Number,Amount\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "f.csv"})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Len(t, rows, 1)
	assert.Equal(t, 2, r.SkippedHeaders())
	require.Len(t, rejects, 2, "a row with an extra cell or a missing one is data")
	assert.Equal(t, []int{5, 6}, []int{rejects[0].Line, rejects[1].Line})
	assert.Equal(t, 3, r.RowsRead())
}

func TestReader_TrailingEmptyColumnsAreIgnored(t *testing.T) {
	in := "msisdn,amount,currency, , ,\n256772123456,10,UGX,,,\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"msisdn", "amount", "currency"}, r.Header())
	_, err = r.Next()
	require.NoError(t, err)
}

func TestNewReader_DetectsTabDelimiter(t *testing.T) {
	in := "msisdn\tamount\tcurrency\tname\n256772123456\t1,500\tUGX\tOkello, Brian\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"msisdn", "amount", "currency", "name"}, r.Header())

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "Okello, Brian", row.Name)
	assert.Equal(t, int64(1500), row.Amount.Minor)
}

func TestReader_HeaderWithoutAnyKnownColumnSuggestsHeaderLine(t *testing.T) {
	_, err := NewReader(strings.NewReader("Payroll December\nmsisdn,amount,currency\n"),
		Options{})
	require.Error(t, err)
	assert.Equal(t, "batch: line 1: missing required columns msisdn, amount, currency; if "+
		"the header is not the first line, set -header-line", err.Error())
}

func TestReader_UnknownColumnsAreNamedByHeaderOrPosition(t *testing.T) {
	in := "msisdn,amount,currency,Branch\n256772123456,1,UGX,ok,\x01\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, []FieldError{{"5", "cell contains control character U+0001 at character 1"}},
		rowErr.Fields)
}

func TestReader_07XXXXXXXXNamesLineAndColumn(t *testing.T) {
	in := "msisdn,amount,currency\n256772123456,1,UGX\n07XXXXXXXX,1,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "pay.csv", Country: "UG"})
	require.NoError(t, err)
	_, err = r.Next()
	require.NoError(t, err)

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, "batch: pay.csv: line 3, column msisdn: phone number may only hold "+
		"digits, spaces, '-', '.', '(', ')' and a leading '+'", err.Error())
}

func TestReader_RefusesBadNewOptions(t *testing.T) {
	tests := []struct {
		opt  Options
		want string
	}{
		{Options{HeaderLine: -1}, "batch: options: HeaderLine is -1, must not be negative"},
		{Options{MaxLineBytes: -5}, "batch: options: MaxLineBytes is -5, must not be negative"},
	}
	for _, tt := range tests {
		_, err := NewReader(strings.NewReader("msisdn,amount,currency\n"), tt.opt)
		require.Error(t, err)
		assert.Equal(t, tt.want, err.Error())
	}
}

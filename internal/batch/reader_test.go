package batch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/money"
)

// openFile opens a reader over testdata/name with opt.File set to name.
func openFile(t *testing.T, name string, opt Options) (*Reader, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	opt.File = name
	return NewReader(f, opt)
}

// readAll reads every row, failing the test on a fatal error.
func readAll(t *testing.T, r *Reader) (rows []Row, rejects []*RowError) {
	t.Helper()
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, rejects
		}
		var rowErr *RowError
		if errors.As(err, &rowErr) {
			rejects = append(rejects, rowErr)
			continue
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
}

// wantValidRows are the rows of testdata/valid.csv read with Country UG.
var wantValidRows = []Row{
	{Line: 2, PartyIDType: "MSISDN", PartyID: "256772123456", Amount: money.Amount{Minor: 1500,
		Currency: "UGX"}, ExternalID: "pay-0001", PayerMessage: "December salary",
		PayeeNote: "Thank you", Name: "Alice Nakato"},
	{Line: 3, PartyIDType: "MSISDN", PartyID: "256772123457", Amount: money.Amount{Minor: 2500,
		Currency: "UGX"}, ExternalID: "pay-0002", PayerMessage: "Bonus, December",
		PayeeNote: "Thanks", Name: "Okello, Brian"},
	{Line: 4, PartyIDType: "MSISDN", PartyID: "256772123458", Amount: money.Amount{Minor: 100,
		Currency: "UGX"}, PayerMessage: "Salary", Name: "Carol Auma"},
	{Line: 5, PartyIDType: "EMAIL", PartyID: "jane@example.com", Amount: money.Amount{Minor: 700,
		Currency: "UGX"}, ExternalID: "pay-0004", PayerMessage: "Salary", PayeeNote: "Note",
		Name: "Jane Doe"},
	{Line: 6, PartyIDType: "PARTY_CODE", PartyID: "SHOP-42", Amount: money.Amount{Minor: 900,
		Currency: "UGX"}, ExternalID: "pay-0005"},
}

var ugandaOptions = Options{Country: "UG", TargetEnvironment: "mtnuganda"}

func TestReader_ReadsValidFile(t *testing.T) {
	r, err := openFile(t, "valid.csv", ugandaOptions)
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Empty(t, rejects)
	assert.Equal(t, wantValidRows, rows)
	assert.Equal(t, 5, r.RowsRead())
	assert.Equal(t, []string{"msisdn", "amount", "currency", "external_id", "payer_message",
		"payee_note", "name", "party_id_type"}, r.Header())
}

func TestReader_SemicolonBOMCRLFTwinParsesIdentically(t *testing.T) {
	r, err := openFile(t, "valid_semicolon_bom_crlf.csv", ugandaOptions)
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Empty(t, rejects)
	assert.Equal(t, wantValidRows, rows)
	assert.Equal(t, "msisdn", r.Header()[0], "the byte order mark is stripped")
}

func TestReader_QuotedFieldKeepsEmbeddedComma(t *testing.T) {
	r, err := openFile(t, "valid.csv", ugandaOptions)
	require.NoError(t, err)

	rows, _ := readAll(t, r)
	require.Len(t, rows, 5)
	assert.Equal(t, "Bonus, December", rows[1].PayerMessage)
	assert.Equal(t, "Okello, Brian", rows[1].Name)
}

func TestReader_HeaderAliasesIgnoreCaseSpacesAndSeparators(t *testing.T) {
	r, err := openFile(t, "aliases.csv", Options{})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	require.Empty(t, rejects)
	assert.Equal(t, []Row{{Line: 2, PartyIDType: "MSISDN", PartyID: "256772123456",
		Amount: money.Amount{Minor: 1500, Currency: "UGX"}, ExternalID: "ref-1",
		PayerMessage: "Salary", PayeeNote: "Thanks", Name: "Alice"}}, rows)
}

func TestReader_MSISDNAliases(t *testing.T) {
	for _, name := range []string{"msisdn", "MSISDN", "phone", "Phone", "phone_number",
		"Phone Number", "phone-number", "PhoneNumber", "mobile", " Mobile "} {
		t.Run(name, func(t *testing.T) {
			in := name + ",amount,currency\n256772123456,10,UGX\n"
			r, err := NewReader(strings.NewReader(in), Options{})
			require.NoError(t, err)

			row, err := r.Next()
			require.NoError(t, err)
			assert.Equal(t, "256772123456", row.PartyID)
		})
	}
}

func TestReader_ExternalIDAliasReferenceAndMissingColumn(t *testing.T) {
	r, err := NewReader(strings.NewReader("msisdn,amount,Reference\n256772123456,10,r-1\n"),
		Options{DefaultCurrency: "UGX"})
	require.NoError(t, err)
	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, "r-1", row.ExternalID)

	r, err = NewReader(strings.NewReader("msisdn,amount\n256772123456,10\n"),
		Options{DefaultCurrency: "UGX"})
	require.NoError(t, err)
	row, err = r.Next()
	require.NoError(t, err)
	assert.Empty(t, row.ExternalID, "the caller derives an external ID")
}

func TestReader_MissingRequiredColumnIsHeaderError(t *testing.T) {
	_, err := openFile(t, "missing_amount.csv", Options{})

	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.Equal(t, 1, headerErr.Line)
	assert.Equal(t, "batch: missing_amount.csv: line 1: missing required column amount",
		err.Error())
}

func TestReader_MissingColumnsAreAllNamed(t *testing.T) {
	tests := []struct {
		header string
		opt    Options
		want   string
	}{
		{"name,currency", Options{}, "batch: line 1: missing required columns msisdn, amount"},
		{"name", Options{}, "batch: line 1: missing required columns msisdn, amount, currency"},
		{"msisdn,amount", Options{},
			"batch: line 1: missing required column currency (or set a default currency)"},
		{"msisdn;name", Options{DefaultCurrency: "EUR"},
			"batch: line 1: missing required column amount"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.header+"\n"), tt.opt)
			var headerErr *HeaderError
			require.ErrorAs(t, err, &headerErr)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestReader_DuplicateColumnIsHeaderError(t *testing.T) {
	_, err := openFile(t, "duplicate_column.csv", Options{})

	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.Equal(t,
		"batch: duplicate_column.csv: line 1: duplicate column msisdn (header cells 1 and 4)",
		err.Error())
}

func TestReader_EmptyOrBlankFileHasNoHeader(t *testing.T) {
	for _, name := range []string{"empty.csv", "blank_only.csv"} {
		t.Run(name, func(t *testing.T) {
			_, err := openFile(t, name, Options{})

			var headerErr *HeaderError
			require.ErrorAs(t, err, &headerErr)
			assert.Equal(t, "batch: "+name+": file is empty: expected a header line", err.Error())
		})
	}
}

func TestReader_HeaderAfterBlankLinesKeepsPhysicalLineNumbers(t *testing.T) {
	r, err := openFile(t, "header_after_blank_lines.csv", Options{})
	require.NoError(t, err)

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 4, row.Line)
}

func TestReader_MultiLineHeaderCell(t *testing.T) {
	in := "msisdn,amount,currency,\"note for\nthe office\"\n256772123456,10,UGX,x\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)

	row, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 3, row.Line)
	assert.Equal(t, "note for\nthe office", r.Header()[3])
}

func TestReader_UTF16WithBOMIsConverted(t *testing.T) {
	utf16 := func(s string, bigEndian bool) string {
		var b strings.Builder
		for _, c := range s {
			if bigEndian {
				b.WriteByte(0)
			}
			b.WriteByte(byte(c))
			if !bigEndian {
				b.WriteByte(0)
			}
		}
		return b.String()
	}
	text := "msisdn,amount,currency\r\n256772123456,10,UGX\r\n"
	for _, tt := range []struct{ bom, enc string }{
		{"\xff\xfe", EncodingUTF16LE}, {"\xfe\xff", EncodingUTF16BE},
	} {
		t.Run(tt.enc, func(t *testing.T) {
			in := tt.bom + utf16(text, tt.enc == EncodingUTF16BE)
			r, err := NewReader(strings.NewReader(in), Options{File: "f.csv"})
			require.NoError(t, err)
			assert.Equal(t, tt.enc, r.Encoding())
			assert.Equal(t, []string{"msisdn", "amount", "currency"}, r.Header())

			rows, rejects := readAll(t, r)
			assert.Empty(t, rejects)
			require.Len(t, rows, 1)
			assert.Equal(t, 2, rows[0].Line)
			assert.Equal(t, "256772123456", rows[0].PartyID)
		})
	}
}

func TestReader_OverlongHeaderIsRefused(t *testing.T) {
	in := "msisdn,amount,currency," + strings.Repeat("x", DefaultMaxLineBytes)
	_, err := NewReader(strings.NewReader(in), Options{})

	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.Contains(t, err.Error(), "batch: line 1: header is longer than")
}

func TestReader_BlankRowsAreSkippedAndNotCounted(t *testing.T) {
	r, err := openFile(t, "blank_rows.csv", Options{})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Empty(t, rejects)
	require.Len(t, rows, 3)
	assert.Equal(t, []int{2, 5, 7}, []int{rows[0].Line, rows[1].Line, rows[2].Line})
	assert.Equal(t, 3, r.RowsRead())
}

func TestReader_DefaultCurrencyWithoutCurrencyColumn(t *testing.T) {
	r, err := openFile(t, "default_currency.csv",
		Options{DefaultCurrency: "eur", TargetEnvironment: "sandbox"})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Empty(t, rejects)
	require.Len(t, rows, 2)
	assert.Equal(t, money.Amount{Minor: 1550, Currency: "EUR"}, rows[0].Amount)
	assert.Equal(t, money.Amount{Minor: 700, Currency: "EUR"}, rows[1].Amount)
	assert.Equal(t, "46733123450", rows[0].PartyID)
}

func TestReader_DefaultCurrencyFillsEmptyCells(t *testing.T) {
	r, err := openFile(t, "default_currency_cells.csv",
		Options{DefaultCurrency: "EUR", Country: "SZ"})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Empty(t, rejects)
	require.Len(t, rows, 2)
	assert.Equal(t, money.Amount{Minor: 1550, Currency: "EUR"}, rows[0].Amount)
	assert.Equal(t, money.Amount{Minor: 700, Currency: "EUR"}, rows[1].Amount)
	assert.Equal(t, "46733123450", rows[0].PartyID, "sandbox numbers never get 268 glued on")
}

func TestReader_SandboxRefusesGHS(t *testing.T) {
	r, err := openFile(t, "sandbox_ghs.csv", Options{TargetEnvironment: "sandbox"})
	require.NoError(t, err)

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, "batch: sandbox_ghs.csv: line 2, column currency: currency GHS is not "+
		"accepted in target environment sandbox (allowed: EUR)", err.Error())
	assert.Equal(t, []string{"46733123450", "100", "GHS"}, rowErr.Record)

	row, err := r.Next()
	require.NoError(t, err, "reading goes on after an invalid row")
	assert.Equal(t, money.Amount{Minor: 10000, Currency: "EUR"}, row.Amount)

	_, err = r.Next()
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, 2, r.RowsRead())
}

func TestReader_LiberiaAcceptsLRDAndUSD(t *testing.T) {
	in := "msisdn,amount,currency\n231770123456,10,LRD\n231770123456,10.25,USD\n" +
		"231770123456,10,EUR\n"
	r, err := NewReader(strings.NewReader(in), Options{TargetEnvironment: "mtnliberia"})
	require.NoError(t, err)

	rows, rejects := readAll(t, r)
	assert.Len(t, rows, 2)
	require.Len(t, rejects, 1)
	assert.Equal(t, "currency EUR is not accepted in target environment mtnliberia "+
		"(allowed: LRD, USD)", rejects[0].Fields[0].Reason)
}

func TestReader_EveryRuleNamesLineAndColumn(t *testing.T) {
	long := func(col string, n, limit int) string {
		return col + " has " + strconv.Itoa(n) + " characters, at most " + strconv.Itoa(limit) + " allowed"
	}
	want := map[int][]FieldError{
		2: {{"msisdn", "local number 0772123456 needs -country"}},
		3: {{"msisdn", "phone number may only hold digits, spaces, '-', '.', '(', ')' and a leading '+'"}},
		4: {{"msisdn", "phone number has 4 digits, needs 8 to 15 with the country code"}},
		5: {{"amount", "amount has 1 decimal, UGX allows 0"}},
		6: {{"amount", "amount must be positive"}},
		7: {{"amount", "amount must be positive"}},
		8: {{"amount", `amount "1500,50" has a ',' that does not separate groups of 3 ` +
			"digits; use -decimal-comma if the file uses decimal commas"}},
		9:  {{"currency", "currency GHS is not accepted in target environment mtnuganda (allowed: UGX)"}},
		10: {{"currency", `unknown currency "ABC"`}},
		11: {{"payer_message", long("payer_message", 161, 160)}},
		12: {{"payee_note", long("payee_note", 161, 160)}},
		13: {{"external_id", long("external_id", 65, 64)}},
		14: {{"name", long("name", 101, 100)}},
		15: {{"party_id_type", `party_id_type "ALIAS" is not one of MSISDN, EMAIL, PARTY_CODE`}},
		16: {{"msisdn", "email must have one '@' with text on both sides"}},
		17: {{"msisdn", "email must not contain spaces"}},
		18: {{"msisdn", "party code is empty"}},
		19: {{"msisdn", "party code has 65 characters, at most 64 allowed"}},
		20: {
			{"msisdn", "phone number may only hold digits, spaces, '-', '.', '(', ')' and a leading '+'"},
			{"amount", "amount has 3 decimals, UGX allows 0"},
		},
		21: {{"currency", "currency is empty"}},
		24: {{"amount", "amount is empty"}},
	}

	r, err := openFile(t, "invalid.csv", Options{TargetEnvironment: "mtnuganda"})
	require.NoError(t, err)
	rows, rejects := readAll(t, r)

	got := map[int][]FieldError{}
	for _, e := range rejects {
		assert.Equal(t, "invalid.csv", e.File)
		assert.True(t, strings.HasPrefix(e.Error(), "batch: invalid.csv: line "+strconv.Itoa(e.Line)+
			", column "), e.Error())
		got[e.Line] = e.Fields
	}
	assert.Equal(t, want, got)

	require.Len(t, rows, 3)
	assert.Equal(t, 22, rows[0].Line)
	assert.Equal(t, "two-line\nnote", rows[0].PayeeNote)
	assert.Equal(t, 25, rows[1].Line)
	assert.Equal(t, "256772123456", rows[1].PartyID)
	assert.Equal(t, 26, rows[2].Line)
	assert.Equal(t, 24, r.RowsRead(), "valid and invalid rows are counted")
}

func TestRowError_ListsProblemsInFileColumnOrder(t *testing.T) {
	r, err := openFile(t, "amount_first.csv", Options{})
	require.NoError(t, err)

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, 2, rowErr.Line)
	assert.Equal(t, "batch: amount_first.csv: line 2, column amount: amount has 3 decimals, "+
		"EUR allows 2; column msisdn: phone number may only hold digits, spaces, '-', '.', "+
		"'(', ')' and a leading '+'", err.Error())
	assert.Equal(t, []string{"100.123", "07XXXXXXXX", "EUR"}, rowErr.Record)
}

func TestRowError_RecordIsACopy(t *testing.T) {
	in := "msisdn,amount,currency\n0772123456,1,UGX\n0772123457,2,UGX\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)

	_, first := r.Next()
	_, second := r.Next()
	var e1, e2 *RowError
	require.ErrorAs(t, first, &e1)
	require.ErrorAs(t, second, &e2)
	assert.Equal(t, []string{"0772123456", "1", "UGX"}, e1.Record)
	assert.Equal(t, []string{"0772123457", "2", "UGX"}, e2.Record)
}

func TestReader_BareQuoteIsFatalWithLine(t *testing.T) {
	r, err := openFile(t, "bad_quote.csv", Options{})
	require.NoError(t, err)

	_, err = r.Next()
	require.NoError(t, err)

	_, err = r.Next()
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	assert.Equal(t, 3, readErr.Line)
	assert.ErrorIs(t, err, csv.ErrBareQuote)
	assert.Equal(t, `batch: bad_quote.csv: line 3: bare " in non-quoted-field (at position 16)`,
		err.Error())

	_, again := r.Next()
	assert.Equal(t, err, again, "a fatal error sticks")
}

func TestReader_UnterminatedQuoteNamesTheRecordStart(t *testing.T) {
	r, err := openFile(t, "unterminated_quote.csv", Options{})
	require.NoError(t, err)

	_, err = r.Next()
	require.NoError(t, err)

	_, err = r.Next()
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	assert.Equal(t, 3, readErr.Line)
	assert.ErrorIs(t, err, csv.ErrQuote)
	var pe *csv.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.StartLine, "csv line numbers count physical lines")
	assert.Contains(t, err.Error(), "batch: unterminated_quote.csv: line 3: ")
}

// failingReader returns its data and then an error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReader_IOErrorIsFatalWithLine(t *testing.T) {
	cause := errors.New("disk on fire")
	in := &failingReader{data: "msisdn,amount,currency\n256772123456,1,UGX\n", err: cause}
	r, err := NewReader(in, Options{File: "f.csv"})
	require.NoError(t, err)

	_, err = r.Next()
	require.NoError(t, err)

	_, err = r.Next()
	var readErr *ReadError
	require.ErrorAs(t, err, &readErr)
	assert.ErrorIs(t, err, cause)
	assert.Equal(t, "batch: f.csv: line 3: read: disk on fire", err.Error())
}

func TestNewReader_DetectsDelimiter(t *testing.T) {
	tests := []struct {
		name, header string
		want         []string
	}{
		{"comma", "msisdn,amount,currency", []string{"msisdn", "amount", "currency"}},
		{"semicolon", "msisdn;amount;currency", []string{"msisdn", "amount", "currency"}},
		{"semicolon with quoted comma", `msisdn;amount;currency;"note, long"`,
			[]string{"msisdn", "amount", "currency", "note, long"}},
		{"comma with quoted semicolon", `msisdn,amount,currency,"a;b;c;d"`,
			[]string{"msisdn", "amount", "currency", "a;b;c;d"}},
		{"semicolon with comma in unknown column", `msisdn;amount;currency;a,b`,
			[]string{"msisdn", "amount", "currency", "a,b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.header+"\n"), Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Header())
		})
	}
}

func TestNewReader_RefusesBadOptions(t *testing.T) {
	tests := []struct {
		opt  Options
		want string
	}{
		{Options{TargetEnvironment: "mtnmars"}, `batch: options: unknown target environment "mtnmars"`},
		{Options{Country: "XX"}, `batch: options: unknown country "XX"`},
		{Options{DefaultCurrency: "ABC"}, `batch: options: default currency: unknown currency "ABC"`},
		{Options{DefaultCurrency: "GHS", TargetEnvironment: "sandbox"}, "batch: options: " +
			"default currency: currency GHS is not accepted in target environment sandbox " +
			"(allowed: EUR)"},
		{Options{MaxMessageLen: -1}, "batch: options: MaxMessageLen is -1, must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := NewReader(strings.NewReader("msisdn,amount,currency\n"), tt.opt)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestReader_MaxMessageLenOption(t *testing.T) {
	in := "msisdn,amount,currency,payer_message\n256772123456,1,UGX,hello\n"
	r, err := NewReader(strings.NewReader(in), Options{MaxMessageLen: 4})
	require.NoError(t, err)

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, []FieldError{{"payer_message", "payer_message has 5 characters, at most 4 allowed"}},
		rowErr.Fields)
}

func TestReader_ShortRowReportsMissingCells(t *testing.T) {
	r, err := NewReader(strings.NewReader("msisdn,amount,currency\n256772123456\n"), Options{})
	require.NoError(t, err)

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, []FieldError{{"currency", "currency is empty"}}, rowErr.Fields)
}

func TestReader_InvalidUTF8IsARowErrorWhenUTF8IsForced(t *testing.T) {
	in := "msisdn,amount,currency,name\n256772123456,1,UGX,caf\xe9\n"
	r, err := NewReader(strings.NewReader(in), Options{File: "f.csv", Encoding: "UTF-8"})
	require.NoError(t, err)
	assert.Equal(t, EncodingUTF8, r.Encoding())

	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, "batch: f.csv: line 2, column name: cell is not valid UTF-8 text (byte 4); "+
		"if the file is not UTF-8, read it with -encoding windows-1252", err.Error())
}

func TestReader_MalformedHeaderIsHeaderError(t *testing.T) {
	_, err := NewReader(strings.NewReader("\nmsisdn,amount,\"currency\n"), Options{File: "f.csv"})

	var headerErr *HeaderError
	require.ErrorAs(t, err, &headerErr)
	assert.Equal(t, 2, headerErr.Line)
	assert.Equal(t, `batch: f.csv: line 2: malformed header: extraneous or missing " in `+
		`quoted-field (at position 25)`, err.Error())
}

func TestReader_ValueBeyondTheHeaderIsRefused(t *testing.T) {
	// An unquoted thousands separator splits the amount: 1,500.00 must not be paid as 1.
	r, err := NewReader(strings.NewReader("msisdn,amount\n256770907001,1,500.00\n256770907002,5,,\n"),
		Options{File: "f.csv", DefaultCurrency: "EUR"})
	require.NoError(t, err)
	_, err = r.Next()
	var rowErr *RowError
	require.ErrorAs(t, err, &rowErr)
	assert.Equal(t, 2, rowErr.Line)
	assert.Contains(t, rowErr.Error(), "column 3: the row has a value beyond the header's 2 columns")
	row, err := r.Next()
	require.NoError(t, err, "empty trailing cells are fine")
	assert.Equal(t, int64(500), row.Amount.Minor)
}

func TestReader_ExternalIDHasOneSpelling(t *testing.T) {
	// An ID pasted with a zero-width space inside, and one typed with a decomposed accent.
	in := "msisdn,amount,currency,external_id\n" +
		"256772123456,10,EUR,AB\u200bC-1\n" +
		"256772123457,10,EUR,E\u0301T\u00c9-2\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	require.NoError(t, err)
	rows, rejects := readAll(t, r)
	require.Empty(t, rejects)
	require.Len(t, rows, 2)
	assert.Equal(t, "ABC-1", rows[0].ExternalID)
	assert.Equal(t, []string{"line 2, column external_id: removed invisible characters"}, rows[0].Warnings)
	assert.Equal(t, "\u00c9T\u00c9-2", rows[1].ExternalID, "composed (NFC)")
	assert.Empty(t, rows[1].Warnings)
}

func TestReader_ExternalIDInvisibleCharactersOfEveryKindAreDropped(t *testing.T) {
	invisible := []string{"\u200e", "\u200f", "\u00ad", "\u2061", "\u2063", "\u061c", "\u180e",
		"\u034f", "\ufe0f", "\u202c", "\u2066", "\u3164", "\u1160", "\U000e0020", "\u200b", "\ufeff"}
	var in strings.Builder
	in.WriteString("msisdn,amount,currency,external_id\n")
	for i, inv := range invisible {
		fmt.Fprintf(&in, "2567721234%02d,10,EUR,PAY%s-%d\n", i, inv, i)
	}
	// 64 characters once a zero-width one is gone, and 64 once composed: both fit.
	fmt.Fprintf(&in, "256772123499,10,EUR,%s\u200b%s\n", strings.Repeat("a", 32), strings.Repeat("b", 32))
	fmt.Fprintf(&in, "256772123498,10,EUR,%se\u0301\n", strings.Repeat("c", 63))
	r, err := NewReader(strings.NewReader(in.String()), Options{})
	require.NoError(t, err)
	rows, rejects := readAll(t, r)
	require.Empty(t, rejects)
	require.Len(t, rows, len(invisible)+2)
	for i := range invisible {
		assert.Equal(t, fmt.Sprintf("PAY-%d", i), rows[i].ExternalID, "U+%04X", []rune(invisible[i])[0])
	}
	assert.Len(t, []rune(rows[len(invisible)].ExternalID), 64)
	assert.Len(t, []rune(rows[len(invisible)+1].ExternalID), 64)
}

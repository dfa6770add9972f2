package batch

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/momopay/payout/internal/money"
)

// fuzzCountries are the countries the fuzz targets pick from by index.
var fuzzCountries = []string{"", "UG", "CI", "SZ", "BJ", "LR", "ZA", "CG", "NG", "XX"}

// fuzzOptions turns the fuzzer's flag byte into reader options, with small limits so that
// they are reached too.
func fuzzOptions(flags uint8) Options {
	opt := Options{
		File:           "fuzz.csv",
		DecimalComma:   flags&1 != 0,
		StrictMessages: flags&2 != 0,
		Country:        fuzzCountries[int(flags>>2&3)],
		HeaderLine:     int(flags >> 4 & 3),
		MaxFileBytes:   1 << 20,
		MaxLineBytes:   4096,
		MaxRows:        5000,
	}
	if flags&64 != 0 {
		opt.Encoding = EncodingUTF8
	}
	if flags&128 != 0 {
		opt.DefaultCurrency = "EUR"
	}
	return opt
}

func FuzzReader(f *testing.F) {
	for _, dir := range []string{"testdata", filepath.Join("testdata", "real")} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && !e.IsDir() {
				f.Add(data, uint8(0))
				f.Add(data, uint8(1|4))
			}
		}
	}
	f.Add([]byte("msisdn;amount;currency\n0772123456;1.500,50;UGX\n"), uint8(1|4))
	f.Add([]byte("msisdn,amount,currency\n4.67331E+10,\"1,500\",EUR\n"), uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		opt := fuzzOptions(flags)
		r, err := NewReader(strings.NewReader(string(data)), opt)
		if err != nil {
			var headerErr *HeaderError
			if !errors.As(err, &headerErr) || !strings.HasPrefix(err.Error(), "batch: fuzz.csv: ") {
				t.Fatalf("NewReader: unexpected error %T %v", err, err)
			}
			return
		}
		checkAllRows(t, r, opt, len(data))
	})
}

// checkAllRows reads r to the end and checks every row and error it returns.
func checkAllRows(t *testing.T, r *Reader, opt Options, size int) {
	lastLine, returned := 0, 0
	for calls := 0; ; calls++ {
		// Every row consumes at least one byte, and a fatal error ends reading.
		if calls > size+2 {
			t.Fatalf("Next called %d times on %d bytes without the end", calls, size)
		}
		row, err := r.Next()
		var rowErr *RowError
		var readErr *ReadError
		switch {
		case errors.Is(err, io.EOF):
			if r.RowsRead() != returned {
				t.Fatalf("RowsRead %d, Next returned %d rows", r.RowsRead(), returned)
			}
			return
		case errors.As(err, &readErr):
			return
		case errors.As(err, &rowErr):
			checkRowError(t, rowErr)
			row.Line = rowErr.Line
		case err != nil:
			t.Fatalf("Next: unexpected error %T %v", err, err)
		default:
			checkRow(t, row, opt)
		}
		if row.Line <= lastLine {
			t.Fatalf("line %d after line %d", row.Line, lastLine)
		}
		lastLine = row.Line
		returned++
	}
}

// checkRowError checks that a row error names the file, a line and at least one column.
func checkRowError(t *testing.T, e *RowError) {
	prefix := "batch: fuzz.csv: line " + strconv.Itoa(e.Line) + ", column "
	if e.Line < 1 || len(e.Fields) == 0 || !strings.HasPrefix(e.Error(), prefix) {
		t.Fatalf("malformed row error: %v", e)
	}
	for _, f := range e.Fields {
		if f.Column == "" || f.Reason == "" {
			t.Fatalf("field error without column or reason: %v", e)
		}
	}
}

// checkRow re-validates an accepted row's fields.
func checkRow(t *testing.T, row Row, opt Options) {
	if row.PartyIDType == PartyMSISDN {
		again, err := NormalizeMSISDN(row.PartyID, "")
		if err != nil || again != row.PartyID {
			t.Fatalf("party ID %q does not normalise to itself: %q, %v", row.PartyID, again, err)
		}
	}
	if !slices.Contains([]string{PartyMSISDN, PartyEmail, PartyPartyCode}, row.PartyIDType) {
		t.Fatalf("party ID type %q", row.PartyIDType)
	}

	a, err := money.Parse(row.Amount.String(), row.Amount.Currency)
	if err != nil || a != row.Amount || a.Minor <= 0 {
		t.Fatalf("amount %+v does not round-trip: %+v, %v", row.Amount, a, err)
	}

	for _, s := range []string{row.PartyID, row.ExternalID, row.PayerMessage, row.PayeeNote,
		row.Name} {
		if reason := cellProblem(s); reason != "" || trimCell(s) != s {
			t.Fatalf("field %q: %s (or not trimmed)", s, reason)
		}
	}
	for _, msg := range []string{row.PayerMessage, row.PayeeNote} {
		if strings.ContainsAny(msg, refusedInMessages) ||
			utf8.RuneCountInString(msg) > DefaultMaxMessageLen {
			t.Fatalf("message %q breaks the message rule", msg)
		}
	}
	for _, w := range row.Warnings {
		if !strings.HasPrefix(w, "line "+strconv.Itoa(row.Line)+", column ") {
			t.Fatalf("warning %q does not name line %d", w, row.Line)
		}
	}
	if opt.StrictMessages && len(row.Warnings) > 0 {
		t.Fatalf("strict mode warned instead of refusing: %q", row.Warnings)
	}
}

func FuzzNormalizeMSISDN(f *testing.F) {
	for _, s := range []string{"+256 772 123 456", "0772123456", "256772123456", "46733123450",
		"07XXXXXXXX", "4.67331E+10", "772123456", "07 07 12 34 56", "+256 0772 123456",
		"\u200b0772\u00a0123456", "00256772123456", "(0)772-123.456", ""} {
		for i := range fuzzCountries {
			f.Add(s, uint8(i))
		}
	}

	f.Fuzz(func(t *testing.T, raw string, countryIndex uint8) {
		country := fuzzCountries[int(countryIndex)%len(fuzzCountries)]
		got, err := NormalizeMSISDN(raw, country)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if !allDigits(got) || len(got) < minMSISDNLen || len(got) > maxMSISDNLen {
			t.Fatalf("%q (%s) gave %q: not 8 to 15 digits", raw, country, got)
		}
		again, err := NormalizeMSISDN(got, "")
		if err != nil || again != got {
			t.Fatalf("%q (%s) gave %q, which normalises to %q, %v", raw, country, got, again, err)
		}
		// Within its own country a result also stays as it is.
		if p, ok := numberPlans[country]; ok && strings.HasPrefix(got, p.code) {
			again, err = NormalizeMSISDN(got, country)
			if err != nil || again != got {
				t.Fatalf("%q (%s) gave %q, which normalises in %s to %q, %v", raw, country,
					got, country, again, err)
			}
		}
	})
}

package batch

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/money"
)

// readAmount reads one amount cell through a Reader, the way a file would hold it.
func readAmount(t *testing.T, cell, currency string, decimalComma bool) (money.Amount, error) {
	t.Helper()
	in := "msisdn;amount;currency\n256772123456;\"" + cell + "\";" + currency + "\n"
	r, err := NewReader(strings.NewReader(in), Options{DecimalComma: decimalComma})
	require.NoError(t, err)
	row, err := r.Next()
	var rowErr *RowError
	if err != nil {
		require.ErrorAs(t, err, &rowErr)
		require.Len(t, rowErr.Fields, 1)
		assert.Equal(t, "amount", rowErr.Fields[0].Column)
		return money.Amount{}, err
	}
	return row.Amount, nil
}

func TestReader_AmountsWithThousandsSeparators(t *testing.T) {
	tests := []struct {
		cell, currency string
		decimalComma   bool
		want           int64
	}{
		{"1,500.00", "EUR", false, 150000},
		{"1,500", "UGX", false, 1500},
		{"1,500", "EUR", false, 150000},
		{"12,345,678", "UGX", false, 12345678},
		{"1 500", "UGX", false, 1500},
		{"1\u00a0500", "UGX", false, 1500},
		{"1\u202f500", "UGX", false, 1500},
		{"1 500.50", "EUR", false, 150050},
		{"\u00a01,500\u00a0", "UGX", false, 1500},
		{"1\u200b500", "UGX", false, 1500},
		{"\ufeff1500", "UGX", false, 1500},
		{"1.500,50", "EUR", true, 150050},
		{"1500,50", "EUR", true, 150050},
		{"1 500,50", "EUR", true, 150050},
		{"1\u00a0500,5", "EUR", true, 150050},
		{"1.500", "UGX", true, 1500},
		{"1.500.000", "UGX", true, 1500000},
		{"1500,00", "UGX", true, 1500},
		{"1,500", "EUR", true, 150},
		{"0,05", "EUR", true, 5},
		{"1500", "UGX", true, 1500},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			got, err := readAmount(t, tt.cell, tt.currency, tt.decimalComma)
			require.NoError(t, err)
			assert.Equal(t, money.Amount{Minor: tt.want, Currency: tt.currency}, got)
		})
	}
}

func TestReader_AmbiguousOrMalformedAmountsAreRefused(t *testing.T) {
	commaHint := func(cell string) string {
		return "amount " + cell + " has a ',' that does not separate groups of 3 digits; " +
			"use -decimal-comma if the file uses decimal commas"
	}
	commaMode := func(cell string) string {
		return "amount " + cell + " is not a number with ',' as the decimal point and '.' " +
			"or spaces between groups of 3 digits (the file is read with -decimal-comma)"
	}
	tests := []struct {
		cell, currency string
		decimalComma   bool
		want           string
	}{
		{"1500,50", "EUR", false, commaHint(`"1500,50"`)},
		{"1,5", "EUR", false, commaHint(`"1,5"`)},
		{"15,00", "EUR", false, commaHint(`"15,00"`)},
		{"1,5000", "UGX", false, commaHint(`"1,5000"`)},
		{"0,500", "UGX", false, commaHint(`"0,500"`)},
		{"1,500 000", "UGX", false, commaHint(`"1,500 000"`)},
		{"1.500,50", "EUR", false, commaHint(`"1.500,50"`)},
		{"1,500,50", "EUR", false, commaHint(`"1,500,50"`)},
		{"1.500.000", "UGX", false, `amount "1.500.000" has more than one '.'; use ` +
			"-decimal-comma if '.' separates thousands"},
		{"1 50", "UGX", false, `amount "1 50" has malformed thousands separators (groups ` +
			"of 3 digits expected)"},
		{"1\u00a050", "UGX", false, `amount "1\u00a050" has malformed thousands separators ` +
			"(groups of 3 digits expected)"},
		{"1.500", "EUR", false, "amount has 3 decimals, EUR allows 2"},
		{"1,500.00", "UGX", false, "amount has 2 decimals, UGX allows 0"},
		{"1.5E+03", "EUR", false, "amount is in scientific notation; format the column as " +
			"a plain number"},
		{"1,500", "UGX", true, "amount has 1 decimal, UGX allows 0"},
		{"1500,50", "UGX", true, "amount has 1 decimal, UGX allows 0"},
		{"1,505", "EUR", true, "amount has 3 decimals, EUR allows 2"},
		{"1500.50", "EUR", true, commaMode(`"1500.50"`)},
		{"1,500.00", "EUR", true, commaMode(`"1,500.00"`)},
		{"1,5,0", "EUR", true, commaMode(`"1,5,0"`)},
		{"5,", "EUR", true, commaMode(`"5,"`)},
		{"€1,500", "EUR", false, "amount is not a decimal number"},
		{"1 500 FCFA", "XOF", true, "amount is not a decimal number"},
		{"-1,500", "UGX", false, "amount must be positive"},
		{"0,00", "EUR", true, "amount must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			_, err := readAmount(t, tt.cell, tt.currency, tt.decimalComma)
			var rowErr *RowError
			require.ErrorAs(t, err, &rowErr)
			assert.Equal(t, tt.want, rowErr.Fields[0].Reason)
		})
	}
}

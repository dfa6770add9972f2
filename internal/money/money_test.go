package money

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMinorUnits_KnownAndUnknownCurrencies(t *testing.T) {
	tests := []struct {
		currency string
		units    int
		known    bool
	}{
		{"UGX", 0, true}, {"XOF", 0, true}, {"XAF", 0, true}, {"RWF", 0, true},
		{"GNF", 0, true}, {"EUR", 2, true}, {"GHS", 2, true}, {"ZMW", 2, true},
		{"SZL", 2, true}, {"ZAR", 2, true}, {"LRD", 2, true}, {"CDF", 2, true},
		{"USD", 2, true}, {"NGN", 2, true}, {"SSP", 2, true},
		{"eur", 2, true},
		{"XYZ", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.currency, func(t *testing.T) {
			units, known := MinorUnits(tt.currency)
			assert.Equal(t, tt.known, known)
			assert.Equal(t, tt.units, units)
		})
	}
}

func TestParse_AcceptsDecimalStrings(t *testing.T) {
	tests := []struct {
		in, currency string
		want         Amount
	}{
		{"1500", "UGX", Amount{1500, "UGX"}},
		{"1500", "EUR", Amount{150000, "EUR"}},
		{"1500.5", "EUR", Amount{150050, "EUR"}},
		{"1500.50", "EUR", Amount{150050, "EUR"}},
		{"0.05", "EUR", Amount{5, "EUR"}},
		{"0.5", "GHS", Amount{50, "GHS"}},
		{"1500.00", "EUR", Amount{150000, "EUR"}},
		{"01500", "UGX", Amount{1500, "UGX"}},
		{"1", "xof", Amount{1, "XOF"}},
		{"999999999999999", "UGX", Amount{999999999999999, "UGX"}},
		{"999999999999999.99", "EUR", Amount{99999999999999999, "EUR"}},
		{"000000000000000000001", "UGX", Amount{1, "UGX"}},
	}
	for _, tt := range tests {
		t.Run(tt.in+" "+tt.currency, func(t *testing.T) {
			got, err := Parse(tt.in, tt.currency)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParse_RefusesWithAReason(t *testing.T) {
	tests := []struct {
		in, currency, want string
	}{
		{"100.000", "EUR", "amount has 3 decimals, EUR allows 2"},
		{"1500.0", "UGX", "amount has 1 decimal, UGX allows 0"},
		{"1500.123", "GHS", "amount has 3 decimals, GHS allows 2"},
		{"0", "UGX", "amount must be positive"},
		{"0.00", "EUR", "amount must be positive"},
		{"-5", "EUR", "amount must be positive"},
		{"", "EUR", "amount is empty"},
		{"+5", "EUR", "amount is not a decimal number"},
		{"1e5", "EUR", "amount is not a decimal number"},
		{"15 00", "UGX", "amount is not a decimal number"},
		{" 1500", "UGX", "amount is not a decimal number"},
		{"1.2.3", "EUR", "amount is not a decimal number"},
		{".5", "EUR", "amount is not a decimal number"},
		{"5.", "EUR", "amount is not a decimal number"},
		{"abc", "EUR", "amount is not a decimal number"},
		{"١٢", "UGX", "amount is not a decimal number"},
		{"1,500", "UGX", "amount is not a decimal number " +
			"(use '.' for decimals and no thousands separators)"},
		{"1500,50", "EUR", "amount is not a decimal number " +
			"(use '.' for decimals and no thousands separators)"},
		{"1000000000000000", "UGX", "amount has more than 15 integer digits"},
		{"99999999999999999999999", "EUR", "amount has more than 15 integer digits"},
		{"10", "XYZ", `unknown currency "XYZ"`},
	}
	for _, tt := range tests {
		t.Run(tt.in+" "+tt.currency, func(t *testing.T) {
			_, err := Parse(tt.in, tt.currency)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestAmountString_CanonicalForm(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{1500, "UGX"}, "1500"},
		{Amount{150000, "EUR"}, "1500"},
		{Amount{150050, "EUR"}, "1500.50"},
		{Amount{150005, "EUR"}, "1500.05"},
		{Amount{5, "EUR"}, "0.05"},
		{Amount{50, "EUR"}, "0.50"},
		{Amount{1, "XAF"}, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.String())
		})
	}
}

func TestFormatMinor_NegativeAndUnknownCurrency(t *testing.T) {
	assert.Equal(t, "-1500.50", FormatMinor(-150050, "EUR"))
	assert.Equal(t, "-1500", FormatMinor(-1500, "UGX"))
	assert.Equal(t, "0", FormatMinor(0, "EUR"))
	assert.Equal(t, "12.34", FormatMinor(1234, "XYZ"), "unknown currency uses two decimals")
	assert.Equal(t, "-92233720368547758.08", FormatMinor(math.MinInt64, "EUR"))
	assert.Equal(t, "92233720368547758.07", FormatMinor(math.MaxInt64, "EUR"))
}

func TestParse_RoundTripsCanonicalString(t *testing.T) {
	minors := []int64{1, 5, 9, 10, 50, 99, 100, 101, 1500, 150050, 999999, 1000000,
		123456789012345, 999999999999999}
	for cur := range minorUnits {
		for _, m := range minors {
			a := Amount{Minor: m, Currency: cur}
			got, err := Parse(a.String(), cur)
			require.NoError(t, err, "%s %d -> %q", cur, m, a.String())
			assert.Equal(t, a, got, "%s %d -> %q", cur, m, a.String())
		}
	}
}

func TestParse_RoundTripsEveryEuroCentUpToTenThousand(t *testing.T) {
	for m := int64(1); m <= 1_000_000; m++ {
		a := Amount{Minor: m, Currency: "EUR"}
		got, err := Parse(a.String(), "EUR")
		if err != nil || got != a {
			t.Fatalf("round trip of %d: got %v, %v from %q", m, got, err, a.String())
		}
	}
}

func TestAdd_DetectsOverflow(t *testing.T) {
	sum, err := Add(150050, 5)
	require.NoError(t, err)
	assert.Equal(t, int64(150055), sum)

	sum, err = Add(-10, 3)
	require.NoError(t, err)
	assert.Equal(t, int64(-7), sum)

	_, err = Add(math.MaxInt64, 1)
	assert.ErrorIs(t, err, ErrOverflow)

	_, err = Add(math.MinInt64, -1)
	assert.ErrorIs(t, err, ErrOverflow)

	sum, err = Add(math.MaxInt64, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(math.MaxInt64), sum)
}

package momosim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAmount_ReadsHundredths(t *testing.T) {
	cases := map[string]int64{
		"1500": 150000, "1500.5": 150050, "1500.50": 150050, "0.01": 1, "007": 700,
		"999999999999999.99": 99999999999999999,
	}
	for in, want := range cases {
		got, err := parseAmount(in, false)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
}

func TestParseAmount_RefusesMalformed(t *testing.T) {
	for _, in := range []string{
		"", "0", "0.00", "-1", "+1", "1.", ".5", "1.234", "1e3", " 1", "1 ", "1,5", "NaN",
		"1000000000000000", "１",
	} {
		_, err := parseAmount(in, false)
		assert.Error(t, err, in)
	}
	zero, err := parseAmount("0", true)
	require.NoError(t, err)
	assert.Zero(t, zero)
}

func TestFormatAmount_DropsZeroDecimals(t *testing.T) {
	cases := map[int64]string{0: "0", 1: "0.01", 10: "0.10", 150000: "1500", 150050: "1500.50", 25: "0.25"}
	for in, want := range cases {
		assert.Equal(t, want, formatAmount(in), in)
	}
}

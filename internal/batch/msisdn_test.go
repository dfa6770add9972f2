package batch

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeMSISDN_Accepts(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"+256 772 123 456", "", "256772123456"},
		{"0772123456", "UG", "256772123456"},
		{"0772123456", "ug", "256772123456"},
		{"256772123456", "", "256772123456"},
		{"256772123456", "UG", "256772123456"},
		{"46733123450", "", "46733123450"},
		{"46733123450", "SZ", "46733123450"},
		{"46733123450", "UG", "46733123450"},
		{"00256772123456", "", "256772123456"},
		{"00256772123456", "GH", "256772123456"},
		{"+256 (772) 123-456", "", "256772123456"},
		{"0772.123.456", "UG", "256772123456"},
		{"\u00a0+256 772 123 456\t", "", "256772123456"},
		{"024 412 3456", "GH", "233244123456"},
		{"0821234567", "ZA", "27821234567"},
		{"0788123456", "RW", "250788123456"},
		{"76123456", "", "76123456"},
		{"123456789012345", "", "123456789012345"},
	}
	for _, tt := range tests {
		t.Run(tt.raw+" "+tt.country, func(t *testing.T) {
			got, err := NormalizeMSISDN(tt.raw, tt.country)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormalizeMSISDN_Refuses(t *testing.T) {
	digitsOnly := "phone number may only hold digits, spaces, '-', '.', '(', ')' and a leading '+'"
	tests := []struct {
		raw, country, want string
	}{
		{"0772123456", "", "local number 0772123456 needs -country"},
		{"077 212 3456", "", "local number 0772123456 needs -country"},
		{"0772123456", "XX", `local number 0772123456: unknown country "XX"`},
		{"07XXXXXXXX", "UG", digitsOnly},
		{"+256-772-ABC", "", digitsOnly},
		{"256+772123456", "", digitsOnly},
		{"+", "", digitsOnly},
		{"", "UG", "phone number is empty"},
		{" - ", "UG", "phone number is empty"},
		{"2567", "", "phone number has 4 digits, needs 8 to 15 with the country code"},
		{"1234567890123456", "", "phone number has 16 digits, needs 8 to 15 with the country code"},
		{"012", "UG", "local number 012 does not fit UG numbering (256 and 9 digits)"},
		{"+0772123456", "", "international number cannot start with 0 after the prefix"},
		{"000772123456", "UG", "international number cannot start with 0 after the prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.raw+" "+tt.country, func(t *testing.T) {
			_, err := NormalizeMSISDN(tt.raw, tt.country)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestNormalizeMSISDN_RequiredCases(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"+256 772 123 456", "", "256772123456"},
		{"0772123456", "UG", "256772123456"},
		{"256772123456", "", "256772123456"},
		{"46733123450", "", "46733123450"},
		{"46733123450", "UG", "46733123450"},
	}
	for _, tt := range tests {
		got, err := NormalizeMSISDN(tt.raw, tt.country)
		require.NoError(t, err, tt.raw)
		assert.Equal(t, tt.want, got, tt.raw)
	}
}

func TestNormalizeMSISDN_NeverPrefixesSandboxNumbers(t *testing.T) {
	for last := 50; last <= 63; last++ {
		n := "467331234" + strconv.Itoa(last)
		for country := range numberPlans {
			got, err := NormalizeMSISDN(n, country)
			require.NoError(t, err, "%s %s", n, country)
			assert.Equal(t, n, got, "%s %s", n, country)
		}
	}
	got, err := NormalizeMSISDN("46733123450", "SZ")
	require.NoError(t, err)
	assert.Equal(t, "46733123450", got, "268 is never glued onto a sandbox number")
}

func TestNormalizeMSISDN_RefusesScientificNotation(t *testing.T) {
	for _, raw := range []string{"4.67331E+10", "2.56772E+11", "4,67331E+10", "4.67331e10",
		"2.56772123456E+11", "4.67331E10", " 2.56772E+11 "} {
		for _, country := range []string{"", "UG"} {
			_, err := NormalizeMSISDN(raw, country)
			require.Error(t, err, raw)
			assert.Equal(t, "phone number in scientific notation lost digits; format the "+
				"column as text", err.Error(), raw)
		}
	}
}

func TestNormalizeMSISDN_RestoresLostLeadingZeroOnlyWithCountry(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"772123456", "UG", "256772123456"},
		{"772 123 456", "ug", "256772123456"},
		{"244123456", "GH", "233244123456"},
		{"76123456", "SZ", "26876123456"},
		{"97123456", "BJ", "22997123456"},
		{"7701234", "LR", "2317701234"},
		{"770123456", "LR", "231770123456"},
		{"8031234567", "NG", "2348031234567"},
		{"821234567", "ZA", "27821234567"},
		{"788123456", "RW", "250788123456"},
	}
	for _, tt := range tests {
		got, err := NormalizeMSISDN(tt.raw, tt.country)
		require.NoError(t, err, "%s %s", tt.raw, tt.country)
		assert.Equal(t, tt.want, got, "%s %s", tt.raw, tt.country)
	}

	// Without a country nothing says the number lost a 0: it is taken as international.
	got, err := NormalizeMSISDN("772123456", "")
	require.NoError(t, err)
	assert.Equal(t, "772123456", got)
}

func TestNormalizeMSISDN_KeepsTheZeroThatBelongsToTheNumber(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"07 07 12 34 56", "CI", "2250707123456"},
		{"+225 07 07 12 34 56", "", "2250707123456"},
		{"2250707123456", "CI", "2250707123456"},
		{"01 97 12 34 56", "BJ", "2290197123456"},
		{"97 12 34 56", "BJ", "22997123456"},
		{"06 612 3456", "CG", "242066123456"},
	}
	for _, tt := range tests {
		got, err := NormalizeMSISDN(tt.raw, tt.country)
		require.NoError(t, err, "%s %s", tt.raw, tt.country)
		assert.Equal(t, tt.want, got, "%s %s", tt.raw, tt.country)
	}
}

func TestNormalizeMSISDN_RefusesNumbersThatDoNotFitTheirCountry(t *testing.T) {
	tests := []struct {
		raw, country, want string
	}{
		{"77212345", "UG", "phone number 77212345 does not fit UG numbering (256 and 9 " +
			"digits); write numbers of other countries with a leading '+'"},
		{"254712345678", "UG", "phone number 254712345678 does not fit UG numbering (256 and " +
			"9 digits); write numbers of other countries with a leading '+'"},
		{"707123456", "CI", "phone number 707123456 does not fit CI numbering (225 and 10 " +
			"digits starting with 0); a spreadsheet may have dropped its leading 0: format " +
			"the column as text"},
		{"077212345", "UG", "local number 077212345 does not fit UG numbering (256 and 9 digits)"},
		{"0707123", "CI", "local number 0707123 does not fit CI numbering (225 and 10 digits " +
			"starting with 0)"},
		{"01234567", "BJ", "local number 01234567 does not fit BJ numbering (229 and 8 " +
			"digits, or 10 digits starting with 0)"},
		{"01234567890", "LR", "local number 01234567890 does not fit LR numbering (231 and 7, " +
			"8 or 9 digits)"},
		{"25677212345", "", "phone number 25677212345 does not fit UG numbering (256 and 9 digits)"},
		{"+256 0772 123456", "", "phone number 2560772123456 has a 0 after the country code " +
			"256: drop it"},
		{"772123456", "XX", `phone number 772123456: unknown country "XX"`},
	}
	for _, tt := range tests {
		_, err := NormalizeMSISDN(tt.raw, tt.country)
		require.Error(t, err, "%s %s", tt.raw, tt.country)
		assert.Equal(t, tt.want, err.Error(), "%s %s", tt.raw, tt.country)
	}
}

func TestNormalizeMSISDN_ForeignNumbersWithPlusPassAnyCountry(t *testing.T) {
	got, err := NormalizeMSISDN("+254 712 345 678", "UG")
	require.NoError(t, err)
	assert.Equal(t, "254712345678", got)
}

func TestNormalizeMSISDN_DropsInvisibleCharacters(t *testing.T) {
	got, err := NormalizeMSISDN("\u200b0772\u00a0123\u202f456\ufeff", "UG")
	require.NoError(t, err)
	assert.Equal(t, "256772123456", got)
}

func TestNormalizeMSISDN_ResultIsAFixedPoint(t *testing.T) {
	inputs := []struct{ raw, country string }{
		{"0772123456", "UG"}, {"772123456", "UG"}, {"76123456", "SZ"}, {"0707123456", "CI"},
		{"+254712345678", "UG"}, {"46733123455", "ZA"}, {"0197123456", "BJ"}, {"07701234", "LR"},
	}
	for _, in := range inputs {
		once, err := NormalizeMSISDN(in.raw, in.country)
		require.NoError(t, err, in.raw)
		twice, err := NormalizeMSISDN(once, "")
		require.NoError(t, err, once)
		assert.Equal(t, once, twice)
	}
}

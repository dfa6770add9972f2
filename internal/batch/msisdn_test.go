package batch

import (
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
		{"012", "UG", "phone number has 5 digits, needs 8 to 15 with the country code"},
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

package config

import (
	"fmt"
	"strings"

	"github.com/momopay/payout/internal/money"
)

// ParseAmounts reads a list of amounts per currency: "EUR 5000", "EUR:5000,UGX:2000000" or
// "EUR 5000; UGX 2000000". Amounts follow the currency's minor units.
func ParseAmounts(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		fields := strings.FieldsFunc(strings.TrimSpace(part), func(r rune) bool { return r == ' ' || r == ':' })
		if len(fields) != 2 {
			return nil, fmt.Errorf("%q: write CURRENCY AMOUNT, e.g. 'EUR 5000' or 'UGX:2000000'", part)
		}
		cur := strings.ToUpper(fields[0])
		a, err := money.Parse(fields[1], cur)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		out[cur] = a.Minor
	}
	return out, nil
}

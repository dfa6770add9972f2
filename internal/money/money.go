// Package money holds payout amounts as integers in the minor units of their currency and
// converts them to and from the decimal strings MoMo expects. A float never takes part.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxIntegerDigits is the most digits the integer part of an amount may have. With at most
// two decimals this keeps every amount far below the int64 limit.
const MaxIntegerDigits = 15

// minorUnits lists, per ISO 4217 code, the decimal places of the currencies MoMo markets
// use, plus EUR (the sandbox currency) and USD (used alongside LRD in Liberia).
var minorUnits = map[string]int{
	"UGX": 0, // Uganda
	"XOF": 0, // Côte d'Ivoire, Benin, Guinea-Bissau
	"XAF": 0, // Cameroon, Congo
	"RWF": 0, // Rwanda
	"GNF": 0, // Guinea
	"EUR": 2, // sandbox
	"USD": 2, // Liberia, alongside LRD
	"GHS": 2, // Ghana
	"ZMW": 2, // Zambia
	"SZL": 2, // Eswatini
	"ZAR": 2, // South Africa
	"LRD": 2, // Liberia
	"CDF": 2, // DR Congo
	"NGN": 2, // Nigeria
	"SSP": 2, // South Sudan
	"KES": 2, // Kenya
	"TZS": 2, // Tanzania
}

// ErrOverflow is returned by Add when the sum does not fit in an int64.
var ErrOverflow = errors.New("money: sum overflows int64")

// MinorUnits returns the number of decimal places of an ISO 4217 currency and whether the
// currency is one this package knows. The code is matched case-insensitively.
func MinorUnits(currency string) (int, bool) {
	n, ok := minorUnits[strings.ToUpper(currency)]
	return n, ok
}

// Amount is a positive amount in minor units of its currency: UGX 1500 is {1500, "UGX"},
// EUR 15.05 is {1505, "EUR"}.
type Amount struct {
	// Minor is the amount in the currency's minor units.
	Minor int64
	// Currency is the upper-case ISO 4217 code.
	Currency string
}

// Parse reads a decimal string such as "1500", "1500.5" or "1500.50" as an amount of the
// currency. It accepts digits with at most one '.' and digits on both sides of it; no sign,
// exponent, spaces or thousands separators. The fraction may not have more digits than the
// currency's minor units, not even trailing zeros ("1500.0" is refused for UGX), the
// integer part may have at most MaxIntegerDigits significant digits, and the amount must be
// greater than zero. Error messages say what is wrong and carry no prefix, so that callers
// can place them after a line and column.
func Parse(s, currency string) (Amount, error) {
	cur := strings.ToUpper(currency)
	units, ok := minorUnits[cur]
	if !ok {
		return Amount{}, fmt.Errorf("unknown currency %q", currency)
	}

	intPart, fracPart, err := split(s)
	if err != nil {
		return Amount{}, err
	}
	if len(fracPart) > units {
		return Amount{}, fmt.Errorf("amount has %s, %s allows %d",
			plural(len(fracPart), "decimal"), cur, units)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > MaxIntegerDigits {
		return Amount{}, fmt.Errorf("amount has more than %d integer digits", MaxIntegerDigits)
	}

	digits := intPart + fracPart + strings.Repeat("0", units-len(fracPart))
	minor, err := strconv.ParseInt("0"+digits, 10, 64)
	if err != nil {
		// Unreachable with the length limits above; kept so a future table change cannot
		// turn an overflow into a wrong amount.
		return Amount{}, errors.New("amount is too large")
	}
	if minor == 0 {
		return Amount{}, errors.New("amount must be positive")
	}
	return Amount{Minor: minor, Currency: cur}, nil
}

// split checks the syntax of a decimal string and returns its integer and fraction digits.
func split(s string) (intPart, fracPart string, err error) {
	switch {
	case s == "":
		return "", "", errors.New("amount is empty")
	case s[0] == '-':
		return "", "", errors.New("amount must be positive")
	case strings.Contains(s, ","):
		return "", "", errors.New("amount is not a decimal number " +
			"(use '.' for decimals and no thousands separators)")
	}

	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if !allDigits(intPart) || !allDigits(fracPart) || intPart == "" || (hasDot && fracPart == "") {
		return "", "", errors.New("amount is not a decimal number")
	}
	return intPart, fracPart, nil
}

// allDigits reports whether s holds only ASCII digits. The empty string qualifies.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// plural returns "1 decimal" or "3 decimals".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// String formats the amount canonically for MoMo: the integer part alone when the
// fraction is zero ("1500"), otherwise exactly the currency's number of decimals
// ("1500.50", "0.05"). Parse reads every such string back to the same Amount.
func (a Amount) String() string {
	return FormatMinor(a.Minor, a.Currency)
}

// FormatMinor formats an amount given in minor units the way Amount.String does. A
// negative amount gets a leading '-'. An unknown currency is formatted with two decimals,
// the ISO 4217 default.
func FormatMinor(minor int64, currency string) string {
	units, ok := MinorUnits(currency)
	if !ok {
		units = 2
	}

	sign := ""
	// Converting to uint64 before negating keeps math.MinInt64 correct.
	abs := uint64(minor)
	if minor < 0 {
		sign = "-"
		abs = -abs
	}

	scale := uint64(1)
	for range units {
		scale *= 10
	}
	whole, frac := abs/scale, abs%scale
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	return fmt.Sprintf("%s%d.%0*d", sign, whole, units, frac)
}

// Add adds two amounts in minor units of one currency and fails instead of wrapping
// around when the sum does not fit in an int64.
func Add(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, ErrOverflow
	}
	return a + b, nil
}

package momosim

import (
	"errors"
	"strconv"
	"strings"
)

// maxIntegerDigits bounds the integer part of an amount so that its value in hundredths,
// and any sum the simulator forms from such values, fits an int64.
const maxIntegerDigits = 15

// errBadAmount is returned for any amount that is not a plain decimal string.
var errBadAmount = errors.New("amount must be a decimal string like 1500 or 1500.50")

// parseAmount reads a decimal string ("1500", "1500.5", "1500.50") as a whole number of
// hundredths. No sign, exponent, spaces or more than two decimals are accepted. A zero
// amount is accepted only when allowZero is set.
func parseAmount(s string, allowZero bool) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if !allDigits(whole) || len(whole) > maxIntegerDigits {
		return 0, errBadAmount
	}
	if hasDot && (!allDigits(frac) || len(frac) > 2) {
		return 0, errBadAmount
	}

	frac += strings.Repeat("0", 2-len(frac))
	hundredths, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, errBadAmount
	}
	if hundredths == 0 && !allowZero {
		return 0, errors.New("amount must be positive")
	}
	return hundredths, nil
}

// formatAmount writes hundredths back as a decimal string, without decimals when the
// amount is whole ("1500", "1500.50").
func formatAmount(hundredths int64) string {
	whole := strconv.FormatInt(hundredths/100, 10)
	if hundredths%100 == 0 {
		return whole
	}
	cents := hundredths % 100
	if cents < 10 {
		return whole + ".0" + strconv.FormatInt(cents, 10)
	}
	return whole + "." + strconv.FormatInt(cents, 10)
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

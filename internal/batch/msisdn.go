package batch

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MSISDN length limits after normalisation, country code included (ITU-T E.164 allows 15).
const (
	minMSISDNLen = 8
	maxMSISDNLen = 15
)

// callingCodes maps ISO 3166 alpha-2 codes of MoMo markets and their neighbours to their
// international calling codes.
var callingCodes = map[string]string{
	"UG": "256", // Uganda
	"GH": "233", // Ghana
	"CI": "225", // Côte d'Ivoire
	"ZM": "260", // Zambia
	"CM": "237", // Cameroon
	"BJ": "229", // Benin
	"CG": "242", // Congo
	"SZ": "268", // Eswatini
	"GN": "224", // Guinea
	"ZA": "27",  // South Africa
	"LR": "231", // Liberia
	"RW": "250", // Rwanda
	"CD": "243", // DR Congo
	"NG": "234", // Nigeria
	"KE": "254", // Kenya
	"TZ": "255", // Tanzania
	"SS": "211", // South Sudan
}

// NormalizeMSISDN turns a phone number as people write it into the form MoMo wants:
// digits only, country code first, no '+' and no leading 0.
//
// Spaces, '-', '.', '(' and ')' are dropped. A leading '+' or "00" marks an international
// number. A number starting with a single 0 is local: its 0 is replaced by the calling code
// of country (ISO 3166 alpha-2), and without a country it is refused. Any other number is
// taken as international already and is never prefixed, which keeps MoMo's sandbox test
// numbers such as 46733123450 intact whatever the country. The result must have 8 to 15
// digits. Error messages carry no prefix.
func NormalizeMSISDN(raw, country string) (string, error) {
	s := stripSeparators(raw)
	if s == "" {
		return "", errors.New("phone number is empty")
	}

	digits, international := strings.CutPrefix(s, "+")
	if !international {
		digits, international = strings.CutPrefix(s, "00")
	}
	if !allDigits(digits) {
		return "", errors.New("phone number may only hold digits, spaces, '-', '.', " +
			"'(', ')' and a leading '+'")
	}

	switch {
	case international && strings.HasPrefix(digits, "0"):
		return "", errors.New("international number cannot start with 0 after the prefix")
	case !international && strings.HasPrefix(digits, "0"):
		local, err := localToInternational(digits, country)
		if err != nil {
			return "", err
		}
		digits = local
	}

	if n := len(digits); n < minMSISDNLen || n > maxMSISDNLen {
		return "", fmt.Errorf("phone number has %d digits, needs %d to %d with the country code",
			n, minMSISDNLen, maxMSISDNLen)
	}
	return digits, nil
}

// localToInternational replaces the leading 0 of a local number by the country's calling
// code.
func localToInternational(digits, country string) (string, error) {
	if country == "" {
		return "", fmt.Errorf("local number %s needs -country", digits)
	}
	code, ok := callingCodes[strings.ToUpper(country)]
	if !ok {
		return "", fmt.Errorf("local number %s: unknown country %q", digits, country)
	}
	return code + digits[1:], nil
}

// stripSeparators drops white space and the punctuation people put inside phone numbers.
func stripSeparators(raw string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, raw)
}

// allDigits reports whether s is non-empty and holds only ASCII digits.
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

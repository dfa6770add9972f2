package batch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// MSISDN length limits after normalisation, country code included (ITU-T E.164 allows 15).
const (
	minMSISDNLen = 8
	maxMSISDNLen = 15
)

// numberLength is one length of a country's national significant number (NSN): the digits
// that follow the calling code in the international form.
type numberLength struct {
	digits int
	// zero says numbers of this length start with a 0 that is part of the number and is
	// kept after the calling code (+225 07 07 12 34 56), unlike the trunk prefix 0 most
	// countries drop (0772 123456 is +256 772 123456).
	zero bool
}

// numberPlan is what this package knows of a country's phone numbers.
type numberPlan struct {
	code    string
	lengths []numberLength
}

// nsn lists NSN lengths without a leading 0 of their own.
func nsn(lengths ...int) []numberLength {
	out := make([]numberLength, len(lengths))
	for i, n := range lengths {
		out[i] = numberLength{digits: n}
	}
	return out
}

// numberPlans maps ISO 3166 alpha-2 codes of MoMo markets and their neighbours to their
// calling code and NSN lengths.
var numberPlans = map[string]numberPlan{
	"UG": {"256", nsn(9)}, // Uganda
	"GH": {"233", nsn(9)}, // Ghana
	// Côte d'Ivoire: ten digits since 2021, mobiles starting 01, 05 or 07, 0 kept.
	"CI": {"225", []numberLength{{digits: 10, zero: true}}},
	"ZM": {"260", nsn(9)}, // Zambia
	"CM": {"237", nsn(9)}, // Cameroon
	// Benin: eight digits, and since 2024 ten digits starting 01, 0 kept.
	"BJ": {"229", []numberLength{{digits: 8}, {digits: 10, zero: true}}},
	// Congo: nine digits, mobiles starting 04, 05 or 06, 0 kept.
	"CG": {"242", []numberLength{{digits: 9, zero: true}}},
	"SZ": {"268", nsn(8)},       // Eswatini
	"GN": {"224", nsn(9)},       // Guinea
	"ZA": {"27", nsn(9)},        // South Africa
	"LR": {"231", nsn(7, 8, 9)}, // Liberia
	"RW": {"250", nsn(9)},       // Rwanda
	"KE": {"254", nsn(9)},       // Kenya
	"TZ": {"255", nsn(9)},       // Tanzania
	"NG": {"234", nsn(10)},      // Nigeria
	"CD": {"243", nsn(9)},       // DR Congo
	"SS": {"211", nsn(9)},       // South Sudan
}

// countryByCode maps the calling codes of numberPlans back to their country. Calling codes
// are prefix-free, so a number starts with at most one of them.
var countryByCode = func() map[string]string {
	m := make(map[string]string, len(numberPlans))
	for country, p := range numberPlans {
		m[p.code] = country
	}
	return m
}()

// fits reports whether digits are a national significant number of the plan.
func (p numberPlan) fits(digits string) bool {
	if digits == "" {
		return false
	}
	for _, l := range p.lengths {
		if len(digits) == l.digits && (digits[0] == '0') == l.zero {
			return true
		}
	}
	return false
}

// describe says what the plan's numbers look like: "256 and 9 digits", "229 and 8
// digits, or 10 digits starting with 0", "231 and 7, 8 or 9 digits".
func (p numberPlan) describe() string {
	var plain, zero []string
	for _, l := range p.lengths {
		if l.zero {
			zero = append(zero, strconv.Itoa(l.digits))
		} else {
			plain = append(plain, strconv.Itoa(l.digits))
		}
	}
	var parts []string
	if len(plain) > 0 {
		parts = append(parts, joinOr(plain)+" digits")
	}
	if len(zero) > 0 {
		parts = append(parts, joinOr(zero)+" digits starting with 0")
	}
	return p.code + " and " + strings.Join(parts, ", or ")
}

// joinOr joins ["7", "8", "9"] as "7, 8 or 9".
func joinOr(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// isSandboxNumber reports MoMo's sandbox test numbers, 46733123450 to 46733123463, whose
// outcome the sandbox fixes. They are international already and never get a calling code.
func isSandboxNumber(digits string) bool {
	return len(digits) == 11 && strings.HasPrefix(digits, "467331234") &&
		(digits[9] == '5' || digits[9] == '6' && digits[10] <= '3')
}

// NormalizeMSISDN turns a phone number as people write it into the form MoMo wants:
// digits only, country code first, no '+' and no leading 0. Error messages carry no
// prefix. The rule:
//
//   - White space, zero-width characters, '-', '.', '(' and ')' are dropped.
//   - Scientific notation ("4.67331E+10") is refused: the spreadsheet that wrote it kept
//     only six digits, and the rest cannot be recovered.
//   - A leading '+' or "00" marks an international number, taken as it is.
//   - A number starting with a single 0 is local and needs country (ISO 3166 alpha-2): a
//     trunk 0 gives way to the calling code (0772123456 in UG is 256772123456), and a 0
//     that belongs to the number stays (0707123456 in CI is 2250707123456). A local number
//     of the wrong length is refused.
//   - Any other number is international when it starts with country's calling code and
//     fits; otherwise, with country set, it must be a national number without its 0 (as a
//     spreadsheet that stored 0772123456 as a number leaves it: 772123456 in UG is
//     256772123456), or it is refused; foreign numbers then need their '+'. Without
//     country it is taken as international. MoMo's sandbox test numbers (46733123450 to
//     46733123463) are never changed, whatever the country.
//   - An international number that starts with the calling code of a country this package
//     knows must fit that country's lengths, and every result has 8 to 15 digits.
//
// A result is a complete international number: normalising it again without a country
// gives it back.
func NormalizeMSISDN(raw, country string) (string, error) {
	s := stripSeparators(raw)
	if s == "" {
		return "", errors.New("phone number is empty")
	}
	if looksScientific(s) {
		return "", errors.New("phone number in scientific notation lost digits; " +
			"format the column as text")
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
	case international:
		return checkInternational(digits)
	case strings.HasPrefix(digits, "0"):
		return localToInternational(digits, country)
	}
	return plainNumber(digits, country)
}

// checkInternational checks an international number's length, and its country's lengths
// when the number starts with a calling code of numberPlans.
func checkInternational(digits string) (string, error) {
	if n := len(digits); n < minMSISDNLen || n > maxMSISDNLen {
		return "", fmt.Errorf("phone number has %d digits, needs %d to %d with the country code",
			n, minMSISDNLen, maxMSISDNLen)
	}
	country, code := "", ""
	for _, n := range []int{2, 3} {
		if c, ok := countryByCode[digits[:n]]; ok {
			country, code = c, digits[:n]
		}
	}
	p := numberPlans[country]
	rest := strings.TrimPrefix(digits, code)
	switch {
	case country == "" || p.fits(rest):
		return digits, nil
	case strings.HasPrefix(rest, "0") && p.fits(rest[1:]):
		return "", fmt.Errorf("phone number %s has a 0 after the country code %s: drop it",
			digits, code)
	}
	return "", fmt.Errorf("phone number %s does not fit %s numbering (%s)", digits, country,
		p.describe())
}

// localToInternational puts the calling code in front of a local number, in place of its
// trunk 0 when the 0 is not part of the number.
func localToInternational(digits, country string) (string, error) {
	if country == "" {
		return "", fmt.Errorf("local number %s needs -country", digits)
	}
	p, ok := numberPlans[strings.ToUpper(country)]
	switch {
	case !ok:
		return "", fmt.Errorf("local number %s: unknown country %q", digits, country)
	case p.fits(digits):
		return p.code + digits, nil
	case p.fits(digits[1:]):
		return p.code + digits[1:], nil
	}
	return "", fmt.Errorf("local number %s does not fit %s numbering (%s)", digits,
		strings.ToUpper(country), p.describe())
}

// plainNumber reads a number with neither an international prefix nor a leading 0.
func plainNumber(digits, country string) (string, error) {
	if isSandboxNumber(digits) || country == "" {
		return checkInternational(digits)
	}
	country = strings.ToUpper(country)
	p, ok := numberPlans[country]
	if !ok {
		return "", fmt.Errorf("phone number %s: unknown country %q", digits, country)
	}

	if rest, ok := strings.CutPrefix(digits, p.code); ok && p.fits(rest) {
		return digits, nil
	}
	if p.fits(digits) {
		return p.code + digits, nil
	}
	hint := "write numbers of other countries with a leading '+'"
	if p.fits("0" + digits) {
		hint = "a spreadsheet may have dropped its leading 0: format the column as text"
	}
	return "", fmt.Errorf("phone number %s does not fit %s numbering (%s); %s", digits,
		country, p.describe(), hint)
}

// stripSeparators drops white space, zero-width characters and the punctuation people put
// inside phone numbers.
func stripSeparators(raw string) string {
	if allDigits(raw) {
		return raw
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-', r == '.', r == '(', r == ')', unicode.IsSpace(r), isZeroWidth(r):
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

package batch

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// isZeroWidth reports the invisible characters that copying from web pages and
// spreadsheets leaves in cells: zero-width space, non-joiner and joiner, word joiner, and
// U+FEFF, which is a byte order mark at the start of a file and a zero-width no-break
// space anywhere else (for instance where two exports were glued together).
func isZeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// isTrimmable reports the characters trimmed around every cell: white space of any kind
// (including U+00A0 and U+202F, the no-break spaces of French number formats) and
// zero-width characters.
func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || isZeroWidth(r)
}

// trimCell trims white space and zero-width characters around a cell.
func trimCell(s string) string {
	if s == "" {
		return s
	}
	// Most cells start and end with a printable ASCII character: nothing to trim.
	if first, last := s[0], s[len(s)-1]; first > ' ' && first < utf8.RuneSelf &&
		last > ' ' && last < utf8.RuneSelf {
		return s
	}
	return strings.TrimFunc(s, isTrimmable)
}

// isInvisible reports characters that show nothing, or nothing of their own, in a
// spreadsheet: Unicode format characters (zero-width spaces and joiners, direction marks and
// embeddings, the soft hyphen, invisible operators, tag characters, U+FEFF), variation
// selectors, the combining grapheme joiner and the Hangul fillers.
func isInvisible(r rune) bool {
	switch {
	case r < 0xad:
		return false
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
		return true
	}
	switch r {
	case '\u034f', '\u115f', '\u1160', '\u3164', '\uffa0':
		return true
	}
	return false
}

// dropInvisible removes the characters isInvisible reports anywhere in s.
func dropInvisible(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(func(r rune) rune {
				if isInvisible(r) {
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// dropZeroWidth removes zero-width characters anywhere in s.
func dropZeroWidth(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Map(func(r rune) rune {
				if isZeroWidth(r) {
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// cellProblem returns why a raw cell cannot be used whatever its column, or "": it holds
// invalid UTF-8, or a control character other than tab, carriage return and line feed
// (which quoted cells may hold), counting DEL and the C1 controls U+0080 to U+009F.
func cellProblem(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < ' ' && b != '\t' && b != '\r' && b != '\n' || b == 0x7f {
			return controlReason(rune(b), s[:i])
		}
		if b >= utf8.RuneSelf {
			ascii = false
		}
	}
	if ascii {
		return ""
	}

	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Sprintf("cell is not valid UTF-8 text (byte %d); if the file "+
					"is not UTF-8, read it with -encoding windows-1252", i+1)
			}
		}
		if r >= 0x80 && r <= 0x9f {
			return controlReason(r, s[:i])
		}
	}
	return ""
}

// controlReason describes a control character found after before.
func controlReason(r rune, before string) string {
	return fmt.Sprintf("cell contains control character %U at character %d",
		r, utf8.RuneCountInString(before)+1)
}

// looksScientific reports whether s is a number in scientific notation, the way
// spreadsheets show long numbers they hold as floating point: "4.67331E+10",
// "2,56772E+11", "1E5".
func looksScientific(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i <= 0 {
		return false
	}
	mantissa, exponent := s[:i], s[i+1:]
	if exponent != "" && (exponent[0] == '+' || exponent[0] == '-') {
		exponent = exponent[1:]
	}
	if !allDigits(exponent) {
		return false
	}

	whole, fraction, found := strings.Cut(mantissa, ".")
	if !found {
		whole, fraction, _ = strings.Cut(mantissa, ",")
	}
	return allDigits(whole) && (fraction == "" || allDigits(fraction))
}

package batch

import (
	"fmt"
	"strings"
	"unicode"
)

// cleanAmount turns an amount cell as spreadsheets write it into the plain decimal string
// money.Parse reads, or returns why it will not. The rule:
//
//   - Spaces of any kind around the cell are trimmed before (trimCell), and zero-width
//     characters anywhere are dropped.
//   - Without DecimalComma, '.' is the decimal point, and ',' or a space (' ', U+00A0,
//     U+202F, ...) may separate thousands: "1,500.00", "1 500". With DecimalComma, ','
//     is the decimal point, and '.' or a space may separate thousands: "1.500,50",
//     "1 500,50", "1500,50".
//   - A thousands separator is accepted only in a well-formed grouping: one kind of
//     separator throughout, a first group of 1 to 3 digits that does not start with 0,
//     then groups of exactly 3 digits, and none in the fraction. Anything else is refused,
//     never repaired: "1,5", "15,00", "1,5000", "0,500", "1,500 000".
//   - So without DecimalComma a comma is either a valid thousands separator ("1,500" is
//     1500) or the amount is refused with a pointer to -decimal-comma: "1500,50" is never
//     read as 150050.
//   - With DecimalComma, trailing zeros of the fraction are dropped: "1,500" is 1.5, which
//     EUR reads as 1.50 and UGX (no decimals) refuses, and "1500,00" is 1500. Without it
//     they are kept and judged by money.Parse: "1.500" stays three decimals and is refused
//     for EUR rather than read as 1.50, because a file that writes 1500 as "1.500" and
//     forgot -decimal-comma must not pay a thousandth.
//   - Scientific notation ("1.5E+03") is refused; a sign is left for money.Parse, which
//     refuses it.
func cleanAmount(raw string, decimalComma bool) (string, string) {
	s := dropZeroWidth(raw)
	if s == "" || s[0] == '-' || s[0] == '+' || plainAmount(s, decimalComma) {
		return s, ""
	}
	if looksScientific(s) {
		return "", "amount is in scientific notation; format the column as a plain number"
	}

	point, group := '.', ','
	if decimalComma {
		point, group = ',', '.'
	}
	whole, fraction, hasPoint := strings.Cut(s, string(point))
	if hasPoint && (!allDigits(fraction) || whole == "") {
		return "", amountReason(s, decimalComma)
	}
	whole, ok := ungroup(whole, group)
	if !ok {
		return "", amountReason(s, decimalComma)
	}

	if decimalComma {
		fraction = strings.TrimRight(fraction, "0")
	}
	if fraction == "" {
		return whole, ""
	}
	return whole + "." + fraction, ""
}

// plainAmount reports whether s needs no cleaning: digits and, without decimalComma, at
// most one '.'. money.Parse judges the rest of its syntax.
func plainAmount(s string, decimalComma bool) bool {
	dots := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '.' && !decimalComma:
			dots++
		case s[i] < '0' || s[i] > '9':
			return false
		}
	}
	return dots <= 1
}

// ungroup removes the thousands separators from the integer part of an amount, and
// reports whether they formed a valid grouping (see cleanAmount). group is the separator
// besides white space.
func ungroup(s string, group rune) (string, bool) {
	if allDigits(s) {
		return s, true
	}
	var b strings.Builder
	sep := rune(-1)
	groups, n := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
			b.WriteRune(r)
			continue
		case r != group && !unicode.IsSpace(r), sep >= 0 && r != sep:
			return "", false
		}
		sep = r
		if groups == 0 && (n == 0 || n > 3 || s[0] == '0') || groups > 0 && n != 3 {
			return "", false
		}
		groups++
		n = 0
	}
	return b.String(), n == 3
}

// amountReason explains why a cleaned amount was refused, pointing at -decimal-comma when
// that is the likely fix.
func amountReason(s string, decimalComma bool) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return (r < '0' || r > '9') && r != '.' && r != ',' && !unicode.IsSpace(r)
	}) >= 0 {
		return "amount is not a decimal number"
	}
	switch {
	case decimalComma:
		return fmt.Sprintf("amount %q is not a number with ',' as the decimal point and "+
			"'.' or spaces between groups of 3 digits (the file is read with -decimal-comma)", s)
	case strings.Contains(s, ","):
		return fmt.Sprintf("amount %q has a ',' that does not separate groups of 3 digits; "+
			"use -decimal-comma if the file uses decimal commas", s)
	case strings.Count(s, ".") > 1:
		return fmt.Sprintf("amount %q has more than one '.'; use -decimal-comma if '.' "+
			"separates thousands", s)
	}
	return fmt.Sprintf("amount %q has malformed thousands separators (groups of 3 digits "+
		"expected)", s)
}

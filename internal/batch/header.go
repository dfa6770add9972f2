package batch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Canonical column names, as FieldError.Column reports them.
const (
	ColumnMSISDN       = "msisdn"
	ColumnAmount       = "amount"
	ColumnCurrency     = "currency"
	ColumnExternalID   = "external_id"
	ColumnPayerMessage = "payer_message"
	ColumnPayeeNote    = "payee_note"
	ColumnName         = "name"
	ColumnPartyIDType  = "party_id_type"
)

// column indexes the known columns.
type column int

const (
	colMSISDN column = iota
	colAmount
	colCurrency
	colExternalID
	colPayerMessage
	colPayeeNote
	colName
	colPartyIDType
	numColumns
)

// columnNames gives each known column its canonical name.
var columnNames = [numColumns]string{
	colMSISDN:       ColumnMSISDN,
	colAmount:       ColumnAmount,
	colCurrency:     ColumnCurrency,
	colExternalID:   ColumnExternalID,
	colPayerMessage: ColumnPayerMessage,
	colPayeeNote:    ColumnPayeeNote,
	colName:         ColumnName,
	colPartyIDType:  ColumnPartyIDType,
}

// headerNames maps normalised header cells (see headerKey) to columns.
var headerNames = map[string]column{
	"msisdn":       colMSISDN,
	"phone":        colMSISDN,
	"phonenumber":  colMSISDN,
	"mobile":       colMSISDN,
	"amount":       colAmount,
	"currency":     colCurrency,
	"externalid":   colExternalID,
	"reference":    colExternalID,
	"payermessage": colPayerMessage,
	"payeenote":    colPayeeNote,
	"name":         colName,
	"partyidtype":  colPartyIDType,
}

// layout records in which cell of a record each known column sits; -1 when absent.
type layout [numColumns]int

// columnMap holds, per column, the header key (see headerKey) of the file's column that
// Options.ColumnMap assigns to it, or "" when the column is found by alias, and the header
// text as given, for messages.
type columnMap struct {
	keys, texts [numColumns]string
}

// headerKey normalises a header cell so that "Phone Number", "phone_number",
// "PHONE-NUMBER" and " phonenumber " all compare equal. Zero-width characters are dropped
// too, so that a byte order mark glued to a repeated header does not hide it.
func headerKey(cell string) string {
	return strings.Map(func(r rune) rune {
		if ignoredInKey(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, cell)
}

// ignoredInKey reports the characters headerKey drops.
func ignoredInKey(r rune) bool {
	return unicode.IsSpace(r) || r == '_' || r == '-' || isZeroWidth(r)
}

// sameKey reports whether headerKey(cell) == key without building headerKey(cell): it is
// called on every row to spot repeated headers.
func sameKey(cell, key string) bool {
	for _, r := range cell {
		if ignoredInKey(r) {
			continue
		}
		k, size := utf8.DecodeRuneInString(key)
		if size == 0 || unicode.ToLower(r) != k {
			return false
		}
		key = key[size:]
	}
	return key == ""
}

// parseHeader finds the known columns among the header cells: first the columns cmap
// assigns, then the other columns by alias. It returns the reason the header cannot be
// used, or "" when it can. Unknown columns are ignored.
func parseHeader(cells []string, cmap *columnMap, currencyRequired bool) (layout, string) {
	var cols layout
	for c := range cols {
		cols[c] = -1
	}
	reason := findMapped(cells, cmap, &cols)

	for i, cell := range cells {
		c, ok := headerNames[headerKey(cell)]
		if !ok || cmap.keys[c] != "" || slices.Contains(cols[:], i) {
			continue
		}
		if cols[c] >= 0 {
			if reason == "" {
				reason = fmt.Sprintf("duplicate column %s (header cells %d and %d)",
					columnNames[c], cols[c]+1, i+1)
			}
			continue
		}
		cols[c] = i
	}
	if reason != "" {
		return cols, reason
	}
	return cols, missingColumns(&cols, currencyRequired)
}

// findMapped places the columns cmap assigns and returns the first reason it cannot.
func findMapped(cells []string, cmap *columnMap, cols *layout) string {
	reason := ""
	for c, key := range cmap.keys {
		if key == "" {
			continue
		}
		for i, cell := range cells {
			if headerKey(cell) != key {
				continue
			}
			if cols[c] >= 0 && reason == "" {
				reason = fmt.Sprintf("column map: %s: header cells %d and %d both match",
					columnNames[c], cols[c]+1, i+1)
			}
			cols[c] = i
		}
		if cols[c] < 0 && reason == "" {
			reason = fmt.Sprintf("column map: %s is mapped to %q, which the header lacks",
				columnNames[c], cmap.texts[c])
		}
	}
	return reason
}

// missingColumns names the required columns the header lacks, or returns "".
func missingColumns(cols *layout, currencyRequired bool) string {
	var missing []string
	for _, c := range []column{colMSISDN, colAmount, colCurrency} {
		if cols[c] < 0 && (c != colCurrency || currencyRequired) {
			missing = append(missing, columnNames[c])
		}
	}
	switch {
	case len(missing) == 1 && missing[0] == ColumnCurrency:
		return "missing required column currency (or set a default currency)"
	case len(missing) == 1:
		return "missing required column " + missing[0]
	case len(missing) > 1:
		return "missing required columns " + strings.Join(missing, ", ")
	}
	return ""
}

// delimiters are the cell separators detectDelimiter chooses from, preferred in this order
// on a tie. Tab is what Excel's "Unicode text" export (UTF-16) uses.
var delimiters = []rune{',', ';', '\t'}

// detectDelimiter chooses the delimiter of a header line: the one under which the header
// has both msisdn and amount, and when none or several do, the one that occurs most often
// outside quotes (',' first on a tie, then ';').
func detectDelimiter(header string, cmap *columnMap) rune {
	var fits []rune
	for _, d := range delimiters {
		cells, err := splitHeader(header, d)
		if err != nil {
			continue
		}
		cols, _ := parseHeader(cells, cmap, false)
		if cols[colMSISDN] >= 0 && cols[colAmount] >= 0 {
			fits = append(fits, d)
		}
	}
	if len(fits) == 1 {
		return fits[0]
	}

	counts := make(map[rune]int, len(delimiters))
	quoted := false
	for _, r := range header {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted:
			counts[r]++
		}
	}
	best := delimiters[0]
	for _, d := range delimiters[1:] {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// splitHeader parses the header text as one CSV record.
func splitHeader(header string, delim rune) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(header))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	return cr.Read()
}

// trimTrailingEmpty drops the empty cells at the end of a record: spreadsheets export the
// columns someone once touched.
func trimTrailingEmpty(cells []string) []string {
	n := len(cells)
	for n > 0 && trimCell(cells[n-1]) == "" {
		n--
	}
	return cells[:n]
}

// fieldColumn finds the column a field name of Options.ColumnMap names, compared like
// header cells: "external_id", "External ID" and "externalid" are the same field.
func fieldColumn(field string) (column, bool) {
	key := headerKey(field)
	for c, name := range columnNames {
		if headerKey(name) == key {
			return column(c), true
		}
	}
	return 0, false
}

// resolveColumnMap checks Options.ColumnMap and turns it into header keys per column.
func resolveColumnMap(m map[string]string) (columnMap, error) {
	var cmap columnMap
	fields := slices.Sorted(maps.Keys(m))
	for _, field := range fields {
		c, ok := fieldColumn(field)
		if !ok {
			return cmap, fmt.Errorf("column map: unknown field %q (fields: %s)", field,
				strings.Join(columnNames[:], ", "))
		}
		key := headerKey(m[field])
		switch {
		case key == "":
			return cmap, fmt.Errorf("column map: field %s has no header text", columnNames[c])
		case cmap.keys[c] != "":
			return cmap, fmt.Errorf("column map: field %s is mapped twice", columnNames[c])
		}
		if other := slices.Index(cmap.keys[:], key); other >= 0 {
			return cmap, fmt.Errorf("column map: fields %s and %s are mapped to the same "+
				"header %q", columnNames[other], columnNames[c], m[field])
		}
		cmap.keys[c], cmap.texts[c] = key, strings.TrimSpace(m[field])
	}
	return cmap, nil
}

// ParseColumnMap reads the command-line form of Options.ColumnMap:
// "msisdn=Mobile Number,amount=Amount". Pairs are separated by commas and split at their
// first '='; spaces around names are ignored. A header text holding a comma is written by
// quoting its pair the CSV way: `msisdn=Phone,"name=Last, First"`. Field names are checked
// and returned in canonical form; a blank string gives a nil map.
func ParseColumnMap(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	cr := csv.NewReader(strings.NewReader(s))
	cr.LazyQuotes = true
	pairs, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("batch: column map: %w", err)
	}
	if _, err := cr.Read(); !errors.Is(err, io.EOF) {
		return nil, errors.New("batch: column map: must be a single line")
	}

	m := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		field, header, ok := strings.Cut(pair, "=")
		field, header = strings.TrimSpace(field), strings.TrimSpace(header)
		if !ok || field == "" || header == "" {
			return nil, fmt.Errorf("batch: column map: %q is not field=header", pair)
		}
		c, ok := fieldColumn(field)
		if !ok {
			return nil, fmt.Errorf("batch: column map: unknown field %q (fields: %s)", field,
				strings.Join(columnNames[:], ", "))
		}
		if _, dup := m[columnNames[c]]; dup {
			return nil, fmt.Errorf("batch: column map: field %s is mapped twice", columnNames[c])
		}
		m[columnNames[c]] = header
	}
	if _, err := resolveColumnMap(m); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	return m, nil
}

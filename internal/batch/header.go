package batch

import (
	"encoding/csv"
	"fmt"
	"strings"
	"unicode"
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

// headerKey normalises a header cell so that "Phone Number", "phone_number",
// "PHONE-NUMBER" and " phonenumber " all compare equal.
func headerKey(cell string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			return -1
		}
		return unicode.ToLower(r)
	}, cell)
}

// parseHeader finds the known columns among the header cells. It returns the reason the
// header cannot be used, or "" when it can. Unknown columns are ignored.
func parseHeader(cells []string, currencyRequired bool) (layout, string) {
	var cols layout
	for c := range cols {
		cols[c] = -1
	}

	for i, cell := range cells {
		c, ok := headerNames[headerKey(cell)]
		if !ok {
			continue
		}
		if cols[c] >= 0 {
			return cols, fmt.Sprintf("duplicate column %s (header cells %d and %d)",
				columnNames[c], cols[c]+1, i+1)
		}
		cols[c] = i
	}

	var missing []string
	for _, c := range []column{colMSISDN, colAmount, colCurrency} {
		if cols[c] < 0 && (c != colCurrency || currencyRequired) {
			missing = append(missing, columnNames[c])
		}
	}
	switch {
	case len(missing) == 1 && missing[0] == ColumnCurrency:
		return cols, "missing required column currency (or set a default currency)"
	case len(missing) == 1:
		return cols, "missing required column " + missing[0]
	case len(missing) > 1:
		return cols, "missing required columns " + strings.Join(missing, ", ")
	}
	return cols, ""
}

// detectDelimiter chooses ',' or ';' for a header line: the one under which the header has
// both required columns, and when neither or both do, the one that occurs more often
// outside quotes (',' on a tie).
func detectDelimiter(header string) rune {
	var fits []rune
	for _, d := range []rune{',', ';'} {
		cells, err := splitHeader(header, d)
		if err != nil {
			continue
		}
		cols, _ := parseHeader(cells, false)
		if cols[colMSISDN] >= 0 && cols[colAmount] >= 0 {
			fits = append(fits, d)
		}
	}
	if len(fits) == 1 {
		return fits[0]
	}

	commas, semicolons := 0, 0
	quoted := false
	for _, r := range header {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == ',':
			commas++
		case r == ';':
			semicolons++
		}
	}
	if semicolons > commas {
		return ';'
	}
	return ','
}

// splitHeader parses the header text as one CSV record.
func splitHeader(header string, delim rune) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(header))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	return cr.Read()
}

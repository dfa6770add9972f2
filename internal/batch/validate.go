package batch

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/momopay/payout/internal/money"
)

// Party ID types MoMo accepts in a transfer's payee.
const (
	PartyMSISDN    = "MSISDN"
	PartyEmail     = "EMAIL"
	PartyPartyCode = "PARTY_CODE"
)

// problem is one FieldError before it is put in the file's column order.
type problem struct {
	col    column
	reason string
}

// rowCheck validates one record and collects every problem it finds.
type rowCheck struct {
	rec      []string
	cols     *layout
	opt      *Options
	problems []problem
}

// cell returns the trimmed cell of a column, or "" when the column or the cell is absent.
func (c *rowCheck) cell(col column) string {
	i := c.cols[col]
	if i < 0 || i >= len(c.rec) {
		return ""
	}
	return strings.TrimSpace(c.rec[i])
}

// fail records a problem in a column.
func (c *rowCheck) fail(col column, reason string) {
	c.problems = append(c.problems, problem{col: col, reason: reason})
}

// parseRow validates a record and returns the row it describes, or the problems that stop
// it from becoming one, in the order of the file's columns.
func (r *Reader) parseRow(rec []string) (Row, []FieldError) {
	c := &rowCheck{rec: rec, cols: &r.cols, opt: &r.opt}

	row := Row{
		ExternalID:   c.text(colExternalID, MaxExternalIDLen),
		PayerMessage: c.text(colPayerMessage, r.opt.MaxMessageLen),
		PayeeNote:    c.text(colPayeeNote, r.opt.MaxMessageLen),
		Name:         c.text(colName, MaxNameLen),
	}
	row.PartyIDType, row.PartyID = c.party()
	row.Amount = c.amount()
	if len(c.problems) == 0 {
		return row, nil
	}

	slices.SortStableFunc(c.problems, func(a, b problem) int {
		return r.cols[a.col] - r.cols[b.col]
	})
	fields := make([]FieldError, len(c.problems))
	for i, p := range c.problems {
		fields[i] = FieldError{Column: columnNames[p.col], Reason: p.reason}
	}
	return row, fields
}

// party checks the party ID type and the party ID, which sits in the msisdn column
// whatever its type.
func (c *rowCheck) party() (typ, id string) {
	typ = strings.ToUpper(c.cell(colPartyIDType))
	switch typ {
	case "":
		typ = PartyMSISDN
	case PartyMSISDN, PartyEmail, PartyPartyCode:
	default:
		c.fail(colPartyIDType, fmt.Sprintf("party_id_type %q is not one of %s, %s, %s",
			c.cell(colPartyIDType), PartyMSISDN, PartyEmail, PartyPartyCode))
		return "", ""
	}

	raw := c.cell(colMSISDN)
	var reason string
	switch typ {
	case PartyMSISDN:
		normal, err := NormalizeMSISDN(raw, c.opt.Country)
		if err != nil {
			reason = err.Error()
		}
		raw = normal
	case PartyEmail:
		reason = checkEmail(raw)
	case PartyPartyCode:
		reason = checkPartyCode(raw)
	}
	if reason != "" {
		c.fail(colMSISDN, reason)
	}
	return typ, raw
}

// checkEmail returns why an EMAIL party ID is unusable, or "".
func checkEmail(s string) string {
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case s == "":
		return "email is empty"
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return "email must have one '@' with text on both sides"
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "email must not contain spaces"
	case !utf8.ValidString(s):
		return "email is not valid UTF-8 text"
	}
	return ""
}

// checkPartyCode returns why a PARTY_CODE party ID is unusable, or "".
func checkPartyCode(s string) string {
	switch {
	case s == "":
		return "party code is empty"
	case !utf8.ValidString(s):
		return "party code is not valid UTF-8 text"
	case utf8.RuneCountInString(s) > MaxPartyCodeLen:
		return fmt.Sprintf("party code has %d characters, at most %d allowed",
			utf8.RuneCountInString(s), MaxPartyCodeLen)
	}
	return ""
}

// amount checks the currency, falling back to the default currency, and then the amount
// in that currency.
func (c *rowCheck) amount() money.Amount {
	cur := strings.ToUpper(c.cell(colCurrency))
	if cur == "" {
		cur = c.opt.DefaultCurrency
	}
	if cur == "" {
		c.fail(colCurrency, "currency is empty")
		return money.Amount{}
	}
	if reason := checkCurrency(cur, c.opt.TargetEnvironment); reason != "" {
		c.fail(colCurrency, reason)
	}
	// Without a known currency the decimals of the amount cannot be judged.
	if _, ok := money.MinorUnits(cur); !ok {
		return money.Amount{}
	}

	a, err := money.Parse(c.cell(colAmount), cur)
	if err != nil {
		c.fail(colAmount, err.Error())
	}
	return a
}

// text returns a free-text cell after checking its length in characters.
func (c *rowCheck) text(col column, maxLen int) string {
	s := c.cell(col)
	if !utf8.ValidString(s) {
		c.fail(col, columnNames[col]+" is not valid UTF-8 text")
		return s
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		c.fail(col, fmt.Sprintf("%s has %d characters, at most %d allowed",
			columnNames[col], n, maxLen))
	}
	return s
}

package batch

// Messages. MoMo has been reported to answer 400 to payerMessage and payeeNote texts that
// hold '&', '<', '>', apostrophes or double quotes. The rule for the payer_message and
// payee_note cells, applied before their length is checked:
//
//   - '&' is replaced by "and", with a space put on each side that lacks one
//     ("Bonus & thanks" and "Bonus&thanks" both become "Bonus and thanks");
//   - '<' and '>' are removed;
//   - apostrophes (' and the typographic ’ and ‘) are removed ("Don't" becomes "Dont");
//   - double quotes (" and the typographic “ and ”) are removed.
//
// Each kind of change adds one warning to Row.Warnings, such as "line 7, column
// payer_message: replaced '&' with 'and'", for the caller to print. With
// Options.StrictMessages nothing is replaced: such a cell makes the row invalid.
//
// Every cell, in any column, is also refused when it holds invalid UTF-8 or a control
// character other than tab, carriage return and line feed (see cellProblem).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

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
	// pos is the cell's index in the record; -1 for a column the file lacks.
	pos    int
	column string
	reason string
}

// rowCheck validates one record and collects every problem it finds.
type rowCheck struct {
	rec  []string
	r    *Reader
	line int
	// bad marks the known columns whose cell failed cellProblem: their other problems
	// would only repeat it.
	bad      [numColumns]bool
	problems []problem
	warnings []string
}

// cell returns the trimmed cell of a column, or "" when the column or the cell is absent.
func (c *rowCheck) cell(col column) string {
	i := c.r.cols[col]
	if i < 0 || i >= len(c.rec) {
		return ""
	}
	return trimCell(c.rec[i])
}

// fail records a problem in a column, unless the column's cell is unusable anyway.
func (c *rowCheck) fail(col column, reason string) {
	if !c.bad[col] {
		c.problems = append(c.problems, problem{pos: c.r.cols[col], column: columnNames[col],
			reason: reason})
	}
}

// parseRow validates a record found on line and returns the row it describes, or the
// problems that stop it from becoming one, in the order of the file's columns.
func (r *Reader) parseRow(rec []string, line int) (Row, []FieldError) {
	c := &rowCheck{rec: rec, r: r, line: line}
	c.checkCells()

	row := Row{
		ExternalID:   c.externalID(),
		PayerMessage: c.message(colPayerMessage),
		PayeeNote:    c.message(colPayeeNote),
		Name:         c.text(colName, MaxNameLen),
	}
	row.PartyIDType, row.PartyID = c.party()
	row.Amount = c.amount()
	if len(c.problems) == 0 {
		row.Warnings = c.warnings
		return row, nil
	}

	slices.SortStableFunc(c.problems, func(a, b problem) int { return a.pos - b.pos })
	fields := make([]FieldError, len(c.problems))
	for i, p := range c.problems {
		fields[i] = FieldError{Column: p.column, Reason: p.reason}
	}
	return row, fields
}

// checkCells refuses every cell, in any column, that holds invalid UTF-8 or a control
// character.
func (c *rowCheck) checkCells() {
	for i, cell := range c.rec {
		reason := cellProblem(cell)
		if reason == "" && i >= len(c.r.header) && trimCell(cell) != "" {
			// An unquoted "1,500.00" splits one amount over two cells: paying the first
			// half would pay the wrong amount, so a row longer than the header is refused.
			reason = fmt.Sprintf("the row has a value beyond the header's %d columns "+
				"(an unquoted separator, such as the comma in 1,500.00?): quote the cell or "+
				"remove the separator", len(c.r.header))
		}
		if reason == "" {
			continue
		}
		if col := c.r.columnAt(i); col >= 0 {
			c.bad[col] = true
		}
		c.problems = append(c.problems, problem{pos: i, column: c.r.columnLabel(i),
			reason: reason})
	}
}

// columnAt returns the known column in cell i of a record, or -1.
func (r *Reader) columnAt(i int) column {
	for c, pos := range r.cols {
		if pos == i {
			return column(c)
		}
	}
	return -1
}

// columnLabel names cell i of a record for a FieldError: its canonical column name, else
// its header text in quotes, else its 1-based position.
func (r *Reader) columnLabel(i int) string {
	if c := r.columnAt(i); c >= 0 {
		return columnNames[c]
	}
	if i < len(r.header) {
		if h := trimCell(r.header[i]); h != "" {
			return strconv.Quote(h)
		}
	}
	return strconv.Itoa(i + 1)
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
		normal, err := NormalizeMSISDN(raw, c.r.opt.Country)
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
	}
	return ""
}

// checkPartyCode returns why a PARTY_CODE party ID is unusable, or "".
func checkPartyCode(s string) string {
	switch {
	case s == "":
		return "party code is empty"
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
		cur = c.r.opt.DefaultCurrency
	}
	if cur == "" {
		c.fail(colCurrency, "currency is empty")
		return money.Amount{}
	}
	if reason := checkCurrency(cur, c.r.opt.TargetEnvironment); reason != "" {
		c.fail(colCurrency, reason)
	}
	// Without a known currency the decimals of the amount cannot be judged.
	if _, ok := money.MinorUnits(cur); !ok {
		return money.Amount{}
	}

	s, reason := cleanAmount(c.cell(colAmount), c.r.opt.DecimalComma)
	if reason != "" {
		c.fail(colAmount, reason)
		return money.Amount{}
	}
	a, err := money.Parse(s, cur)
	if err != nil {
		c.fail(colAmount, err.Error())
	}
	return a
}

// text returns a free-text cell after checking its length in characters.
func (c *rowCheck) text(col column, maxLen int) string {
	s := c.cell(col)
	if n := utf8.RuneCountInString(s); n > maxLen {
		c.fail(col, fmt.Sprintf("%s has %d characters, at most %d allowed",
			columnNames[col], n, maxLen))
	}
	return s
}

// externalID returns the external_id cell in one spelling: invisible characters dropped (with a
// warning) and accents composed (Unicode NFC), so that two IDs that look the same are the
// same, for the duplicate checks and for reconciliation. Its length is that of the result.
func (c *rowCheck) externalID() string {
	s := c.cell(colExternalID)
	if clean := dropInvisible(s); clean != s {
		c.warnings = append(c.warnings, fmt.Sprintf("line %d, column %s: removed invisible "+
			"characters", c.line, columnNames[colExternalID]))
		s = clean
	}
	s = norm.NFC.String(s)
	if n := utf8.RuneCountInString(s); n > MaxExternalIDLen {
		c.fail(colExternalID, fmt.Sprintf("%s has %d characters, at most %d allowed",
			columnNames[colExternalID], n, MaxExternalIDLen))
	}
	return s
}

// message returns a payer_message or payee_note cell with the characters MoMo refuses
// replaced, warning about each kind, or refuses them under Options.StrictMessages.
func (c *rowCheck) message(col column) string {
	s := c.cell(col)
	clean, changes := cleanMessage(s)
	switch {
	case len(changes) == 0 || c.bad[col]:
	case c.r.opt.StrictMessages:
		chars := make([]string, len(changes))
		for i, ch := range changes {
			chars[i] = quoteRune(ch.char)
		}
		c.fail(col, fmt.Sprintf("%s contains %s, which MoMo has been reported to refuse",
			columnNames[col], strings.Join(chars, ", ")))
		return s
	default:
		for _, ch := range changes {
			c.warnings = append(c.warnings, fmt.Sprintf("line %d, column %s: %s",
				c.line, columnNames[col], ch.describe()))
		}
		s = trimCell(clean)
	}

	if n := utf8.RuneCountInString(s); n > c.r.opt.MaxMessageLen {
		c.fail(col, fmt.Sprintf("%s has %d characters, at most %d allowed",
			columnNames[col], n, c.r.opt.MaxMessageLen))
	}
	return s
}

// messageChange is one kind of character cleanMessage replaced or removed.
type messageChange struct {
	char rune
}

// describe returns "replaced '&' with 'and'" or "removed '<'".
func (m messageChange) describe() string {
	if m.char == '&' {
		return "replaced '&' with 'and'"
	}
	return "removed " + quoteRune(m.char)
}

// quoteRune writes a character between quotes that differ from it: '&', "'".
func quoteRune(r rune) string {
	if r == '\'' {
		return `"'"`
	}
	return "'" + string(r) + "'"
}

// refusedInMessages lists the characters cleanMessage replaces or removes.
const refusedInMessages = "&<>'\"‘’“”"

// mayHoldRefused reports whether s may hold one of refusedInMessages, quickly: it looks for
// the ASCII ones and for the first byte of the typographic ones (U+2018 to U+201D).
func mayHoldRefused(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&', '<', '>', '\'', '"', 0xe2:
			return true
		}
	}
	return false
}

// cleanMessage applies the message rule at the top of this file and lists the kinds of
// characters it changed, in order of first appearance.
func cleanMessage(s string) (string, []messageChange) {
	if !mayHoldRefused(s) || !strings.ContainsAny(s, refusedInMessages) {
		return s, nil
	}
	var b strings.Builder
	var changes []messageChange
	runes := []rune(s)
	for i, r := range runes {
		if !strings.ContainsRune(refusedInMessages, r) {
			b.WriteRune(r)
			continue
		}
		if !slices.Contains(changes, messageChange{r}) {
			changes = append(changes, messageChange{r})
		}
		if r != '&' {
			continue
		}
		if last, _ := utf8.DecodeLastRuneInString(b.String()); b.Len() > 0 &&
			!unicode.IsSpace(last) {
			b.WriteByte(' ')
		}
		b.WriteString("and")
		if i+1 < len(runes) && !unicode.IsSpace(runes[i+1]) {
			b.WriteByte(' ')
		}
	}
	return b.String(), changes
}

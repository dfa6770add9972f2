// Package batch reads beneficiary CSV files row by row and validates every row before it
// can become a payout. It streams: memory use does not grow with the file.
package batch

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/momopay/payout/internal/money"
)

// maxHeaderLen bounds the header line, so that a file without line breaks cannot make
// NewReader read it whole.
const maxHeaderLen = 64 << 10

// Row is one valid data row.
type Row struct {
	// Line is the physical line (1-based) on which the record starts in the file.
	Line int
	// PartyIDType is MSISDN (the default), EMAIL or PARTY_CODE.
	PartyIDType string
	// PartyID is the payee: for MSISDN the digits with the country code, no '+'.
	PartyID string
	// Amount is the amount to pay, in the row's currency.
	Amount money.Amount
	// ExternalID is the row's external_id; empty when the file has none, in which case the
	// caller derives one.
	ExternalID string
	// PayerMessage and PayeeNote are the texts MoMo shows the payer and the payee.
	PayerMessage, PayeeNote string
	// Name is the beneficiary's name, for reports.
	Name string
}

// Reader reads and validates the data rows of a beneficiary CSV file. It is not safe for
// concurrent use.
type Reader struct {
	opt    Options
	csv    *csv.Reader
	header []string
	cols   layout
	// lineOffset is the number of physical lines before the first data line: the csv
	// reader counts its lines from there.
	lineOffset int
	// nextLine is the physical line after the last record read, for I/O errors.
	nextLine int
	rowsRead int
	// err is the fatal error (or io.EOF) that ended reading; Next keeps returning it.
	err error
}

// NewReader reads and checks the header, which is the first non-blank line and is
// required. It strips a UTF-8 byte order mark, accepts LF and CRLF line ends, and detects
// whether the file separates cells with ',' or ';' from the header line. A bad option is
// reported as a plain error, a bad header as a *HeaderError.
func NewReader(r io.Reader, opt Options) (*Reader, error) {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}

	br := bufio.NewReaderSize(r, maxHeaderLen)
	text, start, end, reason := readHeaderText(br)
	if reason != "" {
		return nil, &HeaderError{File: opt.File, Line: start, Reason: reason}
	}

	delim := detectDelimiter(text)
	cells, err := splitHeader(text, delim)
	if err != nil {
		return nil, &HeaderError{File: opt.File, Line: start, Reason: "malformed header: " +
			csvReason(shiftLines(err, start-1))}
	}
	cols, reason := parseHeader(cells, opt.DefaultCurrency == "")
	if reason != "" {
		return nil, &HeaderError{File: opt.File, Line: start, Reason: reason}
	}

	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &Reader{
		opt: opt, csv: cr, header: cells, cols: cols,
		lineOffset: end, nextLine: end + 1,
	}, nil
}

// readHeaderText skips a byte order mark and blank lines and returns the header's text
// with the physical lines it starts and ends on. A quoted header cell may span lines. It
// returns a reason instead when there is no usable header.
func readHeaderText(br *bufio.Reader) (text string, start, end int, reason string) {
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	} else if len(bom) >= 2 && (bom[0] == 0xff && bom[1] == 0xfe || bom[0] == 0xfe && bom[1] == 0xff) {
		return "", 0, 0, "file is UTF-16 encoded: save it as UTF-8 CSV"
	}

	var b strings.Builder
	for line := 1; ; line++ {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", max(start, line), 0, fmt.Sprintf("header is longer than %d bytes",
				maxHeaderLen)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", line, 0, "read header: " + err.Error()
		}

		if b.Len() > 0 || !isBlankLine(chunk) {
			if start == 0 {
				start = line
			}
			b.Write(chunk)
			// An odd number of quotes means a quoted cell goes on on the next line.
			if strings.Count(b.String(), `"`)%2 == 0 || err != nil {
				return b.String(), start, line, ""
			}
		}
		if err != nil {
			return "", 0, 0, "file is empty: expected a header line"
		}
	}
}

// isBlankLine reports whether a line holds nothing but white space and delimiters.
func isBlankLine(line []byte) bool {
	return len(bytes.Trim(line, " \t\r\n,;")) == 0
}

// Header returns the raw header cells.
func (r *Reader) Header() []string {
	return slices.Clone(r.header)
}

// RowsRead returns the number of data rows Next has returned so far, valid and invalid,
// not counting the blank rows it skipped.
func (r *Reader) RowsRead() int {
	return r.rowsRead
}

// Next returns the next data row. For an invalid row it returns a *RowError listing all
// the row's problems, with a Row that holds only Line; the next call goes on with the
// following row. At the end of the file it returns io.EOF. Any other error is a
// *ReadError and fatal: every later call returns it again. Rows whose cells are all blank
// are skipped.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}

	for {
		rec, err := r.csv.Read()
		if err != nil {
			r.err = r.fatal(err)
			return Row{}, r.err
		}
		line, _ := r.csv.FieldPos(0)
		line += r.lineOffset
		last, _ := r.csv.FieldPos(len(rec) - 1)
		r.nextLine = last + r.lineOffset + 1
		if isBlankRecord(rec) {
			continue
		}

		r.rowsRead++
		row, problems := r.parseRow(rec)
		row.Line = line
		if len(problems) > 0 {
			return Row{Line: line}, &RowError{
				File: r.opt.File, Line: line, Fields: problems, Record: slices.Clone(rec),
			}
		}
		return row, nil
	}
}

// isBlankRecord reports whether every cell of a record is blank.
func isBlankRecord(rec []string) bool {
	for _, cell := range rec {
		if strings.TrimSpace(cell) != "" {
			return false
		}
	}
	return true
}

// fatal turns an error of the csv reader into the error Next returns: io.EOF as it is,
// anything else as a *ReadError whose line numbers count physical lines of the file.
func (r *Reader) fatal(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}

	var pe *csv.ParseError
	if !errors.As(shiftLines(err, r.lineOffset), &pe) {
		return &ReadError{File: r.opt.File, Line: r.nextLine, Reason: "read: " + err.Error(),
			Err: err}
	}
	return &ReadError{File: r.opt.File, Line: pe.StartLine, Reason: csvReason(pe), Err: pe}
}

// shiftLines returns a copy of a *csv.ParseError with offset added to its line numbers, so
// that they count physical lines of the file; any other error comes back as it is.
func shiftLines(err error, offset int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	return &csv.ParseError{
		StartLine: pe.StartLine + offset,
		Line:      pe.Line + offset,
		Column:    pe.Column,
		Err:       pe.Err,
	}
}

// csvReason describes a csv parse error without the csv package's own line numbers, which
// do not count the lines before the reader started.
func csvReason(err error) string {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	if pe.Line != pe.StartLine {
		return fmt.Sprintf("%v (at line %d, position %d)", pe.Err, pe.Line, pe.Column)
	}
	return fmt.Sprintf("%v (at position %d)", pe.Err, pe.Column)
}

// Package batch reads beneficiary CSV files row by row and validates every row before it
// can become a payout. It streams: memory use does not grow with the file, and Options
// bound the file's size, its rows and each record.
//
// Files come the way spreadsheets save them: UTF-8, UTF-16 or Windows-1252 (encoding.go);
// ',', ';' or tab between cells, guidance text above the header, trailing empty columns
// and headers repeated where exports were glued together (header.go); thousands
// separators and decimal commas (amount.go); phone numbers in local form, without their
// leading 0 or in scientific notation (msisdn.go); and characters MoMo refuses in
// messages (validate.go). Each file states its rule where it applies it; whatever does
// not fit a rule is refused with the file, line, column and reason, never guessed.
package batch

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/momopay/payout/internal/money"
)

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
	// PayerMessage and PayeeNote are the texts MoMo shows the payer and the payee, after
	// the replacements described in validate.go.
	PayerMessage, PayeeNote string
	// Name is the beneficiary's name, for reports.
	Name string
	// Warnings says what was changed in the row to make it acceptable, one complete
	// message each, such as "line 7, column payer_message: replaced '&' with 'and'", for
	// the caller to print. Nil when nothing was changed.
	Warnings []string
}

// Reader reads and validates the data rows of a beneficiary CSV file. It is not safe for
// concurrent use.
type Reader struct {
	opt     Options
	csv     *csv.Reader
	limiter *recordLimiter
	// header holds the header cells without trailing empty ones, headerKeys their
	// headerKey, to spot the header repeated further down.
	header     []string
	headerKeys []string
	cols       layout
	encoding   string
	// lineOffset is the number of physical lines before the first data line: the csv
	// reader counts its lines from there.
	lineOffset int
	// nextLine is the physical line after the last record read, for I/O errors.
	nextLine       int
	rowsRead       int
	skippedHeaders int
	// err is the fatal error (or io.EOF) that ended reading; Next keeps returning it.
	err error
}

// NewReader decodes the file to UTF-8 (see Options.Encoding), then reads and checks the
// header, which is on Options.HeaderLine or else the first non-blank line, and is
// required. It accepts LF and CRLF line ends, and detects from the header line whether the
// file separates cells with ',', ';' or a tab. Bytes are read as Next needs them, apart
// from a bounded prefix that decides the encoding. A bad option is reported as a plain
// error, a bad header as a *HeaderError.
func NewReader(r io.Reader, opt Options) (*Reader, error) {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	cmap, _ := resolveColumnMap(opt.ColumnMap) // validate has checked it

	text, enc, reason := decodeText(newSizeLimiter(r, opt.MaxFileBytes), opt.Encoding)
	if reason != "" {
		return nil, &HeaderError{File: opt.File, Line: 1, Reason: reason}
	}
	h, herr := readHeaderText(text, opt.HeaderLine, opt.MaxLineBytes)
	if herr == nil {
		herr = h.parse(&cmap, &opt)
	}
	if herr != nil {
		herr.File = opt.File
		return nil, herr
	}

	limiter := newRecordLimiter(text, opt.MaxLineBytes, h.end+1)
	cr := csv.NewReader(limiter)
	cr.Comma = h.delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	keys := make([]string, len(h.cells))
	for i, cell := range h.cells {
		keys[i] = headerKey(cell)
	}
	return &Reader{
		opt: opt, csv: cr, limiter: limiter, header: h.cells, headerKeys: keys,
		cols: h.cols, encoding: enc, lineOffset: h.end, nextLine: h.end + 1,
	}, nil
}

// headerRecord is the header as readHeaderText finds it and parse understands it.
type headerRecord struct {
	text string
	// start and end are the physical lines the header starts and ends on.
	start, end int
	delim      rune
	cells      []string
	cols       layout
}

// errLineTooLong is readLine's report of a line past its limit.
var errLineTooLong = errors.New("line too long")

// readHeaderText skips the lines before headerLine, or blank lines when headerLine is 0,
// and returns the header's text with the physical lines it starts and ends on. A quoted
// header cell may span lines; the whole header may have at most limit bytes.
func readHeaderText(br *bufio.Reader, headerLine, limit int) (headerRecord, *HeaderError) {
	for line := 1; line < headerLine; line++ {
		if err := skipLine(br); err != nil {
			return headerRecord{}, headerReadError(line, err, fmt.Sprintf(
				"file ends before header line %d", headerLine))
		}
	}

	var h headerRecord
	var b []byte
	for line := max(headerLine, 1); ; line++ {
		chunk, err := readLine(br, limit-len(b))
		if errors.Is(err, errLineTooLong) {
			return h, &HeaderError{Line: max(h.start, line), Err: ErrRecordTooLong,
				Reason: "header is longer than the limit of " + byteSize(int64(limit))}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return h, headerReadError(max(h.start, line), err, "")
		}
		switch {
		case len(b) == 0 && headerLine > 0 && len(chunk) == 0:
			return h, &HeaderError{Line: line, Reason: fmt.Sprintf(
				"file ends before header line %d", headerLine)}
		case len(b) == 0 && headerLine > 0 && isBlankLine(chunk):
			return h, &HeaderError{Line: line, Reason: "header line is blank"}
		case len(b) > 0 || !isBlankLine(chunk):
			h.start = cmp.Or(h.start, line)
			b = append(b, chunk...)
			// An odd number of quotes means a quoted cell goes on on the next line.
			if bytes.Count(b, []byte{'"'})%2 == 0 || err != nil {
				h.text, h.end = string(b), line
				return h, nil
			}
		}
		if err != nil {
			return h, &HeaderError{Reason: "file is empty: expected a header line"}
		}
	}
}

// headerReadError describes a failure to read the header: a passed limit by its reason,
// the end of the file by eofReason, anything else as a read error.
func headerReadError(line int, err error, eofReason string) *HeaderError {
	var lim *limitError
	switch {
	case errors.As(err, &lim):
		return &HeaderError{Line: line, Reason: lim.reason, Err: lim.cause}
	case errors.Is(err, io.EOF):
		return &HeaderError{Line: line, Reason: eofReason}
	}
	return &HeaderError{Line: line, Reason: "read header: " + err.Error(), Err: err}
}

// skipLine reads past the end of the current line, however long.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// readLine reads one line, its '\n' included, failing with errLineTooLong once the line
// holds more than limit bytes besides the '\n'.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if n := len(bytes.TrimSuffix(line, []byte{'\n'})); n > limit {
			return nil, errLineTooLong
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// parse splits the header text into cells, without trailing empty ones, and finds the
// known columns.
func (h *headerRecord) parse(cmap *columnMap, opt *Options) *HeaderError {
	h.delim = detectDelimiter(h.text, cmap)
	cells, err := splitHeader(h.text, h.delim)
	if err != nil {
		return &HeaderError{Line: h.start, Reason: "malformed header: " +
			csvReason(shiftLines(err, h.start-1))}
	}
	h.cells = trimTrailingEmpty(cells)

	cols, reason := parseHeader(h.cells, cmap, opt.DefaultCurrency == "")
	if reason == "" {
		h.cols = cols
		return nil
	}
	switch {
	case strings.Contains(h.text, "\x00"):
		reason += "; the header holds NUL bytes: if the file is UTF-16 without a byte " +
			"order mark, save it as UTF-8 CSV"
	case opt.HeaderLine == 0 && !slices.ContainsFunc(cols[:], func(i int) bool { return i >= 0 }):
		reason += "; if the header is not the first line, set -header-line"
	}
	return &HeaderError{Line: h.start, Reason: reason}
}

// isBlankLine reports whether a line holds nothing but white space and delimiters.
func isBlankLine(line []byte) bool {
	return len(bytes.Trim(line, " \t\r\n,;")) == 0
}

// Header returns the raw header cells, without trailing empty ones.
func (r *Reader) Header() []string {
	return slices.Clone(r.header)
}

// Encoding returns the encoding the file was read in: EncodingUTF8, EncodingUTF16LE,
// EncodingUTF16BE or EncodingWindows1252.
func (r *Reader) Encoding() string {
	return r.encoding
}

// SkippedHeaders returns the number of rows Next skipped so far because they repeated the
// header, as files glued together from several exports do.
func (r *Reader) SkippedHeaders() int {
	return r.skippedHeaders
}

// RowsRead returns the number of data rows Next has returned so far, valid and invalid,
// not counting the blank rows and repeated headers it skipped.
func (r *Reader) RowsRead() int {
	return r.rowsRead
}

// Next returns the next data row. For an invalid row it returns a *RowError listing all
// the row's problems, with a Row that holds only Line; the next call goes on with the
// following row. At the end of the file it returns io.EOF. Any other error is a
// *ReadError and fatal: every later call returns it again, including the passing of a
// limit of Options. Rows whose cells are all blank, and rows that repeat the header, are
// skipped.
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
		switch {
		case isBlankRecord(rec):
			continue
		case r.isRepeatedHeader(rec):
			r.skippedHeaders++
			continue
		case r.opt.MaxRows >= 0 && r.rowsRead >= r.opt.MaxRows:
			r.err = &ReadError{File: r.opt.File, Line: line, Err: ErrTooManyRows,
				Reason: fmt.Sprintf("file has more than the limit of %d data rows", r.opt.MaxRows)}
			return Row{}, r.err
		}

		r.rowsRead++
		row, problems := r.parseRow(rec, line)
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
		if trimCell(cell) != "" {
			return false
		}
	}
	return true
}

// isRepeatedHeader reports whether a record repeats the header, cell by cell after
// headerKey and without trailing empty cells.
func (r *Reader) isRepeatedHeader(rec []string) bool {
	rec = trimTrailingEmpty(rec)
	if len(rec) != len(r.headerKeys) {
		return false
	}
	for i, key := range r.headerKeys {
		if !sameKey(rec[i], key) {
			return false
		}
	}
	return true
}

// fatal turns an error of the csv reader into the error Next returns: io.EOF as it is,
// anything else as a *ReadError whose line numbers count physical lines of the file. A
// passed limit names the line where reading stopped, or where the overlong record starts.
func (r *Reader) fatal(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	var lim *limitError
	if errors.As(err, &lim) {
		line := r.limiter.line
		if errors.Is(err, ErrRecordTooLong) {
			line = r.limiter.start
		}
		return &ReadError{File: r.opt.File, Line: line, Reason: lim.reason, Err: lim.cause}
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

package batch

import (
	"errors"
	"strconv"
	"strings"
)

// Causes of a fatal *ReadError or *HeaderError that callers may test with errors.Is.
var (
	// ErrFileTooLarge means the file has more bytes than Options.MaxFileBytes.
	ErrFileTooLarge = errors.New("batch: file too large")
	// ErrRecordTooLong means one record has more bytes than Options.MaxLineBytes.
	ErrRecordTooLong = errors.New("batch: record too long")
	// ErrTooManyRows means the file has more data rows than Options.MaxRows.
	ErrTooManyRows = errors.New("batch: too many rows")
)

// FieldError is one problem in one cell.
type FieldError struct {
	// Column is the canonical column name ("msisdn", "amount", ...), whatever the header
	// called it. A cell outside the known columns is named by its header text in double
	// quotes (`"Branch Office"`), or by its 1-based position when the header has no text
	// for it.
	Column string
	// Reason says what is wrong, e.g. "amount has 3 decimals, EUR allows 2".
	Reason string
}

// RowError reports every problem found in one data row. The reader can go on to the next
// row after it.
type RowError struct {
	// File is Options.File.
	File string
	// Line is the physical line (1-based) on which the row starts.
	Line int
	// Fields lists the problems in column order.
	Fields []FieldError
	// Record holds the row's raw cells, for a rejects file.
	Record []string
}

// Error returns, for example, "batch: pay.csv: line 12, column amount: amount has 3
// decimals, EUR allows 2; column msisdn: phone number is empty".
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(prefix(e.File))
	b.WriteString("line ")
	b.WriteString(strconv.Itoa(e.Line))
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(", ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString("column ")
		b.WriteString(f.Column)
		b.WriteString(": ")
		b.WriteString(f.Reason)
	}
	return b.String()
}

// HeaderError reports a header that cannot be used: none at all, a missing required
// column, a duplicated column. Nothing can be read from such a file.
type HeaderError struct {
	// File is Options.File.
	File string
	// Line is the physical line of the header, or 0 when the file has none.
	Line int
	// Reason says what is wrong, e.g. "missing required column amount".
	Reason string
	// Err is the cause when there is one to test for: ErrFileTooLarge, ErrRecordTooLong or
	// the underlying reader's error. Usually nil.
	Err error
}

// Error returns, for example, "batch: pay.csv: line 1: missing required column amount".
func (e *HeaderError) Error() string {
	return prefix(e.File) + linePart(e.Line) + e.Reason
}

// Unwrap returns the cause, so that errors.Is(err, ErrFileTooLarge) works.
func (e *HeaderError) Unwrap() error { return e.Err }

// ReadError is a fatal error met while reading rows: the underlying reader failed or the
// CSV quoting is malformed. Reading cannot go on after it.
type ReadError struct {
	// File is Options.File.
	File string
	// Line is the physical line where the problem was found.
	Line int
	// Reason says what is wrong, e.g. `bare " in non-quoted-field (at position 5)`.
	Reason string
	// Err is the cause: a *csv.ParseError whose line numbers count physical lines of the
	// file, ErrFileTooLarge, ErrRecordTooLong, ErrTooManyRows, or the underlying reader's
	// error.
	Err error
}

// Error returns, for example, `batch: pay.csv: line 7: bare " in non-quoted-field (at
// position 5)`.
func (e *ReadError) Error() string {
	return prefix(e.File) + linePart(e.Line) + e.Reason
}

// Unwrap returns the cause, so that errors.Is(err, csv.ErrQuote) works.
func (e *ReadError) Unwrap() error { return e.Err }

// limitError is what the limiting readers return once a limit is passed: its text is the
// reason for the user, and it unwraps to one of the Err... sentinels.
type limitError struct {
	cause  error
	reason string
}

func (e *limitError) Error() string { return e.reason }

func (e *limitError) Unwrap() error { return e.cause }

// readReason describes an error of the underlying reader: a passed limit by its reason,
// anything else as "read: ...".
func readReason(err error) string {
	var lim *limitError
	if errors.As(err, &lim) {
		return lim.reason
	}
	return "read: " + err.Error()
}

// prefix starts every message of this package: "batch: FILE: ", or "batch: " without a
// file name.
func prefix(file string) string {
	if file == "" {
		return "batch: "
	}
	return "batch: " + file + ": "
}

// linePart returns "line N: ", or "" for line 0.
func linePart(line int) string {
	if line <= 0 {
		return ""
	}
	return "line " + strconv.Itoa(line) + ": "
}

package intake

import (
	"fmt"
	"hash/fnv"

	"github.com/momopay/payout/internal/batch"
)

// dupCheck finds, across the rows of one file, a second row with the same external ID (an
// error: two payouts a reconciliation cannot tell apart) and a second payout to the same payee
// (a warning, or an error when strict: a salary file rarely pays one person twice).
//
// It keeps a 64-bit FNV hash per row instead of the values, so a million-row file costs tens
// of megabytes, not hundreds. Two different values with the same hash would be reported as a
// duplicate: a refusal to look at, never a payout made twice.
type dupCheck struct {
	file   string
	strict bool
	ext    map[uint64]int32
	payee  map[uint64]int32
}

func newDupCheck(file string, strict bool) *dupCheck {
	return &dupCheck{file: file, strict: strict, ext: map[uint64]int32{}, payee: map[uint64]int32{}}
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// check returns a row error for a duplicate external ID (or, when strict, payee), and a warning
// for a payee seen before.
func (d *dupCheck) check(row batch.Row) (*batch.RowError, string) {
	if row.ExternalID != "" {
		k := hash64(row.ExternalID)
		if first, ok := d.ext[k]; ok {
			return d.rowError(row, batch.ColumnExternalID,
				fmt.Sprintf("duplicate external_id %q (first on line %d)", row.ExternalID, first)), ""
		}
		d.ext[k] = int32(row.Line)
	}
	k := hash64(row.PartyIDType, row.PartyID)
	first, seen := d.payee[k]
	if !seen {
		d.payee[k] = int32(row.Line)
		return nil, ""
	}
	reason := fmt.Sprintf("payee %s is paid again (first on line %d)", row.PartyID, first)
	if d.strict {
		return d.rowError(row, batch.ColumnMSISDN, reason+"; -strict refuses it"), ""
	}
	return nil, fmt.Sprintf("%s: line %d, column %s: warning: %s", d.file, row.Line,
		batch.ColumnMSISDN, reason)
}

func (d *dupCheck) rowError(row batch.Row, column, reason string) *batch.RowError {
	return &batch.RowError{File: d.file, Line: row.Line,
		Fields: []batch.FieldError{{Column: column, Reason: reason}}}
}

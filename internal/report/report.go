// Package report turns the ledger into what operators read: a batch's status, the per-row
// results CSV and a table for the terminal.
package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/money"
)

// SafeCell neutralises a value a spreadsheet would run as a formula: one starting with '=',
// '+', '-', '@', a tab or a carriage return gets a leading apostrophe.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// SafeCells applies SafeCell to every cell, in place, and returns them.
func SafeCells(cells []string) []string {
	for i, c := range cells {
		cells[i] = SafeCell(c)
	}
	return cells
}

// Status is a batch's progress.
type Status struct {
	Batch         string                       `json:"batch"`
	Product       string                       `json:"product"`
	File          string                       `json:"file"`
	Status        string                       `json:"status"`
	Reason        string                       `json:"reason,omitempty"`
	ProductPaused string                       `json:"product_paused,omitempty"`
	Rows          int                          `json:"rows"`
	Accepted      int                          `json:"accepted"`
	Rejected      int                          `json:"rejected"`
	States        map[string]int64             `json:"states"`
	Amounts       map[string]map[string]string `json:"amounts"` // state -> currency -> decimal
	Open          int64                        `json:"open"`
	At            string                       `json:"scheduled_at,omitempty"`
	Done          bool                         `json:"done"`
}

// GetStatus reads a batch's status from the ledger.
func GetStatus(ctx context.Context, store *ledger.Store, id string) (*Status, error) {
	b, err := store.GetBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := store.Counts(ctx, id)
	if err != nil {
		return nil, err
	}
	pause, err := store.ProductPause(ctx, b.Product)
	if err != nil {
		return nil, err
	}
	st := &Status{
		Batch: b.ID, Product: b.Product, File: b.File, Status: b.Status, Reason: b.Reason,
		ProductPaused: pause, Rows: b.Rows, Accepted: b.Accepted, Rejected: b.Rejected,
		States: map[string]int64{}, Amounts: map[string]map[string]string{}, Open: c.Open(),
	}
	for _, s := range ledger.States {
		st.States[string(s)] = c.Items[s]
		for cur, minor := range c.Amounts[s] {
			if minor == 0 && c.Items[s] == 0 {
				continue
			}
			if st.Amounts[string(s)] == nil {
				st.Amounts[string(s)] = map[string]string{}
			}
			st.Amounts[string(s)][cur] = money.FormatMinor(minor, cur)
		}
	}
	st.Done = !ledger.Unopened(b.Status) && st.Open == 0
	if !b.At.IsZero() {
		st.At = b.At.Format(time.RFC3339)
	}
	return st, nil
}

// WriteText prints a status for people.
func (s *Status) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "batch\t%s (%s, file %s)\n", s.Batch, s.Product, s.File)
	state := s.Status
	if s.Reason != "" {
		state += ": " + s.Reason
	}
	fmt.Fprintf(tw, "status\t%s\n", state)
	if s.At != "" {
		fmt.Fprintf(tw, "pays at\t%s\n", s.At)
	}
	if s.ProductPaused != "" {
		fmt.Fprintf(tw, "product\t%s PAUSED: %s\n", s.Product, s.ProductPaused)
	}
	fmt.Fprintf(tw, "rows\t%d read, %d accepted, %d rejected\n", s.Rows, s.Accepted, s.Rejected)
	for _, st := range ledger.States {
		n := s.States[string(st)]
		if n == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", st, n, amounts(s.Amounts[string(st)]))
	}
	done := "no"
	if s.Done {
		done = "yes"
	}
	fmt.Fprintf(tw, "done\t%s (%d open)\n", done, s.Open)
	return tw.Flush()
}

func amounts(m map[string]string) string {
	var parts []string
	for _, cur := range sortedKeys(m) {
		parts = append(parts, cur+" "+m[cur])
	}
	return strings.Join(parts, ", ")
}

// Columns of the per-row results CSV.
var Columns = []string{"line", "reference_id", "external_id", "msisdn", "amount", "currency",
	"state", "financial_transaction_id", "reason", "attempts", "previous_reference_id"}

// WriteCSV writes one row per item of the batch, in line order.
func WriteCSV(ctx context.Context, store *ledger.Store, id string, w io.Writer) error {
	if _, err := store.GetBatch(ctx, id); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	err := store.EachItem(ctx, id, func(it *ledger.Item) error {
		return cw.Write(SafeCells([]string{
			strconv.Itoa(it.Line), it.Ref, it.ExternalID, it.PartyID, it.Amount, it.Currency,
			string(it.State), it.FinTxID, it.Reason, strconv.Itoa(it.Attempts), it.PrevRef,
		}))
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// WriteTable prints the batch's items as an aligned table, phone numbers masked.
func WriteTable(ctx context.Context, store *ledger.Store, id string, w io.Writer,
	mask func(string) string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tMSISDN\tAMOUNT\tSTATE\tREASON\tFIN. TX ID\tATTEMPTS")
	err := store.EachItem(ctx, id, func(it *ledger.Item) error {
		_, err := fmt.Fprintf(tw, "%d\t%s\t%s %s\t%s\t%s\t%s\t%d\n", it.Line, mask(it.PartyID),
			it.Amount, it.Currency, it.State, it.Reason, it.FinTxID, it.Attempts)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

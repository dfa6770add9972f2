package intake

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/ledger"
)

// repeatChunk is how many external IDs one lookup asks about.
const repeatChunk = 1000

// repeatExamples is how many lines a Repeat names.
const repeatExamples = 5

// Repeat says that rows of the file carry external IDs an earlier batch already enqueued, with
// items that are paid, being paid or may yet be (any state but FAILED and CANCELLED). MoMo
// does not deduplicate external IDs, so enqueueing them again pays those people again: the
// classic case is a corrected file uploaded whole after the first one was paid.
type Repeat struct {
	Batch    string // the earlier batch
	Rows     int    // how many rows of this file
	Examples []RepeatedRow
}

// RepeatedRow is one line of the file whose external ID an earlier batch holds.
type RepeatedRow struct {
	Line       int
	ExternalID string
	State      ledger.State // of the earlier item
}

// repeatCheck finds, on the first pass, the accepted rows whose external ID an earlier batch of
// the product holds. It asks Redis a chunk of rows at a time and keeps per earlier batch only a
// count and a few lines, so a file that repeats a million rows costs no memory to speak of.
type repeatCheck struct {
	ctx     context.Context
	store   *ledger.Store
	product string
	lines   []int
	ids     []string
	found   map[string]*Repeat
	status  map[string]string // batch status of each earlier batch looked at
}

func newRepeatCheck(ctx context.Context, store *ledger.Store, product string) *repeatCheck {
	return &repeatCheck{ctx: ctx, store: store, product: product, found: map[string]*Repeat{},
		status: map[string]string{}}
}

// add notes an accepted row; every repeatChunk rows it asks Redis.
func (r *repeatCheck) add(row batch.Row) error {
	if row.ExternalID == "" {
		return nil
	}
	r.lines = append(r.lines, row.Line)
	r.ids = append(r.ids, row.ExternalID)
	if len(r.ids) >= repeatChunk {
		return r.flush()
	}
	return nil
}

// flush asks about the rows noted since the last flush.
func (r *repeatCheck) flush() error {
	if len(r.ids) == 0 {
		return nil
	}
	uses, err := r.store.ExternalIDUses(r.ctx, r.product, r.ids)
	if err != nil {
		return err
	}
	byBatch := map[string][]int{} // earlier batch -> indexes into this chunk
	for i, u := range uses {
		if u.Batch != "" {
			byBatch[u.Batch] = append(byBatch[u.Batch], i)
		}
	}
	for b, idx := range byBatch {
		if err := r.check(b, idx, uses); err != nil {
			return err
		}
	}
	r.lines, r.ids = r.lines[:0], r.ids[:0]
	return nil
}

// check records the rows idx of the chunk whose earlier item in batch b may be paid.
func (r *repeatCheck) check(b string, idx []int, uses []ledger.ExternalIDUse) error {
	status, ok := r.status[b]
	if !ok {
		meta, err := r.store.GetBatch(r.ctx, b)
		switch {
		case err == nil:
			status = meta.Status
		case errors.Is(err, ledger.ErrNotFound):
			status = ""
		default:
			return err
		}
		r.status[b] = status
	}
	if status == "" || status == ledger.BatchLoading {
		return nil // gone, or never opened: nothing of it was paid
	}
	refs := make([]string, len(idx))
	for j, i := range idx {
		refs[j] = uses[i].Ref
	}
	states, err := r.store.ItemStates(r.ctx, b, refs)
	if err != nil {
		return err
	}
	for j, i := range idx {
		switch states[j] {
		case "", ledger.Failed, ledger.Cancelled:
			continue
		}
		rep := r.found[b]
		if rep == nil {
			rep = &Repeat{Batch: b}
			r.found[b] = rep
		}
		rep.Rows++
		if len(rep.Examples) < repeatExamples {
			rep.Examples = append(rep.Examples, RepeatedRow{Line: r.lines[i], ExternalID: r.ids[i], State: states[j]})
		}
	}
	return nil
}

// repeats returns what was found, leaving out batch self (a run that continues its own batch),
// biggest first.
func (r *repeatCheck) repeats(self string) []Repeat {
	var out []Repeat
	for b, rep := range r.found {
		if b != self {
			sort.Slice(rep.Examples, func(i, j int) bool { return rep.Examples[i].Line < rep.Examples[j].Line })
			out = append(out, *rep)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rows != out[j].Rows {
			return out[i].Rows > out[j].Rows
		}
		return out[i].Batch < out[j].Batch
	})
	return out
}

// RepeatError is the refusal of a file with rows that earlier batches pay.
func RepeatError(file string, reps []Repeat) error {
	var parts []string
	total := 0
	for _, rep := range reps {
		total += rep.Rows
		var ex []string
		for _, e := range rep.Examples {
			ex = append(ex, fmt.Sprintf("line %d %q (%s there)", e.Line, e.ExternalID, e.State))
		}
		more := ""
		if rep.Rows > len(rep.Examples) {
			more = fmt.Sprintf(" and %d more", rep.Rows-len(rep.Examples))
		}
		parts = append(parts, fmt.Sprintf("batch %q: %s%s", rep.Batch, strings.Join(ex, ", "), more))
	}
	return fmt.Errorf("%w: %s: %d row(s) carry external IDs that earlier batches already pay "+
		"or may still pay; MoMo does not deduplicate external IDs, so these rows would pay the "+
		"same people again. %s. Remove those rows, or pass -allow-repeated-ids to pay them again",
		ErrRefused, file, total, strings.Join(parts, "; "))
}

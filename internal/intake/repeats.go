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

// beingEnqueued stands for the state of an item that another enqueue is writing right now.
const beingEnqueued ledger.State = "being enqueued now"

// batchHolds says what a batch that the index names means for a row carrying the same external
// ID: "" when the batch cannot pay it (gone, or loading with nobody writing it: a killed
// enqueue), beingEnqueued when another enqueue is writing it now, else the batch's status.
func batchHolds(ctx context.Context, store *ledger.Store, b string) (string, error) {
	meta, err := store.GetBatch(ctx, b)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if meta.Status != ledger.BatchLoading {
		return meta.Status, nil
	}
	busy, err := store.LockHeld(ctx, b, enqueueLock)
	if err != nil || !busy {
		return "", err
	}
	return string(beingEnqueued), nil
}

// mayPay reports whether an earlier item in state st is paid, being paid or may yet be.
func mayPay(st ledger.State) bool {
	switch st {
	case "", ledger.Failed, ledger.Cancelled:
		return false
	}
	return true
}

// check records the rows idx of the chunk whose earlier item in batch b may be paid.
func (r *repeatCheck) check(b string, idx []int, uses []ledger.ExternalIDUse) error {
	status, ok := r.status[b]
	if !ok {
		var err error
		if status, err = batchHolds(r.ctx, r.store, b); err != nil {
			return err
		}
		r.status[b] = status
	}
	if status == "" {
		return nil // nothing of it was or will be paid
	}
	if status == string(beingEnqueued) {
		for _, i := range idx {
			r.note(b, r.lines[i], r.ids[i], beingEnqueued)
		}
		return nil
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
		if mayPay(states[j]) {
			r.note(b, r.lines[i], r.ids[i], states[j])
		}
	}
	return nil
}

// note records a row that batch b pays already.
func (r *repeatCheck) note(b string, line int, id string, st ledger.State) {
	noteRepeat(r.found, b, line, id, st)
}

func noteRepeat(found map[string]*Repeat, b string, line int, id string, st ledger.State) {
	rep := found[b]
	if rep == nil {
		rep = &Repeat{Batch: b}
		found[b] = rep
	}
	rep.Rows++
	if len(rep.Examples) < repeatExamples {
		rep.Examples = append(rep.Examples, RepeatedRow{Line: line, ExternalID: id, State: st})
	}
}

// repeats returns what was found, leaving out batch self (a run that continues its own batch),
// biggest first.
func (r *repeatCheck) repeats(self string) []Repeat { return sortedRepeats(r.found, self) }

func sortedRepeats(found map[string]*Repeat, self string) []Repeat {
	var out []Repeat
	for b, rep := range found {
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

// claimRounds bounds how often one chunk's external IDs are claimed again after judging their
// holders harmless; only enqueues racing for the same IDs need more than one.
const claimRounds = 5

// claimIDs records the external IDs of a chunk of written items in the index, atomically per
// ID, and refuses the file when an earlier batch's item that may be paid, or another enqueue
// writing right now, holds one. This is the check that two enqueues racing with the same rows
// cannot both pass: the first pass's lookup only reports early.
func (in *Intake) claimIDs(ctx context.Context, req Request, batchID string, lines []int,
	ids, refs []string) error {
	product := string(req.Product)
	expect := make([]string, len(ids))
	for round := 0; round < claimRounds; round++ {
		conflicts, err := in.store.ClaimExternalIDs(ctx, product, batchID, ids, refs, expect)
		if err != nil || len(conflicts) == 0 {
			return err
		}
		found := map[string]*Repeat{}
		var again []int
		for pos, use := range conflicts {
			holds, err := batchHolds(ctx, in.store, use.Batch)
			if err != nil {
				return err
			}
			st := ledger.State("")
			switch holds {
			case "":
			case string(beingEnqueued):
				st = beingEnqueued
			default:
				states, err := in.store.ItemStates(ctx, use.Batch, []string{use.Ref})
				if err != nil {
					return err
				}
				st = states[0]
			}
			if mayPay(st) {
				noteRepeat(found, use.Batch, lines[pos], ids[pos], st)
				continue
			}
			again = append(again, pos)
			expect[pos] = use.Value()
		}
		if len(found) > 0 {
			return RepeatError(req.Path, sortedRepeats(found, batchID))
		}
		sort.Ints(again)
		lines, ids, refs, expect = pick(lines, again), pick(ids, again), pick(refs, again), pick(expect, again)
	}
	return fmt.Errorf("intake: %s: the external IDs of some rows kept changing hands while "+
		"this file was enqueued; nothing was enqueued, run the command again", req.Path)
}

func pick[T any](s []T, at []int) []T {
	out := make([]T, len(at))
	for i, j := range at {
		out[i] = s[j]
	}
	return out
}

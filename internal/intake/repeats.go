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

// repeatChunk is how many external IDs one lookup of the first pass asks about.
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

// beingEnqueued stands for the state of an item that another enqueue is writing right now.
const beingEnqueued ledger.State = "being enqueued now"

// beingRetried stands for the state of an item of an open batch that the index names but that
// does not exist (yet): retry-failed records a new attempt there a moment before it writes it.
const beingRetried ledger.State = "being retried now"

// mayPay reports whether an item in state st is paid, being paid or may yet be. A RETRIED item
// pays nothing itself: its new attempt carries the external ID on and is on record too.
func mayPay(st ledger.State) bool {
	switch st {
	case "", ledger.Failed, ledger.Cancelled, ledger.Retried:
		return false
	}
	return true
}

// judge finds the states of the items the index names. It keeps what it learnt of each batch
// for one look, so a chunk costs a round trip per batch it names, not per row.
type judge struct {
	ctx    context.Context
	store  *ledger.Store
	status map[string]ledger.State // per batch: "" cannot pay, beingEnqueued, or "open"
}

func newJudge(ctx context.Context, store *ledger.Store) *judge {
	return &judge{ctx: ctx, store: store, status: map[string]ledger.State{}}
}

// batchOpen stands, in judge.status, for a batch whose items speak for themselves.
const batchOpen ledger.State = "open"

// batch says what a batch named by the index means for a row carrying the same external ID:
// "" when it cannot pay it (gone, or loading with nobody writing it: a killed enqueue),
// beingEnqueued when another enqueue is writing it now, batchOpen otherwise.
func (j *judge) batch(b string) (ledger.State, error) {
	if st, ok := j.status[b]; ok {
		return st, nil
	}
	st, err := j.lookBatch(b)
	if err == nil {
		j.status[b] = st
	}
	return st, err
}

func (j *judge) lookBatch(b string) (ledger.State, error) {
	meta, err := j.store.GetBatch(j.ctx, b)
	if errors.Is(err, ledger.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if meta.Status == ledger.BatchDiscarding {
		return "", nil // being deleted: can pay nothing
	}
	if meta.Status != ledger.BatchLoading {
		return batchOpen, nil
	}
	busy, err := j.store.LockHeld(j.ctx, b, enqueueLock)
	if err != nil || !busy {
		return "", err
	}
	return beingEnqueued, nil
}

// states returns the state of every item of holders (holders[i] are the items of one external
// ID), leaving out the items of batch self: a run rewriting its own batch replaces them.
func (j *judge) states(holders []ledger.ExternalIDHolders, self string) ([][]ledger.State, error) {
	out := make([][]ledger.State, len(holders))
	type at struct{ i, k int }
	refs, where := map[string][]string{}, map[string][]at{}
	for i, h := range holders {
		out[i] = make([]ledger.State, len(h.Items))
		for k, u := range h.Items {
			if u.Batch == self {
				continue
			}
			st, err := j.batch(u.Batch)
			if err != nil {
				return nil, err
			}
			if st != batchOpen {
				out[i][k] = st
				continue
			}
			refs[u.Batch] = append(refs[u.Batch], u.Ref)
			where[u.Batch] = append(where[u.Batch], at{i, k})
		}
	}
	for b, rs := range refs {
		sts, err := j.store.ItemStates(j.ctx, b, rs)
		if err != nil {
			return nil, err
		}
		for n, w := range where[b] {
			out[w.i][w.k] = sts[n]
			if sts[n] == "" {
				out[w.i][w.k] = beingRetried
			}
		}
	}
	return out, nil
}

// repeatCheck finds, on the first pass, the accepted rows whose external ID an earlier batch of
// the product holds. It asks Redis a chunk of rows at a time and keeps per earlier batch only a
// count and a few lines, so a file that repeats a million rows costs no memory to speak of.
// Batch IDs are not known yet on the first pass, so it keeps the file's own batch too; repeats
// leaves it out.
type repeatCheck struct {
	judge   *judge
	product string
	lines   []int
	ids     []string
	found   map[string]*Repeat
}

func newRepeatCheck(ctx context.Context, store *ledger.Store, product string) *repeatCheck {
	return &repeatCheck{judge: newJudge(ctx, store), product: product, found: map[string]*Repeat{}}
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
	holders, err := r.judge.store.ExternalIDUses(r.judge.ctx, r.product, r.ids)
	if err != nil {
		return err
	}
	states, err := r.judge.states(holders, "")
	if err != nil {
		return err
	}
	for i, h := range holders {
		for k, u := range h.Items {
			if mayPay(states[i][k]) {
				noteRepeat(r.found, u.Batch, r.lines[i], r.ids[i], states[i][k])
			}
		}
	}
	r.lines, r.ids = r.lines[:0], r.ids[:0]
	return nil
}

// repeats returns what was found, leaving out batch self (a run that continues its own batch),
// biggest first.
func (r *repeatCheck) repeats(self string) []Repeat { return sortedRepeats(r.found, self) }

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

// claimRounds bounds how often one chunk's external IDs are read and set again because another
// enqueue changed them in between; only enqueues racing for the same IDs need more than one.
const claimRounds = 5

// claimIDs records the external IDs of a chunk of written items in the index, with a
// compare-and-set per ID, and refuses the file when an earlier item that may be paid, or
// another enqueue writing right now, holds one in a batch that allow does not allow. This is the check that two enqueues
// racing with the same rows cannot both pass; the first pass's lookup only reports early.
//
// Each ID keeps every item that may still pay it (allowed repeats add to the list), so a later
// file is judged against all of them: an item that ended FAILED or CANCELLED, or a batch that
// is gone, drops out; of the SUCCESSFUL ones one is kept, which is proof enough.
func (in *Intake) claimIDs(ctx context.Context, req Request, batchID string, lines []int,
	ids, refs []string, allow func(batch string) (bool, error)) error {
	product := string(req.Product)
	j := newJudge(ctx, in.store)
	for round := 0; round < claimRounds; round++ {
		holders, err := in.store.ExternalIDUses(ctx, product, ids)
		if err != nil {
			return err
		}
		j.status = map[string]ledger.State{} // batches change between rounds
		states, err := j.states(holders, batchID)
		if err != nil {
			return err
		}
		found := map[string]*Repeat{}
		vals, expect := make([]string, len(ids)), make([]string, len(ids))
		for i, h := range holders {
			var keep []ledger.ExternalIDUse
			paid := false
			for k, u := range h.Items {
				st := states[i][k]
				if u.Batch == batchID || !mayPay(st) || (st == ledger.Successful && paid) {
					continue
				}
				paid = paid || st == ledger.Successful
				keep = append(keep, u)
				ok, err := allow(u.Batch)
				if err != nil {
					return err
				}
				if !ok {
					noteRepeat(found, u.Batch, lines[i], ids[i], st)
				}
			}
			vals[i] = ledger.FormatExternalIDHolders(append(keep, ledger.ExternalIDUse{Batch: batchID, Ref: refs[i]}))
			expect[i] = h.Raw
		}
		if len(found) > 0 {
			return RepeatError(req.Path, sortedRepeats(found, batchID))
		}
		changed, err := in.store.SetExternalIDs(ctx, product, ids, vals, expect)
		if err != nil || len(changed) == 0 {
			return err
		}
		lines, ids, refs = pick(lines, changed), pick(ids, changed), pick(refs, changed)
	}
	return fmt.Errorf("intake: %s: the external IDs of some rows kept changing while this file "+
		"was enqueued; nothing was enqueued, run the command again", req.Path)
}

func pick[T any](s []T, at []int) []T {
	out := make([]T, len(at))
	for i, j := range at {
		out[i] = s[j]
	}
	return out
}

// ClaimRetry is the repeat check of 'payoutctl retry-failed': before the FAILED item oldRef of
// a batch is paid again as the new attempt newRef, no item of another batch that may pay its
// external ID ext may exist (a corrected file enqueued since may have paid that row already),
// and newRef is put on record as carrying ext, so that files enqueued later see it. ok false
// comes with the reason.
func ClaimRetry(ctx context.Context, store *ledger.Store, product, ext, batchID, newRef string) (bool, string, error) {
	if ext == "" {
		return true, "", nil
	}
	j := newJudge(ctx, store)
	for round := 0; round < claimRounds; round++ {
		holders, err := store.ExternalIDUses(ctx, product, []string{ext})
		if err != nil {
			return false, "", err
		}
		j.status = map[string]ledger.State{}
		states, err := j.states(holders, "")
		if err != nil {
			return false, "", err
		}
		var keep []ledger.ExternalIDUse
		for k, u := range holders[0].Items {
			st := states[0][k]
			if !mayPay(st) {
				continue
			}
			if u.Batch != batchID {
				return false, fmt.Sprintf("external ID %q is paid or may yet be paid by batch %q "+
					"(%s there)", ext, u.Batch, st), nil
			}
			keep = append(keep, u)
		}
		val := ledger.FormatExternalIDHolders(append(keep, ledger.ExternalIDUse{Batch: batchID, Ref: newRef}))
		changed, err := store.SetExternalIDs(ctx, product, []string{ext}, []string{val},
			[]string{holders[0].Raw})
		if err != nil || len(changed) == 0 {
			return err == nil, "", err
		}
	}
	return false, "its external ID kept changing while it was checked; try again", nil
}

package tasks

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// ReconcileRate is the most status queries per second a reconciliation should send: MTN's
// stated guidance for status GETs.
const ReconcileRate = 10

// ReconcileResult counts what Reconcile found, by outcome.
type ReconcileResult struct {
	// Checked is how many items MoMo was asked about: UNKNOWN, SUBMITTING and SUBMITTED ones.
	Checked int
	// Successful items are now SUCCESSFUL, with MoMo's financialTransactionId.
	Successful int
	// Failed items are now FAILED, with MoMo's reason; 'payoutctl retry-failed' may retry them.
	Failed int
	// Pending items are still pending at MoMo and were left as they are.
	Pending int
	// NotFound counts items MoMo does not know (404), left as they are: an UNKNOWN or
	// SUBMITTED one may still appear and be paid, so it never becomes FAILED; a SUBMITTING
	// one is resubmitted by the worker under the same reference ID.
	NotFound int
	// Changed counts items a worker moved on while MoMo was being asked; they are left to it.
	Changed int
	// Errors counts items MoMo could not be asked about (timeout, 5xx, 429); run again later.
	Errors int
}

// reconcilable are the states Reconcile asks MoMo about.
var reconcilable = []ledger.State{ledger.Unknown, ledger.Submitting, ledger.Submitted}

// Reconcile asks MoMo, at most as fast as limiter allows, for the status of every UNKNOWN,
// SUBMITTING and SUBMITTED item of a batch, and records final answers with compare-and-set
// transitions: SUCCESSFUL with its financialTransactionId, FAILED with its reason. Anything
// else (pending, 404, an error) leaves the item as it is, so Reconcile never makes a payout
// that could still be paid look failed. Workers may run meanwhile: a transition they win is
// counted as Changed.
//
// It stops at the first error that would repeat for every item (MoMo refused the credentials
// or configuration, Redis failed, ctx done) and returns the counts so far with it.
func Reconcile(ctx context.Context, store *ledger.Store, client MoMo, batch string,
	limiter *rate.Limiter, log zerolog.Logger) (ReconcileResult, error) {
	var res ReconcileResult
	b, err := store.GetBatch(ctx, batch)
	if err != nil {
		return res, err
	}
	product := momo.Product(b.Product)

	// Collect first: the transitions below must not shift the pages EachItem reads.
	var todo []*ledger.Item
	err = store.EachItem(ctx, batch, func(it *ledger.Item) error {
		for _, st := range reconcilable {
			if it.State == st {
				todo = append(todo, it)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, it := range todo {
		if err := limiter.Wait(ctx); err != nil {
			return res, fmt.Errorf("tasks: reconcile: %w", err)
		}
		res.Checked++
		if err := reconcileItem(ctx, store, client, product, it, &res, log); err != nil {
			return res, err
		}
	}
	return res, nil
}

// reconcileItem asks MoMo about one item and records a final answer.
func reconcileItem(ctx context.Context, store *ledger.Store, client MoMo, product momo.Product,
	it *ledger.Item, res *ReconcileResult, log zerolog.Logger) error {
	l := log.With().Str("batch_id", it.Batch).Str("ref", it.Ref).Int("row", it.Line).
		Str("product", string(product)).Str("msisdn", MaskMSISDN(it.PartyID)).Logger()
	st, err := client.GetTransfer(ctx, product, it.Ref)
	switch momo.Classify(err) {
	case momo.ClassNone:
	case momo.ClassNotFound:
		res.NotFound++
		l.Info().Str("state", string(it.State)).Msg("MoMo does not know this reference ID; left as is")
		return nil
	case momo.ClassConfig:
		return fmt.Errorf("tasks: reconcile: %w", err)
	default:
		if ctx.Err() != nil {
			return fmt.Errorf("tasks: reconcile: %w", ctx.Err())
		}
		res.Errors++
		l.Warn().Str("state", string(it.State)).Str("err", err.Error()).
			Msg("could not ask MoMo; left as is")
		return nil
	}
	if !st.Terminal() {
		res.Pending++
		return nil
	}
	return recordFinal(ctx, store, it, st, res, &l)
}

// recordFinal records a terminal status from MoMo, unless a worker moved the item meanwhile.
func recordFinal(ctx context.Context, store *ledger.Store, it *ledger.Item,
	st *momo.TransferStatus, res *ReconcileResult, l *zerolog.Logger) error {
	c := ledger.Change{From: reconcilable, To: ledger.Successful,
		Fields: map[string]string{ledger.FieldFinTxID: st.FinancialTransactionID,
			ledger.FieldReason: "", ledger.FieldLastError: ""}}
	count := &res.Successful
	if st.Status == momo.StatusFailed {
		reason := st.Reason
		if reason == "" {
			reason = momo.StatusFailed
		}
		c.To, c.Fields = ledger.Failed, map[string]string{ledger.FieldReason: reason}
		count = &res.Failed
	}
	ok, prev, err := store.Transition(ctx, it.Batch, it.Ref, c)
	if err != nil {
		return err
	}
	if !ok {
		res.Changed++
		l.Info().Str("state", string(prev)).Msg("moved on by a worker meanwhile; left to it")
		return nil
	}
	*count++
	ev := l.Info().Str("state", string(c.To))
	if c.To == ledger.Failed {
		ev = ev.Str("reason", c.Fields[ledger.FieldReason])
	}
	ev.Msgf("reconciled from %s", prev)
	return nil
}

package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// HandleStatus asks MoMo for a submitted transfer's status. A terminal answer is recorded; a
// pending one schedules the next poll with a capped backoff until the polling window closes,
// when the item becomes UNKNOWN (never resubmitted automatically).
func (p *Processor) HandleStatus(ctx context.Context, t *asynq.Task) error {
	pl, err := decodePayload(t)
	if err != nil {
		return err
	}
	if ok, err := p.store.ClaimPoll(ctx, pl.Batch, pl.Ref, pl.Seq); err != nil || !ok {
		return err // a later poll or a final state has superseded this one
	}
	it, batch, err := p.load(ctx, pl)
	if err != nil {
		return err
	}
	product := momo.Product(batch.Product)
	if reason, err := p.store.ProductPause(ctx, string(product)); err != nil || reason != "" {
		return errors.Join(errProductPaused, err)
	}
	return p.Poll(ctx, it, product, pl.Seq)
}

// Poll asks MoMo once for the status of a SUBMITTED item and acts on the answer. seq is the
// sequence number of the poll that asks.
func (p *Processor) Poll(ctx context.Context, it *ledger.Item, product momo.Product, seq int) error {
	callCtx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	defer cancel()
	st, err := p.getTransfer(callCtx, product, it.Ref)
	switch momo.Classify(err) {
	case momo.ClassNone:
		if st.Terminal() {
			return p.finish(ctx, it, product, st)
		}
		return p.next(ctx, it, product, seq, "")
	case momo.ClassNotFound:
		// NOTE: MoMo has answered 404 shortly after a 202; within the grace window that means
		// "not visible yet". Later it is still no proof of failure, so the item keeps polling
		// and ends UNKNOWN for reconciliation rather than FAILED (which could be paid again).
		note := "not visible at MoMo yet"
		if p.now().Sub(it.SubmittedAt) > p.cfg.NotFoundGrace {
			note = "MoMo does not find an acknowledged transfer"
			p.itemLogger(it, product).Warn().Msg(note)
		}
		return p.next(ctx, it, product, seq, note)
	case momo.ClassConfig:
		p.pauseProduct(ctx, product, err)
		return err
	default:
		if p.obs != nil {
			p.obs.Retry(product, "status")
		}
		_ = p.store.SetDue(ctx, it.Batch, it.Ref, p.now().Add(p.cfg.PollMax+p.cfg.Slack))
		return fmt.Errorf("tasks: poll status: %w", err)
	}
}

// next schedules the poll after seq, or gives the item up as UNKNOWN when the window closed.
func (p *Processor) next(ctx context.Context, it *ledger.Item, product momo.Product, seq int,
	note string) error {
	if p.now().Sub(it.SubmittedAt) > p.cfg.PollWindow {
		reason := "polling window closed"
		if note != "" {
			reason += ": " + note
		}
		ok, _, err := p.move(ctx, it, product, ledger.Change{
			From: []ledger.State{ledger.Submitted}, To: ledger.Unknown,
			Fields: map[string]string{ledger.FieldReason: reason},
		})
		if ok {
			p.itemLogger(it, product).Warn().Str("state", string(ledger.Unknown)).
				Msg("payout still not final; left for reconciliation")
		}
		return err
	}
	return p.schedulePoll(ctx, it, product, seq+1, p.backoff(seq))
}

// backoff is the delay after poll seq: PollInitial doubling, capped at PollMax.
func (p *Processor) backoff(seq int) time.Duration {
	d := p.cfg.PollInitial
	for i := 1; i < seq && d < p.cfg.PollMax; i++ {
		d *= 2
	}
	return min(d, p.cfg.PollMax)
}

// finish records a terminal status from MoMo.
func (p *Processor) finish(ctx context.Context, it *ledger.Item, product momo.Product,
	st *momo.TransferStatus) error {
	log := p.itemLogger(it, product)
	if st.Status == "SUCCESSFUL" {
		ok, _, err := p.move(ctx, it, product, ledger.Change{
			From: []ledger.State{ledger.Submitted}, To: ledger.Successful,
			Fields: map[string]string{ledger.FieldFinTxID: st.FinancialTransactionID},
		})
		if ok {
			log.Info().Str("state", string(ledger.Successful)).Msg("payout successful")
		}
		return err
	}
	reason := st.Reason
	if reason == "" {
		reason = "FAILED"
	}
	if err := p.fail(ctx, it, product, reason, log); err != nil {
		return err
	}
	if momo.ReasonIsInsufficientFunds(reason) {
		p.pauseBatch(ctx, it, reason)
	}
	return nil
}

// pauseBatch stops a batch whose account ran dry: the rows not yet submitted wait for a top-up
// and 'payoutctl resume BATCH' instead of failing one by one.
func (p *Processor) pauseBatch(ctx context.Context, it *ledger.Item, reason string) {
	if p.cfg.KeepGoingOnInsufficientFunds {
		return
	}
	if p.cfg.Sandbox && it.PartyID == SandboxNotEnoughFundsNumber {
		// NOTE: in the sandbox this number answers NOT_ENOUGH_FUNDS by design, for this payee
		// alone; the account is not dry, and pausing would leave a test file unfinished.
		p.itemLogger(it, momo.Product("")).Info().
			Msg("sandbox test number: NOT_ENOUGH_FUNDS for this payee only; batch not paused")
		return
	}
	why := fmt.Sprintf("%s on line %d (ref %s); top up the account, then 'payoutctl resume %s'",
		reason, it.Line, it.Ref, it.Batch)
	ok, err := p.store.SetBatchStatus(ctx, it.Batch, []string{ledger.BatchReady}, ledger.BatchPaused, why)
	if err != nil {
		p.log.Error().Err(err).Str("batch_id", it.Batch).Msg("could not pause batch")
		return
	}
	if ok {
		p.log.Warn().Str("batch_id", it.Batch).Str("reason", why).Msg("batch paused")
		if p.obs != nil {
			p.obs.BatchPaused(it.Batch)
		}
	}
}

// getTransfer asks MoMo for a transfer's status within the shared status-query rate.
func (p *Processor) getTransfer(ctx context.Context, product momo.Product, ref string) (*momo.TransferStatus, error) {
	if p.cfg.StatusRate > 0 {
		if err := p.store.RateWait(ctx, "status", p.cfg.StatusRate); err != nil {
			return nil, err
		}
	}
	return p.momo.GetTransfer(ctx, product, ref)
}

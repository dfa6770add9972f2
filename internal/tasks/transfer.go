package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// HandleTransfer submits one payout to MoMo, following the ledger:
//
//   - VALIDATED: the item was never sent; POST it.
//   - SUBMITTING: an earlier attempt may have reached MoMo. Ask for the reference ID first:
//     found means submitted; 404 means it is safe to POST again with the same ID.
//   - SUBMITTED: MoMo has it; make sure a status poll is scheduled.
//   - terminal: nothing to do.
func (p *Processor) HandleTransfer(ctx context.Context, t *asynq.Task) error {
	pl, err := decodePayload(t)
	if err != nil {
		return err
	}
	it, batch, err := p.load(ctx, pl)
	if err != nil {
		return err
	}
	product := momo.Product(batch.Product)
	if it.State.Terminal() {
		return nil
	}
	if it.State == ledger.Submitted {
		return p.schedulePoll(ctx, it, product, max(it.PollSeq, 1), 0)
	}
	if done, err := p.checkBatch(ctx, it, batch, product); done || err != nil {
		return err
	}
	if reason, err := p.store.ProductPause(ctx, string(product)); err != nil || reason != "" {
		return errors.Join(errProductPaused, err)
	}
	return p.withLock(ctx, it, func(ctx context.Context) error {
		// The state may have moved while another run held the lock.
		it, err := p.store.GetItem(ctx, it.Batch, it.Ref)
		if err != nil {
			return err
		}
		return p.submit(ctx, it, product)
	})
}

// load reads the item of a payload and its batch. A missing item cannot be paid and is not
// retried.
func (p *Processor) load(ctx context.Context, pl Payload) (*ledger.Item, *ledger.Batch, error) {
	it, err := p.store.GetItem(ctx, pl.Batch, pl.Ref)
	if errors.Is(err, ledger.ErrNotFound) {
		p.log.Error().Str("batch_id", pl.Batch).Str("ref", pl.Ref).Msg("task for an item the ledger does not have")
		return nil, nil, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return nil, nil, err
	}
	batch, err := p.store.GetBatch(ctx, pl.Batch)
	if err != nil {
		return nil, nil, err
	}
	return it, batch, nil
}

// checkBatch applies the batch's status to an item not yet submitted. It returns true when the
// item must not be submitted now.
func (p *Processor) checkBatch(ctx context.Context, it *ledger.Item, b *ledger.Batch,
	product momo.Product) (bool, error) {
	if it.State == ledger.Validated && b.At.After(p.now()) {
		return true, errNotYet
	}
	switch b.Status {
	case ledger.BatchLoading, ledger.BatchDiscarding:
		return true, errBatchLoading
	case ledger.BatchCancelled:
		if it.State == ledger.Validated {
			_, _, err := p.move(ctx, it, product, ledger.Change{From: []ledger.State{ledger.Validated},
				To: ledger.Cancelled, Fields: map[string]string{ledger.FieldReason: "batch cancelled"}})
			return true, err
		}
	case ledger.BatchPaused:
		// Rows not yet sent wait for 'payoutctl resume', which makes them due for the sweeper.
		if it.State == ledger.Validated {
			return true, nil
		}
	}
	return false, nil
}

// withLock runs fn while holding the item's lock. A run that cannot take the lock backs off and
// lets the holder and the ledger decide. The lock is renewed while fn runs; should a renewal
// find it lost, fn's context is cancelled so that two runs never talk to MoMo at once.
func (p *Processor) withLock(ctx context.Context, it *ledger.Item, fn func(context.Context) error) error {
	token, err := p.store.Lock(ctx, it.Batch, it.Ref, p.cfg.LockTTL)
	if err != nil {
		return err
	}
	if token == "" {
		return errBusy
	}
	callCtx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		p.renewLock(callCtx, cancel, it, token)
	}()
	defer func() {
		cancel()
		<-renewed
		// Release even when ctx is done, so the next run need not wait for the TTL.
		unlockCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if err := p.store.Unlock(unlockCtx, it.Batch, it.Ref, token); err != nil {
			p.log.Warn().Err(err).Str("ref", it.Ref).Msg("could not release item lock")
		}
	}()
	return fn(callCtx)
}

// renewLock extends the item lock every third of its TTL until ctx is done, and cancels the
// work when the lock is no longer ours.
func (p *Processor) renewLock(ctx context.Context, cancel context.CancelFunc, it *ledger.Item, token string) {
	t := time.NewTicker(p.cfg.LockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := p.store.ExtendLock(ctx, it.Batch, it.Ref, token, p.cfg.LockTTL)
		if ctx.Err() != nil {
			return
		}
		if err != nil || !ok {
			p.log.Warn().Str("batch_id", it.Batch).Str("ref", it.Ref).
				Msg("item lock lost; stopping this run")
			cancel()
			return
		}
	}
}

// submit does one attempt for an item in VALIDATED or SUBMITTING, under the item lock.
func (p *Processor) submit(ctx context.Context, it *ledger.Item, product momo.Product) error {
	log := p.itemLogger(it, product)
	switch it.State {
	case ledger.Validated:
	case ledger.Submitting:
		found, err := p.resolve(ctx, it, product, log)
		if found || err != nil {
			return err
		}
	case ledger.Submitted:
		return p.schedulePoll(ctx, it, product, max(it.PollSeq, 1), 0)
	default:
		return nil
	}

	// Record the attempt before the POST: after a crash the next run sees SUBMITTING and asks
	// MoMo before sending anything.
	ok, _, err := p.move(ctx, it, product, ledger.Change{
		From: []ledger.State{ledger.Validated, ledger.Submitting}, To: ledger.Submitting,
		IncrAttempts: true, Due: p.now().Add(p.cfg.CallTimeout + p.cfg.Slack),
	})
	if err != nil || !ok {
		return err
	}
	it.Attempts++
	err = p.momo.Transfer(ctx, product, it.Ref, transferRequest(it, p.callbackURL(it)))
	return p.afterPost(ctx, it, product, err, log)
}

// resolve asks MoMo whether an earlier, unanswered attempt created the transfer. It returns
// true when the item needs no POST.
func (p *Processor) resolve(ctx context.Context, it *ledger.Item, product momo.Product,
	log *zerolog.Logger) (bool, error) {
	st, err := p.getTransfer(ctx, product, it.Ref)
	switch momo.Classify(err) {
	case momo.ClassNone:
		log.Info().Str("state", st.Status).Msg("earlier attempt reached MoMo")
		return true, p.recordSubmitted(ctx, it, product, st)
	case momo.ClassNotFound:
		// Not created: the same reference ID may be sent again. Should it exist after all
		// and only be invisible yet, MoMo answers 409 and the item is still paid once.
		return false, nil
	case momo.ClassConfig:
		p.pauseProduct(ctx, product, err)
		return true, err
	default:
		return true, p.ambiguous(ctx, it, product, fmt.Errorf("ask before resubmitting: %w", err),
			"could not ask MoMo about an earlier attempt; will ask again before any resubmission")
	}
}

// afterPost applies the outcome table of a transfer POST.
func (p *Processor) afterPost(ctx context.Context, it *ledger.Item, product momo.Product,
	err error, log *zerolog.Logger) error {
	switch momo.Classify(err) {
	case momo.ClassNone, momo.ClassConflict:
		// 409 means an earlier attempt of this reference ID got through.
		log.Info().Int("attempt", it.Attempts).Msg("transfer accepted by MoMo")
		return p.recordSubmitted(ctx, it, product, nil)
	case momo.ClassRejected, momo.ClassNotFound:
		return p.fail(ctx, it, product, reasonOf(err), log)
	case momo.ClassInsufficientFunds:
		if ferr := p.fail(ctx, it, product, reasonOf(err), log); ferr != nil {
			return ferr
		}
		p.pauseBatch(ctx, it, "NOT_ENOUGH_FUNDS")
		return nil
	case momo.ClassConfig:
		p.pauseProduct(ctx, product, err)
		return err
	default:
		msg := "transfer outcome unknown; will ask MoMo before any resubmission"
		var me *momo.Error
		if errors.As(err, &me) && me.Op == "token" {
			// No transfer went out; the item stays SUBMITTING all the same, and the next
			// run's question costs one status query.
			msg = "no token, so no transfer sent; the next attempt asks MoMo first all the same"
		}
		return p.ambiguous(ctx, it, product, err, msg)
	}
}

// ambiguous records an outcome that may or may not have created the transfer, logging msg; the
// retry asks MoMo first.
func (p *Processor) ambiguous(ctx context.Context, it *ledger.Item, product momo.Product, err error,
	msg string) error {
	p.itemLogger(it, product).Warn().Int("attempt", it.Attempts).Str("err", err.Error()).Msg(msg)
	_, _, _ = p.move(context.WithoutCancel(ctx), it, product, ledger.Change{
		From: []ledger.State{ledger.Submitting}, To: ledger.Submitting,
		Fields: map[string]string{ledger.FieldLastError: truncate(err.Error(), 200)},
	})
	if p.obs != nil {
		p.obs.Retry(product, "transfer")
	}
	return err
}

// fail records a definitive refusal by MoMo.
func (p *Processor) fail(ctx context.Context, it *ledger.Item, product momo.Product, reason string,
	log *zerolog.Logger) error {
	ok, _, err := p.move(ctx, it, product, ledger.Change{
		From: []ledger.State{ledger.Submitting, ledger.Submitted}, To: ledger.Failed,
		Fields: map[string]string{ledger.FieldReason: reason},
	})
	if ok {
		log.Info().Str("state", string(ledger.Failed)).Str("reason", reason).Msg("payout failed")
	}
	return err
}

// recordSubmitted marks the item SUBMITTED and schedules its first poll. When the status is
// already known (st non-nil), a terminal one is recorded at once.
func (p *Processor) recordSubmitted(ctx context.Context, it *ledger.Item, product momo.Product,
	st *momo.TransferStatus) error {
	now := p.now()
	ok, prev, err := p.move(ctx, it, product, ledger.Change{
		From: []ledger.State{ledger.Submitting}, To: ledger.Submitted,
		Due: now.Add(p.cfg.PollInitial + p.cfg.Slack),
		Fields: map[string]string{
			ledger.FieldSubmittedAt: ledger.MillisField(now), ledger.FieldPollSeq: "1",
			ledger.FieldLastError: "",
		},
	})
	if err != nil {
		return err
	}
	if !ok {
		if prev == ledger.Submitted {
			// Another run recorded it; make sure its poll exists.
			return p.schedulePoll(ctx, it, product, max(it.PollSeq, 1), p.cfg.PollInitial)
		}
		return nil
	}
	it.SubmittedAt, it.PollSeq = now, 1
	if st != nil && st.Terminal() {
		return p.finish(ctx, it, product, st)
	}
	return p.schedulePoll(ctx, it, product, 1, p.cfg.PollInitial)
}

// schedulePoll enqueues status poll seq. A poll of that sequence that exists already is fine.
func (p *Processor) schedulePoll(ctx context.Context, it *ledger.Item, product momo.Product,
	seq int, delay time.Duration) error {
	task := NewPollTask(product, it.Batch, it.Ref, seq, delay, p.cfg.Options)
	_, err := p.queue.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("tasks: schedule poll: %w", err)
	}
	return p.store.AdvancePoll(ctx, it.Batch, it.Ref, seq, p.now().Add(delay+p.cfg.Slack))
}

// transferRequest is the transfer of an item; callback, when not empty, is its X-Callback-Url.
func transferRequest(it *ledger.Item, callback string) momo.TransferRequest {
	return momo.TransferRequest{
		Amount: it.Amount, Currency: it.Currency, ExternalID: it.ExternalID,
		Payee:        momo.Party{PartyIDType: it.PartyIDType, PartyID: it.PartyID},
		PayerMessage: it.PayerMsg, PayeeNote: it.PayeeNote, CallbackURL: callback,
	}
}

// reasonOf names a MoMo refusal for the report.
func reasonOf(err error) string {
	var me *momo.Error
	if errors.As(err, &me) {
		if me.Code != "" {
			return me.Code
		}
		return fmt.Sprintf("HTTP_%d", me.StatusCode)
	}
	return truncate(err.Error(), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

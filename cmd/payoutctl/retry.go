package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// maxListed bounds how many retried lines the command lists one by one; the report has all.
const maxListed = 20

func cmdRetryFailed(e *env, args []string) error {
	fs := flag.NewFlagSet("retry-failed", flag.ContinueOnError)
	reason := fs.String("reason", "",
		"retry only FAILED rows with this reason (e.g. NOT_ENOUGH_FUNDS); case is ignored")
	pos, err := parse(fs, args, 1, "one batch ID")
	if err != nil {
		return err
	}
	id := pos[0]
	b, err := e.store.GetBatch(e.ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("no batch %q (see 'payoutctl list')", id)
	}
	if err != nil {
		return err
	}
	switch b.Status {
	case ledger.BatchCancelled:
		return fmt.Errorf("batch %s is cancelled: nothing of it is paid any more, so nothing "+
			"was retried", id)
	case ledger.BatchLoading, ledger.BatchDiscarding:
		return fmt.Errorf("batch %s is %s; finish 'enqueue' first", id, b.Status)
	}

	confirm, err := momoConfirm(e, b)
	if err != nil {
		return err
	}
	// The new attempts are due after the usual slack: the sweeper pays any whose task is lost.
	out, err := e.store.RetryFailed(e.ctx, id, *reason, time.Now().Add(tasks.DefaultSlack), confirm)
	printRetried(e, id, *reason, out)
	if err != nil && len(out.Retried) == 0 {
		return err
	}
	if len(out.Refused) > 0 {
		err = errors.Join(err, fmt.Errorf("%d FAILED payout(s) not retried because MoMo did not "+
			"confirm the failure of the old reference ID (listed above)", len(out.Refused)))
	}
	if len(out.Retried) == 0 {
		return err
	}
	// Attempts made before an error are queued all the same.
	warnWaiting(e, b)
	return errors.Join(err, enqueueRetries(e, b, out.Retried))
}

// momoConfirm returns the check made before a FAILED row is paid again under a new reference
// ID: MoMo itself must say that the old reference ID failed, or not know it (a refused POST
// creates nothing). The ledger's FAILED comes only from MoMo's answers, so a refusal here means
// MoMo contradicts itself or the ledger was changed by hand; either way a person must look
// before money goes out twice.
func momoConfirm(e *env, b *ledger.Batch) (ledger.Confirm, error) {
	product, err := momo.ParseProduct(b.Product)
	if err != nil {
		return nil, err
	}
	if err := e.cfg.RequireMoMo(product); err != nil {
		return nil, fmt.Errorf("retry-failed asks MoMo about each old reference ID first: %w", err)
	}
	client, err := momo.New(e.cfg.MoMo)
	if err != nil {
		return nil, err
	}
	limiter := rate.NewLimiter(tasks.ReconcileRate, 1)
	unanswered := 0
	return func(ctx context.Context, _ int, ref, newRef string) (bool, string, error) {
		if err := limiter.Wait(ctx); err != nil {
			return false, "", err
		}
		st, err := client.GetTransfer(ctx, product, ref)
		switch momo.Classify(err) {
		case momo.ClassNone:
			if st.Status != momo.StatusFailed {
				return false, "MoMo says " + st.Status + " for the old reference ID while the " +
					"ledger says FAILED; check it with MTN before paying it again", nil
			}
		case momo.ClassNotFound:
		default:
			if unanswered++; unanswered >= maxUnanswered {
				return false, "", fmt.Errorf("MoMo did not answer %d questions in a row (%v); "+
					"stopped: run 'payoutctl retry-failed %s' again when it does", unanswered, err, b.ID)
			}
			return false, "MoMo could not be asked: " + err.Error(), nil
		}
		unanswered = 0
		it, err := e.store.GetItem(ctx, b.ID, ref)
		if err != nil {
			return false, "", err
		}
		return intake.ClaimRetry(ctx, e.store, b.Product, it.ExternalID, b.ID, newRef)
	}, nil
}

// maxUnanswered is how many MoMo questions in a row may go unanswered before retry-failed
// stops asking.
const maxUnanswered = 3

// printRetried says what a retry did and what it left alone.
func printRetried(e *env, id, reason string, out *ledger.RetryOutcome) {
	with := ""
	if reason != "" {
		with = " with reason " + reason
	}
	switch len(out.Retried) {
	case 0:
		if len(out.Refused) > 0 {
			e.printf("batch %s: no FAILED payout%s retried:\n", id, with)
			break
		}
		e.printf("batch %s: nothing to retry: no FAILED payout%s\n", id, with)
	case 1:
		e.printf("batch %s: 1 FAILED payout%s retried as a new attempt with a new reference ID:\n",
			id, with)
	default:
		e.printf("batch %s: %d FAILED payouts%s retried as new attempts with new reference IDs:\n",
			id, len(out.Retried), with)
	}
	for i, a := range out.Retried {
		if i == maxListed {
			e.printf("  ... and %d more (see previous_reference_id in 'payoutctl report %s')\n",
				len(out.Retried)-maxListed, id)
			break
		}
		e.printf("  line %d: %s -> %s\n", a.Line, a.OldRef, a.NewRef)
	}
	if len(out.OtherReasons) > 0 {
		e.printf("%d FAILED with other reasons not retried: %s\n", sum(out.OtherReasons),
			countList(out.OtherReasons))
	}
	for i, r := range out.Refused {
		if i == maxListed {
			e.printf("  ... and %d more not retried\n", len(out.Refused)-maxListed)
			break
		}
		e.printf("  line %d: %s not retried: %s\n", r.Line, r.Ref, r.Why)
	}
	if out.Changed > 0 {
		e.printf("%d were retried meanwhile by another command\n", out.Changed)
	}
	if len(out.LeftAlone) > 0 {
		e.printf("left alone: %s: MoMo may hold or even have paid them, so they are never "+
			"retried; 'payoutctl reconcile %s' asks MoMo and settles UNKNOWN ones\n",
			stateList(out.LeftAlone), id)
	}
}

// warnWaiting tells the operator when the new attempts will not be paid right away.
func warnWaiting(e *env, b *ledger.Batch) {
	if b.Status == ledger.BatchPaused {
		fmt.Fprintf(e.stderr, "warning: batch %s is paused: the new attempts wait for "+
			"'payoutctl resume %s'\n", b.ID, b.ID)
	}
	if why, err := e.store.ProductPause(e.ctx, b.Product); err == nil && why != "" {
		fmt.Fprintf(e.stderr, "warning: product %s is paused (%s): the new attempts wait for "+
			"'payoutctl resume -product %s'\n", b.Product, why, b.Product)
	}
}

// enqueueRetries queues the transfer task of every new attempt.
func enqueueRetries(e *env, b *ledger.Batch, retried []ledger.RetriedAttempt) error {
	opt, err := e.cfg.RedisConnOpt()
	if err != nil {
		return err
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	product, opts := momo.Product(b.Product), tasks.Options{}.WithDefaults()
	var errs []error
	for _, a := range retried {
		_, err := client.EnqueueContext(e.ctx, tasks.NewTransferTask(product, b.ID, a.NewRef, opts))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d new attempts could not be queued (the workers' sweeper "+
			"pays them within %s): %w", len(errs), len(retried), tasks.DefaultSlack, errs[0])
	}
	return nil
}

// stateList formats counts by state: "1 UNKNOWN, 2 SUBMITTED".
func stateList(m map[ledger.State]int) string {
	var parts []string
	for _, st := range ledger.States {
		if m[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[st], st))
		}
	}
	return strings.Join(parts, ", ")
}

// countList formats counts by name, sorted: "APPROVAL_REJECTED 1, EXPIRED 2".
func countList(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		name := k
		if name == "" {
			name = "(no reason)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

func cmdList(e *env, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	if _, err := parse(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	ids, err := e.store.Batches(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tPRODUCT\tSTATUS\tDONE\tACCEPTED\tSUCCESSFUL\tFAILED\tOPEN")
	paused := map[string]string{}
	for _, id := range ids {
		view, err := batchStatus(e.ctx, e.store, id)
		if errors.Is(err, ledger.ErrNotFound) {
			continue // discarded while listed (an enqueue that was refused or whose file changed)
		}
		if err != nil {
			return err
		}
		st := view.Status
		status := st.Status
		if st.ProductPaused != "" && !st.Done {
			status += " (product paused)"
			paused[st.Product] = st.ProductPaused
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%d\n", st.Batch, st.Product, status, st.Done,
			st.Accepted, st.States[string(ledger.Successful)], st.States[string(ledger.Failed)], st.Open)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for p, why := range paused {
		fmt.Fprintf(e.stdout, "\nproduct %s is PAUSED: %s\n  fix the configuration, then 'payoutctl resume -product %s'\n", p, why, p)
	}
	return nil
}

func cmdPause(e *env, args []string) error {
	fs := flag.NewFlagSet("pause", flag.ContinueOnError)
	pos, err := parse(fs, args, 1, "one batch ID")
	if err != nil {
		return err
	}
	ok, err := e.store.SetBatchStatus(e.ctx, pos[0], []string{ledger.BatchReady}, ledger.BatchPaused,
		"paused by operator; 'payoutctl resume "+pos[0]+"' to continue")
	if err != nil {
		return err
	}
	if !ok {
		return notInState(e, pos[0], "running")
	}
	fmt.Fprintf(e.stdout, "batch %s paused: rows not yet submitted wait; submitted ones finish\n", pos[0])
	return nil
}

func cmdResume(e *env, args []string) error {
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	product := fs.String("product", "", "resume a paused product instead of a batch")
	want, what := 1, "one batch ID, or -product"
	if hasFlag(args, "product") {
		want = 0
	}
	pos, err := parse(fs, args, want, what)
	if err != nil {
		return err
	}
	if *product != "" {
		return resumeProduct(e, *product)
	}
	id := pos[0]
	ok, err := e.store.SetBatchStatus(e.ctx, id, []string{ledger.BatchPaused}, ledger.BatchReady, "")
	if err != nil {
		return err
	}
	if !ok {
		return notInState(e, id, "paused")
	}
	n, err := sweepNow(e, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "batch %s resumed: %d waiting payouts handed back to the workers\n", id, n)
	return nil
}

func resumeProduct(e *env, name string) error {
	p, err := momo.ParseProduct(name)
	if err != nil {
		return cli.Usagef("-product: %v", err)
	}
	if err := e.store.ResumeProduct(e.ctx, string(p)); err != nil {
		return err
	}
	opt, err := e.cfg.RedisConnOpt()
	if err != nil {
		return err
	}
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	for _, q := range []string{tasks.Queue(p), tasks.PollQueue(p)} {
		if err := inspector.UnpauseQueue(q); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			e.printf("note: queue %s: %v\n", q, err)
		}
	}
	ids, err := e.store.Batches(e.ctx)
	if err != nil {
		return err
	}
	resumed := 0
	for _, id := range ids {
		b, err := e.store.GetBatch(e.ctx, id)
		if err != nil || b.Product != string(p) {
			continue
		}
		n, err := sweepNow(e, id)
		if err != nil {
			return err
		}
		resumed += n
	}
	fmt.Fprintf(e.stdout, "product %s resumed: %d waiting payouts handed back to the workers\n", p, resumed)
	return nil
}

func cmdCancel(e *env, args []string) error {
	fs := flag.NewFlagSet("cancel", flag.ContinueOnError)
	pos, err := parse(fs, args, 1, "one batch ID")
	if err != nil {
		return err
	}
	id := pos[0]
	ok, err := e.store.SetBatchStatus(e.ctx, id,
		[]string{ledger.BatchReady, ledger.BatchPaused, ledger.BatchLoading}, ledger.BatchCancelled,
		"cancelled by operator")
	if err != nil {
		return err
	}
	if !ok {
		return notInState(e, id, "cancellable")
	}
	cancelled := 0
	err = e.store.EachItem(e.ctx, id, func(it *ledger.Item) error {
		if it.State != ledger.Validated {
			return nil
		}
		done, _, err := e.store.Transition(e.ctx, id, it.Ref, ledger.Change{
			From: []ledger.State{ledger.Validated}, To: ledger.Cancelled,
			Fields: map[string]string{ledger.FieldReason: "batch cancelled"},
		})
		if done {
			cancelled++
		}
		return err
	})
	if err != nil {
		return err
	}
	c, err := e.store.Counts(e.ctx, id)
	if err != nil {
		return err
	}
	// Workers cancel the rows they pick up meanwhile, so the ledger's count is the one to show.
	fmt.Fprintf(e.stdout, "batch %s cancelled: %d payouts CANCELLED (%d by this command); "+
		"%d already submitted will finish\n", id, c.Items[ledger.Cancelled], cancelled,
		c.Items[ledger.Submitting]+c.Items[ledger.Submitted])
	return nil
}

// sweepNow makes every open item of the batch due and resumes those without a live task.
func sweepNow(e *env, id string) (int, error) {
	if err := e.store.MakeAllDue(e.ctx, id); err != nil {
		return 0, err
	}
	opt, err := e.cfg.RedisConnOpt()
	if err != nil {
		return 0, err
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	sw := tasks.NewSweeper(e.store, client, inspector, tasks.Options{}, tasks.DefaultSlack, nil, zerolog.Nop())
	return sw.SweepBatchNow(e.ctx, id)
}

// notInState explains why a batch command did nothing: no such batch, or its status.
func notInState(e *env, id, want string) error {
	b, err := e.store.GetBatch(e.ctx, id)
	if err != nil {
		return fmt.Errorf("no batch %q (see 'payoutctl list')", id)
	}
	return fmt.Errorf("batch %s is %s, not %s (see 'payoutctl status %s')", id, b.Status, want, id)
}

// hasFlag reports whether args set the named flag, in any of the forms flag accepts.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.stdout, format, args...) }

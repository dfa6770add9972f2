package main

import (
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

func cmdReconcile(e *env, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
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
	product, err := momo.ParseProduct(b.Product)
	if err != nil {
		return err
	}
	if err := e.cfg.RequireMoMo(product); err != nil {
		return err
	}
	client, err := momo.New(e.cfg.MoMo)
	if err != nil {
		return err
	}
	log, err := cli.Logger(e.stderr, "console", "info")
	if err != nil {
		return err
	}

	limiter := rate.NewLimiter(tasks.ReconcileRate, 1)
	res, err := tasks.Reconcile(e.ctx, e.store, client, id, limiter, log)
	printReconciled(e, id, res)
	if err == nil && res.Errors > 0 {
		err = fmt.Errorf("%d payout(s) could not be checked at MoMo; run 'payoutctl reconcile %s' "+
			"again later", res.Errors, id)
	}
	return err
}

// printReconciled prints a reconciliation's counts by outcome.
func printReconciled(e *env, id string, r tasks.ReconcileResult) {
	e.printf("batch %s: asked MoMo about %d UNKNOWN, SUBMITTING or SUBMITTED payouts\n", id, r.Checked)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	rows := []struct {
		name string
		n    int
		what string
	}{
		{"SUCCESSFUL", r.Successful, "recorded, with MoMo's financialTransactionId"},
		{"FAILED", r.Failed, "recorded, with MoMo's reason ('payoutctl retry-failed " + id +
			"' pays them again)"},
		{"pending", r.Pending, "still pending at MoMo; left as they are"},
		{"not found", r.NotFound, "unknown to MoMo (404); left as they are: UNKNOWN and " +
			"SUBMITTED ones may still appear, SUBMITTING ones the worker resubmits under the same ID"},
		{"changed", r.Changed, "moved on by a worker meanwhile; left to it"},
		{"errors", r.Errors, "MoMo could not be asked; left as they are"},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", row.name, row.n, row.what)
	}
	_ = tw.Flush()
}

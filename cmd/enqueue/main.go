// Command enqueue validates a beneficiaries CSV and turns every good row into a payout task.
//
//	enqueue -product disbursement|remittance [-batch ID] [-currency C] [-country CC]
//	        [-dry-run] [-skip-invalid] [-allow-same-file] FILE.csv
//
// Exit codes: 0 enqueued (or already enqueued), 1 failure, 2 usage, 3 the file is invalid (bad
// rows, a bad header, broken CSV, or nothing to pay) and nothing was enqueued.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/config"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

func main() { cli.Main("enqueue", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enqueue", flag.ContinueOnError)
	product := fs.String("product", "", "MoMo product to pay through: disbursement or remittance (required)")
	batchID := fs.String("batch", "", "batch ID (default: derived from the file name and content)")
	currency := fs.String("currency", "", "currency for rows without one, e.g. EUR or UGX")
	country := fs.String("country", "", "ISO country (UG, GH, ...) that turns local 0... numbers into international form")
	dryRun := fs.Bool("dry-run", false, "validate and print what would be paid; write nothing")
	skipInvalid := fs.Bool("skip-invalid", false, "enqueue the good rows and write the bad ones to FILE.rejects.csv")
	sameFile := fs.Bool("allow-same-file", false, "allow a file already enqueued under another batch ID")
	strict := fs.Bool("strict", false, "refuse a file that pays the same payee twice (a warning otherwise)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: enqueue -product disbursement|remittance [flags] FILE.csv")
		fs.PrintDefaults()
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return cli.Usagef("give exactly one CSV file")
	}
	p, err := momo.ParseProduct(*product)
	if err != nil {
		return cli.Usagef("-product: %v", err)
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.MoMo.TargetEnvironment == "" {
		return errors.New("config: missing required setting MOMO_TARGET_ENVIRONMENT (sandbox, mtnuganda, ...): it decides which currencies are allowed")
	}
	req := intake.Request{
		Path: fs.Arg(0), Product: p, BatchID: *batchID, SkipInvalid: *skipInvalid,
		DryRun: *dryRun, AllowSameFile: *sameFile, Strict: *strict,
		Options: batch.Options{DefaultCurrency: strings.ToUpper(*currency),
			Country: strings.ToUpper(*country), TargetEnvironment: cfg.MoMo.TargetEnvironment},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return enqueue(ctx, cfg, req, stdout, stderr)
}

func enqueue(ctx context.Context, cfg config.Config, req intake.Request, stdout, stderr io.Writer) error {
	opt, rdb, err := cfg.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	client := asynq.NewClient(opt)
	defer client.Close()

	res, err := intake.New(ledger.New(rdb), client).Run(ctx, req)
	printRowErrors(stderr, res)
	switch {
	case errors.Is(err, intake.ErrInvalidRows):
		return &cli.ExitError{Code: cli.ExitInvalidRows, Err: fmt.Errorf(
			"%s: %d of %d rows are invalid; nothing was enqueued (fix them, or pass -skip-invalid)",
			req.Path, res.Rejected, res.Rows)}
	case errors.Is(err, intake.ErrNothingToPay), fileIsInvalid(err):
		return &cli.ExitError{Code: cli.ExitInvalidRows, Err: fmt.Errorf("%w; nothing was enqueued", err)}
	case err != nil:
		return err
	}
	printResult(stdout, req, res)
	return nil
}

// fileIsInvalid reports whether err is a problem of the file's form (its header or its CSV
// syntax) rather than of reading it.
func fileIsInvalid(err error) bool {
	var he *batch.HeaderError
	var pe *csv.ParseError
	return errors.As(err, &he) || errors.As(err, &pe)
}

func printRowErrors(w io.Writer, res *intake.Result) {
	if res == nil {
		return
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, warn)
	}
	for _, e := range res.Errors {
		fmt.Fprintln(w, e.Error())
	}
	if res.Rejected > len(res.Errors) {
		fmt.Fprintf(w, "... and %d more invalid rows\n", res.Rejected-len(res.Errors))
	}
}

func printResult(w io.Writer, req intake.Request, res *intake.Result) {
	switch {
	case req.DryRun:
		fmt.Fprintf(w, "dry run: batch %s would pay %d payouts via %s: %s (%d rows read, %d rejected); nothing written\n",
			res.BatchID, res.Accepted, req.Product, res.TotalString(), res.Rows, res.Rejected)
		if res.Existing != "" {
			fmt.Fprintf(w, "note: this file's content is already enqueued as batch %s; a real run adds nothing "+
				"to it and refuses a new batch ID without -allow-same-file\n", res.Existing)
		}
	case res.AlreadyEnqueued:
		fmt.Fprintf(w, "batch %s was already enqueued (%d payouts); nothing added", res.BatchID, res.Accepted)
		if res.Tasks > 0 {
			fmt.Fprintf(w, "; %d missing task(s) restored", res.Tasks)
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "batch %s: %d rows read, %d accepted, %d rejected; %d payouts enqueued via %s: %s\n",
			res.BatchID, res.Rows, res.Accepted, res.Rejected, res.Tasks, req.Product, res.TotalString())
	}
	if res.RejectsFile != "" {
		fmt.Fprintf(w, "rejected rows written to %s\n", res.RejectsFile)
	}
}

// Command enqueue validates a beneficiaries CSV and turns every good row into a payout task.
//
//	enqueue -product disbursement|remittance [-batch ID] [-currency C] [-country CC]
//	        [-dry-run] [-skip-invalid] [-allow-same-file] [-allow-repeated-ids] [-strict]
//	        [-confirm-total AMOUNT]
//	        [-skip-balance-check] [-validate-accounts] [-at TIME | -in DURATION] FILE.csv
//
// Exit codes: 0 enqueued (or already enqueued), 1 failure, 2 usage, 3 the file is invalid (bad
// rows, a bad header, broken CSV, or nothing to pay), 4 refused by a guard (limits, confirmation,
// balance, external IDs an earlier batch pays); nothing is enqueued on 3 or 4.
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
	"time"

	"github.com/hibiken/asynq"
	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

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
	repeated := fs.Bool("allow-repeated-ids", false, "allow rows whose external_id an earlier batch pays or may still pay")
	strict := fs.Bool("strict", false, "refuse a file that pays the same payee twice (a warning otherwise)")
	confirm := fs.String("confirm-total", "", "confirm a large batch: its total, e.g. 'EUR 10739.60'")
	skipBalance := fs.Bool("skip-balance-check", false, "do not check that the account balance covers the batch")
	validateAccounts := fs.Bool("validate-accounts", false, "ask MoMo whether each payee's account is active; inactive ones are invalid rows")
	accountRate := fs.Float64("account-rate", 5, "account checks per second with -validate-accounts")
	at := fs.String("at", "", "pay at this time (RFC 3339, e.g. 2026-12-24T09:00:00+03:00) instead of now")
	in := fs.Duration("in", 0, "pay after this long (e.g. 2h) instead of now")
	columns := fs.String("map", "", "map our fields to the file's headers: 'msisdn=Mobile Number,amount=Amount,...'")
	headerLine := fs.Int("header-line", 0, "the header's line number, for files with guidance lines above it")
	decimalComma := fs.Bool("decimal-comma", false, "amounts use a decimal comma (1500,50); never read as 150050")
	encoding := fs.String("encoding", "auto", "file encoding: auto, utf-8 or windows-1252 (UTF-16 with a BOM is always detected)")
	maxFileMiB := fs.Int64("max-file-mib", batch.DefaultMaxFileBytes>>20, "refuse a file larger than this many MiB")
	maxRows := fs.Int("max-rows", batch.DefaultMaxRows, "refuse a file with more data rows than this")
	maxLineKiB := fs.Int("max-line-kib", batch.DefaultMaxLineBytes>>10, "refuse a record longer than this many KiB")
	strictMessages := fs.Bool("strict-messages", false, "refuse messages with characters MoMo has refused (& < > quotes) instead of replacing them")
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
	when, err := payAt(*at, *in)
	if err != nil {
		return err
	}
	confirmTotal, err := config.ParseAmounts(*confirm)
	if err != nil {
		return cli.Usagef("-confirm-total: %v", err)
	}
	columnMap, err := batch.ParseColumnMap(*columns)
	if err != nil {
		return cli.Usagef("-map: %v", err)
	}
	if *maxFileMiB <= 0 || *maxRows <= 0 || *maxLineKiB <= 0 {
		return cli.Usagef("-max-file-mib, -max-rows and -max-line-kib must be positive")
	}
	if *accountRate <= 0 {
		return cli.Usagef("-account-rate must be positive")
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
		DryRun: *dryRun, AllowSameFile: *sameFile, AllowRepeatedIDs: *repeated, Strict: *strict, At: when,
		ConfirmTotal: confirmTotal,
		Limits: intake.Limits{MaxRow: cfg.MaxRowAmount, MaxBatch: cfg.MaxBatchAmount,
			ConfirmAbove: cfg.ConfirmAbove},
		Options: batch.Options{DefaultCurrency: strings.ToUpper(*currency),
			Country: strings.ToUpper(*country), TargetEnvironment: cfg.MoMo.TargetEnvironment,
			ColumnMap: columnMap, HeaderLine: *headerLine, DecimalComma: *decimalComma,
			Encoding: *encoding, StrictMessages: *strictMessages,
			MaxFileBytes: *maxFileMiB << 20, MaxRows: *maxRows, MaxLineBytes: *maxLineKiB << 10},
	}
	if !*skipBalance || *validateAccounts {
		client, err := momoClient(cfg, p, *skipBalance)
		if err != nil {
			return err
		}
		if !*skipBalance {
			req.Balance = client
		}
		if *validateAccounts {
			req.Accounts, req.AccountRate = client, intake.NewAccountRate(*accountRate)
		}
	}
	req.Progress = progressBar(fs.Arg(0), stderr)
	req.Notify = func(msg string) { fmt.Fprintln(stderr, "enqueue: "+msg) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return enqueue(ctx, cfg, req, stdout, stderr)
}

// momoClient builds the MoMo client the balance and account checks need.
func momoClient(cfg config.Config, p momo.Product, skipBalance bool) (*momo.Client, error) {
	if err := cfg.RequireMoMo(p); err != nil {
		if !skipBalance {
			return nil, fmt.Errorf("%w\n(enqueue checks the account balance before it writes anything; pass -skip-balance-check to enqueue without that check)", err)
		}
		return nil, err
	}
	return momo.New(cfg.MoMo)
}

// payAt turns -at or -in into the time to pay at; zero means now.
func payAt(at string, in time.Duration) (time.Time, error) {
	switch {
	case at != "" && in != 0:
		return time.Time{}, cli.Usagef("give -at or -in, not both")
	case in < 0:
		return time.Time{}, cli.Usagef("-in must be positive")
	case in > 0:
		return time.Now().Add(in), nil
	case at != "":
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return time.Time{}, cli.Usagef("-at %q: use RFC 3339, e.g. 2026-12-24T09:00:00+03:00", at)
		}
		if t.Before(time.Now()) {
			return time.Time{}, cli.Usagef("-at %s is in the past", at)
		}
		return t, nil
	}
	return time.Time{}, nil
}

// progressBar returns a bar over the file's bytes for large files on a terminal, else nil.
func progressBar(path string, stderr io.Writer) io.Writer {
	f, ok := stderr.(*os.File)
	info, err := os.Stat(path)
	if !ok || err != nil || !isatty.IsTerminal(f.Fd()) || info.Size() < 4<<20 {
		return nil
	}
	return progressbar.DefaultBytes(info.Size(), "validating")
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
	case errors.Is(err, intake.ErrRefused):
		return &cli.ExitError{Code: cli.ExitRefused, Err: err}
	case err != nil:
		return err
	}
	printResult(stdout, req, res)
	return nil
}

// fileIsInvalid reports whether err is a problem of the file's form (its header, its CSV
// syntax or its size) rather than of reading it.
func fileIsInvalid(err error) bool {
	var he *batch.HeaderError
	var pe *csv.ParseError
	return errors.As(err, &he) || errors.As(err, &pe) || errors.Is(err, batch.ErrTooManyRows) ||
		errors.Is(err, batch.ErrFileTooLarge) || errors.Is(err, batch.ErrRecordTooLong)
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
	if res.Encoding != "" && res.Encoding != "utf-8" {
		fmt.Fprintf(w, "note: %s is %s; converted to UTF-8 while reading\n", req.Path, res.Encoding)
	}
	if res.SkippedHeaders > 0 {
		fmt.Fprintf(w, "note: %d header row(s) repeated inside the file were skipped\n", res.SkippedHeaders)
	}
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
		if !req.At.IsZero() {
			fmt.Fprintf(w, "scheduled: the payouts start at %s\n", req.At.Format(time.RFC3339))
		}
	}
	if res.RejectsFile != "" {
		fmt.Fprintf(w, "rejected rows written to %s\n", res.RejectsFile)
	}
}

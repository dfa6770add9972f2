// Package intake turns a beneficiaries file into a batch: it validates every row, writes one
// ledger item per accepted row and one Asynq task per item.
//
// It is all or nothing. The file is validated whole before anything is written; items are
// written while the batch is "loading", a status in which nothing of it can be paid; only when
// every item is written does the batch open, and then its tasks are enqueued. Running the same
// command again after a crash finishes the job with the same reference IDs and no duplicates.
package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/money"
	"github.com/momopay/payout/internal/tasks"
)

// ErrInvalidRows means the file has rows that failed validation and nothing was enqueued.
var ErrInvalidRows = errors.New("intake: file has invalid rows")

// ErrNothingToPay means the file has no valid row; no batch was written.
var ErrNothingToPay = errors.New("intake: the file has no valid row: nothing to pay")

// MaxReportedErrors bounds how many row errors a Result keeps; the count covers them all.
const MaxReportedErrors = 1000

// Request says what to enqueue.
type Request struct {
	Path        string // the CSV file
	Product     momo.Product
	BatchID     string // optional; derived from the file name and content when empty
	Options     batch.Options
	SkipInvalid bool // enqueue the good rows and write the bad ones to a rejects file
	DryRun      bool // validate and total, write nothing
	// AllowSameFile lets the same file content be enqueued under a second batch ID.
	AllowSameFile bool
	// Strict makes the same payee twice in a file an error instead of a warning.
	Strict bool
	// Limits are the amount guards; ConfirmTotal is the operator's -confirm-total.
	Limits       Limits
	ConfirmTotal map[string]int64
	// Balance, when set, must cover the batch total before anything is written.
	Balance BalanceChecker
	// Accounts, when set, checks every payee with MoMo at AccountRate; inactive ones are invalid.
	Accounts    AccountChecker
	AccountRate *rate.Limiter
	// Progress, when set, receives every byte of the validation pass (a progress bar).
	Progress io.Writer
	// At schedules the batch's payouts; zero pays them now.
	At    time.Time
	Tasks tasks.Options
	// Slack is how long after enqueue an item with no live task is left before the sweeper
	// resumes it. Defaults to tasks.DefaultSlack.
	Slack time.Duration
}

// Result says what happened.
type Result struct {
	BatchID     string
	Fingerprint string // of the file's content
	Spec        string // of the content and the options it was read with
	Rows        int    // data rows read
	Accepted    int
	Rejected    int
	Totals      map[string]int64 // accepted amount per currency, in minor units
	Errors      []*batch.RowError
	Warnings    []string // at most MaxReportedErrors
	RejectsFile string
	// Existing names a batch that already holds this file's content, found by a dry run.
	Existing string
	// AlreadyEnqueued means the batch existed and was complete: nothing was added.
	AlreadyEnqueued bool
	NewItems        int // items written by this run
	Tasks           int // tasks enqueued by this run
}

// TotalString formats the totals for people: "EUR 1500.50, UGX 20000".
func (r *Result) TotalString() string {
	var parts []string
	for _, cur := range sortedKeys(r.Totals) {
		parts = append(parts, cur+" "+money.FormatMinor(r.Totals[cur], cur))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// Intake enqueues batches.
type Intake struct {
	store *ledger.Store
	queue tasks.Enqueuer
	now   func() time.Time
}

// New returns an Intake writing to store and queue.
func New(store *ledger.Store, queue tasks.Enqueuer) *Intake {
	return &Intake{store: store, queue: queue, now: time.Now}
}

// Run validates the file and, unless it has invalid rows (and SkipInvalid is off) or DryRun is
// set, enqueues it. An invalid file returns the Result and ErrInvalidRows.
func (in *Intake) Run(ctx context.Context, req Request) (*Result, error) {
	if req.Slack <= 0 {
		req.Slack = tasks.DefaultSlack
	}
	req.Tasks = req.Tasks.WithDefaults()
	req.Options.File = req.Path
	guard := newRowGuard(ctx, req)
	res, err := validate(req, guard)
	if err != nil {
		return res, err
	}
	if res.Rejected > 0 && !req.SkipInvalid {
		return res, ErrInvalidRows
	}
	if res.Accepted == 0 {
		return res, ErrNothingToPay
	}
	res.Spec = spec(req, res.Fingerprint)
	if res.BatchID, err = batchID(req, res.Spec); err != nil {
		return res, err
	}
	if err := in.checkTotals(ctx, req, res); err != nil {
		return res, err
	}
	if req.DryRun {
		res.Existing, err = in.store.FingerprintOwner(ctx, res.Fingerprint)
		return res, err
	}
	return res, in.write(ctx, req, res, guard)
}

// spec identifies what a run would pay: the file's content read with these options. Two runs
// with the same spec pay the same rows; a batch is only ever continued under its own spec.
func spec(req Request, fingerprint string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%v", fingerprint, req.Product,
		req.Options.TargetEnvironment, req.Options.DefaultCurrency, req.Options.Country,
		req.SkipInvalid, req.Strict)
	return hex.EncodeToString(h.Sum(nil))
}

// validate reads the whole file once: row errors, totals and the content fingerprint.
func validate(req Request, guard *rowGuard) (*Result, error) {
	res := &Result{Totals: map[string]int64{}}
	hash := sha256.New()
	var tee io.Writer = hash
	if req.Progress != nil {
		tee = io.MultiWriter(hash, req.Progress)
	}
	defer guard.done()
	err := eachRow(req, tee, nil, guard, func(row batch.Row, rowErr *batch.RowError, warn string) error {
		if warn != "" && len(res.Warnings) < MaxReportedErrors {
			res.Warnings = append(res.Warnings, warn)
		}
		if rowErr != nil {
			res.Rejected++
			if len(res.Errors) < MaxReportedErrors {
				res.Errors = append(res.Errors, rowErr)
			}
			return nil
		}
		res.Accepted++
		sum, err := money.Add(res.Totals[row.Amount.Currency], row.Amount.Minor)
		if err != nil {
			return fmt.Errorf("intake: %s: line %d: total overflows: %w", req.Path, row.Line, err)
		}
		res.Totals[row.Amount.Currency] = sum
		return nil
	})
	res.Rows = res.Accepted + res.Rejected
	res.Fingerprint = hex.EncodeToString(hash.Sum(nil))
	return res, err
}

// eachRow streams the file through the batch reader, copying every byte read into tee (when
// not nil) and storing the header cells in header (when not nil). Every pass over the file
// applies the same checks across rows, so every pass agrees on which rows are accepted.
func eachRow(req Request, tee io.Writer, header *[]string, guard *rowGuard,
	fn func(batch.Row, *batch.RowError, string) error) error {
	f, err := os.Open(req.Path)
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	defer f.Close()
	var src io.Reader = f
	if tee != nil {
		src = io.TeeReader(f, tee)
	}
	r, err := batch.NewReader(src, req.Options)
	if err != nil {
		return err
	}
	if header != nil {
		*header = r.Header()
	}
	dups := newDupCheck(req.Path, req.Strict)
	for {
		row, err := r.Next()
		var rowErr *batch.RowError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &rowErr):
			err = fn(row, rowErr, "")
		case err != nil:
			return err
		default:
			rowErr, warn := dups.check(row)
			if rowErr == nil {
				if rowErr, err = guard.check(row); err != nil {
					return err
				}
			}
			err = fn(row, rowErr, warn)
		}
		if err != nil {
			return err
		}
	}
}

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// batchID returns the requested batch ID, or one derived from the file's name and content, so
// that enqueueing the same file again finds the same batch.
func batchID(req Request, spec string) (string, error) {
	if req.BatchID != "" {
		if !batchIDPattern.MatchString(req.BatchID) {
			return "", fmt.Errorf("intake: batch ID %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", req.BatchID)
		}
		return req.BatchID, nil
	}
	base := strings.TrimSuffix(filepath.Base(req.Path), filepath.Ext(req.Path))
	base = regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(base, "-")
	base = strings.Trim(base, "-._")
	if len(base) > 40 {
		base = base[:40]
	}
	if base == "" {
		base = "batch"
	}
	return base + "-" + spec[:12], nil
}

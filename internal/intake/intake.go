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
	"slices"
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
	// AllowSameFile lets the same file content be enqueued under a second batch ID, with its
	// external IDs; a file that is not the same needs AllowRepeatedIDs for those.
	AllowSameFile bool
	// AllowRepeatedIDs lets rows carry external IDs that earlier batches of the product pay.
	AllowRepeatedIDs bool
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
	// Notify, when set, is told of waits worth a word to the operator.
	Notify func(string)
	// At schedules the batch's payouts; zero pays them now.
	At    time.Time
	Tasks tasks.Options
	// Slack is how long after enqueue an item with no live task is left before the sweeper
	// resumes it. Defaults to tasks.DefaultSlack.
	Slack time.Duration
}

// Result says what happened.
type Result struct {
	BatchID string
	// Fingerprint is of the payouts the file holds (each accepted row's payee, amount, IDs and
	// messages, in order), so a file re-saved with other line ends or blank lines still has
	// the fingerprint of the first: the same-file guard catches it.
	Fingerprint string
	// Spec is of the payouts with their line numbers and the options the file was read with:
	// the batch's identity.
	Spec string
	// FileHash is of the file's bytes: the second pass must read exactly the same file.
	FileHash    string
	Rows        int // data rows read
	Accepted    int
	Rejected    int
	Totals      map[string]int64 // accepted amount per currency, in minor units
	Errors      []*batch.RowError
	Warnings    []string // at most MaxReportedErrors
	RejectsFile string
	// Existing names a batch that already holds this file's content, found by a dry run.
	Existing string
	// Repeats lists the earlier batches that pay external IDs of this file's rows.
	Repeats []Repeat
	// Encoding is the file's detected encoding; SkippedHeaders counts header rows repeated
	// mid-file, which were skipped.
	Encoding       string
	SkippedHeaders int
	// AlreadyEnqueued means the batch existed and was complete: nothing was added.
	AlreadyEnqueued bool
	NewItems        int // items written by this run
	Tasks           int // tasks enqueued by this run

	lineHash string // of the accepted rows with their line numbers
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
	if !req.AllowRepeatedIDs {
		guard.repeats = newRepeatCheck(ctx, in.store, string(req.Product))
	}
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
	res.Spec = spec(req, res.lineHash)
	if res.BatchID, err = batchID(req, res.Spec); err != nil {
		return res, err
	}
	if guard.repeats != nil {
		res.Repeats = guard.repeats.repeats(res.BatchID)
	}
	if err := in.checkTotals(ctx, req, res); err != nil {
		return res, err
	}
	if req.DryRun {
		// A dry run says what a real run would refuse, as the other guards do, with the same
		// lookups; Existing also names the batch itself when the file is enqueued already.
		earlier, err := in.otherOwner(ctx, res)
		if err == nil && earlier == "" {
			earlier, err = in.store.FingerprintOwner(ctx, "rows:"+res.Fingerprint)
		}
		res.Existing = earlier
		other := earlier != "" && earlier != res.BatchID
		switch {
		case err != nil:
		case other && !req.AllowSameFile:
			err = sameFileError(earlier, res.BatchID)
		default:
			err = refuseRepeats(req, res, in.repeatsAllowed(ctx, req, res, other))
		}
		return res, err
	}
	return res, in.write(ctx, req, res, guard)
}

// spec identifies what a run would pay: the file's content read with these options. Two runs
// with the same spec pay the same rows; a batch is only ever continued under its own spec.
func spec(req Request, rowsWithLines string) string {
	h := sha256.New()
	o := req.Options
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00%d\x00%v\x00%v\x00%s\x00%v",
		rowsWithLines, req.Product, o.TargetEnvironment, o.DefaultCurrency, o.Country,
		req.SkipInvalid, req.Strict, o.HeaderLine, o.DecimalComma, o.StrictMessages, o.Encoding,
		sortedColumnMap(o.ColumnMap))
	return hex.EncodeToString(h.Sum(nil))
}

// validate reads the whole file once: row errors, totals and the fingerprints.
func validate(req Request, guard *rowGuard) (*Result, error) {
	if info, err := os.Stat(req.Path); err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	} else if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("intake: %s is not a regular file: enqueue reads a file twice "+
			"(to validate it whole, then to write it), so save a pipe or stream to a file first", req.Path)
	}
	res := &Result{Totals: map[string]int64{}}
	hash, rows, lines := sha256.New(), sha256.New(), sha256.New()
	var tee io.Writer = hash
	if req.Progress != nil {
		tee = io.MultiWriter(hash, req.Progress)
	}
	defer guard.done()
	var info readInfo
	err := eachRow(req, tee, &info, guard, func(row batch.Row, rowErr *batch.RowError, warnings []string) error {
		for _, w := range warnings {
			if len(res.Warnings) < MaxReportedErrors {
				res.Warnings = append(res.Warnings, w)
			}
		}
		if rowErr != nil {
			res.Rejected++
			if len(res.Errors) < MaxReportedErrors {
				res.Errors = append(res.Errors, rowErr)
			}
			return nil
		}
		res.Accepted++
		canon := canonical(row)
		_, _ = rows.Write(canon)
		fmt.Fprintf(lines, "%d\x00", row.Line)
		_, _ = lines.Write(canon)
		sum, err := money.Add(res.Totals[row.Amount.Currency], row.Amount.Minor)
		if err != nil {
			return fmt.Errorf("intake: %s: line %d: total overflows: %w", req.Path, row.Line, err)
		}
		res.Totals[row.Amount.Currency] = sum
		return nil
	})
	if err == nil {
		err = guard.finish()
	}
	res.Rows = res.Accepted + res.Rejected
	res.FileHash = hex.EncodeToString(hash.Sum(nil))
	res.Fingerprint = hex.EncodeToString(rows.Sum(nil))
	res.lineHash = hex.EncodeToString(lines.Sum(nil))
	res.Encoding, res.SkippedHeaders = info.Encoding, info.SkippedHeaders
	return res, err
}

// canonical is an accepted row as the payout it makes, independent of how the file spelt it.
func canonical(row batch.Row) []byte {
	return fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00%s\x01",
		row.PartyIDType, row.PartyID, row.Amount.Minor, row.Amount.Currency, row.ExternalID,
		row.PayerMessage, row.PayeeNote, row.Name)
}

// readInfo is what a pass learns about the file besides its rows.
type readInfo struct {
	Header         []string
	Encoding       string // as detected: utf-8, utf-16le, windows-1252...
	SkippedHeaders int    // header rows repeated mid-file
}

// eachRow streams the file through the batch reader, copying every byte read into tee (when
// not nil) and filling info (when not nil). Every pass over the file applies the same checks
// across rows, so every pass agrees on which rows are accepted. fn gets a row's warnings.
func eachRow(req Request, tee io.Writer, info *readInfo, guard *rowGuard,
	fn func(batch.Row, *batch.RowError, []string) error) error {
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
	if info != nil {
		info.Header = r.Header()
		info.Encoding = r.Encoding()
	}
	for {
		row, err := r.Next()
		var rowErr *batch.RowError
		switch {
		case errors.Is(err, io.EOF):
			if info != nil {
				info.SkippedHeaders = r.SkippedHeaders()
			}
			return nil
		case errors.As(err, &rowErr):
			err = fn(row, rowErr, nil)
		case err != nil:
			return err
		default:
			guardErr, warn, cerr := guard.check(row)
			if cerr != nil {
				return cerr
			}
			warnings := row.Warnings
			if warn != "" {
				warnings = append(warnings, warn)
			}
			err = fn(row, guardErr, warnings) // err, not a new one: it is checked below
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

func sortedColumnMap(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

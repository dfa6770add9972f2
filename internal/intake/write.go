package intake

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/report"
	"github.com/momopay/payout/internal/tasks"
)

// writeChunk is how many items go to Redis in one round trip.
const writeChunk = 500

// enqueueWorkers is how many goroutines enqueue tasks at once; Asynq's Enqueue is one round
// trip per task, so parallel writers are what make a large file quick.
const enqueueWorkers = 8

// write records the batch and its items, opens it and enqueues its tasks.
func (in *Intake) write(ctx context.Context, req Request, res *Result, guard *rowGuard) error {
	token, unlock, err := in.lockBatch(ctx, req, res.BatchID)
	if err != nil {
		return err
	}
	defer unlock()
	existing, err := in.store.GetBatch(ctx, res.BatchID)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return err
	}
	if existing != nil {
		if err := sameBatch(existing, req, res); err != nil {
			return err
		}
		if !ledger.Unopened(existing.Status) {
			res.AlreadyEnqueued = true
			return in.restoreTasks(ctx, req, res)
		}
		// An earlier run died while writing. Nothing of a loading batch can have been paid,
		// so it is written again from scratch rather than trusted.
		if err := in.store.DiscardLoading(ctx, res.BatchID); err != nil {
			return err
		}
	}
	// The same bytes, or the same payouts in a file saved anew, under another batch ID would
	// pay everyone twice; so would rows another batch pays already. Both are checked before
	// anything is claimed or written, so that a refused run leaves no trace. (A run continuing
	// its own batch counts for neither: its batch is left out of both.)
	earlier, err := in.otherOwner(ctx, res)
	if err != nil {
		return err
	}
	if earlier != "" && !req.AllowSameFile {
		return sameFileError(earlier, res.BatchID)
	}
	// -allow-same-file pays the very payouts of the earlier file again: the repeats held by
	// batches of this same content are allowed, and no others; an edited file, or one whose
	// rows another file paid meanwhile, needs -allow-repeated-ids.
	allowRepeats := in.repeatsAllowed(ctx, req, res, earlier != "")
	if err := refuseRepeats(req, res, allowRepeats); err != nil {
		return err
	}
	for _, fp := range []string{"file:" + res.FileHash, "rows:" + res.Fingerprint} {
		owner, err := in.store.ClaimFingerprint(ctx, fp, res.BatchID)
		if err != nil {
			return err
		}
		if owner != res.BatchID && !req.AllowSameFile {
			// Another run claimed it since otherOwner looked: give back what this one took.
			return errors.Join(sameFileError(owner, res.BatchID), in.releaseFingerprints(ctx, res))
		}
	}
	// The rejects file comes before any item: if it cannot be written, nothing is.
	if res.Rejected > 0 {
		if res.RejectsFile, err = writeRejects(req, res, guard); err != nil {
			return err
		}
	}
	created, existing, err := in.store.CreateBatch(ctx, ledger.Batch{
		ID: res.BatchID, Product: string(req.Product), File: filepath.Base(req.Path),
		Fingerprint: res.Fingerprint, Spec: res.Spec, At: req.At,
	})
	if err != nil {
		return err
	}
	if !created {
		// Another enqueue of the same batch got there first.
		if err := sameBatch(existing, req, res); err != nil {
			return err
		}
	}
	err = in.writeItems(ctx, req, res, guard, token, allowRepeats)
	if err == nil {
		// Only while this run still holds the batch lock: had it stalled past the lock's TTL,
		// another enqueue may have taken this loading batch for a dead one and paid its
		// external IDs.
		err = in.store.CommitBatchLocked(ctx, res.BatchID, res.Rows, res.Accepted, res.Rejected,
			enqueueLock, token)
		if errors.Is(err, ledger.ErrLockLost) {
			// The batch stays loading, which pays nothing. It is not this run's to delete any
			// more: a re-run of the same command may own it now and be writing it.
			return fmt.Errorf("intake: %s: this run stalled for longer than its batch lock "+
				"lasts, so others may have taken its batch for abandoned; it was not opened, "+
				"run the command again: %w", req.Path, err)
		}
	}
	if (errors.Is(err, ErrRefused) || errors.Is(err, ErrFileChanged)) && !errors.Is(err, ledger.ErrLockLost) {
		// The batch was discarded: its claim on the file's content goes with it.
		err = errors.Join(err, in.releaseFingerprints(ctx, res))
	}
	if err != nil {
		return err
	}
	return in.enqueueAll(ctx, req, res)
}

// releaseFingerprints gives back this batch's claims on the file's content (ReleaseFingerprint
// leaves another batch's claim alone).
func (in *Intake) releaseFingerprints(ctx context.Context, res *Result) error {
	var errs []error
	for _, fp := range []string{"file:" + res.FileHash, "rows:" + res.Fingerprint} {
		errs = append(errs, in.store.ReleaseFingerprint(context.WithoutCancel(ctx), fp, res.BatchID))
	}
	return errors.Join(errs...)
}

// refuseRepeats returns the refusal of the first pass's repeats that allow does not allow.
func refuseRepeats(req Request, res *Result, allow func(batch string) (bool, error)) error {
	var refused []Repeat
	for _, rep := range res.Repeats {
		ok, err := allow(rep.Batch)
		if err != nil {
			return err
		}
		if !ok {
			refused = append(refused, rep)
		}
	}
	if len(refused) > 0 {
		return RepeatError(req.Path, refused)
	}
	return nil
}

// repeatsAllowed returns which earlier batches this run may repeat external IDs of: any with
// -allow-repeated-ids; with -allow-same-file, when this file is the same as an earlier one,
// the batches of this very content; else none.
func (in *Intake) repeatsAllowed(ctx context.Context, req Request, res *Result,
	sameFile bool) func(batch string) (bool, error) {
	switch {
	case req.AllowRepeatedIDs:
		return func(string) (bool, error) { return true, nil }
	case !sameFile || !req.AllowSameFile:
		return func(string) (bool, error) { return false, nil }
	}
	same := map[string]bool{}
	return func(b string) (bool, error) {
		if ok, seen := same[b]; seen {
			return ok, nil
		}
		meta, err := in.store.GetBatch(ctx, b)
		if errors.Is(err, ledger.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		same[b] = meta.Fingerprint == res.Fingerprint
		return same[b], nil
	}
}

// otherOwner returns the batch other than this one that holds this file's content, if any.
func (in *Intake) otherOwner(ctx context.Context, res *Result) (string, error) {
	for _, fp := range []string{"file:" + res.FileHash, "rows:" + res.Fingerprint} {
		owner, err := in.store.FingerprintOwner(ctx, fp)
		if err != nil {
			return "", err
		}
		if owner != "" && owner != res.BatchID {
			return owner, nil
		}
	}
	return "", nil
}

func sameFileError(owner, id string) error {
	return fmt.Errorf("%w: this file's payouts were already enqueued as batch %q; "+
		"pass -allow-same-file to pay them again under batch %q", ErrRefused, owner, id)
}

// discard deletes a batch that never opened, to the end even when ctx is cancelled (an
// operator's Ctrl-C at the refusal): a deletion stopped half-way leaves a batch that pays
// nothing but that only the next enqueue of it finishes deleting.
//
// Only while this run still holds the batch lock (token): a run that stalled past it may find
// a re-run of the same command writing the batch, which is not its to delete; the batch stays
// loading, which pays nothing, and the owner decides.
func (in *Intake) discard(ctx context.Context, id, token string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	held, err := in.store.ExtendLock(dctx, id, enqueueLock, token, batchLockTTL)
	if err != nil {
		return err
	}
	if !held {
		return fmt.Errorf("%w: batch %q was left unopened for its new owner", ledger.ErrLockLost, id)
	}
	return in.store.DiscardLoading(dctx, id)
}

// enqueueLock names the lock an enqueue holds on its batch while it writes it.
const enqueueLock = "enqueue"

// lockBatch serialises enqueue runs of one batch, across processes: a second run waits for
// the first and then finds its batch complete. The lock is renewed while held.
// batchLockTTL is how long an enqueue's batch lock lasts unless renewed; it is renewed every
// third of that while the run lives.
const batchLockTTL = 10 * time.Second

func (in *Intake) lockBatch(ctx context.Context, req Request, id string) (string, func(), error) {
	const ttl = batchLockTTL
	for waited := false; ; waited = true {
		token, err := in.store.Lock(ctx, id, enqueueLock, ttl)
		if err != nil {
			return "", nil, err
		}
		if token != "" {
			done := make(chan struct{})
			go func() {
				t := time.NewTicker(ttl / 3)
				defer t.Stop()
				for {
					select {
					case <-done:
						return
					case <-t.C:
						_, _ = in.store.ExtendLock(ctx, id, enqueueLock, token, ttl)
					}
				}
			}()
			return token, func() {
				close(done)
				_ = in.store.Unlock(context.WithoutCancel(ctx), id, enqueueLock, token)
			}, nil
		}
		if !waited && req.Notify != nil {
			req.Notify(fmt.Sprintf("another enqueue of batch %s is running (or one that died "+
				"left its lock, which frees within %s); waiting for it", id, ttl))
		}
		select {
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ErrFileChanged means the file changed between the validation pass and the writing pass;
// the batch was not opened, and nothing of it can be paid.
var ErrFileChanged = errors.New("intake: the file changed while it was being enqueued")

// sameBatch refuses to continue an existing batch of other content, product or options: the
// rows this run accepts might not be the rows the batch holds.
func sameBatch(b *ledger.Batch, req Request, res *Result) error {
	switch {
	case b.Fingerprint != res.Fingerprint:
		return fmt.Errorf("intake: batch %q exists with other content (file %s); "+
			"choose a new batch ID", b.ID, b.File)
	case b.Product != string(req.Product):
		return fmt.Errorf("intake: batch %q exists for product %s, not %s", b.ID, b.Product, req.Product)
	case b.Spec != res.Spec:
		return fmt.Errorf("intake: batch %q was enqueued from this file with other options "+
			"(-currency, -country, -skip-invalid, -strict or the target environment); it holds %d "+
			"payouts, this run would accept %d; choose a new batch ID", b.ID, b.Accepted, res.Accepted)
	}
	return nil
}

// writeItems streams the file again and writes an item per accepted row, in chunks.
func (in *Intake) writeItems(ctx context.Context, req Request, res *Result, guard *rowGuard,
	token string, allowRepeats func(batch string) (bool, error)) error {
	due := in.now().Add(req.Slack)
	if req.At.After(in.now()) {
		due = req.At.Add(req.Slack)
	}
	chunk := make([]ledger.NewItem, 0, writeChunk)
	// fileIDs holds the external ID each chunk item has in the file ("" when newItem made one).
	var fileIDs, ids, owned []string
	var lines []int
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		refs, fresh, err := in.store.AddItems(ctx, res.BatchID, chunk, due)
		if err != nil {
			return err
		}
		for _, f := range fresh {
			if f {
				res.NewItems++
			}
		}
		// The index of external IDs, for the repeat check of later files. Written while the
		// batch is loading: the check ignores items of a batch that never opened.
		ids, owned, lines = ids[:0], owned[:0], lines[:0]
		for i, ext := range fileIDs {
			if ext != "" {
				ids, owned, lines = append(ids, ext), append(owned, refs[i]), append(lines, chunk[i].Line)
			}
		}
		chunk, fileIDs = chunk[:0], fileIDs[:0]
		return in.claimIDs(ctx, req, res.BatchID, lines, ids, owned, allowRepeats)
	}
	hash := sha256.New()
	err := eachRow(req, hash, nil, guard, func(row batch.Row, rowErr *batch.RowError, _ []string) error {
		if rowErr != nil {
			return nil
		}
		chunk, fileIDs = append(chunk, newItem(res.BatchID, row)), append(fileIDs, row.ExternalID)
		if len(chunk) == writeChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if errors.Is(err, ErrRefused) {
		// Rows another batch pays: nothing of this one may be paid.
		if derr := in.discard(ctx, res.BatchID, token); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	if err != nil {
		return err
	}
	if hex.EncodeToString(hash.Sum(nil)) != res.FileHash {
		if derr := in.discard(ctx, res.BatchID, token); derr != nil {
			return errors.Join(ErrFileChanged, derr)
		}
		return fmt.Errorf("%w: %s; nothing was enqueued, run the command again on the final file",
			ErrFileChanged, req.Path)
	}
	return nil
}

func newItem(batchID string, row batch.Row) ledger.NewItem {
	ext := row.ExternalID
	if ext == "" {
		ext = batchID + "-" + strconv.Itoa(row.Line)
	}
	return ledger.NewItem{
		Line: row.Line, PartyIDType: row.PartyIDType, PartyID: row.PartyID,
		Amount: row.Amount.String(), Minor: row.Amount.Minor, Currency: row.Amount.Currency,
		ExternalID: ext, PayerMsg: row.PayerMessage, PayeeNote: row.PayeeNote, Name: row.Name,
	}
}

// enqueueAll enqueues a transfer task for every item of the batch. A task that exists already
// is left as it is.
func (in *Intake) enqueueAll(ctx context.Context, req Request, res *Result) error {
	refs := make(chan string, 4*writeChunk)
	errc := make(chan error, 1)
	go func() {
		defer close(refs)
		for start := int64(0); ; start += writeChunk {
			page, err := in.store.Refs(ctx, res.BatchID, start, start+writeChunk-1)
			if err != nil {
				errc <- err
				return
			}
			for _, r := range page {
				select {
				case refs <- r:
				case <-ctx.Done():
					return
				}
			}
			if len(page) < writeChunk {
				return
			}
		}
	}()
	n, err := in.enqueueFrom(ctx, req, res.BatchID, refs)
	res.Tasks += n
	select {
	case lerr := <-errc:
		return errors.Join(lerr, err)
	default:
		return err
	}
}

// enqueueFrom enqueues transfer tasks for the refs it receives, with parallel writers.
func (in *Intake) enqueueFrom(ctx context.Context, req Request, batchID string, refs <-chan string) (int, error) {
	var (
		mu    sync.Mutex
		count int
		errs  []error
		wg    sync.WaitGroup
	)
	for range enqueueWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range refs {
				task := tasks.NewTransferTask(req.Product, batchID, ref, req.Tasks)
				var opts []asynq.Option
				if req.At.After(in.now()) {
					opts = append(opts, asynq.ProcessAt(req.At))
				}
				_, err := in.queue.EnqueueContext(ctx, task, opts...)
				mu.Lock()
				switch {
				case err == nil:
					count++
				case !errors.Is(err, asynq.ErrTaskIDConflict):
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return count, fmt.Errorf("intake: enqueue %d task(s) failed (the sweeper will resume them): %w",
			len(errs), errs[0])
	}
	return count, nil
}

// restoreTasks enqueues tasks for the items of a complete batch that have never been sent, in
// case an earlier run died before enqueueing them all.
func (in *Intake) restoreTasks(ctx context.Context, req Request, res *Result) error {
	refs := make(chan string, writeChunk)
	var walkErr error
	go func() {
		defer close(refs)
		walkErr = in.store.EachItem(ctx, res.BatchID, func(it *ledger.Item) error {
			if it.State == ledger.Validated {
				refs <- it.Ref
			}
			return nil
		})
	}()
	n, err := in.enqueueFrom(ctx, req, res.BatchID, refs)
	res.Tasks += n
	return errors.Join(walkErr, err)
}

// writeRejects writes the rejected rows beside the input, as the original cells plus the line
// and the reason. It writes to a temporary file and renames it, so a failure leaves no
// half-written rejects file.
func writeRejects(req Request, res *Result, guard *rowGuard) (string, error) {
	ext := filepath.Ext(req.Path)
	path := strings.TrimSuffix(req.Path, ext) + ".rejects.csv"
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rejects-*.csv")
	if err != nil {
		return "", fmt.Errorf("intake: rejects file: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	var info readInfo
	wroteHeader := false
	err = eachRow(req, nil, &info, guard, func(_ batch.Row, rowErr *batch.RowError, _ []string) error {
		if rowErr == nil {
			return nil
		}
		if !wroteHeader {
			wroteHeader = true
			if err := w.Write(report.SafeCells(append([]string{"line", "error"}, info.Header...))); err != nil {
				return err
			}
		}
		return w.Write(report.SafeCells(append([]string{strconv.Itoa(rowErr.Line), rowErr.Error()},
			rowErr.Record...)))
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("intake: write rejects file %s: %w", path, err)
	}
	return path, nil
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// ErrNotFound is returned when a batch or an item does not exist.
var ErrNotFound = errors.New("ledger: not found")

// Store reads and writes the ledger.
type Store struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// New returns a Store on the given Redis client.
func New(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, now: time.Now}
}

// Redis returns the underlying client.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// Batch is a batch's metadata.
type Batch struct {
	ID          string
	Product     string
	File        string
	Fingerprint string // of the file's content
	Spec        string // of the content and the options it was read with
	Rows        int    // data rows read from the file
	Accepted    int
	Rejected    int
	Status      string
	Reason      string // why the batch is paused, if it is
	CreatedAt   time.Time
	At          time.Time // when its payouts start; zero for at once
}

// CreateBatch records a new batch in status loading. When a batch with that ID exists already
// it returns false and the existing batch.
func (s *Store) CreateBatch(ctx context.Context, b Batch) (bool, *Batch, error) {
	now := s.now()
	created, err := createBatch.Run(ctx, s.rdb, []string{metaKey(b.ID)},
		"id", b.ID, "product", b.Product, "file", b.File, "fp", b.Fingerprint, "spec", b.Spec, "at", atField(b.At),
		"status", BatchLoading, "reason", "", "cat", ms(now)).Int()
	if err != nil {
		return false, nil, fmt.Errorf("ledger: create batch: %w", err)
	}
	if created == 0 {
		existing, err := s.GetBatch(ctx, b.ID)
		return false, existing, err
	}
	if err := s.rdb.ZAdd(ctx, batchesKey(), redis.Z{Score: float64(now.UnixMilli()), Member: b.ID}).Err(); err != nil {
		return true, nil, fmt.Errorf("ledger: index batch: %w", err)
	}
	return true, nil, nil
}

// CommitBatch records the file's row counts and opens a loading batch for payment. Committing a
// batch that is already open changes nothing.
func (s *Store) CommitBatch(ctx context.Context, id string, rows, accepted, rejected int) error {
	return s.commitBatch(ctx, id, []string{metaKey(id), orderKey(id)}, rows, accepted, rejected)
}

// ErrLockLost means a batch's lock was no longer the caller's when it came to commit.
var ErrLockLost = errors.New("ledger: the batch's lock was lost")

// CommitBatchLocked is CommitBatch for a caller holding the lock name of the batch (see Lock)
// with token: should the lock have expired meanwhile (the process stalled longer than its TTL),
// others may have taken the batch for dead, and it is not committed (ErrLockLost).
func (s *Store) CommitBatchLocked(ctx context.Context, id string, rows, accepted, rejected int,
	name, token string) error {
	return s.commitBatch(ctx, id, []string{metaKey(id), orderKey(id), lockKey(id, name)},
		rows, accepted, rejected, token)
}

func (s *Store) commitBatch(ctx context.Context, id string, keys []string, args ...any) error {
	accepted := args[1]
	n, err := commitBatch.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("ledger: commit batch: %w", err)
	}
	switch n {
	case -1:
		return fmt.Errorf("commit batch %q: %w", id, ErrNotFound)
	case -2:
		return fmt.Errorf("ledger: commit batch %q: it does not hold the %v accepted items "+
			"(another enqueue of it running?); it stays unopened", id, accepted)
	case -3:
		return fmt.Errorf("%w: batch %q stays unopened", ErrLockLost, id)
	case -4:
		return fmt.Errorf("ledger: commit batch %q: it is being discarded; it stays unopened", id)
	}
	return nil
}

// GetBatch reads a batch's metadata.
func (s *Store) GetBatch(ctx context.Context, id string) (*Batch, error) {
	h, err := s.rdb.HGetAll(ctx, metaKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: get batch: %w", err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("batch %q: %w", id, ErrNotFound)
	}
	return &Batch{
		ID: h["id"], Product: h["product"], File: h["file"], Fingerprint: h["fp"], Spec: h["spec"],
		Rows: atoi(h["rows"]), Accepted: atoi(h["acc"]), Rejected: atoi(h["rej"]),
		Status: h["status"], Reason: h["reason"], CreatedAt: msTime(h["cat"]), At: msTime(h["at"]),
	}, nil
}

// SetBatchStatus moves a batch from one of the given statuses to another. It returns false when
// the batch was in none of them.
func (s *Store) SetBatchStatus(ctx context.Context, id string, from []string, to, reason string) (bool, error) {
	prev, err := setBatchStatus.Run(ctx, s.rdb, []string{metaKey(id)},
		strings.Join(from, ","), to, reason).Text()
	if err != nil {
		return false, fmt.Errorf("ledger: set batch status: %w", err)
	}
	return prev != "", nil
}

// Batches lists batch IDs, oldest first.
func (s *Store) Batches(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, batchesKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: list batches: %w", err)
	}
	return ids, nil
}

// NewItem is an accepted row to be written as an item.
type NewItem struct {
	Line                            int
	PartyIDType, PartyID            string
	Amount                          string
	Minor                           int64
	Currency                        string
	ExternalID, PayerMsg, PayeeNote string
	Name                            string
	PrevRef                         string
}

// AddItems writes items for a batch in one round trip, minting a reference ID for each line that
// has none yet. It returns, in order, each line's reference ID and whether it was new.
func (s *Store) AddItems(ctx context.Context, batch string, items []NewItem, due time.Time) ([]string, []bool, error) {
	refs, fresh, err := s.addItems(ctx, batch, items, due)
	if err != nil && strings.Contains(err.Error(), "NOSCRIPT") {
		// A pipeline cannot fall back from EVALSHA to EVAL by itself (after a Redis restart,
		// say). Loading the script and sending the chunk again is safe: lines already written
		// keep their reference IDs.
		if lerr := createItem.Load(ctx, s.rdb).Err(); lerr != nil {
			return nil, nil, fmt.Errorf("ledger: load script: %w", lerr)
		}
		refs, fresh, err = s.addItems(ctx, batch, items, due)
	}
	return refs, fresh, err
}

func (s *Store) addItems(ctx context.Context, batch string, items []NewItem, due time.Time) ([]string, []bool, error) {
	now := ms(s.now())
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(items))
	for i, it := range items {
		ref := uuid.NewString()
		line := strconv.Itoa(it.Line)
		minor := strconv.FormatInt(it.Minor, 10)
		cmds[i] = createItem.EvalSha(ctx, pipe,
			[]string{orderKey(batch), countsKey(batch), itemKey(batch, ref), dueKey(batch)},
			line, ref, minor, it.Currency, ms(due),
			fRef, ref, fLine, line, fPartyType, it.PartyIDType, fParty, it.PartyID,
			fAmount, it.Amount, fMinor, minor, fCur, it.Currency, fExt, it.ExternalID,
			fPayerMsg, it.PayerMsg, fPayeeNote, it.PayeeNote, fName, it.Name,
			fState, string(Validated), fAttempts, "0", fPoll, "0", fPrev, it.PrevRef,
			fCreated, now, fUpdated, now)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("ledger: add items: %w", err)
	}
	refs := make([]string, len(items))
	fresh := make([]bool, len(items))
	for i, c := range cmds {
		res, err := c.Slice()
		if err != nil || len(res) != 2 {
			return nil, nil, fmt.Errorf("ledger: add item line %d: %v", items[i].Line, err)
		}
		fresh[i] = res[0].(int64) == 1
		refs[i], _ = res[1].(string)
	}
	return refs, fresh, nil
}

// GetItem reads one item.
func (s *Store) GetItem(ctx context.Context, batch, ref string) (*Item, error) {
	h, err := s.rdb.HGetAll(ctx, itemKey(batch, ref)).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: get item: %w", err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("item %s of batch %q: %w", ref, batch, ErrNotFound)
	}
	return itemFromHash(batch, h), nil
}

// Change is a compare-and-set state change of one item.
type Change struct {
	From         []State
	To           State
	IncrAttempts bool
	// Due is when the item must next have moved on; the sweeper resumes it after that. Zero keeps
	// the current value; a terminal To always clears it.
	Due    time.Time
	Fields map[string]string // extra item fields, by Item field: see the Set* helpers
}

// Transition applies a Change. It returns whether the change was applied and the state the item
// was in. An item in none of the From states is left alone.
func (s *Store) Transition(ctx context.Context, batch, ref string, c Change) (bool, State, error) {
	from := make([]string, len(c.From))
	for i, st := range c.From {
		from[i] = string(st)
	}
	due := ""
	if c.To.Terminal() {
		due = "0"
	} else if !c.Due.IsZero() {
		due = ms(c.Due)
	}
	incr := "0"
	if c.IncrAttempts {
		incr = "1"
	}
	args := []any{strings.Join(from, ","), string(c.To), ms(s.now()), due, incr, ref}
	for k, v := range c.Fields {
		args = append(args, k, v)
	}
	res, err := transition.Run(ctx, s.rdb,
		[]string{itemKey(batch, ref), countsKey(batch), dueKey(batch)}, args...).Slice()
	if err != nil {
		return false, "", fmt.Errorf("ledger: transition to %s: %w", c.To, err)
	}
	applied, _ := res[0].(int64)
	prev, _ := res[1].(string)
	if applied < 0 {
		return false, "", fmt.Errorf("item %s of batch %q: %w", ref, batch, ErrNotFound)
	}
	return applied == 1, State(prev), nil
}

// Field names for Change.Fields.
const (
	FieldFinTxID     = fFinTx
	FieldReason      = fReason
	FieldLastError   = fErr
	FieldSubmittedAt = fSubmitted
	FieldPollSeq     = fPoll
)

// MillisField formats a time for a Change field such as FieldSubmittedAt.
func MillisField(t time.Time) string { return ms(t) }

// ClaimPoll reports whether status poll seq may proceed for the item (see claimPoll).
func (s *Store) ClaimPoll(ctx context.Context, batch, ref string, seq int) (bool, error) {
	ok, err := claimPoll.Run(ctx, s.rdb, []string{itemKey(batch, ref)}, seq).Int()
	if err != nil {
		return false, fmt.Errorf("ledger: claim poll: %w", err)
	}
	return ok == 1, nil
}

// AdvancePoll records that poll seq is scheduled and when the item is next due.
func (s *Store) AdvancePoll(ctx context.Context, batch, ref string, seq int, due time.Time) error {
	err := advancePoll.Run(ctx, s.rdb, []string{itemKey(batch, ref), dueKey(batch)},
		seq, ms(due), ref).Err()
	if err != nil {
		return fmt.Errorf("ledger: advance poll: %w", err)
	}
	return nil
}

// SetDue sets when a non-terminal item must next have moved on.
func (s *Store) SetDue(ctx context.Context, batch, ref string, due time.Time) error {
	err := s.rdb.ZAddXX(ctx, dueKey(batch), redis.Z{Score: float64(due.UnixMilli()), Member: ref}).Err()
	if err != nil {
		return fmt.Errorf("ledger: set due: %w", err)
	}
	return nil
}

// Overdue returns up to limit reference IDs of the batch's non-terminal items due before t.
func (s *Store) Overdue(ctx context.Context, batch string, t time.Time, limit int64) ([]string, error) {
	refs, err := s.rdb.ZRangeByScore(ctx, dueKey(batch), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(t.UnixMilli(), 10), Count: limit,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: overdue items: %w", err)
	}
	return refs, nil
}

// OpenCount returns how many items of the batch are not terminal.
func (s *Store) OpenCount(ctx context.Context, batch string) (int64, error) {
	n, err := s.rdb.ZCard(ctx, dueKey(batch)).Result()
	if err != nil {
		return 0, fmt.Errorf("ledger: open items: %w", err)
	}
	return n, nil
}

// MakeAllDue marks every non-terminal item of the batch as due now, so the next sweep resumes
// whatever has no live task.
func (s *Store) MakeAllDue(ctx context.Context, batch string) error {
	refs, err := s.Overdue(ctx, batch, time.Unix(1<<40, 0), -1)
	if err != nil {
		return err
	}
	now := float64(s.now().UnixMilli())
	for start := 0; start < len(refs); start += 1000 {
		end := min(start+1000, len(refs))
		zs := make([]redis.Z, 0, end-start)
		for _, r := range refs[start:end] {
			zs = append(zs, redis.Z{Score: now, Member: r})
		}
		if err := s.rdb.ZAddXX(ctx, dueKey(batch), zs...).Err(); err != nil {
			return fmt.Errorf("ledger: make due: %w", err)
		}
	}
	return nil
}

// RemoveDue drops an item from the batch's open set; for entries that have no live item.
func (s *Store) RemoveDue(ctx context.Context, batch, ref string) error {
	if err := s.rdb.ZRem(ctx, dueKey(batch), ref).Err(); err != nil {
		return fmt.Errorf("ledger: remove due: %w", err)
	}
	return nil
}

func atField(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return ms(t)
}

// DiscardLoading deletes a batch that is still loading, items and all: nothing of such a batch
// can have been paid. A batch in any other status is left alone.
func (s *Store) DiscardLoading(ctx context.Context, id string) error {
	ok, err := markDiscarding.Run(ctx, s.rdb, []string{metaKey(id)}).Int()
	if err != nil {
		return fmt.Errorf("ledger: discard batch: %w", err)
	}
	if ok == 0 {
		return fmt.Errorf("ledger: batch %q is no longer loading; not discarded", id)
	}
	// Off the list first: should this stop half-way, the loading meta that is left is rewritten
	// by the next run, which lists the batch again.
	if err := s.rdb.ZRem(ctx, batchesKey(), id).Err(); err != nil {
		return fmt.Errorf("ledger: discard batch: %w", err)
	}
	for {
		refs, err := s.rdb.ZRange(ctx, orderKey(id), 0, 499).Result()
		if err != nil {
			return fmt.Errorf("ledger: discard batch: %w", err)
		}
		if len(refs) == 0 {
			break
		}
		keys := make([]string, len(refs))
		members := make([]any, len(refs))
		for i, r := range refs {
			keys[i], members[i] = itemKey(id, r), r
		}
		pipe := s.rdb.TxPipeline()
		pipe.Del(ctx, keys...)
		pipe.ZRem(ctx, orderKey(id), members...)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("ledger: discard batch: %w", err)
		}
	}
	err = s.rdb.Del(ctx, countsKey(id), dueKey(id), orderKey(id), metaKey(id)).Err()
	if err != nil {
		return fmt.Errorf("ledger: discard batch: %w", err)
	}
	return nil
}

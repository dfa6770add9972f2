package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Retried is the state of a FAILED attempt that an operator has retried as a new attempt,
// under a new reference ID, with RetryItem. It is terminal: nothing moves it again, the
// attempt's field next names the attempt that replaced it, and its line's outcome is that of
// the line's latest attempt. Reports show RETRIED attempts apart and never count a line twice.
const Retried State = "RETRIED"

// fNext is the item field that names the attempt retrying a RETRIED one.
const fNext = "next"

// ErrNotRetryable is wrapped by RetryItem's error when the batch's status forbids retries: a
// cancelled batch pays nothing more, and a loading one has nothing final yet.
var ErrNotRetryable = errors.New("ledger: batch cannot be retried")

// retryItem turns a FAILED item into RETRIED and writes a new attempt of its line in the same
// step, keeping the counters in step. The new attempt copies every field of the old one but
// those in the drop list, then gets the fresh field/value pairs (reference ID, state
// VALIDATED, no attempts, created now, prev = the old reference ID). It joins the order set
// with the old attempt's line score and the due set, so the sweeper pays it even if no task
// is ever enqueued for it.
//
// KEYS: meta, counts, order, due, old item, new item.
// ARGV: old ref, new ref, now ms, due ms, number of drop fields N, N drop fields, pairs...
//
// Returns {1, new ref}; {0, state} when the old item is not FAILED; {-1, ”} when it does not
// exist; {-2, ”} when the batch does not exist; {-3, status} when the batch is cancelled or
// loading; {-4, ”} when the new reference ID is taken.
var retryItem = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-2, ''} end
if status == 'cancelled' or status == 'loading' or status == 'discarding' then return {-3, status} end
local st = redis.call('HGET', KEYS[5], 'st')
if not st then return {-1, ''} end
if st ~= 'FAILED' then return {0, st} end
if redis.call('EXISTS', KEYS[6]) == 1 then return {-4, ''} end
local ndrop = tonumber(ARGV[5])
local drop = {}
for i = 6, 5 + ndrop do drop[ARGV[i]] = true end
local h = redis.call('HGETALL', KEYS[5])
local copy, old = {}, {}
for i = 1, #h, 2 do
  old[h[i]] = h[i + 1]
  if not drop[h[i]] then
    copy[#copy + 1] = h[i]
    copy[#copy + 1] = h[i + 1]
  end
end
if #copy > 0 then redis.call('HSET', KEYS[6], unpack(copy)) end
redis.call('HSET', KEYS[6], unpack(ARGV, 6 + ndrop))
redis.call('HSET', KEYS[5], 'st', 'RETRIED', 'next', ARGV[2], 'uat', ARGV[3])
local score = redis.call('ZSCORE', KEYS[3], ARGV[1]) or old['line']
redis.call('ZADD', KEYS[3], score, ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
local cur, minor = old['cur'] or '', old['min'] or '0'
redis.call('HINCRBY', KEYS[2], 'n:FAILED', -1)
redis.call('HINCRBY', KEYS[2], 'n:RETRIED', 1)
redis.call('HINCRBY', KEYS[2], 'n:VALIDATED', 1)
if minor ~= '0' then
  redis.call('HINCRBY', KEYS[2], 'a:FAILED:' .. cur, '-' .. minor)
  redis.call('HINCRBY', KEYS[2], 'a:RETRIED:' .. cur, minor)
  redis.call('HINCRBY', KEYS[2], 'a:VALIDATED:' .. cur, minor)
end
return {1, ARGV[2]}
`)

// retryDrop lists the fields of a failed attempt that its retry does not inherit: the outcome
// of the old attempt, its link onwards and the task that carried it.
var retryDrop = []string{fFinTx, fReason, fErr, fSubmitted, fNext, fTask}

// RetryItem retries the FAILED item ref as a new attempt of its line under a new reference ID
// (a version-4 UUID), which it returns. The old item becomes RETRIED and names the new one;
// the new one is VALIDATED, names the old one as PrevRef and is due at due, when the sweeper
// hands it to a worker unless a transfer task has done so first.
//
// An item that is not FAILED is left alone: RetryItem returns "" and the item's state.
// UNKNOWN, SUBMITTING and SUBMITTED items are never retried, since MoMo may hold or even have
// paid them. A cancelled or loading batch is refused with ErrNotRetryable; a missing batch or
// item is ErrNotFound.
func (s *Store) RetryItem(ctx context.Context, batch, ref string,
	due time.Time) (string, State, error) {
	return s.RetryItemAs(ctx, batch, ref, uuid.NewString(), due)
}

// RetryItemAs is RetryItem with the new attempt's reference ID chosen by the caller, who may
// have to record it elsewhere first.
func (s *Store) RetryItemAs(ctx context.Context, batch, ref, newRef string,
	due time.Time) (string, State, error) {
	now := ms(s.now())
	args := []any{ref, newRef, now, ms(due), len(retryDrop)}
	for _, f := range retryDrop {
		args = append(args, f)
	}
	args = append(args, fRef, newRef, fState, string(Validated), fAttempts, "0", fPoll, "0",
		fPrev, ref, fCreated, now, fUpdated, now)
	keys := []string{metaKey(batch), countsKey(batch), orderKey(batch), dueKey(batch),
		itemKey(batch, ref), itemKey(batch, newRef)}

	res, err := retryItem.Run(ctx, s.rdb, keys, args...).Slice()
	if err != nil {
		return "", "", fmt.Errorf("ledger: retry item: %w", err)
	}
	code, _ := res[0].(int64)
	info, _ := res[1].(string)
	switch code {
	case 1:
		return newRef, Failed, nil
	case 0:
		return "", State(info), nil
	case -1:
		return "", "", fmt.Errorf("item %s of batch %q: %w", ref, batch, ErrNotFound)
	case -2:
		return "", "", fmt.Errorf("batch %q: %w", batch, ErrNotFound)
	case -3:
		return "", "", fmt.Errorf("%w: batch %q is %s", ErrNotRetryable, batch, info)
	}
	return "", "", fmt.Errorf("ledger: retry item: reference ID %s is taken", newRef)
}

// NextRef returns the reference ID of the attempt that retried item ref, or "" when it has not
// been retried.
func (s *Store) NextRef(ctx context.Context, batch, ref string) (string, error) {
	next, err := s.rdb.HGet(ctx, itemKey(batch, ref), fNext).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("ledger: next attempt: %w", err)
	}
	return next, nil
}

// RetryOutcome says what RetryFailed did.
type RetryOutcome struct {
	// Retried pairs each retried attempt with its new attempt, in line order.
	Retried []RetriedAttempt
	// LeftAlone counts, by state, the items that may still be or have been paid (UNKNOWN,
	// SUBMITTING, SUBMITTED) and that a retry therefore never touches.
	LeftAlone map[State]int
	// OtherReasons counts, by reason, the FAILED items the reason filter left out.
	OtherReasons map[string]int
	// Changed counts FAILED items found at first that were no longer FAILED when their turn
	// came (retried by a concurrent command).
	Changed int
	// Refused lists, in line order, the FAILED items that the confirmation refused to retry.
	Refused []RefusedAttempt
}

// RefusedAttempt is a FAILED line that was not retried, and why.
type RefusedAttempt struct {
	Line int
	Ref  string
	Why  string
}

// Confirm is asked, before the FAILED item ref is retried as the new attempt newRef, whether it
// may be: ok false leaves the item as it is, with why saying so in RetryOutcome.Refused. An
// error stops the retry.
type Confirm func(ctx context.Context, line int, ref, newRef string) (ok bool, why string, err error)

// RetriedAttempt is one retried line.
type RetriedAttempt struct {
	Line   int
	OldRef string
	NewRef string
}

// RetryFailed retries, with RetryItem, every FAILED item of the batch whose reason equals
// reason (ignoring case; "" retries them all). It reads the whole batch before changing
// anything, so the new attempts it adds are never themselves retried in the same run. A
// cancelled or loading batch is refused with ErrNotRetryable. When confirm is not nil, each
// item is retried only if confirm agrees. On an error it returns what it did so far.
func (s *Store) RetryFailed(ctx context.Context, batch, reason string,
	due time.Time, confirm Confirm) (*RetryOutcome, error) {
	out := &RetryOutcome{LeftAlone: map[State]int{}, OtherReasons: map[string]int{}}
	b, err := s.GetBatch(ctx, batch)
	if err != nil {
		return out, err
	}
	if b.Status == BatchCancelled || Unopened(b.Status) {
		return out, fmt.Errorf("%w: batch %q is %s", ErrNotRetryable, batch, b.Status)
	}
	todo, err := s.retryCandidates(ctx, batch, reason, out)
	if err != nil {
		return out, err
	}
	for _, a := range todo {
		newRef := uuid.NewString()
		if confirm != nil {
			ok, why, err := confirm(ctx, a.Line, a.OldRef, newRef)
			if err != nil {
				return out, err
			}
			if !ok {
				out.Refused = append(out.Refused, RefusedAttempt{Line: a.Line, Ref: a.OldRef, Why: why})
				continue
			}
		}
		newRef, _, err := s.RetryItemAs(ctx, batch, a.OldRef, newRef, due)
		if err != nil {
			return out, err
		}
		if newRef == "" {
			out.Changed++
			continue
		}
		a.NewRef = newRef
		out.Retried = append(out.Retried, a)
	}
	return out, nil
}

// retryCandidates lists the FAILED items RetryFailed retries and counts the others in out.
func (s *Store) retryCandidates(ctx context.Context, batch, reason string,
	out *RetryOutcome) ([]RetriedAttempt, error) {
	var todo []RetriedAttempt
	err := s.EachItem(ctx, batch, func(it *Item) error {
		switch {
		case it.State == Unknown || it.State == Submitting || it.State == Submitted:
			out.LeftAlone[it.State]++
		case it.State != Failed:
		case reason != "" && !strings.EqualFold(it.Reason, reason):
			out.OtherReasons[it.Reason]++
		default:
			todo = append(todo, RetriedAttempt{Line: it.Line, OldRef: it.Ref})
		}
		return nil
	})
	return todo, err
}

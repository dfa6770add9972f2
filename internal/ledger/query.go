package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Counts are a batch's items by state, and their amounts by state and currency in minor units.
type Counts struct {
	Items   map[State]int64
	Amounts map[State]map[string]int64
}

// Total returns the number of items in all states.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c.Items {
		n += v
	}
	return n
}

// Open returns the number of items not yet in a terminal state.
func (c Counts) Open() int64 {
	var n int64
	for st, v := range c.Items {
		if !st.Terminal() {
			n += v
		}
	}
	return n
}

// String lists the states that have items, in report order: "SUBMITTED 3, SUCCESSFUL 17".
func (c Counts) String() string {
	var parts []string
	for _, s := range append(slices.Clip(States), Retried) {
		if n := c.Items[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	return strings.Join(parts, ", ")
}

// Counts reads a batch's counters.
func (s *Store) Counts(ctx context.Context, batch string) (Counts, error) {
	h, err := s.rdb.HGetAll(ctx, countsKey(batch)).Result()
	if err != nil {
		return Counts{}, fmt.Errorf("ledger: counts: %w", err)
	}
	c := Counts{Items: map[State]int64{}, Amounts: map[State]map[string]int64{}}
	for k, v := range h {
		parts := strings.SplitN(k, ":", 3)
		switch {
		case len(parts) == 2 && parts[0] == "n":
			c.Items[State(parts[1])] = atoi64(v)
		case len(parts) == 3 && parts[0] == "a":
			st := State(parts[1])
			if c.Amounts[st] == nil {
				c.Amounts[st] = map[string]int64{}
			}
			c.Amounts[st][parts[2]] = atoi64(v)
		}
	}
	return c, nil
}

// EachItem calls fn for every item of the batch in line order, reading in pages.
func (s *Store) EachItem(ctx context.Context, batch string, fn func(*Item) error) error {
	const page = 500
	for start := int64(0); ; start += page {
		refs, err := s.rdb.ZRange(ctx, orderKey(batch), start, start+page-1).Result()
		if err != nil {
			return fmt.Errorf("ledger: list items: %w", err)
		}
		if len(refs) == 0 {
			return nil
		}
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(refs))
		for i, ref := range refs {
			cmds[i] = pipe.HGetAll(ctx, itemKey(batch, ref))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("ledger: read items: %w", err)
		}
		for _, c := range cmds {
			if len(c.Val()) == 0 {
				continue
			}
			if err := fn(itemFromHash(batch, c.Val())); err != nil {
				return err
			}
		}
		if len(refs) < page {
			return nil
		}
	}
}

// Lock takes the short per-item lock that keeps two runs of one item from talking to MoMo at
// the same moment. It returns the owner token, or "" when another run holds the lock.
func (s *Store) Lock(ctx context.Context, batch, ref string, ttl time.Duration) (string, error) {
	token := uuid.NewString()
	ok, err := s.rdb.SetNX(ctx, lockKey(batch, ref), token, ttl).Result()
	if err != nil {
		return "", fmt.Errorf("ledger: lock item: %w", err)
	}
	if !ok {
		return "", nil
	}
	return token, nil
}

// Unlock releases the item lock if token still owns it; a lock that expired and was taken by
// another run is left alone.
func (s *Store) Unlock(ctx context.Context, batch, ref, token string) error {
	if err := unlock.Run(ctx, s.rdb, []string{lockKey(batch, ref)}, token).Err(); err != nil {
		return fmt.Errorf("ledger: unlock item: %w", err)
	}
	return nil
}

// ExtendLock renews the item lock for ttl if token still owns it, and reports whether it does.
func (s *Store) ExtendLock(ctx context.Context, batch, ref, token string, ttl time.Duration) (bool, error) {
	n, err := extendLock.Run(ctx, s.rdb, []string{lockKey(batch, ref)}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("ledger: extend item lock: %w", err)
	}
	return n == 1, nil
}

// PauseProduct records why a product's payouts are stopped (bad credentials or configuration).
func (s *Store) PauseProduct(ctx context.Context, product, reason string) error {
	if err := s.rdb.Set(ctx, productPauseKey(product), reason, 0).Err(); err != nil {
		return fmt.Errorf("ledger: pause product: %w", err)
	}
	return nil
}

// ResumeProduct clears a product's pause.
func (s *Store) ResumeProduct(ctx context.Context, product string) error {
	if err := s.rdb.Del(ctx, productPauseKey(product)).Err(); err != nil {
		return fmt.Errorf("ledger: resume product: %w", err)
	}
	return nil
}

// ProductPause returns why the product is paused, or "" when it is not.
func (s *Store) ProductPause(ctx context.Context, product string) (string, error) {
	reason, err := s.rdb.Get(ctx, productPauseKey(product)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("ledger: product pause: %w", err)
	}
	return reason, nil
}

// ClaimFingerprint records that a file's content belongs to a batch. It returns the batch that
// claimed it first, which is batch itself when the claim is new.
func (s *Store) ClaimFingerprint(ctx context.Context, fingerprint, batch string) (string, error) {
	key := fingerprintKey(fingerprint)
	ok, err := s.rdb.SetNX(ctx, key, batch, 0).Result()
	if err != nil {
		return "", fmt.Errorf("ledger: claim fingerprint: %w", err)
	}
	if ok {
		return batch, nil
	}
	owner, err := s.rdb.Get(ctx, key).Result()
	if err != nil {
		return "", fmt.Errorf("ledger: read fingerprint: %w", err)
	}
	return owner, nil
}

// ClaimSweep lets one worker sweep a batch per round: it returns false while another worker's
// claim, taken within ttl, holds.
func (s *Store) ClaimSweep(ctx context.Context, batch string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, fmt.Sprintf("%s{%s}:sweep", Prefix, batch), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("ledger: claim sweep: %w", err)
	}
	return ok, nil
}

// Refs returns the reference IDs of a batch's items at positions start to stop (inclusive) in
// line order.
func (s *Store) Refs(ctx context.Context, batch string, start, stop int64) ([]string, error) {
	refs, err := s.rdb.ZRange(ctx, orderKey(batch), start, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("ledger: list refs: %w", err)
	}
	return refs, nil
}

// FingerprintOwner returns the batch that holds a file's content, or "".
func (s *Store) FingerprintOwner(ctx context.Context, fingerprint string) (string, error) {
	owner, err := s.rdb.Get(ctx, fingerprintKey(fingerprint)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("ledger: read fingerprint: %w", err)
	}
	return owner, nil
}

// RateWait blocks until one more use of name fits within perSecond uses a second, counted in
// Redis so that every worker shares the limit. It returns ctx's error if ctx ends first.
func (s *Store) RateWait(ctx context.Context, name string, perSecond int) error {
	for {
		now := s.now()
		key := fmt.Sprintf("%srate:%s:%d", Prefix, name, now.Unix())
		n, err := rateCount.Run(ctx, s.rdb, []string{key}).Int()
		if err != nil {
			return fmt.Errorf("ledger: rate limit: %w", err)
		}
		if n <= perSecond {
			return nil
		}
		next := now.Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next.Sub(now) + time.Duration(n%50)*time.Millisecond):
		}
	}
}

// ClaimOrphanScan lets one worker per ttl look for orphaned tasks: it returns false while
// another worker's claim holds.
func (s *Store) ClaimOrphanScan(ctx context.Context, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, Prefix+"orphan-scan", "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("ledger: claim orphan scan: %w", err)
	}
	return ok, nil
}

// ClaimOrphan lets one worker take over a task that a dead worker left running: task is its
// Asynq task ID and retried its retry count, which together name one run of it. It returns
// false while another worker's claim, taken within ttl, holds.
func (s *Store) ClaimOrphan(ctx context.Context, batch, task string, retried int, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, orphanKey(batch, task, retried), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("ledger: claim orphaned task: %w", err)
	}
	return ok, nil
}

// SetTaskID records the transfer task that now carries an item, when it is not the one named
// by the item's reference ID. An item that no longer exists is left alone.
func (s *Store) SetTaskID(ctx context.Context, batch, ref, task string) error {
	if err := setIfExists.Run(ctx, s.rdb, []string{itemKey(batch, ref)}, fTask, task).Err(); err != nil {
		return fmt.Errorf("ledger: record task: %w", err)
	}
	return nil
}

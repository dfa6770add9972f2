package ledger_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
)

func TestCounts_TotalAndOpen(t *testing.T) {
	s, ctx := newStore(t)
	var items []ledger.NewItem
	for line := 2; line < 9; line++ {
		items = append(items, newItem(line, 10, "EUR"))
	}
	refs := openBatch(t, s, "b1", items, time.Now())
	move(t, s, "b1", refs[0], states(ledger.Validated), ledger.Cancelled)
	move(t, s, "b1", refs[1], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[2], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[2], states(ledger.Submitting), ledger.Failed)
	move(t, s, "b1", refs[3], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[3], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[4], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[4], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[4], states(ledger.Submitted), ledger.Unknown)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(7), c.Total())
	assert.Equal(t, int64(4), c.Open(), "two VALIDATED, one SUBMITTING, one SUBMITTED")
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, c.Open(), open, "the due set and the counters agree")

	empty, err := s.Counts(ctx, "none")
	require.NoError(t, err)
	assert.Zero(t, empty.Total())
	assert.Zero(t, empty.Open())
}

func TestEachItem_LineOrderAcrossPages(t *testing.T) {
	s, ctx := newStore(t)
	const n = 1203 // more than two pages of 500
	items := make([]ledger.NewItem, n)
	for i := range items {
		items[i] = newItem(i+2, 1, "EUR")
	}
	rand.Shuffle(n, func(i, j int) { items[i], items[j] = items[j], items[i] })
	openBatch(t, s, "b1", items, time.Now())

	var lines []int
	seen := map[string]bool{}
	require.NoError(t, s.EachItem(ctx, "b1", func(it *ledger.Item) error {
		lines = append(lines, it.Line)
		seen[it.Ref] = true
		return nil
	}))
	require.Len(t, lines, n)
	assert.Len(t, seen, n)
	for i, l := range lines {
		require.Equal(t, i+2, l, "position %d", i)
	}

	refs, err := s.Refs(ctx, "b1", 500, 501)
	require.NoError(t, err)
	require.Len(t, refs, 2)
	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, 502, it.Line)
}

func TestEachItem_StopsAtCallbackError(t *testing.T) {
	s, ctx := newStore(t)
	items := []ledger.NewItem{newItem(2, 1, "EUR"), newItem(3, 1, "EUR"), newItem(4, 1, "EUR")}
	openBatch(t, s, "b1", items, time.Now())
	stop := errors.New("stop")

	calls := 0
	err := s.EachItem(ctx, "b1", func(it *ledger.Item) error {
		calls++
		if it.Line == 3 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 2, calls)

	calls = 0
	require.NoError(t, s.EachItem(ctx, "none", func(*ledger.Item) error { calls++; return nil }))
	assert.Zero(t, calls)
}

func TestLock_OnlyOwnerUnlocks(t *testing.T) {
	s, ctx := newStore(t)
	ref := "11111111-1111-4111-8111-111111111111"

	token, err := s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, token)

	other, err := s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, other, "a held lock is not given twice")

	require.NoError(t, s.Unlock(ctx, "b1", ref, "not-the-owner"))
	other, err = s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, other, "another token cannot release the lock")

	otherItem, err := s.Lock(ctx, "b1", "22222222-2222-4222-8222-222222222222", time.Minute)
	require.NoError(t, err)
	assert.NotEmpty(t, otherItem, "locks are per item")

	require.NoError(t, s.Unlock(ctx, "b1", ref, token))
	again, err := s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.NotEmpty(t, again)
	assert.NotEqual(t, token, again, "every lock gets its own token")
}

func TestLock_ExpiresAndStaleOwnerCannotUnlock(t *testing.T) {
	s, ctx := newStore(t)
	ref := "11111111-1111-4111-8111-111111111111"

	first, err := s.Lock(ctx, "b1", ref, 80*time.Millisecond)
	require.NoError(t, err)
	require.NotEmpty(t, first)

	var second string
	require.Eventually(t, func() bool {
		second, err = s.Lock(ctx, "b1", ref, time.Minute)
		return err == nil && second != ""
	}, 2*time.Second, 20*time.Millisecond, "the lock expires after its TTL")

	// The first holder comes back late: its unlock must not free the second holder's lock.
	require.NoError(t, s.Unlock(ctx, "b1", ref, first))
	third, err := s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, third)
}

func TestClaimPoll_SequenceRules(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR")}, time.Now())
	ref := refs[0]

	ok, err := s.ClaimPoll(ctx, "b1", ref, 1)
	require.NoError(t, err)
	assert.False(t, ok, "only a SUBMITTED item is polled")

	move(t, s, "b1", ref, states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", ref, states(ledger.Submitting), ledger.Submitted)
	for _, seq := range []int{1, 1, 2} {
		ok, err = s.ClaimPoll(ctx, "b1", ref, seq)
		require.NoError(t, err)
		assert.True(t, ok, "seq %d", seq)
	}
	ok, err = s.ClaimPoll(ctx, "b1", ref, 1)
	require.NoError(t, err)
	assert.False(t, ok, "an older poll chain ends")

	require.NoError(t, s.AdvancePoll(ctx, "b1", ref, 5, time.Now().Add(time.Hour)))
	for seq, want := range map[int]bool{2: false, 4: false, 5: true} {
		ok, err = s.ClaimPoll(ctx, "b1", ref, seq)
		require.NoError(t, err)
		assert.Equal(t, want, ok, "seq %d after poll 5 is scheduled", seq)
	}
	it, err := s.GetItem(ctx, "b1", ref)
	require.NoError(t, err)
	assert.Equal(t, 5, it.PollSeq)

	move(t, s, "b1", ref, states(ledger.Submitted), ledger.Successful)
	ok, err = s.ClaimPoll(ctx, "b1", ref, 9)
	require.NoError(t, err)
	assert.False(t, ok, "a final item is not polled")
	ok, err = s.ClaimPoll(ctx, "b1", "00000000-0000-4000-8000-000000000000", 1)
	require.NoError(t, err)
	assert.False(t, ok, "nor a missing one")
}

func TestAdvancePoll_NeverBackwardsAndDueOnlyWhileSubmitted(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR")}, time.Now().Add(time.Hour))
	ref := refs[0]
	move(t, s, "b1", ref, states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", ref, states(ledger.Submitting), ledger.Submitted)

	past := time.Now().Add(-time.Second)
	require.NoError(t, s.AdvancePoll(ctx, "b1", ref, 4, past))
	require.NoError(t, s.AdvancePoll(ctx, "b1", ref, 2, time.Now().Add(time.Hour)))
	it, err := s.GetItem(ctx, "b1", ref)
	require.NoError(t, err)
	assert.Equal(t, 4, it.PollSeq, "the sequence never moves backwards")
	due, err := s.Overdue(ctx, "b1", time.Now(), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "the due time follows the latest call")

	move(t, s, "b1", ref, states(ledger.Submitted), ledger.Successful)
	require.NoError(t, s.AdvancePoll(ctx, "b1", ref, 6, past))
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Zero(t, open, "a poll scheduled late does not reopen a final item")
}

func TestOverdue_SetDueAndMakeAllDue(t *testing.T) {
	s, ctx := newStore(t)
	future := time.Now().Add(time.Hour)
	var items []ledger.NewItem
	for line := 2; line < 7; line++ {
		items = append(items, newItem(line, 1, "EUR"))
	}
	refs := openBatch(t, s, "b1", items, future)
	move(t, s, "b1", refs[4], states(ledger.Validated), ledger.Cancelled)

	due, err := s.Overdue(ctx, "b1", time.Now(), 10)
	require.NoError(t, err)
	assert.Empty(t, due)

	require.NoError(t, s.SetDue(ctx, "b1", refs[2], time.Now().Add(-2*time.Second)))
	require.NoError(t, s.SetDue(ctx, "b1", refs[0], time.Now().Add(-time.Second)))
	due, err = s.Overdue(ctx, "b1", time.Now(), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{refs[2], refs[0]}, due, "oldest due first")
	due, err = s.Overdue(ctx, "b1", time.Now(), 1)
	require.NoError(t, err)
	assert.Equal(t, []string{refs[2]}, due, "limit is honoured")

	missing := "00000000-0000-4000-8000-000000000000"
	require.NoError(t, s.SetDue(ctx, "b1", missing, time.Now().Add(-time.Hour)))
	require.NoError(t, s.MakeAllDue(ctx, "b1"))
	due, err = s.Overdue(ctx, "b1", time.Now().Add(time.Millisecond), 100)
	require.NoError(t, err)
	assert.ElementsMatch(t, refs[:4], due, "every open item, and nothing SetDue invented")

	require.NoError(t, s.RemoveDue(ctx, "b1", refs[1]))
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), open)
}

func TestClaimSweep_OneClaimPerInterval(t *testing.T) {
	s, ctx := newStore(t)

	ok, err := s.ClaimSweep(ctx, "b1", 100*time.Millisecond)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.ClaimSweep(ctx, "b1", 100*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.ClaimSweep(ctx, "b2", 100*time.Millisecond)
	require.NoError(t, err)
	assert.True(t, ok, "claims are per batch")

	require.Eventually(t, func() bool {
		ok, err = s.ClaimSweep(ctx, "b1", time.Minute)
		return err == nil && ok
	}, 2*time.Second, 20*time.Millisecond)
}

func TestExtendLock_OnlyOwnerRenews(t *testing.T) {
	s, ctx := newStore(t)
	ref := "11111111-1111-4111-8111-111111111111"
	token, err := s.Lock(ctx, "b1", ref, 100*time.Millisecond)
	require.NoError(t, err)
	require.NotEmpty(t, token)

	ok, err := s.ExtendLock(ctx, "b1", ref, "not-the-owner", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = s.ExtendLock(ctx, "b1", ref, token, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)

	time.Sleep(200 * time.Millisecond) // past the first TTL
	other, err := s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.Empty(t, other, "the renewed lock still holds")

	require.NoError(t, s.Unlock(ctx, "b1", ref, token))
	ok, err = s.ExtendLock(ctx, "b1", ref, token, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a released lock cannot be renewed")
	other, err = s.Lock(ctx, "b1", ref, time.Minute)
	require.NoError(t, err)
	assert.NotEmpty(t, other, "nor did the failed renewal recreate it")
}

package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
)

// fail moves a VALIDATED item to FAILED with a reason, as a worker would after MoMo refused it.
func fail(t *testing.T, s *ledger.Store, batch, ref, reason string) {
	t.Helper()
	move(t, s, batch, ref, states(ledger.Validated), ledger.Submitting)
	ok, _, err := s.Transition(context.Background(), batch, ref, ledger.Change{
		From: states(ledger.Submitting), To: ledger.Failed, IncrAttempts: true,
		Fields: map[string]string{
			ledger.FieldReason: reason, ledger.FieldLastError: "momo: 400",
			ledger.FieldFinTxID: "should-not-be-copied", ledger.FieldPollSeq: "3",
			ledger.FieldSubmittedAt: ledger.MillisField(time.Now()),
		},
	})
	require.NoError(t, err)
	require.True(t, ok)
}

func TestRetryItem_FailedBecomesRetriedAndNewAttemptIsACleanCopy(t *testing.T) {
	s, ctx := newStore(t)
	items := []ledger.NewItem{newItem(2, 1500, "EUR"), newItem(3, 700, "EUR")}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Hour))
	fail(t, s, "b1", refs[0], "PAYEE_NOT_FOUND")
	before := time.Now().Add(-time.Second)
	due := time.Now().Add(time.Minute)

	newRef, prev, err := s.RetryItem(ctx, "b1", refs[0], due)
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, prev)
	requireV4(t, newRef)
	assert.NotEqual(t, refs[0], newRef, "a retry is a new attempt with a new reference ID")

	old, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, ledger.Retried, old.State)
	assert.Equal(t, "PAYEE_NOT_FOUND", old.Reason, "the old attempt keeps its outcome")
	next, err := s.NextRef(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, newRef, next)

	it, err := s.GetItem(ctx, "b1", newRef)
	require.NoError(t, err)
	assert.Equal(t, newRef, it.Ref)
	assert.Equal(t, ledger.Validated, it.State)
	assert.Equal(t, refs[0], it.PrevRef)
	assert.Zero(t, it.Attempts)
	assert.Zero(t, it.PollSeq)
	assert.Empty(t, it.FinTxID)
	assert.Empty(t, it.Reason)
	assert.Empty(t, it.LastError)
	assert.True(t, it.SubmittedAt.IsZero())
	assert.True(t, it.CreatedAt.After(before))
	assert.True(t, it.CreatedAt.After(old.CreatedAt) || it.CreatedAt.Equal(old.CreatedAt))
	for name, pair := range map[string][2]any{
		"line": {old.Line, it.Line}, "party type": {old.PartyIDType, it.PartyIDType},
		"party": {old.PartyID, it.PartyID}, "amount": {old.Amount, it.Amount},
		"minor": {old.Minor, it.Minor}, "currency": {old.Currency, it.Currency},
		"external ID": {old.ExternalID, it.ExternalID}, "payer message": {old.PayerMsg, it.PayerMsg},
		"payee note": {old.PayeeNote, it.PayeeNote}, "name": {old.Name, it.Name},
	} {
		assert.Equal(t, pair[0], pair[1], name)
	}
	next, err = s.NextRef(ctx, "b1", newRef)
	require.NoError(t, err)
	assert.Empty(t, next, "the new attempt has not been retried")

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Zero(t, c.Items[ledger.Failed])
	assert.Zero(t, c.Amounts[ledger.Failed]["EUR"])
	assert.Equal(t, int64(1), c.Items[ledger.Retried])
	assert.Equal(t, int64(1500), c.Amounts[ledger.Retried]["EUR"])
	assert.Equal(t, int64(2), c.Items[ledger.Validated])
	assert.Equal(t, int64(1500+700), c.Amounts[ledger.Validated]["EUR"])
	assert.Equal(t, int64(3), c.Total())

	overdue, err := s.Overdue(ctx, "b1", due, 10)
	require.NoError(t, err)
	assert.Equal(t, []string{newRef}, overdue, "the new attempt is due, so the sweeper pays it")
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), open)

	var lines []int
	var order []string
	require.NoError(t, s.EachItem(ctx, "b1", func(it *ledger.Item) error {
		lines, order = append(lines, it.Line), append(order, it.Ref)
		return nil
	}))
	assert.Equal(t, []int{2, 2, 3}, lines, "both attempts of line 2 stand in the line's place")
	assert.ElementsMatch(t, []string{refs[0], newRef}, order[:2])
}

func TestRetryItem_OnlyFromFailed(t *testing.T) {
	s, ctx := newStore(t)
	var items []ledger.NewItem
	for line := 2; line < 8; line++ {
		items = append(items, newItem(line, 100, "EUR"))
	}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Hour))
	move(t, s, "b1", refs[1], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[2], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[2], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[3], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[3], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[3], states(ledger.Submitted), ledger.Unknown)
	move(t, s, "b1", refs[4], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[4], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[4], states(ledger.Submitted), ledger.Successful)
	move(t, s, "b1", refs[5], states(ledger.Validated), ledger.Cancelled)
	before, err := s.Counts(ctx, "b1")
	require.NoError(t, err)

	want := []ledger.State{ledger.Validated, ledger.Submitting, ledger.Submitted, ledger.Unknown,
		ledger.Successful, ledger.Cancelled}
	for i, st := range want {
		newRef, got, err := s.RetryItem(ctx, "b1", refs[i], time.Now())
		require.NoError(t, err)
		assert.Empty(t, newRef, "%s is not retried", st)
		assert.Equal(t, st, got)
		it, err := s.GetItem(ctx, "b1", refs[i])
		require.NoError(t, err)
		assert.Equal(t, st, it.State, "left as it was")
	}
	after, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, before, after, "no counter moved")
	n := 0
	require.NoError(t, s.EachItem(ctx, "b1", func(*ledger.Item) error { n++; return nil }))
	assert.Equal(t, len(refs), n, "no attempt was added")
}

func TestRetryItem_RetriedAttemptThatFailsCanBeRetriedAgain(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 900, "EUR")}, time.Now())
	fail(t, s, "b1", refs[0], "EXPIRED")

	second, _, err := s.RetryItem(ctx, "b1", refs[0], time.Now())
	require.NoError(t, err)
	again, st, err := s.RetryItem(ctx, "b1", refs[0], time.Now())
	require.NoError(t, err)
	assert.Empty(t, again, "an attempt is retried once")
	assert.Equal(t, ledger.Retried, st)

	fail(t, s, "b1", second, "EXPIRED")
	third, _, err := s.RetryItem(ctx, "b1", second, time.Now())
	require.NoError(t, err)
	require.NotEmpty(t, third)

	it, err := s.GetItem(ctx, "b1", third)
	require.NoError(t, err)
	assert.Equal(t, second, it.PrevRef, "the chain links each attempt to the one before")
	mid, err := s.GetItem(ctx, "b1", second)
	require.NoError(t, err)
	assert.Equal(t, ledger.Retried, mid.State)
	assert.Equal(t, refs[0], mid.PrevRef)
	next, err := s.NextRef(ctx, "b1", second)
	require.NoError(t, err)
	assert.Equal(t, third, next)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Items[ledger.Retried])
	assert.Equal(t, int64(1800), c.Amounts[ledger.Retried]["EUR"])
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
	assert.Zero(t, c.Items[ledger.Failed])
	assert.Equal(t, int64(1), c.Total()-c.Items[ledger.Retried], "one line, one latest attempt")
}

func TestRetryItem_ConcurrentRetriesMakeOneAttempt(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 900, "EUR")}, time.Now())
	fail(t, s, "b1", refs[0], "EXPIRED")

	var wg sync.WaitGroup
	newRefs := make([]string, 8)
	for i := range newRefs {
		wg.Go(func() {
			ref, _, err := s.RetryItem(ctx, "b1", refs[0], time.Now())
			assert.NoError(t, err)
			newRefs[i] = ref
		})
	}
	wg.Wait()

	made := 0
	for _, r := range newRefs {
		if r != "" {
			made++
		}
	}
	assert.Equal(t, 1, made)
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Total())
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
}

func TestRetryItem_CancelledBatchRefusedPausedAllowed(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR"), newItem(3, 1, "EUR")},
		time.Now())
	fail(t, s, "b1", refs[0], "EXPIRED")
	fail(t, s, "b1", refs[1], "EXPIRED")

	ok, err := s.SetBatchStatus(ctx, "b1", []string{ledger.BatchReady}, ledger.BatchPaused, "x")
	require.NoError(t, err)
	require.True(t, ok)
	newRef, _, err := s.RetryItem(ctx, "b1", refs[0], time.Now())
	require.NoError(t, err)
	assert.NotEmpty(t, newRef, "a paused batch may be retried; the attempt waits for resume")

	ok, err = s.SetBatchStatus(ctx, "b1", []string{ledger.BatchPaused}, ledger.BatchCancelled, "x")
	require.NoError(t, err)
	require.True(t, ok)
	newRef, _, err = s.RetryItem(ctx, "b1", refs[1], time.Now())
	assert.ErrorIs(t, err, ledger.ErrNotRetryable)
	assert.Empty(t, newRef)
	it, err := s.GetItem(ctx, "b1", refs[1])
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, it.State)
	_, err = s.RetryFailed(ctx, "b1", "", time.Now(), nil)
	assert.ErrorIs(t, err, ledger.ErrNotRetryable)
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Failed])
	assert.Equal(t, int64(3), c.Total())
}

func TestRetryItem_MissingIsNotFound(t *testing.T) {
	s, ctx := newStore(t)
	openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR")}, time.Now())

	_, _, err := s.RetryItem(ctx, "b1", "00000000-0000-4000-8000-000000000000", time.Now())
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
	_, _, err = s.RetryItem(ctx, "nope", "00000000-0000-4000-8000-000000000000", time.Now())
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
	_, err = s.RetryFailed(ctx, "nope", "", time.Now(), nil)
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
}

func TestRetryFailed_ReasonFilterAndItemsLeftAlone(t *testing.T) {
	s, ctx := newStore(t)
	var items []ledger.NewItem
	for line := 2; line < 9; line++ {
		items = append(items, newItem(line, int64(line*100), "EUR"))
	}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Hour))
	fail(t, s, "b1", refs[0], "PAYEE_NOT_FOUND")
	fail(t, s, "b1", refs[1], "APPROVAL_REJECTED")
	fail(t, s, "b1", refs[2], "PAYEE_NOT_FOUND")
	move(t, s, "b1", refs[3], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[4], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[4], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[5], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[5], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[5], states(ledger.Submitted), ledger.Unknown)

	out, err := s.RetryFailed(ctx, "b1", "payee_not_found", time.Now(), nil)
	require.NoError(t, err)
	require.Len(t, out.Retried, 2)
	assert.Equal(t, []int{2, 4}, []int{out.Retried[0].Line, out.Retried[1].Line})
	assert.Equal(t, refs[0], out.Retried[0].OldRef)
	assert.Equal(t, refs[2], out.Retried[1].OldRef)
	assert.Equal(t, map[ledger.State]int{ledger.Submitting: 1, ledger.Submitted: 1, ledger.Unknown: 1},
		out.LeftAlone)
	assert.Equal(t, map[string]int{"APPROVAL_REJECTED": 1}, out.OtherReasons)
	for i := 3; i < 6; i++ {
		it, err := s.GetItem(ctx, "b1", refs[i])
		require.NoError(t, err)
		assert.NotEqual(t, ledger.Retried, it.State)
	}

	out, err = s.RetryFailed(ctx, "b1", "", time.Now(), nil)
	require.NoError(t, err)
	require.Len(t, out.Retried, 1, "the other reason now; earlier retries are not retried twice")
	assert.Equal(t, refs[1], out.Retried[0].OldRef)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.Items[ledger.Retried])
	assert.Equal(t, int64(200+300+400), c.Amounts[ledger.Retried]["EUR"])
	assert.Zero(t, c.Items[ledger.Failed])
	assert.Equal(t, int64(len(items)), c.Total()-c.Items[ledger.Retried])
}

func TestRetryFailed_ConfirmationRefusesSome(t *testing.T) {
	s, ctx := newStore(t)
	var items []ledger.NewItem
	for line := 2; line < 5; line++ {
		items = append(items, newItem(line, int64(line*100), "EUR"))
	}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Hour))
	for _, ref := range refs {
		fail(t, s, "b1", ref, "EXPIRED")
	}
	var asked []int
	out, err := s.RetryFailed(ctx, "b1", "", time.Now(), func(_ context.Context, line int, ref, _ string) (bool, string, error) {
		asked = append(asked, line)
		return line != 3, "MoMo says SUCCESSFUL", nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3, 4}, asked)
	require.Len(t, out.Retried, 2)
	assert.Equal(t, []ledger.RefusedAttempt{{Line: 3, Ref: refs[1], Why: "MoMo says SUCCESSFUL"}}, out.Refused)
	it, err := s.GetItem(ctx, "b1", refs[1])
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, it.State, "a refused item stays as it was")

	boom := errors.New("boom")
	_, err = s.RetryFailed(ctx, "b1", "", time.Now(), func(context.Context, int, string, string) (bool, string, error) {
		return false, "", boom
	})
	assert.ErrorIs(t, err, boom)
}

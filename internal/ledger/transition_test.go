package ledger_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
)

func TestTransition_WrongFromStateNotApplied(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 500, "EUR")}, time.Now().Add(time.Hour))

	ok, prev, err := s.Transition(ctx, "b1", refs[0], ledger.Change{
		From: states(ledger.Submitting, ledger.Submitted), To: ledger.Failed,
		Fields: map[string]string{ledger.FieldReason: "nope"},
	})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, ledger.Validated, prev)

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, ledger.Validated, it.State)
	assert.Empty(t, it.Reason, "fields of a refused change are not written")
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
	assert.Zero(t, c.Items[ledger.Failed])
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), open, "a refused terminal change keeps the item due")
}

func TestTransition_CountersAndAmountsMoveTogether(t *testing.T) {
	s, ctx := newStore(t)
	items := []ledger.NewItem{newItem(2, 100, "EUR"), newItem(3, 250, "EUR"), newItem(4, 7000, "UGX")}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Hour))

	move(t, s, "b1", refs[0], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[0], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[0], states(ledger.Submitted), ledger.Successful)
	move(t, s, "b1", refs[2], states(ledger.Validated), ledger.Submitting)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
	assert.Equal(t, int64(1), c.Items[ledger.Submitting])
	assert.Zero(t, c.Items[ledger.Submitted])
	assert.Equal(t, int64(1), c.Items[ledger.Successful])
	assert.Equal(t, int64(250), c.Amounts[ledger.Validated]["EUR"])
	assert.Zero(t, c.Amounts[ledger.Validated]["UGX"])
	assert.Equal(t, int64(7000), c.Amounts[ledger.Submitting]["UGX"])
	assert.Zero(t, c.Amounts[ledger.Submitted]["EUR"])
	assert.Equal(t, int64(100), c.Amounts[ledger.Successful]["EUR"])
	assert.Equal(t, int64(3), c.Total())
	assert.Equal(t, int64(2), c.Open())
}

func TestTransition_TerminalClearsDue(t *testing.T) {
	s, ctx := newStore(t)
	past := time.Now().Add(-time.Minute)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR"), newItem(3, 1, "EUR")}, past)

	// A terminal change clears the due entry even when it asks for a due time.
	ok, _, err := s.Transition(ctx, "b1", refs[0], ledger.Change{
		From: states(ledger.Validated), To: ledger.Cancelled, Due: time.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	require.True(t, ok)

	due, err := s.Overdue(ctx, "b1", time.Now().Add(24*time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{refs[1]}, due)
	open, err := s.OpenCount(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), open)

	// SetDue and MakeAllDue never bring a terminal item back.
	require.NoError(t, s.SetDue(ctx, "b1", refs[0], past))
	require.NoError(t, s.MakeAllDue(ctx, "b1"))
	due, err = s.Overdue(ctx, "b1", time.Now().Add(time.Second), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{refs[1]}, due)
}

func TestTransition_DueKeptOrMoved(t *testing.T) {
	s, ctx := newStore(t)
	past := time.Now().Add(-time.Minute)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR")}, past)

	move(t, s, "b1", refs[0], states(ledger.Validated), ledger.Submitting) // zero Due keeps it
	due, err := s.Overdue(ctx, "b1", time.Now(), 10)
	require.NoError(t, err)
	assert.Equal(t, refs, due)

	ok, _, err := s.Transition(ctx, "b1", refs[0], ledger.Change{
		From: states(ledger.Submitting), To: ledger.Submitted, Due: time.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	require.True(t, ok)
	due, err = s.Overdue(ctx, "b1", time.Now(), 10)
	require.NoError(t, err)
	assert.Empty(t, due)
	due, err = s.Overdue(ctx, "b1", time.Now().Add(2*time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, refs, due)
}

func TestTransition_ReplayCountsOnce(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 900, "EUR")}, time.Now())
	move(t, s, "b1", refs[0], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[0], states(ledger.Submitting), ledger.Submitted)

	change := ledger.Change{From: states(ledger.Submitted), To: ledger.Successful,
		Fields: map[string]string{ledger.FieldFinTxID: "8123"}}
	ok, prev, err := s.Transition(ctx, "b1", refs[0], change)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, ledger.Submitted, prev)
	change.Fields = map[string]string{ledger.FieldFinTxID: "other"}
	ok, prev, err = s.Transition(ctx, "b1", refs[0], change)
	require.NoError(t, err)
	assert.False(t, ok, "the replay is refused")
	assert.Equal(t, ledger.Successful, prev)

	// Nor can anything move it backwards.
	ok, _, err = s.Transition(ctx, "b1", refs[0],
		ledger.Change{From: states(ledger.Submitting), To: ledger.Submitted})
	require.NoError(t, err)
	assert.False(t, ok)

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, ledger.Successful, it.State)
	assert.Equal(t, "8123", it.FinTxID)
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Successful])
	assert.Equal(t, int64(900), c.Amounts[ledger.Successful]["EUR"])
	assert.Equal(t, int64(1), c.Total())
	for _, st := range ledger.States {
		assert.GreaterOrEqual(t, c.Items[st], int64(0), st)
	}
}

func TestTransition_SameStateKeepsCountersAndRecordsFields(t *testing.T) {
	s, ctx := newStore(t)
	refs := openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 900, "EUR")}, time.Now())

	for i := 0; i < 2; i++ {
		ok, prev, err := s.Transition(ctx, "b1", refs[0], ledger.Change{
			From: states(ledger.Validated, ledger.Submitting), To: ledger.Submitting, IncrAttempts: true,
			Fields: map[string]string{ledger.FieldLastError: "try " + strconv.Itoa(i)},
		})
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, []ledger.State{ledger.Validated, ledger.Submitting}[i], prev)
	}
	now := time.Now().Truncate(time.Millisecond)
	ok, _, err := s.Transition(ctx, "b1", refs[0], ledger.Change{
		From: states(ledger.Submitting), To: ledger.Submitted,
		Fields: map[string]string{
			ledger.FieldSubmittedAt: ledger.MillisField(now), ledger.FieldPollSeq: "1",
		},
	})
	require.NoError(t, err)
	require.True(t, ok)

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, 2, it.Attempts)
	assert.Equal(t, "try 1", it.LastError)
	assert.Equal(t, 1, it.PollSeq)
	assert.True(t, it.SubmittedAt.Equal(now), "%v != %v", it.SubmittedAt, now)
	assert.False(t, it.UpdatedAt.Before(it.CreatedAt))
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Submitted])
	assert.Zero(t, c.Items[ledger.Submitting])
	assert.Zero(t, c.Items[ledger.Validated])
}

func TestTransition_MissingItemIsNotFound(t *testing.T) {
	s, ctx := newStore(t)
	openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 1, "EUR")}, time.Now())

	_, _, err := s.Transition(ctx, "b1", "00000000-0000-4000-8000-000000000000",
		ledger.Change{From: states(ledger.Validated), To: ledger.Cancelled})
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
	assert.Zero(t, c.Items[ledger.Cancelled])
}

func TestCounts_LargeMinorAmountsExact(t *testing.T) {
	s, ctx := newStore(t)
	// 2^53+1 is the first integer a double cannot hold; 123456789012345 is a realistic large sum.
	const big, large = int64(9007199254740993), int64(123456789012345)
	items := []ledger.NewItem{
		newItem(2, big, "UGX"), newItem(3, big, "UGX"), newItem(4, big, "UGX"),
		newItem(5, large, "GHS"), newItem(6, large, "GHS"), newItem(7, large, "GHS"),
		newItem(8, large+1, "GHS"),
	}
	refs := openBatch(t, s, "b1", items, time.Now())

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(27021597764222979), c.Amounts[ledger.Validated]["UGX"])
	assert.Equal(t, int64(493827156049381), c.Amounts[ledger.Validated]["GHS"])

	move(t, s, "b1", refs[0], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[6], states(ledger.Validated), ledger.Submitting)
	move(t, s, "b1", refs[6], states(ledger.Submitting), ledger.Submitted)
	move(t, s, "b1", refs[6], states(ledger.Submitted), ledger.Successful)

	c, err = s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(18014398509481986), c.Amounts[ledger.Validated]["UGX"])
	assert.Equal(t, big, c.Amounts[ledger.Submitting]["UGX"])
	assert.Equal(t, 3*large, c.Amounts[ledger.Validated]["GHS"])
	assert.Equal(t, large+1, c.Amounts[ledger.Successful]["GHS"])
	assert.Zero(t, c.Amounts[ledger.Submitting]["GHS"])
	assert.Zero(t, c.Amounts[ledger.Submitted]["GHS"])

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, big, it.Minor)
}

package ledger_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
)

func TestDiscardLoading_RemovesTheBatchFromTheList(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "half", Product: "disbursement"})
	require.NoError(t, err)
	refs, _, err := s.AddItems(ctx, "half", []ledger.NewItem{newItem(2, 100, "EUR")}, time.Now())
	require.NoError(t, err)

	require.NoError(t, s.DiscardLoading(ctx, "half"))

	ids, err := s.Batches(ctx)
	require.NoError(t, err)
	assert.NotContains(t, ids, "half", "a discarded batch is not listed, or list and sweep would trip on it")
	_, err = s.GetItem(ctx, "half", refs[0])
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

func TestExternalIDs_SetOnlyWhereStillAsRead(t *testing.T) {
	s, ctx := newStore(t)
	changed, err := s.SetExternalIDs(ctx, "disbursement", []string{"a", "b"}, []string{"b1 r1", "b1 r2"}, []string{"", ""})
	require.NoError(t, err)
	assert.Empty(t, changed)
	got, err := s.ExternalIDUses(ctx, "disbursement", []string{"a", "b", "c"})
	require.NoError(t, err)
	assert.Equal(t, []ledger.ExternalIDUse{{Batch: "b1", Ref: "r1"}}, got[0].Items)
	assert.Equal(t, "b1 r2", got[1].Raw)
	assert.Empty(t, got[2].Items)

	// Another writer read "a" as empty too: its write finds it changed and writes nothing.
	changed, err = s.SetExternalIDs(ctx, "disbursement", []string{"a", "b"},
		[]string{"b2 r9", ledger.FormatExternalIDHolders(append(got[1].Items, ledger.ExternalIDUse{Batch: "b2", Ref: "r8"}))},
		[]string{"", got[1].Raw})
	require.NoError(t, err)
	assert.Equal(t, []int{0}, changed)
	got, err = s.ExternalIDUses(ctx, "disbursement", []string{"a", "b"})
	require.NoError(t, err)
	assert.Equal(t, "b1 r1", got[0].Raw)
	assert.Equal(t, []ledger.ExternalIDUse{{Batch: "b1", Ref: "r2"}, {Batch: "b2", Ref: "r8"}}, got[1].Items)

	// Other products have their own index.
	other, err := s.ExternalIDUses(ctx, "remittance", []string{"a"})
	require.NoError(t, err)
	assert.Empty(t, other[0].Items)
}

func TestCommitBatchLocked_OnlyWhileTheLockIsTheCallers(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "slow", Product: "disbursement"})
	require.NoError(t, err)
	_, _, err = s.AddItems(ctx, "slow", []ledger.NewItem{newItem(2, 100, "EUR")}, time.Now())
	require.NoError(t, err)
	token, err := s.Lock(ctx, "slow", "enqueue", time.Minute)
	require.NoError(t, err)

	// The lock expired while the enqueue stalled, and another run took it.
	require.NoError(t, s.Unlock(ctx, "slow", "enqueue", token))
	other, err := s.Lock(ctx, "slow", "enqueue", time.Minute)
	require.NoError(t, err)
	err = s.CommitBatchLocked(ctx, "slow", 1, 1, 0, "enqueue", token)
	assert.ErrorIs(t, err, ledger.ErrLockLost)
	b, err := s.GetBatch(ctx, "slow")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchLoading, b.Status, "not opened")

	require.NoError(t, s.CommitBatchLocked(ctx, "slow", 1, 1, 0, "enqueue", other))
	b, err = s.GetBatch(ctx, "slow")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)
}

func TestCommitBatchLocked_ABatchBeingDiscardedIsNotOpened(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "gone", Product: "disbursement"})
	require.NoError(t, err)
	token, err := s.Lock(ctx, "gone", "enqueue", time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Redis().HSet(ctx, "payout:{gone}:meta", "status", ledger.BatchDiscarding).Err())

	err = s.CommitBatchLocked(ctx, "gone", 0, 0, 0, "enqueue", token)
	require.Error(t, err, "not a success: its items are being deleted")
	b, err := s.GetBatch(ctx, "gone")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchDiscarding, b.Status)
}

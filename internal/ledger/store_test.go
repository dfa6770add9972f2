package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
)

func TestCreateBatch_SecondCreateReturnsExisting(t *testing.T) {
	s, ctx := newStore(t)
	b := ledger.Batch{ID: "b1", Product: "disbursement", File: "pay.csv", Fingerprint: "fp1",
		Spec: "spec1"}

	created, existing, err := s.CreateBatch(ctx, b)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Nil(t, existing)

	other := ledger.Batch{ID: "b1", Product: "remittance", Fingerprint: "other"}
	created, existing, err = s.CreateBatch(ctx, other)
	require.NoError(t, err)
	assert.False(t, created)
	require.NotNil(t, existing)
	assert.Equal(t, "disbursement", existing.Product, "the first batch is kept")
	assert.Equal(t, "fp1", existing.Fingerprint)
	assert.Equal(t, "spec1", existing.Spec)
	assert.Equal(t, "pay.csv", existing.File)
	assert.Equal(t, ledger.BatchLoading, existing.Status)
	assert.False(t, existing.CreatedAt.IsZero())

	ids, err := s.Batches(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"b1"}, ids)
}

func TestCommitBatch_OpensLoadingBatchWithRowCounts(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement"})
	require.NoError(t, err)
	var items []ledger.NewItem
	for line := 2; line < 10; line++ {
		items = append(items, newItem(line, 100, "EUR"))
	}
	_, _, err = s.AddItems(ctx, "b1", items, time.Now())
	require.NoError(t, err)

	err = s.CommitBatch(ctx, "b1", 11, 9, 2)
	require.ErrorContains(t, err, "does not hold the 9 accepted items", "8 items are not 9")
	require.NoError(t, s.CommitBatch(ctx, "b1", 10, 8, 2))

	b, err := s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)
	assert.Equal(t, 10, b.Rows)
	assert.Equal(t, 8, b.Accepted)
	assert.Equal(t, 2, b.Rejected)
	assert.Equal(t, b.Rows, b.Accepted+b.Rejected)
}

func TestCommitBatch_KeepsPausedBatchPaused(t *testing.T) {
	s, ctx := newStore(t)
	openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 100, "EUR")}, time.Now())
	ok, err := s.SetBatchStatus(ctx, "b1", []string{ledger.BatchReady}, ledger.BatchPaused, "funds")
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, s.CommitBatch(ctx, "b1", 1, 1, 0))

	b, err := s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchPaused, b.Status)
	assert.Equal(t, "funds", b.Reason)
}

func TestCommitBatch_AlreadyOpenChangesNothing(t *testing.T) {
	s, ctx := newStore(t)
	openBatch(t, s, "b1", []ledger.NewItem{newItem(2, 100, "EUR")}, time.Now())

	require.NoError(t, s.CommitBatch(ctx, "b1", 99, 50, 49))

	b, err := s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, 1, b.Rows)
	assert.Equal(t, 1, b.Accepted)
	assert.Equal(t, 0, b.Rejected)
}

func TestGetBatch_MissingIsNotFound(t *testing.T) {
	s, ctx := newStore(t)
	_, err := s.GetBatch(ctx, "nope")
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
}

func TestSetBatchStatus_MovesOnlyFromListedStatuses(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement"})
	require.NoError(t, err)

	ok, err := s.SetBatchStatus(ctx, "b1", []string{ledger.BatchReady, ledger.BatchPaused},
		ledger.BatchCancelled, "x")
	require.NoError(t, err)
	assert.False(t, ok, "a loading batch is in neither listed status")
	b, err := s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchLoading, b.Status)

	ok, err = s.SetBatchStatus(ctx, "b1", []string{ledger.BatchReady, ledger.BatchLoading},
		ledger.BatchPaused, "top up")
	require.NoError(t, err)
	assert.True(t, ok)
	b, err = s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchPaused, b.Status)
	assert.Equal(t, "top up", b.Reason)

	ok, err = s.SetBatchStatus(ctx, "b1", []string{ledger.BatchPaused}, ledger.BatchReady, "")
	require.NoError(t, err)
	assert.True(t, ok)
	b, err = s.GetBatch(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)
	assert.Empty(t, b.Reason, "resuming clears the reason")

	ok, err = s.SetBatchStatus(ctx, "missing", []string{ledger.BatchReady}, ledger.BatchPaused, "")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = s.GetBatch(ctx, "missing")
	assert.True(t, errors.Is(err, ledger.ErrNotFound), "a refused move creates nothing")
}

func TestAddItems_IdempotentByLine(t *testing.T) {
	s, ctx := newStore(t)
	items := []ledger.NewItem{newItem(2, 1500, "EUR"), newItem(3, 2500, "EUR"), newItem(5, 100, "UGX")}
	refs := openBatch(t, s, "b1", items, time.Now().Add(time.Minute))
	for _, r := range refs {
		requireV4(t, r)
	}
	assert.Len(t, map[string]bool{refs[0]: true, refs[1]: true, refs[2]: true}, 3, "refs are distinct")

	// The same lines again, even with other content and a new line among them.
	again := []ledger.NewItem{
		newItem(5, 999, "UGX"), newItem(2, 999, "EUR"), newItem(7, 700, "EUR"), newItem(3, 999, "EUR"),
	}
	refs2, fresh, err := s.AddItems(ctx, "b1", again, time.Now())
	require.NoError(t, err)
	assert.Equal(t, []string{refs[2], refs[0], refs2[2], refs[1]}, refs2)
	assert.Equal(t, []bool{false, false, true, false}, fresh)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(4), c.Items[ledger.Validated], "counters are not doubled")
	assert.Equal(t, int64(1500+2500+700), c.Amounts[ledger.Validated]["EUR"])
	assert.Equal(t, int64(100), c.Amounts[ledger.Validated]["UGX"])

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, int64(1500), it.Minor, "the first write is kept")
}

func TestAddItems_SameLineTwiceInOneCallIsOneItem(t *testing.T) {
	s, ctx := newStore(t)
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement"})
	require.NoError(t, err)

	twice := []ledger.NewItem{newItem(4, 10, "EUR"), newItem(4, 10, "EUR")}
	refs, fresh, err := s.AddItems(ctx, "b1", twice, time.Now())
	require.NoError(t, err)
	assert.Equal(t, refs[0], refs[1])
	assert.Equal(t, []bool{true, false}, fresh)

	c, err := s.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Total())
}

func TestGetItem_RoundTripsEveryField(t *testing.T) {
	s, ctx := newStore(t)
	in := newItem(12, 123456, "EUR")
	in.Amount = "1234.56"
	in.PrevRef = "11111111-1111-4111-8111-111111111111"
	before := time.Now().Add(-time.Second)
	refs := openBatch(t, s, "b1", []ledger.NewItem{in}, time.Now())

	it, err := s.GetItem(ctx, "b1", refs[0])
	require.NoError(t, err)
	assert.Equal(t, "b1", it.Batch)
	assert.Equal(t, refs[0], it.Ref)
	assert.Equal(t, 12, it.Line)
	assert.Equal(t, in.PartyIDType, it.PartyIDType)
	assert.Equal(t, in.PartyID, it.PartyID)
	assert.Equal(t, "1234.56", it.Amount)
	assert.Equal(t, int64(123456), it.Minor)
	assert.Equal(t, "EUR", it.Currency)
	assert.Equal(t, in.ExternalID, it.ExternalID)
	assert.Equal(t, in.PayerMsg, it.PayerMsg)
	assert.Equal(t, in.PayeeNote, it.PayeeNote)
	assert.Equal(t, in.Name, it.Name)
	assert.Equal(t, in.PrevRef, it.PrevRef)
	assert.Equal(t, ledger.Validated, it.State)
	assert.Zero(t, it.Attempts)
	assert.Zero(t, it.PollSeq)
	assert.True(t, it.CreatedAt.After(before))
	assert.True(t, it.SubmittedAt.IsZero())

	_, err = s.GetItem(ctx, "b1", "00000000-0000-4000-8000-000000000000")
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
}

func TestClaimFingerprint_FirstBatchKeepsIt(t *testing.T) {
	s, ctx := newStore(t)

	owner, err := s.FingerprintOwner(ctx, "sha256:abc")
	require.NoError(t, err)
	assert.Empty(t, owner, "an unclaimed file has no owner")

	owner, err = s.ClaimFingerprint(ctx, "sha256:abc", "b1")
	require.NoError(t, err)
	assert.Equal(t, "b1", owner)

	owner, err = s.ClaimFingerprint(ctx, "sha256:abc", "b2")
	require.NoError(t, err)
	assert.Equal(t, "b1", owner, "the same file under a new batch ID is reported")

	owner, err = s.ClaimFingerprint(ctx, "sha256:abc", "b1")
	require.NoError(t, err)
	assert.Equal(t, "b1", owner, "claiming again for the owner is fine")

	owner, err = s.ClaimFingerprint(ctx, "sha256:def", "b2")
	require.NoError(t, err)
	assert.Equal(t, "b2", owner)

	owner, err = s.FingerprintOwner(ctx, "sha256:abc")
	require.NoError(t, err)
	assert.Equal(t, "b1", owner)
}

func TestProductPause_SetReadClear(t *testing.T) {
	s, ctx := newStore(t)

	reason, err := s.ProductPause(ctx, "disbursement")
	require.NoError(t, err)
	assert.Empty(t, reason)

	require.NoError(t, s.PauseProduct(ctx, "disbursement", "401 from token"))
	reason, err = s.ProductPause(ctx, "disbursement")
	require.NoError(t, err)
	assert.Equal(t, "401 from token", reason)
	other, err := s.ProductPause(ctx, "remittance")
	require.NoError(t, err)
	assert.Empty(t, other, "pauses are per product")

	require.NoError(t, s.ResumeProduct(ctx, "disbursement"))
	reason, err = s.ProductPause(ctx, "disbursement")
	require.NoError(t, err)
	assert.Empty(t, reason)
}

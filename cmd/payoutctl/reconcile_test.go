package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
)

// reconcileCSV pays, by line: 2 an ordinary number, 3 the PAYEE_NOT_FOUND test number, 4 the
// "ongoing" test number, 5 and 6 ordinary numbers.
const reconcileCSV = "msisdn,amount,external_id\n" +
	"46733123470,10,r-2\n46733123457,11,r-3\n46733123453,12,r-4\n" +
	"46733123471,13,r-5\n46733123472,14,r-6\n"

// submitAt creates the transfer of item ref at MoMo, as a worker would have.
func submitAt(t *testing.T, client *momo.Client, store *ledger.Store, ref string) {
	t.Helper()
	ctx := context.Background()
	it, err := store.GetItem(ctx, "b1", ref)
	require.NoError(t, err)
	require.NoError(t, client.Transfer(ctx, momo.Disbursement, ref, momo.TransferRequest{
		Amount: it.Amount, Currency: it.Currency, ExternalID: it.ExternalID,
		Payee: momo.Party{PartyIDType: it.PartyIDType, PartyID: it.PartyID},
	}))
}

// reconcileBatch leaves batch b1 as workers and a lost answer or two would:
//
//	line 2 UNKNOWN     MoMo: SUCCESSFUL
//	line 3 SUBMITTED   MoMo: FAILED PAYEE_NOT_FOUND
//	line 4 UNKNOWN     MoMo: PENDING
//	line 5 SUBMITTING  MoMo: 404, never created
//	line 6 SUBMITTED   MoMo: 404
func reconcileBatch(t *testing.T) (*momosim.Server, *ledger.Store, map[int]string) {
	t.Helper()
	sim := startSim(t, momosim.Config{OngoingFor: time.Hour})
	store := setupCSV(t, reconcileCSV)
	refs := byLine(t, store)
	client := simClient(t, os.Getenv("MOMO_BASE_URL"))
	for _, line := range []int{2, 3, 4} {
		submitAt(t, client, store, refs[line])
	}
	walk(t, store, refs[2], "polling window closed", toUnknown...)
	walk(t, store, refs[3], "", toSubmitted...)
	walk(t, store, refs[4], "polling window closed", toUnknown...)
	walk(t, store, refs[5], "", toSubmitting...)
	walk(t, store, refs[6], "", toSubmitted...)
	return sim, store, refs
}

func TestReconcile_RecordsWhatMoMoSaysAtTenQueriesASecond(t *testing.T) {
	sim, store, refs := reconcileBatch(t)
	ctx := context.Background()
	before := sim.Stats()

	start := time.Now()
	code, out, stderr := ctl(t, "reconcile", "b1")
	elapsed := time.Since(start)
	require.Equal(t, 0, code, stderr)

	out = squash(out)
	assert.Contains(t, out, "asked MoMo about 5 UNKNOWN, SUBMITTING or SUBMITTED payouts")
	assert.Contains(t, out, "SUCCESSFUL 1 recorded")
	assert.Contains(t, out, "FAILED 1 recorded")
	assert.Contains(t, out, "pending 1 still pending")
	assert.Contains(t, out, "not found 2 unknown to MoMo (404)")
	assert.Contains(t, out, "errors 0")

	ftid := map[string]string{}
	for _, tr := range sim.Transfers() {
		ftid[tr.ReferenceID] = tr.FinancialTransactionID
	}
	it, err := store.GetItem(ctx, "b1", refs[2])
	require.NoError(t, err)
	assert.Equal(t, ledger.Successful, it.State)
	assert.Equal(t, ftid[refs[2]], it.FinTxID)
	assert.NotEmpty(t, it.FinTxID)
	it, err = store.GetItem(ctx, "b1", refs[3])
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, it.State)
	assert.Equal(t, "PAYEE_NOT_FOUND", it.Reason)
	for line, want := range map[int]ledger.State{4: ledger.Unknown, 5: ledger.Submitting,
		6: ledger.Submitted} {
		it, err := store.GetItem(ctx, "b1", refs[line])
		require.NoError(t, err)
		assert.Equal(t, want, it.State, "line %d: never FAILED on a 404 or a pending answer", line)
	}

	after := sim.Stats()
	assert.Equal(t, before.TransfersCreated, after.TransfersCreated, "reconcile never POSTs")
	assert.Equal(t, 5, after.StatusQueries-before.StatusQueries)
	// Five queries at 10/s: the last one no sooner than 0.4 s after the first.
	assert.GreaterOrEqual(t, elapsed, 380*time.Millisecond)
	assert.Zero(t, after.PaidTwice)
}

func TestReconcile_UnaskedPayoutsFailTheCommand(t *testing.T) {
	sim, store, refs := reconcileBatch(t)
	sim.InjectNext(momosim.FaultStatusFail, 1)

	code, out, stderr := ctl(t, "reconcile", "b1")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, squash(out), "errors 1 MoMo could not be asked")
	assert.Contains(t, stderr,
		"1 payout(s) could not be checked at MoMo; run 'payoutctl reconcile b1' again")
	it, err := store.GetItem(context.Background(), "b1", refs[2])
	require.NoError(t, err)
	assert.Equal(t, ledger.Unknown, it.State, "the one MoMo did not answer for stays as it was")
}

func TestReconcile_NeedsTheMoMoSettings(t *testing.T) {
	sim, _, _ := reconcileBatch(t)
	t.Setenv("MOMO_API_KEY", "")
	before := sim.Stats()

	code, _, stderr := ctl(t, "reconcile", "b1")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, "MOMO_API_KEY")
	assert.Equal(t, before.StatusQueries, sim.Stats().StatusQueries)

	code, _, _ = ctl(t, "reconcile", "nope")
	assert.Equal(t, cli.ExitFailure, code)
}

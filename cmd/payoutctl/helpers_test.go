package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
)

// byLine returns the reference ID of each line's latest attempt (the one not RETRIED).
func byLine(t *testing.T, store *ledger.Store) map[int]string {
	t.Helper()
	refs := map[int]string{}
	require.NoError(t, store.EachItem(context.Background(), "b1", func(it *ledger.Item) error {
		if it.State != ledger.Retried {
			refs[it.Line] = it.Ref
		}
		return nil
	}))
	return refs
}

// walk moves item ref of batch b1 from its state through the given states, as a worker
// would; a FAILED or UNKNOWN step records reason.
func walk(t *testing.T, store *ledger.Store, ref, reason string, path ...ledger.State) {
	t.Helper()
	ctx := context.Background()
	it, err := store.GetItem(ctx, "b1", ref)
	require.NoError(t, err)
	from := it.State
	for _, to := range path {
		fields := map[string]string{}
		if to == ledger.Failed || to == ledger.Unknown {
			fields[ledger.FieldReason] = reason
		}
		ok, _, err := store.Transition(ctx, "b1", ref,
			ledger.Change{From: []ledger.State{from}, To: to, Fields: fields})
		require.NoError(t, err)
		require.True(t, ok, "%s -> %s", from, to)
		from = to
	}
}

// Paths from VALIDATED to the states tests need.
var (
	toSubmitting = []ledger.State{ledger.Submitting}
	toSubmitted  = []ledger.State{ledger.Submitting, ledger.Submitted}
	toUnknown    = []ledger.State{ledger.Submitting, ledger.Submitted, ledger.Unknown}
	toFailed     = []ledger.State{ledger.Submitting, ledger.Submitted, ledger.Failed}
	toSuccessful = []ledger.State{ledger.Submitting, ledger.Submitted, ledger.Successful}
)

// startSim serves a MoMo simulator over HTTP and points the MoMo settings at it, with its
// pre-provisioned API user.
func startSim(t *testing.T, cfg momosim.Config) *momosim.Server {
	t.Helper()
	sim := momosim.New(cfg)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	for k, v := range map[string]string{
		"MOMO_BASE_URL":           srv.URL,
		"MOMO_TARGET_ENVIRONMENT": "sandbox",
		"MOMO_API_USER":           momosim.DefaultAPIUser,
		"MOMO_API_KEY":            momosim.DefaultAPIKey,
		"MOMO_DISBURSEMENT_KEY":   momosim.DefaultDisbursementKey,
		"MOMO_REMITTANCE_KEY":     "",
		"MOMO_CALLBACK_URL":       "",
	} {
		t.Setenv(k, v)
	}
	return sim
}

// simClient is a MoMo client on the simulator's default user, for tests to act as a worker.
func simClient(t *testing.T, baseURL string) *momo.Client {
	t.Helper()
	c, err := momo.New(momo.Config{
		BaseURL: baseURL, TargetEnvironment: "sandbox",
		APIUser: momosim.DefaultAPIUser, APIKey: momosim.DefaultAPIKey,
		SubscriptionKeys: map[momo.Product]string{momo.Disbursement: momosim.DefaultDisbursementKey},
	})
	require.NoError(t, err)
	return c
}

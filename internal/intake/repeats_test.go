package intake

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// enqueueAs runs intake on body as batch id, with the request changed by opts.
func enqueueAs(t *testing.T, in *Intake, id, body string, opts ...func(*Request)) (*Result, error) {
	t.Helper()
	req := request(writeFile(t, id+".csv", body))
	req.BatchID = id
	for _, o := range opts {
		o(&req)
	}
	return in.Run(context.Background(), req)
}

// setState walks item ref of batch id from VALIDATED to a state.
func setState(t *testing.T, store *ledger.Store, id, ref string, path ...ledger.State) {
	t.Helper()
	from := ledger.Validated
	for _, to := range path {
		ok, _, err := store.Transition(context.Background(), id, ref, ledger.Change{From: []ledger.State{from}, To: to})
		require.NoError(t, err)
		require.True(t, ok)
		from = to
	}
}

// refByLine returns the reference ID of each line of a batch.
func refByLine(t *testing.T, store *ledger.Store, id string) map[int]string {
	t.Helper()
	refs := map[int]string{}
	require.NoError(t, store.EachItem(context.Background(), id, func(it *ledger.Item) error {
		refs[it.Line] = it.Ref
		return nil
	}))
	return refs
}

func TestRepeats_CorrectedFileUploadedWholeIsRefused(t *testing.T) {
	in, store := setup(t)
	_, err := enqueueAs(t, in, "nov", payroll)
	require.NoError(t, err)

	// The same rows, one amount corrected: not the same file, but two rows would pay again.
	corrected := strings.Replace(payroll, "46733123472,30,p-3", "46733123472,35,p-3", 1)
	res, err := enqueueAs(t, in, "nov-fixed", corrected)

	require.ErrorIs(t, err, ErrRefused)
	assert.Contains(t, err.Error(), `3 row(s) carry external IDs that earlier batches already pay`)
	assert.Contains(t, err.Error(), `batch "nov": line 2 "p-1" (VALIDATED there), line 3 "p-2" (VALIDATED there), line 4 "p-3"`)
	assert.Contains(t, err.Error(), "-allow-repeated-ids")
	require.Len(t, res.Repeats, 1)
	assert.Equal(t, 3, res.Repeats[0].Rows)
	_, err = store.GetBatch(context.Background(), "nov-fixed")
	assert.ErrorIs(t, err, ledger.ErrNotFound, "nothing of the refused file is written")
	owner, err := store.FingerprintOwner(context.Background(), "rows:"+res.Fingerprint)
	require.NoError(t, err)
	assert.Empty(t, owner, "a refused run claims no fingerprint")

	// The very same file again: the same-file refusal, which names the batch, comes first.
	_, err = enqueueAs(t, in, "nov-dup", payroll)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `already enqueued as batch "nov"`)

	res, err = enqueueAs(t, in, "nov-again", corrected, func(r *Request) { r.AllowRepeatedIDs = true })
	require.NoError(t, err)
	assert.Equal(t, 3, res.Tasks)
}

func TestRepeats_FailedAndCancelledRowsMayBePaidAgain(t *testing.T) {
	in, store := setup(t)
	_, err := enqueueAs(t, in, "oct", payroll)
	require.NoError(t, err)
	refs := refByLine(t, store, "oct")
	setState(t, store, "oct", refs[2], ledger.Submitting, ledger.Submitted, ledger.Failed)
	setState(t, store, "oct", refs[3], ledger.Cancelled)
	setState(t, store, "oct", refs[4], ledger.Submitting, ledger.Submitted, ledger.Successful)

	res, err := enqueueAs(t, in, "oct-2", payroll+"46733123473,40,p-4\n")

	require.ErrorIs(t, err, ErrRefused, "p-3 was paid")
	require.Len(t, res.Repeats, 1)
	assert.Equal(t, 1, res.Repeats[0].Rows)
	assert.Equal(t, []RepeatedRow{{Line: 4, ExternalID: "p-3", State: ledger.Successful}}, res.Repeats[0].Examples)

	// Without the paid row, the failed and the cancelled one go out again.
	res, err = enqueueAs(t, in, "oct-3", "msisdn,amount,external_id\n46733123470,10,p-1\n46733123471,20,p-2\n")
	require.NoError(t, err)
	assert.Equal(t, 2, res.Tasks)
	uses, err := store.ExternalIDUses(context.Background(), string(momo.Disbursement), []string{"p-1", "p-3", "nope"})
	require.NoError(t, err)
	assert.Equal(t, "oct-3", uses[0].Batch, "the index names the newest item")
	assert.Equal(t, "oct", uses[1].Batch)
	assert.Empty(t, uses[2].Batch)
}

func TestRepeats_RerunOfTheSameBatchAndOtherProductPass(t *testing.T) {
	in, _ := setup(t)
	first, err := enqueueAs(t, in, "dec", payroll)
	require.NoError(t, err)
	res, err := enqueueAs(t, in, "dec", payroll)
	require.NoError(t, err, "running the command again finds its own batch")
	assert.True(t, res.AlreadyEnqueued)
	assert.Equal(t, first.Accepted, res.Accepted)

	other := strings.ReplaceAll(payroll, "0,p-", "1,p-") // another file, the same external IDs
	res, err = enqueueAs(t, in, "dec-remit", other, func(r *Request) { r.Product = momo.Remittance })
	require.NoError(t, err, "external IDs are per product")
	assert.Equal(t, 3, res.Tasks)
}

func TestRepeats_ManyRowsCostAFewLookupsAndFewExamples(t *testing.T) {
	in, _ := setup(t)
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "2567%08d,1,x-%d\n", 70000000+i, i)
	}
	_, err := enqueueAs(t, in, "big", b.String())
	require.NoError(t, err)

	res, err := enqueueAs(t, in, "big-2", b.String()+"256799999999,1,x-new\n", func(r *Request) { r.DryRun = true })
	require.NoError(t, err, "a dry run reports, it does not refuse")
	require.Len(t, res.Repeats, 1)
	assert.Equal(t, 2500, res.Repeats[0].Rows)
	assert.Len(t, res.Repeats[0].Examples, repeatExamples)
	assert.Equal(t, 2, res.Repeats[0].Examples[0].Line)
}

package intake

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	assert.Equal(t, []ledger.ExternalIDUse{{Batch: "oct-3", Ref: refByLine(t, store, "oct-3")[2]}}, uses[0].Items,
		"the failed item dropped out, the new one came in")
	assert.Equal(t, "oct", uses[1].Items[0].Batch)
	assert.Empty(t, uses[2].Items)
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
	require.ErrorIs(t, err, ErrRefused, "a dry run refuses as a real run would")
	require.Len(t, res.Repeats, 1)
	assert.Equal(t, 2500, res.Repeats[0].Rows)
	assert.Len(t, res.Repeats[0].Examples, repeatExamples)
	assert.Equal(t, 2, res.Repeats[0].Examples[0].Line)
}

// prepared is a file validated for writing, as Run leaves it just before write.
type prepared struct {
	req   Request
	res   *Result
	guard *rowGuard
}

func prepare(t *testing.T, in *Intake, id, body string) prepared {
	t.Helper()
	ctx := context.Background()
	req := request(writeFile(t, id+".csv", body))
	req.BatchID = id
	req.Tasks, req.Slack = req.Tasks.WithDefaults(), time.Minute
	guard := newRowGuard(ctx, req)
	guard.repeats = newRepeatCheck(ctx, in.store, string(req.Product))
	res, err := validate(req, guard)
	require.NoError(t, err)
	res.Spec = spec(req, res.lineHash)
	res.BatchID = id
	res.Repeats = guard.repeats.repeats(id)
	return prepared{req: req, res: res, guard: guard}
}

func (p prepared) write(in *Intake) error {
	return in.write(context.Background(), p.req, p.res, p.guard)
}

func TestRepeats_TwoEnqueuesRacingWithTheSameIDsCannotBothPass(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	other := "msisdn,amount,external_id\n46733123480,5,q-1\n46733123471,20,p-2\n" // p-2 in both
	// Both validate before either writes: the first pass sees no repeat in either.
	a, b := prepare(t, in, "race-a", payroll), prepare(t, in, "race-b", other)
	require.Empty(t, a.res.Repeats)
	require.Empty(t, b.res.Repeats)

	require.NoError(t, a.write(in))
	err := b.write(in)

	require.ErrorIs(t, err, ErrRefused)
	assert.Contains(t, err.Error(), `batch "race-a": line 3 "p-2" (VALIDATED there)`)
	_, err = store.GetBatch(ctx, "race-b")
	assert.ErrorIs(t, err, ledger.ErrNotFound, "the refused batch is discarded whole")
	listed, err := store.Batches(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"race-a"}, listed)
	owner, err := store.FingerprintOwner(ctx, "rows:"+b.res.Fingerprint)
	require.NoError(t, err)
	assert.Empty(t, owner, "and its claim on the file's content is released")
	uses, err := store.ExternalIDUses(ctx, string(momo.Disbursement), []string{"p-2", "q-1"})
	require.NoError(t, err)
	require.Len(t, uses[0].Items, 1)
	assert.Equal(t, "race-a", uses[0].Items[0].Batch, "p-2 stays with the batch that pays it")
	c, err := store.Counts(ctx, "race-a")
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.Items[ledger.Validated])

	// B's files again, now that it is alone: refused up front by the first pass.
	_, err = enqueueAs(t, in, "race-b", other)
	require.ErrorIs(t, err, ErrRefused)
}

func TestRepeats_AnotherEnqueueWritingNowBlocksAKilledOneDoesNot(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	// A batch being written: loading, its items and index entries in, its enqueue lock held.
	_, _, err := store.CreateBatch(ctx, ledger.Batch{ID: "busy", Product: "disbursement"})
	require.NoError(t, err)
	refs, _, err := store.AddItems(ctx, "busy", []ledger.NewItem{{Line: 2, PartyIDType: "MSISDN",
		PartyID: "46733123470", Amount: "10", Minor: 1000, Currency: "EUR", ExternalID: "p-1"}}, time.Now())
	require.NoError(t, err)
	changed, err := store.SetExternalIDs(ctx, "disbursement", []string{"p-1"}, []string{"busy " + refs[0]}, []string{""})
	require.NoError(t, err)
	require.Empty(t, changed)
	token, err := store.Lock(ctx, "busy", enqueueLock, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, token)

	p := prepare(t, in, "next", payroll)
	require.Len(t, p.res.Repeats, 1, "the first pass sees it")
	p.res.Repeats = nil // as if the other enqueue had begun after this one's first pass
	err = p.write(in)
	require.ErrorIs(t, err, ErrRefused)
	assert.Contains(t, err.Error(), `line 2 "p-1" (being enqueued now there)`)

	// The other enqueue was killed: its lock expires, its loading batch can pay nothing.
	require.NoError(t, store.Unlock(ctx, "busy", enqueueLock, token))
	res, err := enqueueAs(t, in, "next", payroll)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Tasks)
	uses, err := store.ExternalIDUses(ctx, string(momo.Disbursement), []string{"p-1"})
	require.NoError(t, err)
	require.Len(t, uses[0].Items, 1, "the killed enqueue's item dropped out")
	assert.Equal(t, "next", uses[0].Items[0].Batch)
}

func TestRepeats_AllowedRepeatKeepsTheEarlierPaidItemInView(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	_, err := enqueueAs(t, in, "jan", payroll)
	require.NoError(t, err)
	refs := refByLine(t, store, "jan")
	for _, line := range []int{2, 3, 4} {
		setState(t, store, "jan", refs[line], ledger.Submitting, ledger.Submitted, ledger.Successful)
	}
	// The same file again, allowed, then cancelled: its items can pay nothing any more.
	_, err = enqueueAs(t, in, "jan-later", payroll, func(r *Request) { r.AllowSameFile = true })
	require.NoError(t, err)
	ok, err := store.SetBatchStatus(ctx, "jan-later", []string{ledger.BatchReady}, ledger.BatchCancelled, "test")
	require.NoError(t, err)
	require.True(t, ok)
	for _, ref := range refByLine(t, store, "jan-later") {
		setState(t, store, "jan-later", ref, ledger.Cancelled)
	}

	edited := strings.Replace(payroll, "46733123472,30,p-3", "46733123472,31,p-3", 1)
	_, err = enqueueAs(t, in, "jan-edited", edited)
	require.ErrorIs(t, err, ErrRefused, "jan paid these rows; the cancelled copy does not hide it")
	assert.Contains(t, err.Error(), `batch "jan": line 2 "p-1" (SUCCESSFUL there)`)

	// -allow-same-file is for the very same payouts; an edited file is not that.
	_, err = enqueueAs(t, in, "jan-edited", edited, func(r *Request) { r.AllowSameFile = true })
	require.ErrorIs(t, err, ErrRefused)
	assert.Contains(t, err.Error(), "-allow-repeated-ids")

	res, err := enqueueAs(t, in, "jan-edited", edited, func(r *Request) { r.AllowRepeatedIDs = true })
	require.NoError(t, err)
	assert.Equal(t, 3, res.Tasks)
	uses, err := store.ExternalIDUses(ctx, string(momo.Disbursement), []string{"p-1"})
	require.NoError(t, err)
	var batches []string
	for _, u := range uses[0].Items {
		batches = append(batches, u.Batch)
	}
	assert.Equal(t, []string{"jan", "jan-edited"}, batches, "paid and may-pay items stay; cancelled ones go")
}

func TestRepeats_BatchWhoseDiscardStoppedHalfWayIsWrittenAgainNotPaid(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	_, err := enqueueAs(t, in, "holder", "msisdn,amount,external_id\n46733123479,1,p-3\n")
	require.NoError(t, err)
	p := prepare(t, in, "half", payroll)
	p.res.Repeats = nil // as if it raced the holder
	require.ErrorIs(t, p.write(in), ErrRefused)

	// Stopped half-way: the batch is left "discarding", with items.
	_, _, err = store.CreateBatch(ctx, ledger.Batch{ID: "half", Product: "disbursement",
		Fingerprint: p.res.Fingerprint, Spec: p.res.Spec})
	require.NoError(t, err)
	_, _, err = store.AddItems(ctx, "half", []ledger.NewItem{{Line: 2, PartyIDType: "MSISDN",
		PartyID: "46733123470", Amount: "10", Minor: 1000, Currency: "EUR", ExternalID: "p-1"}}, time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Redis().HSet(ctx, "payout:{half}:meta", "status", ledger.BatchDiscarding).Err())

	// Running the command again does not take it for an enqueued batch: it is refused again,
	// and this time deleted.
	res, err := enqueueAs(t, in, "half", payroll)
	require.ErrorIs(t, err, ErrRefused)
	assert.False(t, res.AlreadyEnqueued)
	_, err = store.GetBatch(ctx, "half")
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

func TestRepeats_RacingFilesLargerThanAChunkCannotBothPass(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	var a, b strings.Builder
	a.WriteString("msisdn,amount,external_id\n")
	b.WriteString("msisdn,amount,external_id\n")
	for i := range 1200 {
		fmt.Fprintf(&a, "2567%08d,1,big-%d\n", 70000000+i, i)
		// Only B's first, full chunk of writeChunk rows shares its IDs with A.
		id := fmt.Sprintf("big-%d", i)
		if i >= writeChunk {
			id = fmt.Sprintf("big-b-%d", i)
		}
		fmt.Fprintf(&b, "2567%08d,2,%s\n", 70000000+i, id)
	}
	pa, pb := prepare(t, in, "big-a", a.String()), prepare(t, in, "big-b", b.String())
	require.NoError(t, pa.write(in))

	err := pb.write(in)

	require.ErrorIs(t, err, ErrRefused, "the refusal of a full chunk must not be lost")
	_, err = store.GetBatch(ctx, "big-b")
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

func TestValidate_TotalOverflowIsAnError(t *testing.T) {
	in, _ := setup(t)
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i := range 100 { // 100 x 10^17 cents: more than an int64 holds
		fmt.Fprintf(&b, "2567%08d,999999999999999,o-%d\n", 70000000+i, i)
	}
	_, err := enqueueAs(t, in, "overflow", b.String())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "total overflows")
}

func TestRepeats_IndexedItemNotWrittenYetCountsAsPaying(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	_, err := enqueueAs(t, in, "may", payroll)
	require.NoError(t, err)
	refs := refByLine(t, store, "may")
	setState(t, store, "may", refs[2], ledger.Submitting, ledger.Submitted, ledger.Failed)
	// retry-failed has put its new attempt on record and is about to write it.
	ok, why, err := ClaimRetry(ctx, store, string(momo.Disbursement), "p-1", "may", "11111111-2222-4333-8444-555555555555")
	require.NoError(t, err)
	require.True(t, ok, why)

	_, err = enqueueAs(t, in, "may-fixed", "msisdn,amount,external_id\n46733123470,10,p-1\n")
	require.ErrorIs(t, err, ErrRefused)
	assert.Contains(t, err.Error(), `line 2 "p-1" (being retried now there)`)
}

func TestRepeats_AllowSameFileCoversOnlyTheSameContent(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	f := "msisdn,amount,external_id\n46733123470,10,s-1\n46733123471,20,s-2\n"
	g := "msisdn,amount,external_id\n46733123470,11,s-1\n46733123471,20,s-2\n" // f corrected
	_, err := enqueueAs(t, in, "qs1", f)
	require.NoError(t, err)
	ok, err := store.SetBatchStatus(ctx, "qs1", []string{ledger.BatchReady}, ledger.BatchCancelled, "test")
	require.NoError(t, err)
	require.True(t, ok)
	for _, ref := range refByLine(t, store, "qs1") {
		setState(t, store, "qs1", ref, ledger.Cancelled)
	}
	_, err = enqueueAs(t, in, "qs2", g)
	require.NoError(t, err, "f's rows were cancelled, so the corrected file may pay them")

	// f again, as the same file: allowed for f's own batch, not for g's, which pays them.
	for _, dry := range []bool{true, false} {
		_, err = enqueueAs(t, in, "qs3", f, func(r *Request) { r.AllowSameFile, r.DryRun = true, dry })
		require.ErrorIs(t, err, ErrRefused, "dry run %v", dry)
		assert.Contains(t, err.Error(), `batch "qs2"`)
		assert.NotContains(t, err.Error(), `batch "qs1"`)
	}
}

func TestDiscard_OnlyWhileTheBatchLockIsThisRuns(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	_, _, err := store.CreateBatch(ctx, ledger.Batch{ID: "owned", Product: "disbursement"})
	require.NoError(t, err)
	// A re-run of the same command holds the lock now; this stalled run's token is stale.
	other, err := store.Lock(ctx, "owned", enqueueLock, time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, other)

	err = in.discard(ctx, "owned", "stale-token")
	require.ErrorIs(t, err, ledger.ErrLockLost)
	b, err := store.GetBatch(ctx, "owned")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchLoading, b.Status, "left to its new owner")

	require.NoError(t, in.discard(ctx, "owned", other))
	_, err = store.GetBatch(ctx, "owned")
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

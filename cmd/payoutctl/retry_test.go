package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

// mixedCSV has six rows to pay and one (line 5) that validation rejects.
const mixedCSV = "msisdn,amount,external_id\n" +
	"46733123470,10,a-2\n46733123471,12.5,a-3\n46733123472,1,a-4\n46733123473,2,bad-amount-x\n" +
	"46733123474,3,a-6\n46733123475,4,a-7\n46733123476,5,a-8\n"

// mixedBatch enqueues mixedCSV (with line 5 broken) and moves its items to:
// 2 FAILED PAYEE_NOT_FOUND, 3 FAILED EXPIRED, 4 UNKNOWN, 6 SUBMITTED, 7 SUBMITTING,
// 8 SUCCESSFUL.
func mixedBatch(t *testing.T) (*ledger.Store, map[int]string) {
	t.Helper()
	store := setupCSV(t, strings.Replace(mixedCSV, "46733123473,2,", "46733123473,2.001,", 1))
	refs := byLine(t, store)
	require.Len(t, refs, 6)
	walk(t, store, refs[2], "PAYEE_NOT_FOUND", toFailed...)
	walk(t, store, refs[3], "EXPIRED", toFailed...)
	walk(t, store, refs[4], "polling window closed", toUnknown...)
	walk(t, store, refs[6], "", toSubmitted...)
	walk(t, store, refs[7], "", toSubmitting...)
	walk(t, store, refs[8], "", toSuccessful...)
	return store, refs
}

// queued returns the transfer task queued under a reference ID.
func queued(t *testing.T, ref string) *asynq.TaskInfo {
	t.Helper()
	ins := asynq.NewInspector(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer ins.Close()
	info, err := ins.GetTaskInfo(tasks.Queue(momo.Disbursement), ref)
	require.NoError(t, err, "no transfer task for %s", ref)
	return info
}

func TestRetryFailed_NewAttemptForFailedRowsOfThatReasonOnly(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store, refs := mixedBatch(t)
	ctx := context.Background()

	code, out, stderr := ctl(t, "retry-failed", "b1", "-reason", "PAYEE_NOT_FOUND")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "1 FAILED payout with reason PAYEE_NOT_FOUND retried")
	assert.Contains(t, out, "1 FAILED with other reasons not retried: EXPIRED 1")
	assert.Contains(t, out, "left alone: 1 SUBMITTING, 1 SUBMITTED, 1 UNKNOWN")
	assert.Contains(t, out, "'payoutctl reconcile b1'")

	old, err := store.GetItem(ctx, "b1", refs[2])
	require.NoError(t, err)
	assert.Equal(t, ledger.Retried, old.State)
	newRef, err := store.NextRef(ctx, "b1", refs[2])
	require.NoError(t, err)
	assert.Contains(t, out, "line 2: "+refs[2]+" -> "+newRef)
	u, err := uuid.Parse(newRef)
	require.NoError(t, err)
	assert.Equal(t, uuid.Version(4), u.Version())
	it, err := store.GetItem(ctx, "b1", newRef)
	require.NoError(t, err)
	assert.Equal(t, ledger.Validated, it.State)
	assert.Equal(t, refs[2], it.PrevRef)
	assert.Equal(t, old.Amount, it.Amount)
	assert.Equal(t, old.PartyID, it.PartyID)

	info := queued(t, newRef)
	var pl tasks.Payload
	require.NoError(t, json.Unmarshal(info.Payload, &pl))
	assert.Equal(t, tasks.Payload{Batch: "b1", Ref: newRef, Product: momo.Disbursement}, pl)
	assert.Equal(t, tasks.TypeDisbursement, info.Type)
	assert.Equal(t, tasks.DefaultTransferMaxRetry, info.MaxRetry)

	for line, want := range map[int]ledger.State{3: ledger.Failed, 4: ledger.Unknown,
		6: ledger.Submitted, 7: ledger.Submitting, 8: ledger.Successful} {
		it, err := store.GetItem(ctx, "b1", refs[line])
		require.NoError(t, err)
		assert.Equal(t, want, it.State, "line %d is left as it was", line)
	}

	// Without -reason the other FAILED row goes; the first retry is not retried twice.
	code, out, stderr = ctl(t, "retry-failed", "b1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "1 FAILED payout retried")
	assert.Contains(t, out, "line 3: "+refs[3])
	code, out, _ = ctl(t, "retry-failed", "b1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "nothing to retry")
}

func TestRetryFailed_AttemptThatFailsAgainIsRetriedAgain(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store, refs := mixedBatch(t)
	ctx := context.Background()
	code, _, stderr := ctl(t, "retry-failed", "b1", "-reason", "payee_not_found")
	require.Equal(t, 0, code, stderr)
	second, err := store.NextRef(ctx, "b1", refs[2])
	require.NoError(t, err)
	walk(t, store, second, "PAYEE_NOT_FOUND", toFailed...)

	code, _, stderr = ctl(t, "retry-failed", "b1", "-reason", "PAYEE_NOT_FOUND")
	require.Equal(t, 0, code, stderr)
	third, err := store.NextRef(ctx, "b1", second)
	require.NoError(t, err)
	require.NotEmpty(t, third)
	it, err := store.GetItem(ctx, "b1", third)
	require.NoError(t, err)
	assert.Equal(t, second, it.PrevRef)
	queued(t, third)

	c, err := store.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Items[ledger.Retried])
	assert.Equal(t, int64(6), c.Total()-c.Items[ledger.Retried], "six lines, six latest attempts")
}

func TestRetryFailed_CancelledRefusedPausedWarned(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store, refs := mixedBatch(t)
	ctx := context.Background()

	code, _, stderr := ctl(t, "pause", "b1")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = ctl(t, "retry-failed", "b1", "-reason", "EXPIRED")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "batch b1 is paused: the new attempts wait for 'payoutctl resume b1'")

	code, _, stderr = ctl(t, "cancel", "b1")
	require.Equal(t, 0, code, stderr)
	before, err := store.Counts(ctx, "b1")
	require.NoError(t, err)
	code, out, stderr := ctl(t, "retry-failed", "b1")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, "batch b1 is cancelled")
	assert.Empty(t, out)
	after, err := store.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, before, after, "a refused retry changes nothing")
	it, err := store.GetItem(ctx, "b1", refs[2])
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, it.State)

	code, _, _ = ctl(t, "retry-failed", "nope")
	assert.Equal(t, cli.ExitFailure, code)
	code, _, _ = ctl(t, "retry-failed")
	assert.Equal(t, cli.ExitUsage, code)
}

func TestReport_RetriedRowLinkedAndSummaryReconciles(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store, refs := mixedBatch(t)
	code, _, stderr := ctl(t, "retry-failed", "b1", "-reason", "PAYEE_NOT_FOUND")
	require.Equal(t, 0, code, stderr)
	newRef, err := store.NextRef(context.Background(), "b1", refs[2])
	require.NoError(t, err)
	walk(t, store, newRef, "", toSuccessful...)

	code, out, stderr := ctl(t, "report", "b1")
	require.Equal(t, 0, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err, "stdout is pure CSV")
	require.Len(t, rows, 1+7, "header, six lines, one of them twice")
	var retry []string
	for _, r := range rows[1:] {
		if r[1] == newRef {
			retry = r
		}
	}
	require.NotNil(t, retry)
	assert.Equal(t, "2", retry[0])
	assert.Equal(t, "SUCCESSFUL", retry[6])
	assert.Equal(t, refs[2], retry[10], "previous_reference_id links the first attempt")

	squashed := squash(stderr)
	for _, want := range []string{
		"rows 7 read = 6 accepted + 1 rejected",
		"accepted 6 = 6 latest attempts (and 1 earlier attempt RETRIED",
		"SUCCESSFUL 2 EUR 15",
		"FAILED EXPIRED 1 EUR 12.50",
		"total 6 EUR 35.50",
		"RETRIED PAYEE_NOT_FOUND 1 EUR 10 (earlier attempts, not in the total)",
		"reconciles yes",
	} {
		assert.Contains(t, squashed, want)
	}
}

func TestReport_SummaryToStdoutWithFile(t *testing.T) {
	mixedBatch(t)
	path := t.TempDir() + "/out.csv"
	code, out, stderr := ctl(t, "report", "b1", "-o", path)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "summary of batch b1")
	assert.Contains(t, stderr, "written to "+path)
	assert.NotContains(t, stderr, "summary of batch")
}

func TestStatus_RetriedAttemptsDoNotKeepABatchOpen(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store := setup(t)
	refs := byLine(t, store)
	walk(t, store, refs[2], "EXPIRED", toFailed...)
	code, _, stderr := ctl(t, "retry-failed", "b1")
	require.Equal(t, 0, code, stderr)
	for _, ref := range byLine(t, store) {
		walk(t, store, ref, "", toSuccessful...)
	}

	code, out, stderr := ctl(t, "status", "b1", "-json")
	require.Equal(t, 0, code, stderr)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, true, st["done"])
	assert.Equal(t, float64(0), st["open"])
	assert.Equal(t, float64(1), st["retried"])
	assert.Equal(t, float64(3), st["states"].(map[string]any)["SUCCESSFUL"])

	code, out, _ = ctl(t, "status", "b1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "yes (0 open)")
	assert.Contains(t, out, "(and 1 earlier attempt RETRIED as a new one;")
	code, out, _ = ctl(t, "list")
	require.Equal(t, 0, code)
	assert.Contains(t, squash(out), "b1 disbursement ready true 3 3 0 0")
}

// squash collapses runs of blanks, so tests need not know tabwriter's padding.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestRetryFailed_AsksMoMoAboutTheOldReferenceFirst pays a row again only when MoMo says the
// old reference ID failed or does not know it: a row the ledger says FAILED but MoMo paid is
// left as it is and named.
func TestRetryFailed_AsksMoMoAboutTheOldReferenceFirst(t *testing.T) {
	sim := startSim(t, momosim.Config{})
	store := setupCSV(t, reconcileCSV)
	refs := byLine(t, store)
	client := simClient(t, os.Getenv("MOMO_BASE_URL"))
	submitAt(t, client, store, refs[2])   // an ordinary number: SUCCESSFUL at MoMo
	submitAt(t, client, store, refs[3])   // the PAYEE_NOT_FOUND test number: FAILED at MoMo
	for _, line := range []int{2, 3, 5} { // line 5 never reached MoMo: 404
		walk(t, store, refs[line], "EXPIRED", toFailed...)
	}
	before := sim.Stats()

	code, out, stderr := ctl(t, "retry-failed", "b1")

	assert.Equal(t, 1, code, "a row MoMo contradicts makes the command fail: %s", out)
	assert.Contains(t, stderr, "1 FAILED payout(s) not retried")
	assert.Contains(t, out, "2 FAILED payouts retried")
	assert.Contains(t, out, "line 2: "+refs[2]+" not retried: MoMo says SUCCESSFUL for the old reference ID")
	ctx := context.Background()
	for line, want := range map[int]ledger.State{2: ledger.Failed, 3: ledger.Retried, 5: ledger.Retried} {
		it, err := store.GetItem(ctx, "b1", refs[line])
		require.NoError(t, err)
		assert.Equal(t, want, it.State, "line %d", line)
	}
	after := sim.Stats()
	assert.Equal(t, before.TransfersCreated, after.TransfersCreated, "asking creates nothing")
	assert.Equal(t, before.StatusQueries+3, after.StatusQueries, "one question per FAILED row")
}

// TestRetryFailed_RowALaterBatchPaidIsNotPaidAgain: a row failed, a corrected file paid it in
// another batch, and only then did someone run retry-failed on the first batch.
func TestRetryFailed_RowALaterBatchPaidIsNotPaidAgain(t *testing.T) {
	startSim(t, momosim.Config{})
	store := setupCSV(t, "msisdn,amount,external_id\n46733123470,10,x-2\n46733123471,12,x-3\n")
	refs := byLine(t, store)
	walk(t, store, refs[2], "NOT_ENOUGH_FUNDS", toFailed...)
	walk(t, store, refs[3], "NOT_ENOUGH_FUNDS", toFailed...)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fixed.csv")
	require.NoError(t, os.WriteFile(path, []byte("msisdn,amount,external_id\n46733123470,10,x-2\n"), 0o600))
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer client.Close()
	_, err := intake.New(store, client).Run(ctx, intake.Request{
		Path: path, Product: momo.Disbursement, BatchID: "b2",
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
	})
	require.NoError(t, err, "x-2 failed in b1, so a new file may pay it")

	code, out, stderr := ctl(t, "retry-failed", "b1")

	assert.Equal(t, 1, code, "%s", out)
	assert.Contains(t, out, "1 FAILED payout retried")
	assert.Contains(t, out, `line 2: `+refs[2]+` not retried: external ID "x-2" is paid or may yet be paid by batch "b2" (VALIDATED there)`)
	assert.Contains(t, stderr, "1 FAILED payout(s) not retried")
	old, err := store.GetItem(ctx, "b1", refs[2])
	require.NoError(t, err)
	assert.Equal(t, ledger.Failed, old.State)

	// The retried line's new attempt is on record: a file paying x-3 again is refused.
	again := filepath.Join(t.TempDir(), "again.csv")
	require.NoError(t, os.WriteFile(again, []byte("msisdn,amount,external_id\n46733123471,12,x-3\n"), 0o600))
	_, err = intake.New(store, client).Run(ctx, intake.Request{
		Path: again, Product: momo.Disbursement, BatchID: "b3",
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
	})
	require.ErrorIs(t, err, intake.ErrRefused)
	assert.Contains(t, err.Error(), `batch "b1"`)
}

package tasks_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// backdate makes item i look submitted long ago.
func (e *env) backdate(i int, ago time.Duration) {
	e.t.Helper()
	ok, _, err := e.store.Transition(e.ctx, e.batch, e.refs[i], ledger.Change{
		From: []ledger.State{ledger.Submitted}, To: ledger.Submitted,
		Fields: map[string]string{ledger.FieldSubmittedAt: ledger.MillisField(time.Now().Add(-ago))},
	})
	require.NoError(e.t, err)
	require.True(e.t, ok)
}

func TestStatus_InsufficientFundsFailsItemAndPausesBatch(t *testing.T) {
	e := newEnv(t, 2, testConfig)
	e.momo.setGet(statusAnswer(momo.StatusFailed, "NOT_ENOUGH_FUNDS", ""))

	require.NoError(t, e.transfer(0))
	_, err := e.poll(0)
	require.NoError(t, err)

	it := e.requireState(0, ledger.Failed)
	assert.Equal(t, "NOT_ENOUGH_FUNDS", it.Reason)
	b, err := e.store.GetBatch(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchPaused, b.Status)
	assert.Contains(t, b.Reason, "NOT_ENOUGH_FUNDS")
	assert.Contains(t, b.Reason, e.refs[0])

	require.NoError(t, e.transfer(1))
	e.requireState(1, ledger.Validated)
	assert.Zero(t, e.momo.postCount(e.refs[1]), "the rest of the batch waits for a top-up")
	c := e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Failed])
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
}

func TestStatus_InsufficientFundsKeepGoingLeavesBatchReady(t *testing.T) {
	cfg := testConfig
	cfg.KeepGoingOnInsufficientFunds = true
	e := newEnv(t, 2, cfg)
	e.momo.setGet(statusAnswer(momo.StatusFailed, "NOT_ENOUGH_FUNDS", ""))

	require.NoError(t, e.transfer(0))
	_, err := e.poll(0)
	require.NoError(t, err)
	require.NoError(t, e.transfer(1))

	e.requireState(0, ledger.Failed)
	e.requireState(1, ledger.Submitted)
	b, err := e.store.GetBatch(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)
}

func TestStatus_FailedRecordsReason(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(statusAnswer(momo.StatusFailed, "APPROVAL_REJECTED", ""))

	require.NoError(t, e.transfer(0))
	_, err := e.poll(0)
	require.NoError(t, err)

	it := e.requireState(0, ledger.Failed)
	assert.Equal(t, "APPROVAL_REJECTED", it.Reason)
	b, err := e.store.GetBatch(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]), "a FAILED payout is never resent on its own")
}

func TestStatus_NotFoundWithinGraceKeepsPolling(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(getFails(404, "RESOURCE_NOT_FOUND"))

	require.NoError(t, e.transfer(0))
	seq, err := e.poll(0)
	require.NoError(t, err)
	require.Equal(t, 1, seq)

	it := e.requireState(0, ledger.Submitted)
	_, next := e.rec.lastPoll(t, e.refs[0])
	assert.Equal(t, 2, next.Seq, "a next poll is scheduled")
	assert.Equal(t, 2, it.PollSeq)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]), "a 404 after a 202 is never a reason to resend")
}

func TestStatus_NotFoundAfterGraceStillPollsNotFails(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(getFails(404, "RESOURCE_NOT_FOUND"))
	require.NoError(t, e.transfer(0))
	e.backdate(0, 10*time.Minute) // past NotFoundGrace, inside PollWindow

	_, err := e.poll(0)
	require.NoError(t, err)

	e.requireState(0, ledger.Submitted)
	_, next := e.rec.lastPoll(t, e.refs[0])
	assert.Equal(t, 2, next.Seq)
}

func TestStatus_WindowClosedMeansUnknown(t *testing.T) {
	for name, get := range map[string]getFunc{
		"pending":   statusAnswer(momo.StatusPending, "", ""),
		"not found": getFails(404, "RESOURCE_NOT_FOUND"),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 1, testConfig)
			e.momo.setGet(get)
			require.NoError(t, e.transfer(0))
			e.backdate(0, 2*time.Hour)

			_, err := e.poll(0)
			require.NoError(t, err)

			it := e.requireState(0, ledger.Unknown)
			assert.Contains(t, it.Reason, "polling window closed")
			assert.Len(t, e.rec.polls(t, e.refs[0]), 1, "no poll after the window")
			assert.Equal(t, int64(1), e.counts().Items[ledger.Unknown])
			open, err := e.store.OpenCount(e.ctx, e.batch)
			require.NoError(t, err)
			assert.Zero(t, open)

			require.NoError(t, e.transfer(0))
			assert.Equal(t, 1, e.momo.postCount(e.refs[0]), "UNKNOWN is never resubmitted automatically")
		})
	}
}

func TestStatus_StalePollDoesNothing(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	require.NoError(t, e.transfer(0))
	stale, _ := e.rec.lastPoll(t, e.refs[0])
	_, err := e.poll(0) // PENDING: schedules poll 2
	require.NoError(t, err)
	require.Equal(t, 2, e.item(0).PollSeq)
	tasksBefore := e.rec.count()

	require.NoError(t, e.proc.HandleStatus(e.ctx, stale))

	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "the stale poll asked nothing")
	assert.Equal(t, tasksBefore, e.rec.count(), "and scheduled nothing")
	it := e.requireState(0, ledger.Submitted)
	assert.Equal(t, 2, it.PollSeq)
}

func TestStatus_PendingBacksOffDoublingUpToPollMax(t *testing.T) {
	cfg := testConfig
	cfg.PollInitial, cfg.PollMax, cfg.Slack = time.Second, 4*time.Second, time.Millisecond
	e := newEnv(t, 1, cfg)
	require.NoError(t, e.transfer(0))

	// The due time the poll records is its delay plus Slack, so it shows the backoff.
	delays := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for seq, delay := range delays {
		start := time.Now()
		_, err := e.poll(0)
		require.NoError(t, err)
		early, err := e.store.Overdue(e.ctx, e.batch, start.Add(delay-300*time.Millisecond), 10)
		require.NoError(t, err)
		assert.Empty(t, early, "poll %d: next poll not due before %s", seq+1, delay)
		due, err := e.store.Overdue(e.ctx, e.batch, time.Now().Add(delay+300*time.Millisecond), 10)
		require.NoError(t, err)
		assert.Equal(t, e.refs[:1], due, "poll %d: next poll due after %s", seq+1, delay)
	}

	polls := e.rec.polls(t, e.refs[0])
	require.Len(t, polls, 5)
	for i, p := range polls {
		assert.Equal(t, i+1, payloadOf(t, p).Seq)
	}
	assert.Equal(t, 5, e.item(0).PollSeq)
	assert.Equal(t, 4, e.momo.getCount(e.refs[0]))
}

func TestStatus_AmbiguousAnswerRetriesSamePoll(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(func(n int, _ bool) (*momo.TransferStatus, error) {
		if n == 1 {
			return nil, getErr(503, "SERVICE_UNAVAILABLE")
		}
		return &momo.TransferStatus{Status: momo.StatusSuccessful, FinancialTransactionID: "9"}, nil
	})
	require.NoError(t, e.transfer(0))

	_, err := e.poll(0)
	require.Error(t, err)
	assert.True(t, tasks.IsFailure(err))
	e.requireState(0, ledger.Submitted)
	seq, err := e.poll(0) // Asynq's retry of the same task
	require.NoError(t, err)
	assert.Equal(t, 1, seq)

	it := e.requireState(0, ledger.Successful)
	assert.Equal(t, "9", it.FinTxID)
}

func TestStatus_ConfigErrorPausesProduct(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(func(int, bool) (*momo.TransferStatus, error) { return nil, getErr(401, "") })
	require.NoError(t, e.transfer(0))

	_, err := e.poll(0)
	require.Error(t, err)

	reason, err := e.store.ProductPause(e.ctx, string(momo.Disbursement))
	require.NoError(t, err)
	assert.NotEmpty(t, reason)
	assert.ElementsMatch(t, disbursementQueues,
		e.pause.paused())
	_, err = e.poll(0)
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err))
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "a paused product asks MoMo nothing")
	e.requireState(0, ledger.Submitted)
}

func TestReplay_TransferAndStatusCountOnce(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "555"))

	require.NoError(t, e.transfer(0))
	require.NoError(t, e.transfer(0))
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	c := e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Submitted])
	assert.Equal(t, e.minors[0], c.Amounts[ledger.Submitted]["EUR"])

	task, pl := e.rec.lastPoll(t, e.refs[0])
	assert.Equal(t, 1, pl.Seq, "the replay schedules the same poll again, not a new chain")
	require.NoError(t, e.proc.HandleStatus(e.ctx, task))
	require.NoError(t, e.proc.HandleStatus(e.ctx, task))
	require.NoError(t, e.transfer(0))

	e.requireState(0, ledger.Successful)
	c = e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Successful])
	assert.Zero(t, c.Items[ledger.Submitted])
	assert.Equal(t, e.minors[0], c.Amounts[ledger.Successful]["EUR"])
	assert.Zero(t, c.Amounts[ledger.Submitted]["EUR"])
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "the replayed poll found the item final")
}

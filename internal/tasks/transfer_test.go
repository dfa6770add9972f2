package tasks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

func TestTransfer_AcceptedThenPolledToSuccessful(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setGet(func(n int, exists bool) (*momo.TransferStatus, error) {
		require.True(t, exists)
		if n < 3 {
			return &momo.TransferStatus{Status: momo.StatusPending}, nil
		}
		return &momo.TransferStatus{Status: momo.StatusSuccessful,
			FinancialTransactionID: "3158745923"}, nil
	})

	require.NoError(t, e.transfer(0))
	it := e.requireState(0, ledger.Submitted)
	assert.False(t, it.SubmittedAt.IsZero())
	assert.Equal(t, 1, it.Attempts)
	assert.Equal(t, 1, it.PollSeq)
	req := e.momo.requests[e.refs[0]][0]
	assert.Equal(t, "10", req.Amount)
	assert.Equal(t, "EUR", req.Currency)
	assert.Equal(t, momo.Party{PartyIDType: "MSISDN", PartyID: it.PartyID}, req.Payee)
	assert.Equal(t, it.ExternalID, req.ExternalID)
	assert.Equal(t, []momo.Product{momo.Disbursement}, e.momo.products)

	for want := 1; want <= 3; want++ {
		seq, err := e.poll(0)
		require.NoError(t, err)
		assert.Equal(t, want, seq, "polls run in sequence")
	}

	it = e.requireState(0, ledger.Successful)
	assert.Equal(t, "3158745923", it.FinTxID)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Equal(t, 3, e.momo.getCount(e.refs[0]))
	assert.Len(t, e.rec.polls(t, e.refs[0]), 3, "no poll after the final answer")
	c := e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Successful])
	assert.Equal(t, e.minors[0], c.Amounts[ledger.Successful]["EUR"])
	assert.Zero(t, c.Open())
	open, err := e.store.OpenCount(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Zero(t, open)
}

func TestTransfer_ConflictMeansSubmitted(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(int) (bool, error) { return true, postErr(409, "RESOURCE_ALREADY_EXIST") })

	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Submitted)
	assert.Empty(t, it.Reason)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Zero(t, e.momo.getCount(e.refs[0]))
	_, pl := e.rec.lastPoll(t, e.refs[0])
	assert.Equal(t, 1, pl.Seq)
	assert.Equal(t, e.batch, pl.Batch)
	assert.Equal(t, momo.Disbursement, pl.Product)
}

func TestTransfer_AmbiguousPostAsksStatusBeforeResubmitting(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(int) (bool, error) { return true, errLostAnswer }) // MoMo got it

	err := e.transfer(0)
	require.Error(t, err)
	assert.True(t, tasks.IsFailure(err))
	it := e.requireState(0, ledger.Submitting)
	assert.Contains(t, it.LastError, "unexpected EOF")
	assert.Equal(t, 1, it.Attempts)
	assert.Zero(t, e.rec.count())

	require.NoError(t, e.transfer(0))

	it = e.requireState(0, ledger.Submitted)
	assert.Empty(t, it.LastError)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]), "found at MoMo: no second POST")
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]))
	assert.Len(t, e.rec.polls(t, e.refs[0]), 1)
}

func TestTransfer_AmbiguousPostFoundFinalIsRecordedAtOnce(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(int) (bool, error) { return true, postErr(503, "SERVICE_UNAVAILABLE") })
	e.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "777"))

	require.Error(t, e.transfer(0))
	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Successful)
	assert.Equal(t, "777", it.FinTxID)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Equal(t, int64(1), e.counts().Items[ledger.Successful])
}

func TestTransfer_ConflictAfterLostAccept(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	// The first POST got through but its 202 was lost, and MoMo does not show it yet: the GET
	// says 404, so the same ID goes again and MoMo answers 409.
	e.momo.setPost(func(n int) (bool, error) {
		if n == 1 {
			return true, errLostAnswer
		}
		return true, postErr(409, "RESOURCE_ALREADY_EXIST")
	})
	e.momo.setGet(getFails(404, "RESOURCE_NOT_FOUND"))

	require.Error(t, e.transfer(0))
	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Submitted)
	assert.Equal(t, 2, it.Attempts)
	assert.Equal(t, 2, e.momo.postCount(e.refs[0]), "both POSTs under the one reference ID")
	assert.Len(t, e.momo.posts, 1, "no other reference ID was ever sent")
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]))
	assert.Equal(t, 1, e.momo.paid(e.refs[0]))
	assert.Len(t, e.rec.polls(t, e.refs[0]), 1)
}

func TestTransfer_RejectedFailsWithoutRetry(t *testing.T) {
	e := newEnv(t, 2, testConfig)
	e.momo.setPost(func(int) (bool, error) { return false, postErr(400, "PAYEE_NOT_FOUND") })

	require.NoError(t, e.transfer(0), "a refusal is final, not a task error")
	require.NoError(t, e.transfer(0), "a replay does nothing")

	it := e.requireState(0, ledger.Failed)
	assert.Equal(t, "PAYEE_NOT_FOUND", it.Reason)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Zero(t, e.momo.getCount(e.refs[0]))
	assert.Zero(t, e.rec.count())
	c := e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Failed])
	assert.Equal(t, e.minors[0], c.Amounts[ledger.Failed]["EUR"])
	b, err := e.store.GetBatch(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status, "one refusal does not stop the batch")
}

func TestTransfer_RejectedWithoutCodeNamesStatus(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(int) (bool, error) { return false, postErr(404, "") })

	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Failed)
	assert.Equal(t, "HTTP_404", it.Reason)
}

func TestTransfer_ServerErrorRetriedWithSameRef(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(n int) (bool, error) {
		if n == 1 {
			return false, postErr(500, "INTERNAL_PROCESSING_ERROR")
		}
		return true, nil
	})
	e.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "42"))

	err := e.transfer(0)
	require.Error(t, err)
	var me *momo.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, 500, me.StatusCode)
	e.requireState(0, ledger.Submitting)

	require.NoError(t, e.transfer(0)) // GET 404, then the same ID again
	e.requireState(0, ledger.Submitted)
	_, err = e.poll(0)
	require.NoError(t, err)

	it := e.requireState(0, ledger.Successful)
	assert.Equal(t, "42", it.FinTxID)
	assert.Equal(t, 2, it.Attempts)
	assert.Equal(t, 2, e.momo.postCount(e.refs[0]))
	assert.Len(t, e.momo.posts, 1, "every POST carried the item's reference ID")
	assert.Equal(t, 1, e.momo.paid(e.refs[0]))
	assert.Equal(t, 2, e.momo.getCount(e.refs[0]), "one GET before the resend, one poll")
}

func TestTransfer_StatusErrorBeforeResendSendsNothing(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.setPost(func(int) (bool, error) { return false, errLostAnswer })
	e.momo.setGet(getFails(503, "SERVICE_UNAVAILABLE"))

	require.Error(t, e.transfer(0))
	err := e.transfer(0)
	require.Error(t, err)
	assert.True(t, tasks.IsFailure(err))

	it := e.requireState(0, ledger.Submitting)
	assert.Contains(t, it.LastError, "ask before resubmitting")
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]), "an unanswered question is no licence to resend")
}

func TestTransfer_ConcurrentRunsPostOnce(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.momo.block = make(chan struct{})
	e.momo.entered = make(chan string, 1)

	first := make(chan error, 1)
	go func() { first <- e.transfer(0) }()
	select {
	case <-e.momo.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first run never reached MoMo")
	}

	err := e.transfer(0) // the same task again, as after an Asynq timeout
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err), "waiting for a busy item uses no retry")
	d := tasks.RetryDelay(3, err, e.transferTask(0))
	assert.GreaterOrEqual(t, d, 2*time.Second)
	assert.Less(t, d, 4*time.Second)

	close(e.momo.block)
	require.NoError(t, <-first)
	e.requireState(0, ledger.Submitted)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Zero(t, e.momo.getCount(e.refs[0]))

	// The lock was released: a later replay gets through and only makes sure a poll exists.
	require.NoError(t, e.transfer(0))
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Equal(t, int64(1), e.counts().Items[ledger.Submitted])
}

func TestTransfer_CancelledBatchCancelsWithoutPost(t *testing.T) {
	e := newEnv(t, 2, testConfig)
	e.setStatus(ledger.BatchCancelled)

	require.NoError(t, e.transfer(0))
	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Cancelled)
	assert.Equal(t, "batch cancelled", it.Reason)
	assert.Zero(t, e.momo.totalPosts())
	c := e.counts()
	assert.Equal(t, int64(1), c.Items[ledger.Cancelled])
	assert.Equal(t, int64(1), c.Items[ledger.Validated])
	assert.Equal(t, e.minors[0], c.Amounts[ledger.Cancelled]["EUR"])
	open, err := e.store.OpenCount(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, int64(1), open)
}

func TestTransfer_PausedBatchLeavesItemValidated(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	e.setStatus(ledger.BatchPaused)

	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Validated)
	assert.Zero(t, it.Attempts)
	assert.Zero(t, e.momo.totalPosts())
	assert.Zero(t, e.rec.count())
}

func TestTransfer_LoadingBatchWaitsWithoutFailure(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	loading := ledger.Batch{ID: "loading", Product: string(momo.Disbursement)}
	_, _, err := e.store.CreateBatch(e.ctx, loading)
	require.NoError(t, err)
	refs, _, err := e.store.AddItems(e.ctx, "loading", []ledger.NewItem{{
		Line: 2, PartyIDType: "MSISDN", PartyID: "46733123999", Amount: "5", Minor: 500, Currency: "EUR",
	}}, time.Now())
	require.NoError(t, err)

	task := tasks.NewTransferTask(momo.Disbursement, "loading", refs[0], tasks.Options{})
	err = e.proc.HandleTransfer(e.ctx, task)
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err))
	assert.Zero(t, e.momo.totalPosts())
	d := tasks.RetryDelay(1, err, nil)
	assert.GreaterOrEqual(t, d, 30*time.Second)
	assert.Less(t, d, 40*time.Second)

	// A batch whose deletion stopped half-way pays nothing either.
	require.NoError(t, e.store.Redis().HSet(e.ctx, "payout:{loading}:meta", "status", ledger.BatchDiscarding).Err())
	err = e.proc.HandleTransfer(e.ctx, task)
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err))
	assert.Zero(t, e.momo.totalPosts())
}

func TestTransfer_ConfigErrorPausesProduct(t *testing.T) {
	for name, postError := range map[string]error{
		"401":                            postErr(401, ""),
		"NOT_ALLOWED_TARGET_ENVIRONMENT": postErr(500, "NOT_ALLOWED_TARGET_ENVIRONMENT"),
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 2, testConfig)
			e.momo.setPost(func(int) (bool, error) { return false, postError })

			err := e.transfer(0)
			require.Error(t, err)

			reason, perr := e.store.ProductPause(e.ctx, string(momo.Disbursement))
			require.NoError(t, perr)
			assert.NotEmpty(t, reason)
			assert.ElementsMatch(t, disbursementQueues,
				e.pause.paused())
			other, perr := e.store.ProductPause(e.ctx, string(momo.Remittance))
			require.NoError(t, perr)
			assert.Empty(t, other, "only the refused product stops")
			e.requireState(0, ledger.Submitting)

			for _, i := range []int{0, 1, 0} {
				err := e.transfer(i)
				require.Error(t, err)
				assert.False(t, tasks.IsFailure(err), "a paused product is waited out, not failed")
			}
			assert.Equal(t, 1, e.momo.totalPosts(), "nothing more is sent while paused")
			assert.Zero(t, e.momo.getCount(e.refs[0]))
			e.requireState(1, ledger.Validated)
		})
	}
}

func TestTransfer_InsufficientFundsOnPostPausesBatch(t *testing.T) {
	e := newEnv(t, 2, testConfig)
	e.momo.setPost(func(int) (bool, error) { return false, postErr(500, "NOT_ENOUGH_FUNDS") })

	require.NoError(t, e.transfer(0))

	it := e.requireState(0, ledger.Failed)
	assert.Equal(t, "NOT_ENOUGH_FUNDS", it.Reason)
	b, err := e.store.GetBatch(e.ctx, e.batch)
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchPaused, b.Status)
	assert.Contains(t, b.Reason, "NOT_ENOUGH_FUNDS")

	require.NoError(t, e.transfer(1))
	e.requireState(1, ledger.Validated)
	assert.Zero(t, e.momo.postCount(e.refs[1]))
}

func TestTransfer_TerminalAndUnknownItemsAreNeverResent(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	require.NoError(t, e.transfer(0))
	ok, _, err := e.store.Transition(e.ctx, e.batch, e.refs[0], ledger.Change{
		From: []ledger.State{ledger.Submitted}, To: ledger.Unknown,
	})
	require.NoError(t, err)
	require.True(t, ok)
	polls := e.rec.count()

	require.NoError(t, e.transfer(0))

	e.requireState(0, ledger.Unknown)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
	assert.Equal(t, polls, e.rec.count())
}

func TestTransfer_BadPayloadAndMissingItemSkipRetry(t *testing.T) {
	e := newEnv(t, 1, testConfig)

	err := e.proc.HandleTransfer(e.ctx, asynq.NewTask(tasks.TypeDisbursement, []byte("{not json")))
	assert.True(t, errors.Is(err, asynq.SkipRetry))
	err = e.proc.HandleTransfer(e.ctx, asynq.NewTask(tasks.TypeDisbursement, []byte(`{"batch":"b1"}`)))
	assert.True(t, errors.Is(err, asynq.SkipRetry))
	err = e.proc.HandleTransfer(e.ctx, tasks.NewTransferTask(momo.Disbursement, e.batch,
		"00000000-0000-4000-8000-000000000000", tasks.Options{}))
	assert.True(t, errors.Is(err, asynq.SkipRetry))
	assert.True(t, errors.Is(err, ledger.ErrNotFound))
	assert.Zero(t, e.momo.totalPosts())
}

func TestTransfer_LockRenewedWhilePostIsSlow(t *testing.T) {
	cfg := testConfig
	cfg.LockTTL = 150 * time.Millisecond
	e := newEnv(t, 1, cfg)
	e.momo.block = make(chan struct{})
	e.momo.entered = make(chan string, 1)

	first := make(chan error, 1)
	go func() { first <- e.transfer(0) }()
	<-e.momo.entered
	time.Sleep(4 * cfg.LockTTL) // the lock would have expired twice without renewal

	err := e.transfer(0)
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err), "the item is still busy")

	close(e.momo.block)
	require.NoError(t, <-first)
	e.requireState(0, ledger.Submitted)
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
}

func TestTransfer_LostLockStopsTheCall(t *testing.T) {
	cfg := testConfig
	cfg.LockTTL, cfg.CallTimeout = 150*time.Millisecond, 10*time.Second
	e := newEnv(t, 1, cfg)
	e.momo.block = make(chan struct{}) // never released: only a cancelled context ends the POST
	e.momo.entered = make(chan string, 1)

	start := time.Now()
	first := make(chan error, 1)
	go func() { first <- e.transfer(0) }()
	<-e.momo.entered
	// Another run takes over the item, as after the lock expired during a long pause.
	rdb := e.store.Redis()
	keys, err := rdb.Keys(e.ctx, "*lock:"+e.refs[0]).Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NoError(t, rdb.Set(e.ctx, keys[0], "another-run", time.Minute).Err())

	var runErr error
	select {
	case runErr = <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("the run kept talking to MoMo without its lock")
	}
	assert.Less(t, time.Since(start), 2*time.Second, "stopped by the renewal, not by CallTimeout")
	require.Error(t, runErr)
	assert.True(t, tasks.IsFailure(runErr))
	it := e.requireState(0, ledger.Submitting)
	assert.NotEmpty(t, it.LastError, "the cut-off POST is recorded as ambiguous")
	owner, err := rdb.Get(e.ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Equal(t, "another-run", owner, "the new holder's lock is not released")
	assert.Equal(t, 1, e.momo.postCount(e.refs[0]))
}

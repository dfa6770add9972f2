package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
)

// forgedSuccess is what an attacker would post: a callback body claiming the payout is paid.
const forgedSuccess = `{"financialTransactionId":"999999","externalId":"x-0000","amount":"100",
"currency":"EUR","payee":{"partyIdType":"MSISDN","partyId":"256771000001"},"status":"SUCCESSFUL"}`

// callback sends a callback for ref of batch with body, as method, and returns the status
// and the response body.
func (e *env) callback(t *testing.T, method, batch, ref, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tasks.CallbackURL(e.CallbackURL, batch, ref),
		strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

// submitted enqueues one ordinary row and waits until MoMo holds it, PENDING.
func (e *env) submitted(t *testing.T, tag string) (string, *ledger.Item) {
	t.Helper()
	res := enqueue(t, e, tag, ordinary)
	waitState(t, e, res.BatchID, ledger.Submitted, 10*time.Second)
	return res.BatchID, items(t, e, res.BatchID)[0]
}

// pollTaskIDs returns the IDs of the status tasks of ref that wait, run or are kept.
func (e *env) pollTaskIDs(t *testing.T, ref string) []string {
	t.Helper()
	insp := asynq.NewInspector(e.Redis)
	defer insp.Close()
	q := tasks.PollQueue(momo.Disbursement)
	var ids []string
	lists := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		insp.ListPendingTasks, insp.ListActiveTasks, insp.ListScheduledTasks,
		insp.ListRetryTasks, insp.ListCompletedTasks,
	}
	for _, list := range lists {
		infos, err := list(q, asynq.PageSize(1000))
		if err != nil {
			continue // the queue does not exist yet
		}
		for _, info := range infos {
			if strings.HasPrefix(info.ID, ref+":") {
				ids = append(ids, info.ID)
			}
		}
	}
	return ids
}

// waitCallbackPollDone waits until the poll the callbacks of ref triggered for sequence seq
// has run.
func (e *env) waitCallbackPollDone(t *testing.T, ref string, seq int) {
	t.Helper()
	insp := asynq.NewInspector(e.Redis)
	defer insp.Close()
	require.Eventually(t, func() bool {
		info, err := insp.GetTaskInfo(tasks.PollQueue(momo.Disbursement), tasks.CallbackTaskID(ref, seq))
		return err == nil && info.State == asynq.TaskStateCompleted
	}, 10*time.Second, 20*time.Millisecond, "the callback's poll of %s ran", ref)
}

// TestCallback shares one worker among its subtests: MoMo's callbacks reach it, ordinary
// payouts stay PENDING for a minute, and the first scheduled poll is 30 s after submission,
// so that anything sooner is the callbacks' doing.
func TestCallback(t *testing.T) {
	e := start(t, setup{
		sim:  momosim.Config{PendingFor: time.Minute, OngoingFor: 1500 * time.Millisecond},
		http: stack.HTTPOptions{Callbacks: true}, tasks: slowPolls,
	})
	t.Run("ForgedSuccessDoesNotMarkPaid", func(t *testing.T) {
		t.Parallel()
		forgedSuccessDoesNotMarkPaid(t, e)
	})
	t.Run("UnknownItemIsIgnoredAlike", func(t *testing.T) {
		t.Parallel()
		unknownItemIsIgnoredAlike(t, e)
	})
	t.Run("ReplaysEnqueueAtMostOneExtraPoll", func(t *testing.T) {
		t.Parallel()
		replaysEnqueueAtMostOneExtraPoll(t, e)
	})
	t.Run("SuccessIsRecordedLongBeforeTheNextPoll", func(t *testing.T) {
		t.Parallel()
		successIsRecordedLongBeforeTheNextPoll(t, e)
	})
	t.Run("LargeBodyIsCutShortOtherMethodsRefused", func(t *testing.T) {
		t.Parallel()
		largeBodyIsCutShortOtherMethodsRefused(t, e)
	})
}

func forgedSuccessDoesNotMarkPaid(t *testing.T, e *env) {
	id, it := e.submitted(t, "forged")

	status, body := e.callback(t, http.MethodPost, id, it.Ref, forgedSuccess)

	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, body)
	e.waitCallbackPollDone(t, it.Ref, 1)
	assert.Equal(t, 1, e.statusQueries(it.Ref), "the callback made the worker ask MoMo, once")
	got := items(t, e, id)[0]
	assert.Equal(t, ledger.Submitted, got.State, "MoMo still says PENDING: not paid")
	assert.Empty(t, got.FinTxID, "nothing of the body is recorded")
	assert.Equal(t, momo.StatusPending, e.transfer(t, it.Ref).Status)
}

func unknownItemIsIgnoredAlike(t *testing.T, e *env) {
	id, it := e.submitted(t, "unknown")
	unknown := uuid.NewString()

	cases := []struct{ name, batch, ref string }{
		{"unknown ref", id, unknown},
		{"unknown batch", "no-such-batch", it.Ref},
		{"malformed ref", id, "not-a-uuid"},
		{"malformed batch", "no such batch!", it.Ref},
		{"the item itself, for comparison", id, it.Ref},
	}
	for _, tc := range cases {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			status, body := e.callback(t, method, tc.batch, tc.ref, forgedSuccess)
			assert.Equal(t, http.StatusOK, status, "%s: the answer never tells whether it exists", tc.name)
			assert.Empty(t, body, tc.name)
		}
	}

	e.waitCallbackPollDone(t, it.Ref, 1)
	assert.Empty(t, e.pollTaskIDs(t, unknown))
	assert.Zero(t, e.statusQueries(unknown), "MoMo is not asked about a reference it never got")
	assert.Equal(t, 1, e.statusQueries(it.Ref), "only the item's own callback led to a query")
	assert.Equal(t, ledger.Submitted, items(t, e, id)[0].State)
}

func replaysEnqueueAtMostOneExtraPoll(t *testing.T, e *env) {
	id, it := e.submitted(t, "replay")

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() { e.callback(t, http.MethodPut, id, it.Ref, forgedSuccess) })
	}
	wg.Wait()
	e.waitCallbackPollDone(t, it.Ref, 1)
	require.Eventually(t, func() bool { return items(t, e, id)[0].PollSeq == 2 },
		5*time.Second, 20*time.Millisecond, "the extra poll found PENDING and scheduled the next")

	// Replays after that poll ran, while MoMo still says PENDING, add nothing either.
	for range 5 {
		status, _ := e.callback(t, http.MethodPost, id, it.Ref, forgedSuccess)
		require.Equal(t, http.StatusOK, status)
	}
	time.Sleep(1200 * time.Millisecond) // more than the worker takes to start a pending task

	assert.Equal(t, 1, e.statusQueries(it.Ref), "ten callbacks, one extra status query")
	assert.ElementsMatch(t, []string{
		tasks.PollTaskID(it.Ref, 1),     // scheduled; it will find itself superseded
		tasks.PollTaskID(it.Ref, 2),     // scheduled by the callback's poll
		tasks.CallbackTaskID(it.Ref, 1), // done, kept so that replays find it
	}, e.pollTaskIDs(t, it.Ref))
	assert.Equal(t, ledger.Submitted, items(t, e, id)[0].State)
}

func successIsRecordedLongBeforeTheNextPoll(t *testing.T, e *env) {
	began := time.Now()
	res := enqueue(t, e, "success", ongoing, ongoing, ongoing)

	// The first scheduled poll is 30 s after submission: only the callbacks explain this.
	waitState(t, e, res.BatchID, ledger.Successful, 10*time.Second)
	assert.Less(t, time.Since(began), 12*time.Second)

	for _, it := range items(t, e, res.BatchID) {
		tr := e.transfer(t, it.Ref)
		assert.Equal(t, e.CallbackURL+"/"+res.BatchID+"/"+it.Ref, tr.CallbackURL,
			"each transfer names its own callback")
		assert.Equal(t, tr.FinancialTransactionID, it.FinTxID, "recorded from MoMo's answer")
		assert.Equal(t, 1, e.statusQueries(it.Ref), "one query, the callback's")
	}
	assert.Zero(t, e.sim.Stats().PaidTwice)
}

func largeBodyIsCutShortOtherMethodsRefused(t *testing.T, e *env) {
	ref := uuid.NewString()
	big := bytes.Repeat([]byte("x"), 1<<20)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		tasks.CallbackURL(e.CallbackURL, "b1", ref), bytes.NewReader(big))
	require.NoError(t, err)

	began := time.Now()
	status, _ := do(t, req)
	assert.Equal(t, http.StatusOK, status, "answered without reading a megabyte")
	assert.Less(t, time.Since(began), 2*time.Second)

	status, _ = get(t, tasks.CallbackURL(e.CallbackURL, "b1", ref), "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = get(t, strings.TrimSuffix(e.CallbackURL, "/callback")+"/monitor/", "", "")
	assert.Equal(t, http.StatusNotFound, status, "the callback listener serves nothing else")
}

package tasks_test

import (
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// callbackMoMo is a fake MoMo client configured with a callback base URL, as momo.Client is
// when MOMO_CALLBACK_URL is set.
type callbackMoMo struct {
	*fakeMoMo
	base string
}

func (c callbackMoMo) CallbackURL() string { return c.base }

func TestNewCallbackPollTask_RunsNowUnderItsOwnID(t *testing.T) {
	ref := "6f1c8a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	task := tasks.NewCallbackPollTask(momo.Remittance, "b1", ref, 3, tasks.Options{})

	assert.Equal(t, tasks.TypeStatus, task.Type())
	assert.Equal(t, ref+":cb:3", tasks.CallbackTaskID(ref, 3))
	assert.NotEqual(t, tasks.PollTaskID(ref, 3), tasks.CallbackTaskID(ref, 3))
	pl := payloadOf(t, task)
	assert.Equal(t, tasks.Payload{Batch: "b1", Ref: ref, Product: momo.Remittance, Seq: 3}, pl)
	assert.JSONEq(t, `{"batch":"b1","ref":"`+ref+`","product":"remittance","seq":3}`,
		string(task.Payload()), "the payload holds no phone number, amount or secret")
}

func TestCallbackURL_EscapesBatchAndRef(t *testing.T) {
	assert.Equal(t, "https://pay.example.com/callback/payroll-7/r1",
		tasks.CallbackURL("https://pay.example.com/callback/", "payroll-7", "r1"))
	assert.Equal(t, "http://127.0.0.1:9/callback/a%2Fb%20c/r1",
		tasks.CallbackURL("http://127.0.0.1:9/callback", "a/b c", "r1"))
}

func TestTransfer_SendsItemCallbackURLWhenClientHasBase(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	client := callbackMoMo{fakeMoMo: e.momo, base: "https://pay.example.com/callback"}
	e.proc = tasks.NewProcessor(testConfig, e.store, client, e.rec, e.pause, nil, zerolog.Nop())

	require.NoError(t, e.transfer(0))

	e.momo.mu.Lock()
	reqs := e.momo.requests[e.refs[0]]
	e.momo.mu.Unlock()
	require.Len(t, reqs, 1)
	assert.Equal(t, "https://pay.example.com/callback/b1/"+e.refs[0], reqs[0].CallbackURL)
}

func TestTransfer_SendsNoCallbackURLWithoutBase(t *testing.T) {
	e := newEnv(t, 1, testConfig)

	require.NoError(t, e.transfer(0))

	e.momo.mu.Lock()
	defer e.momo.mu.Unlock()
	require.Len(t, e.momo.requests[e.refs[0]], 1)
	assert.Empty(t, e.momo.requests[e.refs[0]][0].CallbackURL)
}

func TestCallbackPoll_PendingTakesOverTheChainOnce(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	require.NoError(t, e.transfer(0))
	scheduled, _ := e.rec.lastPoll(t, e.refs[0])
	seq := e.item(0).PollSeq
	require.Equal(t, 1, seq)

	cb := tasks.NewCallbackPollTask(momo.Disbursement, e.batch, e.refs[0], seq, tasks.Options{})
	require.NoError(t, e.proc.HandleStatus(e.ctx, cb))

	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "the callback asked MoMo at once")
	_, next := e.rec.lastPoll(t, e.refs[0])
	assert.Equal(t, seq+1, next.Seq, "still pending: the next poll of the chain is scheduled")
	e.requireState(0, ledger.Submitted)

	require.NoError(t, e.proc.HandleStatus(e.ctx, scheduled))
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "the older scheduled poll retired")
	assert.Equal(t, seq+1, e.item(0).PollSeq)
}

func TestCallbackPoll_RecordsATerminalStatus(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	require.NoError(t, e.transfer(0))
	e.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "fin-77"))

	cb := tasks.NewCallbackPollTask(momo.Disbursement, e.batch, e.refs[0], e.item(0).PollSeq,
		tasks.Options{})
	require.NoError(t, e.proc.HandleStatus(e.ctx, cb))

	it := e.requireState(0, ledger.Successful)
	assert.Equal(t, "fin-77", it.FinTxID)
	_, err := e.poll(0)
	require.NoError(t, err)
	assert.Equal(t, 1, e.momo.getCount(e.refs[0]), "the scheduled poll finds it final")
	assert.Equal(t, int64(1), e.counts().Items[ledger.Successful])
}

package tasks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

func TestRetryDelay_HonoursRetryAfter(t *testing.T) {
	err := fmt.Errorf("tasks: poll status: %w",
		&momo.Error{Op: "get transfer", Method: "GET", StatusCode: 429, RetryAfter: 7 * time.Second})
	for n := 0; n < 20; n++ {
		d := tasks.RetryDelay(n, err, nil)
		assert.GreaterOrEqual(t, d, 7*time.Second)
		assert.Less(t, d, 8*time.Second)
	}
}

func TestRetryDelay_BacksOffExponentially(t *testing.T) {
	for _, tc := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{0, time.Second, 1250*time.Millisecond + time.Millisecond},
		{1, 2 * time.Second, 2500*time.Millisecond + time.Millisecond},
		{3, 8 * time.Second, 10*time.Second + time.Millisecond},
		{6, time.Minute, time.Minute + 16*time.Second + time.Millisecond},
		{25, time.Minute, time.Minute + 16*time.Second + time.Millisecond},
	} {
		for i := 0; i < 20; i++ {
			d := tasks.RetryDelay(tc.n, errLostAnswer, nil)
			assert.GreaterOrEqual(t, d, tc.lo, "n=%d", tc.n)
			assert.Less(t, d, tc.hi, "n=%d", tc.n)
		}
	}
}

func TestRetryDelay_PausedProductWaitsLonger(t *testing.T) {
	e := newEnv(t, 1, testConfig)
	require.NoError(t, e.store.PauseProduct(e.ctx, string(momo.Disbursement), "test"))

	err := e.transfer(0)
	require.Error(t, err)
	assert.False(t, tasks.IsFailure(err))
	d := tasks.RetryDelay(0, err, nil)
	assert.GreaterOrEqual(t, d, 30*time.Second)
	assert.Less(t, d, 40*time.Second)
	assert.Zero(t, e.momo.totalPosts())
}

func TestIsFailure_MoMoErrorsAreFailures(t *testing.T) {
	assert.True(t, tasks.IsFailure(errLostAnswer))
	assert.True(t, tasks.IsFailure(postErr(500, "INTERNAL_PROCESSING_ERROR")))
	assert.True(t, tasks.IsFailure(context.DeadlineExceeded))
}

func TestMaskMSISDN(t *testing.T) {
	for in, want := range map[string]string{
		"46733123450":  "4673****450",
		"256772123456": "2567*****456",
		"1234567":      "12**567",
		"123456":       "******",
		"12":           "**",
		"":             "",
	} {
		got := tasks.MaskMSISDN(in)
		assert.Equal(t, want, got, "MaskMSISDN(%q)", in)
		assert.Len(t, got, len(in))
	}
}

func TestTaskConstructors_NameProductQueuesAndIDs(t *testing.T) {
	assert.Equal(t, tasks.TypeDisbursement, tasks.TransferType(momo.Disbursement))
	assert.Equal(t, tasks.TypeRemittance, tasks.TransferType(momo.Remittance))
	assert.Equal(t, "disbursement", tasks.Queue(momo.Disbursement))
	assert.Equal(t, "remittance-poll", tasks.PollQueue(momo.Remittance))
	assert.Equal(t, "r:poll:3", tasks.PollTaskID("r", 3))

	tr := tasks.NewTransferTask(momo.Remittance, "b1", "ref1", tasks.Options{})
	assert.Equal(t, tasks.TypeRemittance, tr.Type())
	assert.Equal(t, tasks.Payload{Batch: "b1", Ref: "ref1", Product: momo.Remittance}, payloadOf(t, tr))
	assert.NotContains(t, string(tr.Payload()), "amount", "the queue carries no payout details")

	pt := tasks.NewPollTask(momo.Disbursement, "b1", "ref1", 4, time.Second, tasks.Options{})
	assert.Equal(t, tasks.TypeStatus, pt.Type())
	assert.Equal(t, tasks.Payload{Batch: "b1", Ref: "ref1", Product: momo.Disbursement, Seq: 4},
		payloadOf(t, pt))
}

func TestConfig_WithDefaults(t *testing.T) {
	c := tasks.Config{CallTimeout: 10 * time.Second}.WithDefaults()
	assert.Equal(t, 10*time.Second, c.CallTimeout, "a set field is kept")
	assert.Equal(t, tasks.DefaultLockTTL, c.LockTTL, "the lock is renewed, so its TTL stays short")
	assert.Equal(t, tasks.DefaultPollInitial, c.PollInitial)
	assert.Equal(t, tasks.DefaultPollMax, c.PollMax)
	assert.Equal(t, tasks.DefaultPollWindow, c.PollWindow)
	assert.Equal(t, tasks.DefaultNotFoundGrace, c.NotFoundGrace)
	assert.Equal(t, tasks.DefaultSlack, c.Slack)
	assert.Equal(t, tasks.DefaultTransferMaxRetry, c.TransferMaxRetry)
	assert.Equal(t, tasks.DefaultPollMaxRetry, c.PollMaxRetry)
	assert.Equal(t, tasks.DefaultTaskTimeout, c.TaskTimeout)
	assert.Equal(t, tasks.DefaultRetention, c.Retention)

	d := tasks.Config{}.WithDefaults()
	assert.Equal(t, tasks.DefaultCallTimeout, d.CallTimeout)
	assert.Equal(t, time.Second, tasks.Config{LockTTL: time.Second}.WithDefaults().LockTTL)
	kept := tasks.Options{Retention: -1, TaskTimeout: time.Second}.WithDefaults()
	assert.Equal(t, time.Duration(-1), kept.Retention)
	assert.Equal(t, time.Second, kept.TaskTimeout)
}

func TestTransfer_RemittanceBatchPaysThroughRemittance(t *testing.T) {
	rdb := testutil.Redis(t, redisDB)
	store := ledger.New(rdb)
	ctx := context.Background()
	fake := newFakeMoMo()
	rec := &recorder{}
	proc := tasks.NewProcessor(testConfig, store, fake, rec, nil, nil, zerolog.Nop())
	_, _, err := store.CreateBatch(ctx, ledger.Batch{ID: "r1", Product: string(momo.Remittance)})
	require.NoError(t, err)
	refs, _, err := store.AddItems(ctx, "r1", []ledger.NewItem{{
		Line: 2, PartyIDType: "MSISDN", PartyID: "46733123999", Amount: "5", Minor: 500, Currency: "EUR",
	}}, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, store.CommitBatch(ctx, "r1", 1, 1, 0))

	task := tasks.NewTransferTask(momo.Remittance, "r1", refs[0], tasks.Options{})
	require.NoError(t, proc.HandleTransfer(ctx, task))

	assert.Equal(t, []momo.Product{momo.Remittance}, fake.products)
	_, pl := rec.lastPoll(t, refs[0])
	assert.Equal(t, momo.Remittance, pl.Product)
}

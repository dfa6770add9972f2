// Package e2e runs whole batches: CSV through enqueue, the worker's Asynq servers on the real
// Redis at REDIS_ADDR, and the MoMo simulator over real HTTP.
package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/report"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
	"github.com/momopay/payout/internal/worker"
)

// redisDB is this package's database on the test Redis.
const redisDB = 3

func startStack(t *testing.T, sim momosim.Config) *stack.Stack {
	t.Helper()
	testutil.Redis(t, redisDB)
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: redisDB, Sim: sim, Log: zerolog.Nop(),
		Worker: worker.Config{
			Concurrency: 8, SweepInterval: time.Second,
			Tasks: tasks.Config{
				PollInitial: 200 * time.Millisecond, PollMax: time.Second,
				CallTimeout: 5 * time.Second, Slack: 5 * time.Second, Sandbox: true,
			},
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func enqueue(t *testing.T, st *stack.Stack, path string, p momo.Product) *intake.Result {
	t.Helper()
	res, err := intake.New(st.Store, st.Client).Run(context.Background(), intake.Request{
		Path: path, Product: p,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
		Slack:   5 * time.Second,
	})
	require.NoError(t, err)
	return res
}

func waitDone(t *testing.T, st *stack.Stack, id string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := st.WaitDone(ctx, id, nil); err != nil {
		c, _ := st.Store.Counts(context.Background(), id)
		t.Fatalf("batch %s not done within %s: %v", id, within, c.Items)
	}
}

// writeRows writes a beneficiaries file with n rows paying ordinary (successful) numbers.
func writeRows(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i := range n {
		fmt.Fprintf(&b, "2567%08d,%d.%02d,ext-%04d\n", 70000000+i, 10+i, i%100, i)
	}
	path := filepath.Join(t.TempDir(), "payroll.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// TestBatch_ExampleFileEndsAsTestNumberTableSays pays the shipped example through the worker and
// checks every row's final state and reason against the sandbox test-number table, that each
// payee was paid once, and that the report accounts for every line.
func TestBatch_ExampleFileEndsAsTestNumberTableSays(t *testing.T) {
	st := startStack(t, momosim.Config{OngoingFor: time.Second, DelayedFor: 2 * time.Second})
	res := enqueue(t, st, "../../examples/beneficiaries.csv", momo.Disbursement)
	require.Equal(t, 20, res.Accepted)
	waitDone(t, st, res.BatchID, 30*time.Second)

	ctx := context.Background()
	seen := 0
	require.NoError(t, st.Store.EachItem(ctx, res.BatchID, func(it *ledger.Item) error {
		seen++
		want, reason := momosim.ExpectedOutcome(it.PartyID)
		assert.Equal(t, want, string(it.State), "line %d (%s)", it.Line, it.PartyID)
		assert.Equal(t, reason, it.Reason, "line %d (%s)", it.Line, it.PartyID)
		if it.State == ledger.Successful {
			assert.NotEmpty(t, it.FinTxID, "line %d", it.Line)
		}
		return nil
	}))
	assert.Equal(t, 20, seen)
	assertPaidOnce(t, st, res.BatchID)

	var out bytes.Buffer
	require.NoError(t, report.WriteCSV(ctx, st.Store, res.BatchID, &out))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 21, "header plus one row per accepted line")
	assert.Equal(t, report.Columns, rows[0])
	for i, row := range rows[1:] {
		assert.Equal(t, fmt.Sprint(i+2), row[0], "report lines follow the file")
	}

	status, err := report.GetStatus(ctx, st.Store, res.BatchID)
	require.NoError(t, err)
	assert.True(t, status.Done)
	assert.Equal(t, 20, status.Rows)
	assert.Equal(t, int64(8), status.States["SUCCESSFUL"])
	assert.Equal(t, int64(12), status.States["FAILED"])
	// In the sandbox the NOT_ENOUGH_FUNDS test number fails its own row and pauses nothing.
	assert.Equal(t, ledger.BatchReady, status.Status)
}

// assertPaidOnce checks the simulator's own ledger: every item of the batch was created exactly
// once, under its own reference ID, and nobody was paid twice.
func assertPaidOnce(t *testing.T, st *stack.Stack, id string) {
	t.Helper()
	byRef := map[string]momosim.Transfer{}
	for _, tr := range st.Sim.Transfers() {
		_, dup := byRef[tr.ReferenceID]
		require.False(t, dup, "reference %s created twice", tr.ReferenceID)
		byRef[tr.ReferenceID] = tr
	}
	require.NoError(t, st.Store.EachItem(context.Background(), id, func(it *ledger.Item) error {
		tr, ok := byRef[it.Ref]
		if !assert.True(t, ok, "line %d never reached MoMo", it.Line) {
			return nil
		}
		assert.Equal(t, it.ExternalID, tr.ExternalID)
		assert.Equal(t, it.Amount, tr.Amount)
		assert.Equal(t, it.PartyID, tr.PartyID)
		if it.State == ledger.Successful {
			assert.Equal(t, tr.FinancialTransactionID, it.FinTxID, "line %d", it.Line)
		}
		return nil
	}))
	assert.Zero(t, st.Sim.Stats().PaidTwice)
}

// TestBatch_FaultsArePaidExactlyOnce has the simulator fail before creating, drop the
// connection after creating, answer 500 after creating, fail status queries and answer 429, and
// checks that every row still ends SUCCESSFUL and is created once.
func TestBatch_FaultsArePaidExactlyOnce(t *testing.T) {
	st := startStack(t, momosim.Config{Faults: momosim.Faults{
		PostFailBefore: 0.08, PostDropAfter: 0.08, Post500After: 0.08,
		StatusFail: 0.1, TooManyRequests: 0.05,
	}, Seed: 7})
	res := enqueue(t, st, writeRows(t, 60), momo.Remittance)
	require.Equal(t, 60, res.Accepted)
	waitDone(t, st, res.BatchID, 90*time.Second)

	c, err := st.Store.Counts(context.Background(), res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, int64(60), c.Items[ledger.Successful], "%v", c.Items)
	assert.Len(t, st.Sim.Transfers(), 60)
	assert.Positive(t, st.Sim.Stats().FaultsInjected)
	assertPaidOnce(t, st, res.BatchID)
}

// TestEnqueue_SameBatchTwiceAddsNothing enqueues one file twice: the second run finds the batch
// complete, adds no item and no payout, and the reference IDs stay those minted the first time.
func TestEnqueue_SameBatchTwiceAddsNothing(t *testing.T) {
	st := startStack(t, momosim.Config{})
	path := writeRows(t, 10)
	first := enqueue(t, st, path, momo.Disbursement)
	waitDone(t, st, first.BatchID, 30*time.Second)
	refs := refsOf(t, st, first.BatchID)

	second := enqueue(t, st, path, momo.Disbursement)
	assert.True(t, second.AlreadyEnqueued)
	assert.Equal(t, first.BatchID, second.BatchID)
	assert.Zero(t, second.NewItems)
	assert.Zero(t, second.Tasks)
	assert.Equal(t, refs, refsOf(t, st, first.BatchID))
	time.Sleep(500 * time.Millisecond)
	assert.Len(t, st.Sim.Transfers(), 10)
}

func refsOf(t *testing.T, st *stack.Stack, id string) []string {
	t.Helper()
	var refs []string
	require.NoError(t, st.Store.EachItem(context.Background(), id, func(it *ledger.Item) error {
		refs = append(refs, it.Ref)
		return nil
	}))
	return refs
}

// TestEnqueue_InvalidFileWritesNothing checks that one bad row stops the whole file.
func TestEnqueue_InvalidFileWritesNothing(t *testing.T) {
	st := startStack(t, momosim.Config{})
	path := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(path, []byte("msisdn,amount\n46733123470,10\n46733123471,10.001\n"), 0o600))
	res, err := intake.New(st.Store, st.Client).Run(context.Background(), intake.Request{
		Path: path, Product: momo.Disbursement,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
	})
	require.ErrorIs(t, err, intake.ErrInvalidRows)
	require.Len(t, res.Errors, 1)
	assert.Equal(t, 3, res.Errors[0].Line)
	assert.Contains(t, res.Errors[0].Error(), "column amount")
	ids, err := st.Store.Batches(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ids, "no batch written")
}

// TestEnqueue_SkipInvalidWritesRejects enqueues the good rows and writes the bad ones beside
// the input.
func TestEnqueue_SkipInvalidWritesRejects(t *testing.T) {
	st := startStack(t, momosim.Config{})
	path := filepath.Join(t.TempDir(), "mixed.csv")
	require.NoError(t, os.WriteFile(path,
		[]byte("msisdn,amount\n46733123470,10\n07XXXXXXXX,10\n46733123471,-5\n46733123472,12.50\n"), 0o600))
	res, err := intake.New(st.Store, st.Client).Run(context.Background(), intake.Request{
		Path: path, Product: momo.Disbursement, SkipInvalid: true,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
	})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Rows)
	assert.Equal(t, 2, res.Accepted)
	assert.Equal(t, 2, res.Rejected)
	rejects, err := os.ReadFile(res.RejectsFile)
	require.NoError(t, err)
	assert.Contains(t, string(rejects), "07XXXXXXXX")
	assert.Contains(t, string(rejects), "line 3")
	assert.Contains(t, string(rejects), "line 4")
	waitDone(t, st, res.BatchID, 30*time.Second)
	status, err := report.GetStatus(context.Background(), st.Store, res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, status.Rows, status.Accepted+status.Rejected)
	assert.Equal(t, int64(2), status.States["SUCCESSFUL"])
}

// TestWorker_ShutdownMidBatchStrandsNothing stops the worker gracefully while payouts are in
// flight, starts it again, and checks that every row finishes and was paid once.
func TestWorker_ShutdownMidBatchStrandsNothing(t *testing.T) {
	st := startStack(t, momosim.Config{Latency: 100 * time.Millisecond, PendingFor: 500 * time.Millisecond})
	res := enqueue(t, st, writeRows(t, 40), momo.Disbursement)
	ctx := context.Background()
	require.Eventually(t, func() bool {
		c, err := st.Store.Counts(ctx, res.BatchID)
		return err == nil && c.Items[ledger.Submitted] > 0
	}, 10*time.Second, 20*time.Millisecond)

	require.NoError(t, st.StopWorker())
	c, err := st.Store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	require.Positive(t, c.Open(), "the test must stop the worker mid-batch: %v", c.Items)

	st.StartWorker(ctx)
	waitDone(t, st, res.BatchID, 60*time.Second)
	c, err = st.Store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, int64(40), c.Items[ledger.Successful], "%v", c.Items)
	assertPaidOnce(t, st, res.BatchID)
}

// TestBatch_DryAccountPausesTheBatchUntilResume runs a batch on an account that can pay only
// the first rows: the row that meets NOT_ENOUGH_FUNDS fails, the batch pauses with the rows not
// yet submitted waiting, and after a top-up and a resume they are paid.
func TestBatch_DryAccountPausesTheBatchUntilResume(t *testing.T) {
	// 200 POSTs at 100 ms, eight at a time, take 2.5 s; the first NOT_ENOUGH_FUNDS is known
	// after about half a second, so most rows are still waiting when the batch pauses.
	st := startStack(t, momosim.Config{Latency: 100 * time.Millisecond, PendingFor: 200 * time.Millisecond})
	st.Sim.SetBalance("disbursement", "100")
	res := enqueue(t, st, writeRows(t, 200), momo.Disbursement)
	ctx := context.Background()
	require.Eventually(t, func() bool {
		b, err := st.Store.GetBatch(ctx, res.BatchID)
		return err == nil && b.Status == ledger.BatchPaused
	}, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { // what was submitted finishes; the rest waits
		c, _ := st.Store.Counts(ctx, res.BatchID)
		return c.Items[ledger.Submitting]+c.Items[ledger.Submitted] == 0
	}, 30*time.Second, 50*time.Millisecond)
	c, err := st.Store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Positive(t, c.Items[ledger.Validated], "rows not yet submitted wait: %v", c.Items)
	assert.Positive(t, c.Items[ledger.Failed], "%v", c.Items)
	b, err := st.Store.GetBatch(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Contains(t, b.Reason, "NOT_ENOUGH_FUNDS")

	st.Sim.SetBalance("disbursement", "1000000")
	ok, err := st.Store.SetBatchStatus(ctx, res.BatchID, []string{ledger.BatchPaused}, ledger.BatchReady, "")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, st.Store.MakeAllDue(ctx, res.BatchID)) // what payoutctl resume does
	waitDone(t, st, res.BatchID, 60*time.Second)
	c, err = st.Store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Zero(t, c.Items[ledger.Validated])
	assert.Equal(t, int64(200), c.Items[ledger.Successful]+c.Items[ledger.Failed], "%v", c.Items)
	assertPaidOnce(t, st, res.BatchID)
}

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is this package's database on the test Redis.
const redisDB = 5

// setup enqueues a three-row batch "b1" (no worker runs, so every item stays VALIDATED).
func setup(t *testing.T) *ledger.Store {
	t.Helper()
	return setupCSV(t,
		"msisdn,amount,external_id\n46733123470,10,=1+1\n46733123471,12.5,@SUM(A1)\n46733123472,1,ok-3\n")
}

// setupCSV enqueues the file content as batch "b1"; no worker runs, so every item stays
// VALIDATED until the test moves it.
func setupCSV(t *testing.T, content string) *ledger.Store {
	t.Helper()
	rdb := testutil.Redis(t, redisDB)
	t.Setenv("REDIS_URL", "redis://"+testutil.RedisAddr()+"/5")
	store := ledger.New(rdb)
	path := filepath.Join(t.TempDir(), "pay.csv")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer client.Close()
	_, err := intake.New(store, client).Run(context.Background(), intake.Request{
		Path: path, Product: momo.Disbursement, BatchID: "b1", SkipInvalid: true,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR"},
	})
	require.NoError(t, err)
	return store
}

func ctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	return cli.Exit("payoutctl", err, &errOut), out.String(), errOut.String()
}

func TestStatus_JSONHasTheDocumentedFields(t *testing.T) {
	setup(t)
	code, out, stderr := ctl(t, "status", "b1", "-json")
	require.Equal(t, 0, code, stderr)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	for _, k := range []string{"batch", "rows", "accepted", "rejected", "states", "done"} {
		assert.Contains(t, st, k)
	}
	assert.Equal(t, "b1", st["batch"])
	assert.Equal(t, float64(3), st["rows"])
	assert.Equal(t, false, st["done"])
	assert.Equal(t, float64(3), st["states"].(map[string]any)["VALIDATED"])
}

func TestReport_OneRowPerLineWithFormulasNeutralised(t *testing.T) {
	setup(t)
	code, out, stderr := ctl(t, "report", "b1")
	require.Equal(t, 0, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	assert.Equal(t, []string{"line", "reference_id", "external_id", "msisdn", "amount", "currency",
		"state", "financial_transaction_id", "reason", "attempts", "previous_reference_id"}, rows[0])
	assert.Equal(t, []string{"2", "3", "4"}, []string{rows[1][0], rows[2][0], rows[3][0]})
	assert.Equal(t, "12.50", rows[2][4])
	assert.Equal(t, "'=1+1", rows[1][2], "a formula is neutralised")
	assert.Equal(t, "'@SUM(A1)", rows[2][2])
	assert.Equal(t, "ok-3", rows[3][2])
}

func TestCancel_UnsubmittedRowsBecomeCancelled(t *testing.T) {
	store := setup(t)
	code, out, stderr := ctl(t, "cancel", "b1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "3 payouts CANCELLED (3 by this command)")
	c, err := store.Counts(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.Items[ledger.Cancelled])
	assert.Zero(t, c.Open())
	code, _, _ = ctl(t, "cancel", "b1")
	assert.Equal(t, cli.ExitFailure, code, "cancelling twice is refused")
}

func TestPauseResume_RoundTrip(t *testing.T) {
	store := setup(t)
	code, _, stderr := ctl(t, "pause", "b1")
	require.Equal(t, 0, code, stderr)
	b, err := store.GetBatch(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchPaused, b.Status)

	code, out, stderr := ctl(t, "resume", "b1")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "batch b1 resumed")
	b, err = store.GetBatch(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b.Status)

	code, _, _ = ctl(t, "resume", "b1")
	assert.Equal(t, cli.ExitFailure, code, "a batch that is not paused cannot be resumed")
}

func TestResumeProduct_ClearsThePause(t *testing.T) {
	store := setup(t)
	require.NoError(t, store.PauseProduct(context.Background(), "disbursement", "token 401"))
	code, out, _ := ctl(t, "status", "b1")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "PAUSED: token 401")
	code, _, stderr := ctl(t, "resume", "-product", "disbursement")
	require.Equal(t, 0, code, stderr)
	reason, err := store.ProductPause(context.Background(), "disbursement")
	require.NoError(t, err)
	assert.Empty(t, reason)
}

func TestUsage_Exit2(t *testing.T) {
	setup(t)
	for _, args := range [][]string{{}, {"bogus"}, {"status"}, {"status", "a", "b"}, {"report", "-x", "b1"}} {
		code, _, _ := ctl(t, args...)
		assert.Equal(t, cli.ExitUsage, code, "%v", args)
	}
}

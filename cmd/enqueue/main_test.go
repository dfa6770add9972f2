package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is this package's database on the test Redis.
const redisDB = 4

// sim is the MoMo simulator of the current test; enqueue asks it for the balance.
var sim *momosim.Server

func setup(t *testing.T) *ledger.Store {
	t.Helper()
	rdb := testutil.Redis(t, redisDB)
	sim = momosim.New(momosim.Config{})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Setenv("REDIS_URL", "redis://"+testutil.RedisAddr()+"/4")
	t.Setenv("MOMO_TARGET_ENVIRONMENT", "sandbox")
	t.Setenv("MOMO_BASE_URL", srv.URL)
	t.Setenv("MOMO_API_USER", momosim.DefaultAPIUser)
	t.Setenv("MOMO_API_KEY", momosim.DefaultAPIKey)
	t.Setenv("MOMO_DISBURSEMENT_KEY", momosim.DefaultDisbursementKey)
	t.Setenv("MOMO_REMITTANCE_KEY", momosim.DefaultRemittanceKey)
	return ledger.New(rdb)
}

func assertNothingWritten(t *testing.T, store *ledger.Store) {
	t.Helper()
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ids, "nothing may be written")
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func exitCode(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	err := run(args, &out, &errOut)
	code := cli.Exit("enqueue", err, &errOut)
	return code, out.String(), errOut.String()
}

func TestEnqueue_InvalidRowsExit3AndWriteNothing(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount,currency\n46733123470,10,EUR\n46733123471,10,GHS\n0772,5,EUR\n")
	code, _, stderr := exitCode("-product", "disbursement", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, path+": line 3, column currency")
	assert.Contains(t, stderr, "line 4, column msisdn")
	assert.Contains(t, stderr, "nothing was enqueued")
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestEnqueue_TwiceAddsNothingAndSaysSo(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n46733123471,12.5\n")
	code, out, stderr := exitCode("-product", "remittance", "-currency", "EUR", "-batch", "b1", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "batch b1: 2 rows read, 2 accepted, 0 rejected; 2 payouts enqueued via remittance: EUR 22.50")

	code, out, stderr = exitCode("-product", "remittance", "-currency", "EUR", "-batch", "b1", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "already enqueued")
	c, err := store.Counts(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Total())
}

func TestEnqueue_DryRunWritesNothing(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n46733123471,12.5\n")
	code, out, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-dry-run", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "would pay 2 payouts via disbursement: EUR 22.50")
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestEnqueue_SameFileUnderNewBatchIsRefused(t *testing.T) {
	setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "first", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "second", path)
	assert.Equal(t, cli.ExitRefused, code, "a guard's refusal, nothing written")
	assert.Contains(t, stderr, `already enqueued as batch "first"`)
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "second", "-dry-run", path)
	assert.Equal(t, cli.ExitRefused, code, "a dry run says so too")
	assert.Contains(t, stderr, `already enqueued as batch "first"`)
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "second", "-allow-same-file", path)
	assert.Equal(t, cli.ExitOK, code, stderr)
}

func TestEnqueue_UsageErrorsExit2(t *testing.T) {
	setup(t)
	for _, args := range [][]string{
		{},
		{"-product", "collection", "x.csv"},
		{"-product", "disbursement"},
		{"-nope", "x.csv"},
	} {
		code, _, _ := exitCode(args...)
		assert.Equal(t, cli.ExitUsage, code, "%v", args)
	}
}

func TestEnqueue_MissingTargetEnvironmentIsNamed(t *testing.T) {
	setup(t)
	t.Setenv("MOMO_TARGET_ENVIRONMENT", "")
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n")
	code, _, stderr := exitCode("-product", "disbursement", path)
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, "MOMO_TARGET_ENVIRONMENT")
}

// TestEnqueue_RerunWithOtherOptionsIsRefused: a row rejected in the first run (a local number
// without -country) must not vanish when the file is run again with -country: the second run
// is refused instead of silently landing in the first batch.
func TestEnqueue_RerunWithOtherOptionsIsRefused(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n+46733123470,10\n0772123456,5\n")
	code, out, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-skip-invalid", "-batch", "b1", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "1 accepted, 1 rejected")
	rejects, err := os.ReadFile(filepath.Join(filepath.Dir(path), "pay.rejects.csv"))
	require.NoError(t, err)

	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-skip-invalid", "-country", "UG", "-batch", "b1", path)
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, `batch "b1" exists with other`)
	assert.Contains(t, stderr, "choose a new batch ID")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-skip-invalid", "-country", "UG", path)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, `already enqueued as batch "b1"`)

	again, err := os.ReadFile(filepath.Join(filepath.Dir(path), "pay.rejects.csv"))
	require.NoError(t, err)
	assert.Equal(t, string(rejects), string(again), "the rejects file of b1 is left as it was")
	c, err := store.Counts(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Total())
}

func TestEnqueue_DuplicateExternalIDIsAnErrorSamePayeeAWarning(t *testing.T) {
	setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount,external_id\n46733123470,10,a\n46733123471,5,a\n46733123470,7,c\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, `line 3, column external_id: duplicate external_id "a" (first on line 2)`)
	assert.Contains(t, stderr, "line 4, column msisdn: warning: payee 46733123470 is paid again (first on line 2)")

	path = writeFile(t, "pay2.csv", "msisdn,amount,external_id\n46733123470,10,a\n46733123470,7,c\n")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-strict", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, "-strict refuses it")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitOK, code, stderr)
}

func TestEnqueue_HeaderOnlyFileExits3(t *testing.T) {
	store := setup(t)
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", writeFile(t, "h.csv", "msisdn,amount\n"))
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, "nothing to pay")
	code, _, stderr = exitCode("-product", "disbursement", writeFile(t, "n.csv", "msisdn,amount\n46733123470,1\n"))
	assert.Equal(t, cli.ExitInvalidRows, code, "a missing currency column is a file problem")
	assert.Contains(t, stderr, "currency")
	ids, err := store.Batches(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestEnqueue_BalanceMustCoverTheBatch(t *testing.T) {
	store := setup(t)
	sim.SetBalance("disbursement", "20")
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n46733123471,12.5\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, "balance EUR 20 does not cover the batch total EUR 22.50")
	assertNothingWritten(t, store)

	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-skip-balance-check", path)
	assert.Equal(t, cli.ExitOK, code, stderr)
}

func TestEnqueue_BalanceCheckNeedsMoMoSettingsOrTheFlag(t *testing.T) {
	store := setup(t)
	t.Setenv("MOMO_API_KEY", "")
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, stderr, "MOMO_API_KEY")
	assert.Contains(t, stderr, "-skip-balance-check")
	assertNothingWritten(t, store)
}

func TestEnqueue_AmountLimitsAndConfirmation(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,100\n46733123471,60\n")

	t.Setenv("PAYOUT_MAX_ROW_AMOUNT", "EUR 80")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, "line 2, column amount: amount 100 EUR is above the per-row limit of 80 EUR")
	assertNothingWritten(t, store)

	t.Setenv("PAYOUT_MAX_ROW_AMOUNT", "")
	t.Setenv("PAYOUT_MAX_BATCH_AMOUNT", "EUR:150")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, "batch total EUR 160 is above the per-batch limit of EUR 150")
	assertNothingWritten(t, store)

	t.Setenv("PAYOUT_MAX_BATCH_AMOUNT", "")
	t.Setenv("PAYOUT_CONFIRM_ABOVE", "EUR 100")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", path)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, "-confirm-total 'EUR 160'")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-confirm-total", "EUR 150", path)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, "-confirm-total says EUR 150, the file totals EUR 160")
	assertNothingWritten(t, store)
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-confirm-total", "EUR 160", path)
	assert.Equal(t, cli.ExitOK, code, stderr)
}

func TestEnqueue_ValidateAccountsRejectsInactivePayees(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n"+momosim.TestNumberPayeeNotFound+",5\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-validate-accounts", "-account-rate", "50", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, "line 3, column msisdn")
	assertNothingWritten(t, store)

	code, out, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-validate-accounts",
		"-account-rate", "50", "-skip-invalid", "-batch", "v1", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "1 accepted, 1 rejected")
	c, err := store.Counts(context.Background(), "v1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Total())
}

func TestEnqueue_ScheduledBatchWaits(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n")
	code, out, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-in", "2h", "-batch", "s1", path)
	require.Equal(t, cli.ExitOK, code, stderr)
	assert.Contains(t, out, "scheduled: the payouts start at")
	due, err := store.Overdue(context.Background(), "s1", time.Now().Add(2*time.Hour), 10)
	require.NoError(t, err)
	assert.Empty(t, due, "the sweeper leaves a scheduled item alone until its time")
	code, _, _ = exitCode("-product", "disbursement", "-currency", "EUR", "-in", "1h", "-at", "2030-01-01T00:00:00Z", path)
	assert.Equal(t, cli.ExitUsage, code)
}

func TestEnqueue_LimitsAreConfigurableAndNamed(t *testing.T) {
	store := setup(t)
	path := writeFile(t, "pay.csv", "msisdn,amount\n46733123470,10\n46733123471,11\n46733123472,12\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-max-rows", "2", path)
	assert.Equal(t, cli.ExitInvalidRows, code)
	assert.Contains(t, stderr, "line 4")
	assert.Contains(t, stderr, "limit of 2 data rows")
	assertNothingWritten(t, store)
	code, _, _ = exitCode("-product", "disbursement", "-currency", "EUR", "-max-rows", "0", path)
	assert.Equal(t, cli.ExitUsage, code)
}

func TestEnqueue_RowsAnEarlierBatchPaysAreRefusedExit4(t *testing.T) {
	setup(t)
	first := writeFile(t, "nov.csv", "msisdn,amount,external_id\n46733123470,10,n-1\n46733123471,20,n-2\n")
	code, _, stderr := exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "nov", first)
	require.Equal(t, cli.ExitOK, code, stderr)

	// The corrected file, uploaded whole: row n-2 has a new amount, n-1 is as it was.
	fixed := writeFile(t, "nov-fixed.csv", "msisdn,amount,external_id\n46733123470,10,n-1\n46733123471,25,n-2\n")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-dry-run", fixed)
	require.Equal(t, cli.ExitRefused, code, "a dry run refuses as a real run would")
	assert.Contains(t, stderr, "2 row(s) carry external IDs")
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "nov-fixed", fixed)
	assert.Equal(t, cli.ExitRefused, code)
	assert.Contains(t, stderr, `batch "nov": line 2 "n-1" (VALIDATED there), line 3 "n-2" (VALIDATED there)`)
	code, _, stderr = exitCode("-product", "disbursement", "-currency", "EUR", "-batch", "nov-fixed",
		"-allow-repeated-ids", fixed)
	assert.Equal(t, cli.ExitOK, code, stderr)
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is this package's database on the test Redis.
const redisDB = 4

func setup(t *testing.T) *ledger.Store {
	t.Helper()
	rdb := testutil.Redis(t, redisDB)
	t.Setenv("REDIS_URL", "redis://"+testutil.RedisAddr()+"/4")
	t.Setenv("MOMO_TARGET_ENVIRONMENT", "sandbox")
	return ledger.New(rdb)
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
	assert.Equal(t, cli.ExitFailure, code)
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

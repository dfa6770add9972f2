package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/momopay/payout/internal/cli"
)

// setEnv gives the worker a complete MoMo configuration and a Redis that is not there, so
// that a run which passes every check of its settings stops at "cannot reach Redis".
func setEnv(t *testing.T, extra map[string]string) {
	t.Helper()
	env := map[string]string{
		"REDIS_ADDR": "127.0.0.1:1", "REDIS_URL": "",
		"MOMO_BASE_URL": "http://127.0.0.1:9", "MOMO_TARGET_ENVIRONMENT": "sandbox",
		"MOMO_API_USER": "3f1d2c9e-7a4b-4c1e-9f2a-5b6d7e8f9a01", "MOMO_API_KEY": "api-key-secret",
		"MOMO_DISBURSEMENT_KEY": "disbursement-key-secret", "MOMO_REMITTANCE_KEY": "",
		"MOMO_CALLBACK_URL": "", "PAYOUT_SCHEDULES": "",
		"PAYOUT_MONITOR_USER": "", "PAYOUT_MONITOR_PASSWORD": "",
		"PAYOUT_MONITOR_USER_FILE": "", "PAYOUT_MONITOR_PASSWORD_FILE": "",
	}
	for k, v := range extra {
		env[k] = v
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// runWorker runs the command and returns its exit code and what it printed.
func runWorker(args ...string) (int, string) {
	var stderr bytes.Buffer
	err := run(args, &bytes.Buffer{}, &stderr)
	code := cli.Exit("worker", err, &stderr)
	return code, stderr.String()
}

func TestWorker_MonitorOnTheNetworkNeedsAPassword(t *testing.T) {
	setEnv(t, nil)

	code, out := runWorker("-monitor-addr", "0.0.0.0:8080")

	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, out, "PAYOUT_MONITOR_USER")
	assert.Contains(t, out, "PAYOUT_MONITOR_PASSWORD")
	assert.NotContains(t, out, "cannot reach Redis", "refused before anything starts")
}

func TestWorker_MonitorOnTheNetworkWithAPasswordStarts(t *testing.T) {
	setEnv(t, map[string]string{"PAYOUT_MONITOR_USER": "ops",
		"PAYOUT_MONITOR_PASSWORD": "correct-horse-battery"})

	code, out := runWorker("-monitor-addr", ":0", "-monitor-read-only")

	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, out, "cannot reach Redis", "the settings were accepted")
	assert.NotContains(t, out, "correct-horse-battery")
}

func TestWorker_CallbackURLNeedsCallbackAddr(t *testing.T) {
	setEnv(t, map[string]string{"MOMO_CALLBACK_URL": "https://pay.example.com/callback"})

	code, out := runWorker()
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, out, "-callback-addr")

	code, out = runWorker("-callback-addr", "127.0.0.1:0", "-monitor-addr", "off")
	assert.Equal(t, cli.ExitFailure, code)
	assert.Contains(t, out, "cannot reach Redis", "the settings were accepted")
}

func TestWorker_MonitorAndCallbacksNeedTwoAddresses(t *testing.T) {
	setEnv(t, map[string]string{"MOMO_CALLBACK_URL": "https://pay.example.com/callback"})

	code, out := runWorker("-callback-addr", "127.0.0.1:8080", "-monitor-addr", "127.0.0.1:8080")

	assert.Equal(t, cli.ExitUsage, code, out)
	assert.Contains(t, out, "must differ")
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/momosim"
)

func noEnv(string) string { return "" }

func TestParseOptions_ReadsFlags(t *testing.T) {
	o, err := parseOptions([]string{
		"-addr", "127.0.0.1:9999", "-pending", "2s", "-token-ttl", "3s", "-latency", "5ms",
		"-post-fail-before", "0.05", "-post-drop-after", "0.03", "-post-500-after", "0.02",
		"-status-fail", "0.05", "-rate-429", "0.02", "-callback-host", "localhost",
	}, noEnv, io.Discard)
	require.NoError(t, err)

	assert.Equal(t, "127.0.0.1:9999", o.addr)
	assert.Equal(t, 2*time.Second, o.cfg.PendingFor)
	assert.Equal(t, 3*time.Second, o.cfg.TokenTTL)
	assert.Equal(t, 5*time.Millisecond, o.cfg.Latency)
	assert.Equal(t, momosim.DefaultOngoingFor, o.cfg.OngoingFor)
	assert.Equal(t, "localhost", o.cfg.CallbackHost)
	assert.Equal(t, momosim.Faults{PostFailBefore: 0.05, PostDropAfter: 0.03, Post500After: 0.02,
		StatusFail: 0.05, TooManyRequests: 0.02}, o.cfg.Faults)
}

func TestParseOptions_CredentialsFromEnvironment(t *testing.T) {
	env := map[string]string{"MOMO_API_USER": "u", "MOMO_API_KEY": "k", "MOMO_REMITTANCE_KEY": "r"}
	o, err := parseOptions(nil, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)

	assert.Equal(t, "u", o.cfg.APIUser)
	assert.Equal(t, "k", o.cfg.APIKey)
	assert.Equal(t, "r", o.cfg.SubscriptionKeys[momosim.ProductRemittance])
}

func TestParseOptions_UsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown flag":      {"-nope"},
		"bad duration":      {"-pending", "soon"},
		"negative duration": {"-latency", "-1s"},
		"probability > 1":   {"-status-fail", "1.5"},
		"negative rate":     {"-rate-429", "-0.1"},
		"positional":        {"extra"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseOptions(args, noEnv, io.Discard)
			assert.ErrorIs(t, err, errUsage)
		})
	}
	_, err := parseOptions([]string{"-h"}, noEnv, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}

func TestServe_PrintsAddressServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"-addr", "127.0.0.1:0"}, noEnv, outW, io.Discard)
		outW.Close()
	}()

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "momosim listening on http://127.0.0.1:"), line)
	base := strings.TrimSpace(strings.TrimPrefix(line, "momosim listening on "))

	resp, err := http.Get(base + "/_sim/stats")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
}

func TestServe_ListenFailureIsNotUsageError(t *testing.T) {
	err := serve(context.Background(), []string{"-addr", "256.0.0.1:1"}, noEnv, io.Discard, io.Discard)
	require.Error(t, err)
	assert.False(t, errors.Is(err, errUsage))
}

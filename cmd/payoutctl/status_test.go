package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/config"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/report"
)

func TestStatusWatch_LinePerChangeUntilDoneThenStatus(t *testing.T) {
	startSim(t, momosim.Config{}) // retry-failed asks MoMo about the old reference IDs
	store := setup(t)
	ctx := context.Background()
	first := byLine(t, store)
	walk(t, store, first[2], "EXPIRED", toFailed...)
	code, _, stderr := ctl(t, "retry-failed", "b1")
	require.Equal(t, 0, code, stderr)
	refs := byLine(t, store)

	// A worker finishing one payout every 100 ms, the retried line first.
	go func() {
		for _, line := range []int{2, 3, 4} {
			time.Sleep(100 * time.Millisecond)
			for _, to := range toSuccessful {
				from := map[ledger.State]ledger.State{ledger.Submitting: ledger.Validated,
					ledger.Submitted: ledger.Submitting, ledger.Successful: ledger.Submitted}[to]
				_, _, err := store.Transition(ctx, "b1", refs[line],
					ledger.Change{From: []ledger.State{from}, To: to})
				assert.NoError(t, err)
			}
		}
	}()

	type result struct {
		code        int
		out, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, stderr := ctl(t, "status", "b1", "-watch", "-interval", "10ms")
		done <- result{code, out, stderr}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("status -watch did not return when the batch was done")
	}
	require.Equal(t, 0, r.code, r.stderr)

	var progress []string
	for _, l := range strings.Split(r.out, "\n") {
		if i := strings.Index(l, "batch b1: "); i >= 0 {
			progress = append(progress, l[i+len("batch b1: "):])
		}
	}
	require.NotEmpty(t, progress)
	assert.Equal(t, "0/3 final (VALIDATED 3), status ready", progress[0],
		"the retried line counts once")
	assert.Equal(t, "3/3 final (SUCCESSFUL 3), status ready, done", progress[len(progress)-1])
	for i := 1; i < len(progress); i++ {
		assert.NotEqual(t, progress[i-1], progress[i], "a line only for a change")
		assert.LessOrEqual(t, progress[i-1][:1], progress[i][:1], "final items only grow")
	}
	assert.Subset(t, progress, []string{
		"1/3 final (VALIDATED 2, SUCCESSFUL 1), status ready",
		"2/3 final (VALIDATED 1, SUCCESSFUL 2), status ready",
	}, "each step is seen: it lasts far longer than the interval")
	assert.Contains(t, squash(r.out), "\ndone yes (0 open)\n", "then the normal status")
	assert.Contains(t, r.out, "(and 1 earlier attempt RETRIED as a new one;")
}

func TestStatusWatch_StoppedStillPrintsTheStatus(t *testing.T) {
	store := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	var out, errOut bytes.Buffer
	e := &env{ctx: ctx, cfg: config.Config{}, store: store, stdout: &out, stderr: &errOut}

	start := time.Now()
	require.NoError(t, cmdStatus(e, []string{"b1", "-watch", "-interval", "20ms"}))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, 1, strings.Count(out.String(), "0/3 final"), "no line without a change")
	assert.Contains(t, squash(out.String()), "\ndone no (3 open)\n")
}

func TestStatusWatch_BadInterval(t *testing.T) {
	setup(t)
	code, _, _ := ctl(t, "status", "b1", "-watch", "-interval", "0s")
	assert.Equal(t, cli.ExitUsage, code)
	code, _, _ = ctl(t, "status", "nope", "-watch")
	assert.Equal(t, cli.ExitFailure, code)
}

func TestProgressBar_FinalOverAccepted(t *testing.T) {
	var out bytes.Buffer
	view := newProgressView(&out, "b1", true)
	view.show(&report.Progress{Status: ledger.BatchLoading})
	view.show(&report.Progress{Status: ledger.BatchReady, Accepted: 4, Terminal: 1})
	assert.Contains(t, out.String(), "batch b1")
	assert.Contains(t, out.String(), "1/4")
	view.show(&report.Progress{Status: ledger.BatchReady, Accepted: 4, Terminal: 4, Done: true})
	view.stop()
	assert.Contains(t, out.String(), "4/4")
	assert.Contains(t, out.String(), "100%")
	assert.True(t, strings.HasSuffix(out.String(), "\n"), "the status starts on a line of its own")
}

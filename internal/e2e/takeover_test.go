package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/tasks"
)

// TestTakeOver_KilledWorkersTransferIsTakenOverBeforeAsynqRecovers SIGKILLs a worker process
// while its transfers wait on MoMo, leaving their tasks active in Asynq with nobody to extend
// their leases. A second worker's sweeper must take them over as soon as the leases expire
// (30 s), without waiting for Asynq's own recovery, which cannot come before the second
// worker's recoverer runs again a minute after it started. Every row is then paid once.
func TestTakeOver_KilledWorkersTransferIsTakenOverBeforeAsynqRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker command, kills one and waits for its leases to expire")
	}
	const rows = 3
	bin := buildWorker(t)
	// Each MoMo answer takes 2 s, so the first worker is killed in the middle of its POSTs.
	st, res := procStack(t, momosim.Config{Latency: 2 * time.Second}, rows)
	inspector := asynq.NewInspector(st.Redis)
	defer inspector.Close()

	first := startWorkerProc(t, bin, st.SimURL, 0, "-sweep-interval", "1s")
	require.Eventually(t, func() bool {
		active, err := inspector.ListActiveTasks(tasks.Queue(momo.Disbursement))
		return err == nil && len(active) == rows
	}, 20*time.Second, 20*time.Millisecond, "the first worker takes every transfer")
	require.NoError(t, first.cmd.Process.Kill())
	<-first.done
	first.done <- nil
	killed := time.Now()

	second := startWorkerProc(t, bin, st.SimURL, 1, "-sweep-interval", "1s")
	waitDone(t, st, res.BatchID, 55*time.Second)
	t.Logf("batch done %s after the SIGKILL", time.Since(killed).Round(100*time.Millisecond))
	second.stop(t)

	c, err := st.Store.Counts(context.Background(), res.BatchID)
	require.NoError(t, err)
	assert.Equal(t, int64(rows), c.Items[ledger.Successful], "%v", c.Items)
	assertPaidOnce(t, st, res.BatchID)
	require.NoError(t, st.Store.EachItem(context.Background(), res.BatchID, func(it *ledger.Item) error {
		assert.True(t, strings.HasPrefix(it.TaskID, tasks.TakeoverTaskID(it.Ref, "")),
			"line %d was carried on by a takeover task, not by Asynq's recovery: %q", it.Line, it.TaskID)
		return nil
	}))
	assert.Contains(t, second.tail(), "took over a transfer from a dead worker")
}

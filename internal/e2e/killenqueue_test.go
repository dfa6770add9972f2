package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/testutil"
)

// TestEnqueue_KilledMidFileThenRerunCompletesOnce SIGKILLs the enqueue command while it writes
// a large file, checks that nothing of the half-written batch can be paid, runs the same
// command again and checks that the batch is complete: one item and one task per line.
func TestEnqueue_KilledMidFileThenRerunCompletesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the enqueue command and writes 30,000 rows")
	}
	rdb := testutil.Redis(t, redisDB)
	store := ledger.New(rdb)
	dir := t.TempDir()
	bin := filepath.Join(dir, "enqueue")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/enqueue").CombinedOutput()
	require.NoError(t, err, "%s", out)

	const rows = 30_000
	var b strings.Builder
	b.WriteString("msisdn,amount,external_id\n")
	for i := range rows {
		fmt.Fprintf(&b, "2567%08d,%d,k-%06d\n", 20000000+i, 1+i%100, i)
	}
	path := filepath.Join(dir, "big.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))

	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "-product", "disbursement", "-currency", "EUR", "-skip-balance-check",
			"-batch", "big", path)
		cmd.Env = append(os.Environ(), "REDIS_URL=redis://"+testutil.RedisAddr()+fmt.Sprintf("/%d", redisDB),
			"MOMO_TARGET_ENVIRONMENT=sandbox")
		return cmd
	}
	ctx := context.Background()
	first := run()
	require.NoError(t, first.Start())
	require.Eventually(t, func() bool {
		c, err := store.Counts(ctx, "big")
		return err == nil && c.Total() > 1000
	}, 60*time.Second, 5*time.Millisecond, "enqueue starts writing items")
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()

	b1, err := store.GetBatch(ctx, "big")
	require.NoError(t, err)
	c, err := store.Counts(ctx, "big")
	require.NoError(t, err)
	t.Logf("killed with the batch %s and %d items written", b1.Status, c.Total())
	if b1.Status == ledger.BatchLoading {
		assert.Less(t, c.Total(), int64(rows), "killed mid-file")
	}

	out, err = run().CombinedOutput()
	require.NoError(t, err, "%s", out)
	b2, err := store.GetBatch(ctx, "big")
	require.NoError(t, err)
	assert.Equal(t, ledger.BatchReady, b2.Status)
	assert.Equal(t, rows, b2.Accepted)
	c, err = store.Counts(ctx, "big")
	require.NoError(t, err)
	assert.Equal(t, int64(rows), c.Items[ledger.Validated])

	lines := map[int]int{}
	refs := map[string]bool{}
	require.NoError(t, store.EachItem(ctx, "big", func(it *ledger.Item) error {
		lines[it.Line]++
		refs[it.Ref] = true
		return nil
	}))
	assert.Len(t, lines, rows)
	for line, n := range lines {
		if n != 1 {
			t.Fatalf("line %d has %d items", line, n)
		}
	}
	inspector := asynq.NewInspector(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	defer inspector.Close()
	info, err := inspector.GetQueueInfo("disbursement")
	require.NoError(t, err)
	assert.Equal(t, rows, info.Pending, "one task per item")
	assert.Len(t, refs, rows)
}

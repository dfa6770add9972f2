package e2e

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/stack"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
	"github.com/momopay/payout/internal/worker"
)

// syncBuffer collects log lines from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogs_HoldNoSecretAndNoPhoneNumber runs a whole batch, faults and short-lived tokens
// included, at debug level, captures every log line, and looks for the API key, the
// subscription keys, every token the simulator issued and every payee's full phone number.
func TestLogs_HoldNoSecretAndNoPhoneNumber(t *testing.T) {
	testutil.Redis(t, redisDB)
	var logs syncBuffer
	log := zerolog.New(&logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	st, err := stack.Start(context.Background(), stack.Options{
		RedisAddr: testutil.RedisAddr(), RedisDB: redisDB, Log: log,
		Sim: momosim.Config{TokenTTL: 2 * time.Second, OngoingFor: time.Second, DelayedFor: 2 * time.Second,
			Faults: momosim.Faults{
				PostDropAfter: 0.1, Post500After: 0.1, StatusFail: 0.1, TooManyRequests: 0.05}, Seed: 3},
		Worker: worker.Config{Concurrency: 4, SweepInterval: time.Second,
			Tasks: tasks.Config{PollInitial: 200 * time.Millisecond, PollMax: time.Second,
				CallTimeout: 5 * time.Second, Slack: 5 * time.Second}},
	})
	require.NoError(t, err)
	defer st.Close()
	res := enqueue(t, st, "../../examples/beneficiaries.csv", momo.Disbursement)
	waitDone(t, st, res.BatchID, 60*time.Second)
	st.Sim.InjectNext(momosim.FaultToken401, 1) // and a refused token, for good measure
	require.NoError(t, st.StopWorker())

	text := logs.String()
	require.NotEmpty(t, text)
	lines := strings.Count(text, "\n")
	t.Logf("%d log lines scanned", lines)
	assert.Greater(t, lines, 20, "the run must log enough to make the scan mean something")
	for _, secret := range []string{momosim.DefaultAPIKey, momosim.DefaultDisbursementKey,
		momosim.DefaultRemittanceKey} {
		assert.NotContains(t, text, secret)
	}
	assert.NotContains(t, text, "Bearer ")
	assert.NotContains(t, text, "Basic ")
	require.NoError(t, st.Store.EachItem(context.Background(), res.BatchID, func(it *ledger.Item) error {
		assert.NotContains(t, text, it.PartyID, "line %d's phone number is in the logs", it.Line)
		return nil
	}))
	// No run of 8 or more digits at all: masked numbers keep at most four in a row.
	assert.Empty(t, regexp.MustCompile(`"[^"]*\d{8,}[^"]*"`).FindAllString(
		regexp.MustCompile(`"(time|ref|batch_id|task_id)":"[^"]*"`).ReplaceAllString(text, ""), 5))
}

package intake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/batch"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is this package's database on the test Redis.
const redisDB = 10

func setup(t *testing.T) (*Intake, *ledger.Store) {
	t.Helper()
	store := ledger.New(testutil.Redis(t, redisDB))
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB})
	t.Cleanup(func() { _ = client.Close() })
	return New(store, client), store
}

func request(path string) Request {
	return Request{Path: path, Product: momo.Disbursement,
		Options: batch.Options{TargetEnvironment: "sandbox", DefaultCurrency: "EUR", File: path}}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

const payroll = "msisdn,amount,external_id\n46733123470,10,p-1\n46733123471,20,p-2\n46733123472,30,p-3\n"

func TestWrite_FileChangedAfterValidationOpensNothing(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	path := writeFile(t, "pay.csv", payroll)
	req := request(path)
	req.Tasks, req.Slack = req.Tasks.WithDefaults(), time.Minute
	guard := newRowGuard(ctx, req)
	res, err := validate(req, guard)
	require.NoError(t, err)
	res.Spec = spec(req, res.lineHash)
	res.BatchID, err = batchID(req, res.Spec)
	require.NoError(t, err)

	// Between the passes the file loses two rows.
	require.NoError(t, os.WriteFile(path, []byte("msisdn,amount,external_id\n46733123470,10,p-1\n"), 0o600))
	err = in.write(ctx, req, res, guard)
	require.ErrorIs(t, err, ErrFileChanged)
	_, err = store.GetBatch(ctx, res.BatchID)
	assert.ErrorIs(t, err, ledger.ErrNotFound, "the half-written batch is gone")
	c, err := store.Counts(ctx, res.BatchID)
	require.NoError(t, err)
	assert.Zero(t, c.Total())
}

func TestRun_LeftoverLoadingBatchIsWrittenAgain(t *testing.T) {
	in, store := setup(t)
	ctx := context.Background()
	path := writeFile(t, "pay.csv", payroll)
	req := request(path)
	req.BatchID = "b1"
	first, err := in.Run(ctx, Request{Path: path, Product: req.Product, Options: req.Options, DryRun: true, BatchID: "b1"})
	require.NoError(t, err)

	// A killed run left a loading batch holding a wrong item for line 2.
	_, _, err = store.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement",
		Fingerprint: first.Fingerprint, Spec: first.Spec})
	require.NoError(t, err)
	_, _, err = store.AddItems(ctx, "b1", []ledger.NewItem{{Line: 2, PartyIDType: "MSISDN",
		PartyID: "46733123499", Amount: "999", Minor: 99900, Currency: "EUR"}}, time.Now())
	require.NoError(t, err)

	res, err := in.Run(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, 3, res.NewItems)
	var parties []string
	require.NoError(t, store.EachItem(ctx, "b1", func(it *ledger.Item) error {
		parties = append(parties, it.PartyID+"/"+it.Amount)
		return nil
	}))
	assert.Equal(t, []string{"46733123470/10", "46733123471/20", "46733123472/30"}, parties)
	c, err := store.Counts(ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.Items[ledger.Validated], "counters start afresh: %v", c.Items)
}

func TestRun_ResavedFileIsTheSameFile(t *testing.T) {
	in, _ := setup(t)
	ctx := context.Background()
	_, err := in.Run(ctx, request(writeFile(t, "payroll.csv", payroll)))
	require.NoError(t, err)
	crlf := strings.ReplaceAll(payroll, "\n", "\r\n") + "\r\n"
	_, err = in.Run(ctx, request(writeFile(t, "payroll-resaved.csv", crlf)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already enqueued as batch")
}

func TestRun_RefusedRunClaimsNoFingerprint(t *testing.T) {
	in, _ := setup(t)
	ctx := context.Background()
	one := request(writeFile(t, "p1.csv", payroll))
	one.BatchID = "poison"
	_, err := in.Run(ctx, one)
	require.NoError(t, err)
	two := request(writeFile(t, "p2.csv", "msisdn,amount\n46733123480,5\n"))
	two.BatchID = "poison"
	_, err = in.Run(ctx, two)
	require.ErrorContains(t, err, "exists with other content")
	two.BatchID = ""
	_, err = in.Run(ctx, two)
	assert.NoError(t, err, "p2 was never enqueued, so it is no 'same file'")
}

func TestRun_PipeIsRefused(t *testing.T) {
	in, _ := setup(t)
	fifo := filepath.Join(t.TempDir(), "pipe.csv")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err := in.Run(context.Background(), request(fifo))
	require.ErrorContains(t, err, "not a regular file")
}

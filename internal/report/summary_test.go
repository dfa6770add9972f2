package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/report"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is the database of the report tests; other packages use other ones concurrently.
const redisDB = 6

// retriedBatch writes batch b1 as a file of five rows would leave it, one rejected (line 4):
//
//	line 2  EUR 10.00  SUCCESSFUL
//	line 3  EUR 12.50  FAILED (EXPIRED), retried, the retry SUCCESSFUL
//	line 5  EUR  1.00  FAILED (PAYEE_NOT_FOUND)
//	line 6  UGX  5000  VALIDATED, not paid yet
//
// and returns the store and the reference IDs of lines 2, 3, 5, 6 and of the retry.
func retriedBatch(t *testing.T) (*ledger.Store, []string) {
	t.Helper()
	ctx := context.Background()
	s := ledger.New(testutil.Redis(t, redisDB))
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement", File: "pay.csv"})
	require.NoError(t, err)
	row := func(line int, amount string, minor int64, cur string) ledger.NewItem {
		return ledger.NewItem{Line: line, PartyIDType: "MSISDN", PartyID: "2567700000" + amount[:1],
			Amount: amount, Minor: minor, Currency: cur, ExternalID: "ext"}
	}
	refs, _, err := s.AddItems(ctx, "b1", []ledger.NewItem{
		row(2, "10", 1000, "EUR"), row(3, "12.50", 1250, "EUR"), row(5, "1", 100, "EUR"),
		row(6, "5000", 5000, "UGX"),
	}, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, s.CommitBatch(ctx, "b1", 5, 4, 1))

	finish(t, s, refs[0], ledger.Successful, "")
	finish(t, s, refs[1], ledger.Failed, "EXPIRED")
	retry, _, err := s.RetryItem(ctx, "b1", refs[1], time.Now())
	require.NoError(t, err)
	require.NotEmpty(t, retry)
	finish(t, s, retry, ledger.Successful, "")
	finish(t, s, refs[2], ledger.Failed, "PAYEE_NOT_FOUND")
	return s, append(refs, retry)
}

// finish walks a VALIDATED item through submission to a final state.
func finish(t *testing.T, s *ledger.Store, ref string, to ledger.State, reason string) {
	t.Helper()
	path := []ledger.State{ledger.Validated, ledger.Submitting, ledger.Submitted, to}
	for i := 1; i < len(path); i++ {
		ok, _, err := s.Transition(context.Background(), "b1", ref, ledger.Change{
			From: path[i-1 : i], To: path[i], Fields: map[string]string{ledger.FieldReason: reason},
		})
		require.NoError(t, err)
		require.True(t, ok)
	}
}

func TestSummarize_RetriedLineCountsOnceAndReconciles(t *testing.T) {
	s, _ := retriedBatch(t)

	sum, err := report.Summarize(context.Background(), s, "b1")
	require.NoError(t, err)
	assert.Empty(t, sum.Problems)
	assert.True(t, sum.Reconciles())
	assert.Equal(t, 5, sum.Rows)
	assert.Equal(t, sum.Rows, sum.Accepted+sum.Rejected)
	assert.Equal(t, 4, sum.Lines)
	assert.Equal(t, 4, sum.Latest, "accepted = latest attempts")
	assert.Equal(t, 1, sum.Earlier)
	assert.Equal(t, map[string]int64{"EUR": 2350, "UGX": 5000}, sum.Total)

	assert.Equal(t, []report.Group{
		{State: ledger.Validated, Count: 1, Amounts: map[string]int64{"UGX": 5000}},
		{State: ledger.Successful, Count: 2, Amounts: map[string]int64{"EUR": 2250}},
		{State: ledger.Failed, Reason: "PAYEE_NOT_FOUND", Count: 1,
			Amounts: map[string]int64{"EUR": 100}},
	}, sum.Groups)
	assert.Equal(t, []report.Group{
		{State: ledger.Retried, Reason: "EXPIRED", Count: 1, Amounts: map[string]int64{"EUR": 1250}},
	}, sum.Retried, "the earlier attempt is shown apart")

	count, amounts := 0, map[string]int64{}
	for _, g := range sum.Groups {
		count += g.Count
		for cur, minor := range g.Amounts {
			amounts[cur] += minor
		}
	}
	assert.Equal(t, sum.Accepted, count, "the latest attempts' states add up to accepted")
	assert.Equal(t, sum.Total, amounts, "amounts by state add up to the accepted total")
}

func TestSummary_WriteTextShowsRetriedApart(t *testing.T) {
	s, _ := retriedBatch(t)
	sum, err := report.Summarize(context.Background(), s, "b1")
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, sum.WriteText(&out))
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " ")) // tabwriter's padding aside
	}
	for _, want := range []string{
		"summary of batch b1 (file pay.csv)",
		"rows 5 read = 4 accepted + 1 rejected",
		"accepted 4 = 4 latest attempts (and 1 earlier attempt RETRIED, shown apart, not counted)",
		"STATE REASON COUNT AMOUNT",
		"VALIDATED 1 UGX 5000",
		"SUCCESSFUL 2 EUR 22.50",
		"FAILED PAYEE_NOT_FOUND 1 EUR 1",
		"total 4 EUR 23.50, UGX 5000",
		"RETRIED EXPIRED 1 EUR 12.50 (earlier attempts, not in the total)",
	} {
		assert.Contains(t, lines, want)
	}
	assert.Contains(t, out.String(), "reconciles  yes")
}

func TestSummarize_FindsWhatDoesNotReconcile(t *testing.T) {
	s, _ := retriedBatch(t)
	ctx := context.Background()
	rdb := s.Redis()
	// A counter that drifted, and the file's counts off by one.
	require.NoError(t, rdb.HIncrBy(ctx, ledger.Prefix+"{b1}:counts", "n:SUCCESSFUL", 1).Err())
	require.NoError(t, rdb.HSet(ctx, ledger.Prefix+"{b1}:meta", "rows", 6).Err())
	// A second live attempt of line 3, as a broken retry would leave it.
	twin := "5f0c8f34-4b8e-4c5e-9d5e-0b8c0d8f1a11"
	require.NoError(t, rdb.HSet(ctx, ledger.Prefix+"{b1}:item:"+twin, "ref", twin, "line", 3,
		"min", 1250, "cur", "EUR", "amt", "12.50", "st", "FAILED").Err())
	require.NoError(t, rdb.ZAdd(ctx, ledger.Prefix+"{b1}:order",
		redis.Z{Score: 3, Member: twin}).Err())

	sum, err := report.Summarize(ctx, s, "b1")
	require.NoError(t, err)
	assert.False(t, sum.Reconciles())
	assert.Contains(t, sum.Problems, "line 3 has 2 latest attempts, not 1")
	assert.Contains(t, sum.Problems, "rows read 6 != accepted 4 + rejected 1")
	assert.Contains(t, sum.Problems, "latest attempts 5 != accepted 4")
	assert.Contains(t, sum.Problems, "SUCCESSFUL: 2 items, the counters say 3")
	assert.Contains(t, sum.Problems, "FAILED: 2 items, the counters say 1")
	assert.Contains(t, sum.Problems,
		"amounts by state add up to EUR 36, UGX 5000, the accepted total is EUR 23.50, UGX 5000")

	var out bytes.Buffer
	require.NoError(t, sum.WriteText(&out))
	assert.Contains(t, out.String(), "reconciles  NO:")
	assert.Contains(t, out.String(), "  line 3 has 2 latest attempts, not 1")
}

func TestGetProgress_RetriedAttemptsNeitherOpenNorCounted(t *testing.T) {
	s, refs := retriedBatch(t)
	ctx := context.Background()

	p, err := report.GetProgress(ctx, s, "b1")
	require.NoError(t, err)
	assert.Equal(t, 4, p.Accepted)
	assert.Equal(t, int64(4), p.Latest)
	assert.Equal(t, int64(3), p.Terminal)
	assert.False(t, p.Done)
	assert.NotContains(t, p.States, ledger.Retried)
	assert.Equal(t, "3/4 final (VALIDATED 1, SUCCESSFUL 2, FAILED 1), status ready", p.Line())

	ok, _, err := s.Transition(ctx, "b1", refs[3], ledger.Change{
		From: []ledger.State{ledger.Validated}, To: ledger.Cancelled})
	require.NoError(t, err)
	require.True(t, ok)
	p, err = report.GetProgress(ctx, s, "b1")
	require.NoError(t, err)
	assert.True(t, p.Done, "the RETRIED attempt does not hold the batch open")
	assert.Equal(t, int64(4), p.Terminal)
	assert.Equal(t, "4/4 final (SUCCESSFUL 2, FAILED 1, CANCELLED 1), status ready, done", p.Line())

	_, err = report.GetProgress(ctx, s, "nope")
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

func TestSummarize_LoadingBatchDoesNotReconcile(t *testing.T) {
	ctx := context.Background()
	s := ledger.New(testutil.Redis(t, redisDB))
	_, _, err := s.CreateBatch(ctx, ledger.Batch{ID: "b1", Product: "disbursement", File: "pay.csv"})
	require.NoError(t, err)
	_, _, err = s.AddItems(ctx, "b1", []ledger.NewItem{{Line: 2, PartyIDType: "MSISDN",
		PartyID: "256770000001", Amount: "10", Minor: 10, Currency: "UGX"}}, time.Now())
	require.NoError(t, err)

	sum, err := report.Summarize(ctx, s, "b1")
	require.NoError(t, err)
	assert.False(t, sum.Reconciles())
	assert.Equal(t, []string{"the batch is still loading: enqueue has not recorded the file's " +
		"row counts yet"}, sum.Problems)
	assert.Equal(t, 1, sum.Lines)
}

package tasks_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

// answer is what the status fake says about one reference ID.
type answer struct {
	st  *momo.TransferStatus
	err error
}

// statusFake answers status queries per reference ID and records when each came.
type statusFake struct {
	mu      sync.Mutex
	answers map[string]answer
	asked   map[string]int
	times   []time.Time
	// beforeAnswer, when set, runs before an answer is given, as a worker racing the
	// reconciliation would.
	beforeAnswer func(ref string)
}

func newStatusFake() *statusFake {
	return &statusFake{answers: map[string]answer{}, asked: map[string]int{}}
}

// Transfer implements tasks.MoMo; a reconciliation must never send one.
func (f *statusFake) Transfer(context.Context, momo.Product, string, momo.TransferRequest) error {
	panic("reconcile must never POST a transfer")
}

// GetTransfer implements tasks.MoMo.
func (f *statusFake) GetTransfer(_ context.Context, _ momo.Product,
	ref string) (*momo.TransferStatus, error) {
	f.mu.Lock()
	f.asked[ref]++
	f.times = append(f.times, time.Now())
	a, ok := f.answers[ref]
	hook := f.beforeAnswer
	f.mu.Unlock()
	if hook != nil {
		hook(ref)
	}
	if !ok {
		return nil, getErr(404, "RESOURCE_NOT_FOUND")
	}
	return a.st, a.err
}

func (f *statusFake) say(ref, status, reason, finTxID string) {
	f.answers[ref] = answer{st: &momo.TransferStatus{ReferenceID: ref, Status: status,
		Reason: reason, FinancialTransactionID: finTxID}}
}

// reconcileEnv is one open batch b1 of n items, all VALIDATED at first.
type reconcileEnv struct {
	t     *testing.T
	ctx   context.Context
	store *ledger.Store
	refs  []string
}

func newReconcileEnv(t *testing.T, n int) *reconcileEnv {
	t.Helper()
	store := ledger.New(testutil.Redis(t, redisDB))
	refs, _ := openBatch(t, store, "b1", n, time.Now().Add(time.Hour))
	return &reconcileEnv{t: t, ctx: context.Background(), store: store, refs: refs}
}

// walk moves item i along the given states, starting from VALIDATED.
func (e *reconcileEnv) walk(i int, path ...ledger.State) {
	e.t.Helper()
	from := ledger.Validated
	for _, to := range path {
		fields := map[string]string{}
		if to == ledger.Unknown {
			fields[ledger.FieldReason] = "polling window closed"
		}
		ok, _, err := e.store.Transition(e.ctx, "b1", e.refs[i],
			ledger.Change{From: []ledger.State{from}, To: to, Fields: fields})
		require.NoError(e.t, err)
		require.True(e.t, ok, "%s -> %s", from, to)
		from = to
	}
}

func (e *reconcileEnv) item(i int) *ledger.Item {
	e.t.Helper()
	it, err := e.store.GetItem(e.ctx, "b1", e.refs[i])
	require.NoError(e.t, err)
	return it
}

func (e *reconcileEnv) reconcile(f *statusFake, lim *rate.Limiter) (tasks.ReconcileResult, error) {
	return tasks.Reconcile(e.ctx, e.store, f, "b1", lim, zerolog.Nop())
}

func unlimited() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

func TestReconcile_RecordsFinalAnswersAndLeavesTheRest(t *testing.T) {
	e := newReconcileEnv(t, 9)
	sub, submitted := ledger.Submitting, []ledger.State{ledger.Submitting, ledger.Submitted}
	unknown := append(append([]ledger.State{}, submitted...), ledger.Unknown)
	e.walk(0, unknown...)   // MoMo: SUCCESSFUL
	e.walk(1, unknown...)   // MoMo: FAILED
	e.walk(2, submitted...) // MoMo: SUCCESSFUL
	e.walk(3, sub)          // MoMo: FAILED without a reason
	e.walk(4, unknown...)   // MoMo: still PENDING
	e.walk(5, unknown...)   // MoMo: 404
	e.walk(6, submitted...) // MoMo: 404
	e.walk(7, sub)          // MoMo: 404
	// 8 stays VALIDATED: never sent, so MoMo is not asked.
	f := newStatusFake()
	f.say(e.refs[0], momo.StatusSuccessful, "", "9001")
	f.say(e.refs[1], momo.StatusFailed, "PAYEE_NOT_FOUND", "")
	f.say(e.refs[2], momo.StatusSuccessful, "", "9002")
	f.say(e.refs[3], momo.StatusFailed, "", "")
	f.say(e.refs[4], momo.StatusPending, "", "")

	res, err := e.reconcile(f, unlimited())
	require.NoError(t, err)
	assert.Equal(t, tasks.ReconcileResult{Checked: 8, Successful: 2, Failed: 2, Pending: 1,
		NotFound: 3}, res)

	it := e.item(0)
	assert.Equal(t, ledger.Successful, it.State)
	assert.Equal(t, "9001", it.FinTxID)
	assert.Empty(t, it.Reason, "the UNKNOWN note is gone once MoMo answered")
	it = e.item(1)
	assert.Equal(t, ledger.Failed, it.State)
	assert.Equal(t, "PAYEE_NOT_FOUND", it.Reason)
	assert.Equal(t, "9002", e.item(2).FinTxID)
	assert.Equal(t, ledger.Failed, e.item(3).State)
	assert.Equal(t, momo.StatusFailed, e.item(3).Reason)
	for i, want := range map[int]ledger.State{4: ledger.Unknown, 5: ledger.Unknown,
		6: ledger.Submitted, 7: ledger.Submitting, 8: ledger.Validated} {
		assert.Equal(t, want, e.item(i).State, "item %d is left as it was", i)
	}
	assert.Zero(t, f.asked[e.refs[8]])

	c, err := e.store.Counts(e.ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(9), c.Total())
	assert.Equal(t, int64(2), c.Items[ledger.Successful])
	assert.Equal(t, int64(2), c.Items[ledger.Failed])
	assert.Equal(t, int64(2), c.Items[ledger.Unknown])
	assert.Equal(t, int64(1000+3000), c.Amounts[ledger.Successful]["EUR"])
	open, err := e.store.OpenCount(e.ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(3), open, "SUBMITTED, SUBMITTING and VALIDATED stay open")

	again, err := e.reconcile(f, unlimited())
	require.NoError(t, err)
	assert.Equal(t, tasks.ReconcileResult{Checked: 4, Pending: 1, NotFound: 3}, again,
		"a second run only asks about what is still open")
}

func TestReconcile_WorkerWinsTheRace(t *testing.T) {
	e := newReconcileEnv(t, 1)
	e.walk(0, ledger.Submitting, ledger.Submitted)
	f := newStatusFake()
	f.say(e.refs[0], momo.StatusSuccessful, "", "from-reconcile")
	f.beforeAnswer = func(ref string) {
		ok, _, err := e.store.Transition(e.ctx, "b1", ref, ledger.Change{
			From: []ledger.State{ledger.Submitted}, To: ledger.Successful,
			Fields: map[string]string{ledger.FieldFinTxID: "from-worker"},
		})
		require.NoError(t, err)
		require.True(t, ok)
	}

	res, err := e.reconcile(f, unlimited())
	require.NoError(t, err)
	assert.Equal(t, tasks.ReconcileResult{Checked: 1, Changed: 1}, res)
	it := e.item(0)
	assert.Equal(t, "from-worker", it.FinTxID, "the worker's record is kept")
	c, err := e.store.Counts(e.ctx, "b1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Items[ledger.Successful], "counted once")
	assert.Equal(t, int64(1), c.Total())
}

func TestReconcile_TransientErrorsSkipConfigErrorsStop(t *testing.T) {
	e := newReconcileEnv(t, 3)
	for i := range e.refs {
		e.walk(i, ledger.Submitting, ledger.Submitted, ledger.Unknown)
	}
	f := newStatusFake()
	f.answers[e.refs[0]] = answer{err: getErr(503, "SERVICE_UNAVAILABLE")}
	f.answers[e.refs[1]] = answer{err: getErr(401, "")}
	f.say(e.refs[2], momo.StatusSuccessful, "", "1")

	res, err := e.reconcile(f, unlimited())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.Equal(t, tasks.ReconcileResult{Checked: 2, Errors: 1}, res)
	assert.Zero(t, f.asked[e.refs[2]], "refused credentials stop the run")
	for i := range e.refs {
		assert.Equal(t, ledger.Unknown, e.item(i).State)
	}
}

func TestReconcile_HonoursTheRateLimit(t *testing.T) {
	e := newReconcileEnv(t, 5)
	for i := range e.refs {
		e.walk(i, ledger.Submitting, ledger.Submitted, ledger.Unknown)
	}
	f := newStatusFake()
	const every = 40 * time.Millisecond

	res, err := e.reconcile(f, rate.NewLimiter(rate.Every(every), 1))
	require.NoError(t, err)
	assert.Equal(t, 5, res.NotFound)
	require.Len(t, f.times, 5)
	// One gap may shrink when the one before it ran late, so the whole span is what the
	// limiter promises: five queries take at least four intervals.
	span := f.times[len(f.times)-1].Sub(f.times[0])
	assert.GreaterOrEqual(t, span, 4*every-5*time.Millisecond, "5 queries within %v", span)
}

func TestReconcile_CancelledContextStops(t *testing.T) {
	e := newReconcileEnv(t, 3)
	for i := range e.refs {
		e.walk(i, ledger.Submitting, ledger.Submitted, ledger.Unknown)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	f := newStatusFake()
	f.beforeAnswer = func(string) { cancel() }

	res, err := tasks.Reconcile(ctx, e.store, f, "b1", rate.NewLimiter(rate.Every(time.Hour), 1),
		zerolog.Nop())
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, res.Checked, "the limiter's wait ends with the context")
}

func TestReconcile_MissingBatchIsNotFound(t *testing.T) {
	e := newReconcileEnv(t, 1)
	_, err := tasks.Reconcile(e.ctx, e.store, newStatusFake(), "nope", unlimited(), zerolog.Nop())
	assert.ErrorIs(t, err, ledger.ErrNotFound)
}

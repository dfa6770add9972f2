package tasks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

// redisDB is the database of the tasks tests; other packages use other ones concurrently.
const redisDB = 2

// testConfig keeps every wait of the Processor short.
var testConfig = tasks.Config{
	PollInitial:   10 * time.Millisecond,
	PollMax:       40 * time.Millisecond,
	PollWindow:    time.Hour,
	NotFoundGrace: time.Minute,
	CallTimeout:   3 * time.Second,
	LockTTL:       5 * time.Second,
	Slack:         time.Minute,
}

// disbursementQueues are the queues a paused disbursement product must stop.
var disbursementQueues = []string{tasks.Queue(momo.Disbursement), tasks.PollQueue(momo.Disbursement)}

// postFunc answers the n-th POST (from 1) of a reference ID. created says whether MoMo now
// holds the transfer, whatever the answer says.
type postFunc func(n int) (created bool, err error)

// getFunc answers the n-th GET (from 1) of a reference ID; exists says whether MoMo holds it.
type getFunc func(n int, exists bool) (*momo.TransferStatus, error)

// fakeMoMo is a scripted MoMo that counts calls per reference ID.
type fakeMoMo struct {
	mu       sync.Mutex
	post     postFunc
	get      getFunc
	posts    map[string]int
	gets     map[string]int
	created  map[string]int // how many transfers MoMo holds per reference ID: paid once is 1
	requests map[string][]momo.TransferRequest
	products []momo.Product
	// block, when set, holds every POST until it is closed; entered hears of each POST first.
	block   chan struct{}
	entered chan string
}

func newFakeMoMo() *fakeMoMo {
	return &fakeMoMo{
		post:  func(int) (bool, error) { return true, nil },
		get:   statusAnswer(momo.StatusPending, "", ""),
		posts: map[string]int{}, gets: map[string]int{}, created: map[string]int{},
		requests: map[string][]momo.TransferRequest{},
	}
}

// Transfer implements tasks.MoMo.
func (f *fakeMoMo) Transfer(ctx context.Context, p momo.Product, ref string,
	req momo.TransferRequest) error {
	f.mu.Lock()
	f.posts[ref]++
	n := f.posts[ref]
	f.requests[ref] = append(f.requests[ref], req)
	f.products = append(f.products, p)
	block, entered, post := f.block, f.entered, f.post
	f.mu.Unlock()

	if entered != nil {
		entered <- ref
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return fmt.Errorf("momo: create transfer: %w", ctx.Err())
		}
	}
	created, err := post(n)
	f.mu.Lock()
	defer f.mu.Unlock()
	if created && f.created[ref] == 0 {
		f.created[ref] = 1 // MoMo keys transfers by X-Reference-Id: a second POST pays nothing
	}
	return err
}

// GetTransfer implements tasks.MoMo.
func (f *fakeMoMo) GetTransfer(_ context.Context, _ momo.Product,
	ref string) (*momo.TransferStatus, error) {
	f.mu.Lock()
	f.gets[ref]++
	n, exists, get := f.gets[ref], f.created[ref] > 0, f.get
	f.mu.Unlock()
	st, err := get(n, exists)
	if st != nil {
		st.ReferenceID = ref
	}
	return st, err
}

func (f *fakeMoMo) setPost(fn postFunc) { f.mu.Lock(); f.post = fn; f.mu.Unlock() }
func (f *fakeMoMo) setGet(fn getFunc)   { f.mu.Lock(); f.get = fn; f.mu.Unlock() }

func (f *fakeMoMo) postCount(ref string) int { return f.read(f.posts, ref) }
func (f *fakeMoMo) getCount(ref string) int  { return f.read(f.gets, ref) }
func (f *fakeMoMo) paid(ref string) int      { return f.read(f.created, ref) }

func (f *fakeMoMo) read(m map[string]int, ref string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return m[ref]
}

func (f *fakeMoMo) totalPosts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.posts {
		n += v
	}
	return n
}

// statusAnswer answers every GET of an existing transfer with the given status, and 404 else.
func statusAnswer(status, reason, finTxID string) getFunc {
	return func(_ int, exists bool) (*momo.TransferStatus, error) {
		if !exists {
			return nil, getErr(404, "RESOURCE_NOT_FOUND")
		}
		return &momo.TransferStatus{Status: status, Reason: reason, FinancialTransactionID: finTxID}, nil
	}
}

// postErr is an error response to a transfer POST, shaped like the client's.
func postErr(status int, code string) error {
	return &momo.Error{Op: "create transfer", Method: "POST", StatusCode: status, Code: code}
}

// getFails answers every GET with getErr(status, code).
func getFails(status int, code string) getFunc {
	return func(int, bool) (*momo.TransferStatus, error) { return nil, getErr(status, code) }
}

// getErr is an error response to a status GET, shaped like the client's.
func getErr(status int, code string) error {
	return &momo.Error{Op: "get transfer", Method: "GET", StatusCode: status, Code: code}
}

// errLostAnswer is a POST whose connection broke before the answer arrived.
var errLostAnswer = fmt.Errorf("momo: create transfer: %w", io.ErrUnexpectedEOF)

// recorder is an Enqueuer that keeps the tasks instead of queueing them.
type recorder struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

// EnqueueContext implements tasks.Enqueuer.
func (r *recorder) EnqueueContext(_ context.Context, t *asynq.Task,
	_ ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return &asynq.TaskInfo{Type: t.Type(), Payload: t.Payload()}, nil
}

// polls returns the recorded status tasks of ref, oldest first.
func (r *recorder) polls(t *testing.T, ref string) []*asynq.Task {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*asynq.Task
	for _, task := range r.tasks {
		if task.Type() == tasks.TypeStatus && payloadOf(t, task).Ref == ref {
			out = append(out, task)
		}
	}
	return out
}

// lastPoll returns the latest recorded status task of ref, failing when there is none.
func (r *recorder) lastPoll(t *testing.T, ref string) (*asynq.Task, tasks.Payload) {
	t.Helper()
	ps := r.polls(t, ref)
	require.NotEmpty(t, ps, "no status task recorded for %s", ref)
	last := ps[len(ps)-1]
	return last, payloadOf(t, last)
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.tasks) }

func payloadOf(t *testing.T, task *asynq.Task) tasks.Payload {
	t.Helper()
	var p tasks.Payload
	require.NoError(t, json.Unmarshal(task.Payload(), &p))
	return p
}

// pauser records the queues it was asked to pause.
type pauser struct {
	mu     sync.Mutex
	queues []string
}

// PauseQueue implements tasks.QueuePauser.
func (p *pauser) PauseQueue(q string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queues = append(p.queues, q)
	return nil
}

func (p *pauser) paused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.queues...)
}

// env is one test's ledger, fakes and Processor, with one open batch.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *ledger.Store
	momo   *fakeMoMo
	rec    *recorder
	pause  *pauser
	proc   *tasks.Processor
	batch  string
	refs   []string
	minors []int64
}

// newEnv opens batch "b1" of n disbursement items and a Processor with cfg.
func newEnv(t *testing.T, n int, cfg tasks.Config) *env {
	t.Helper()
	rdb := testutil.Redis(t, redisDB)
	e := &env{t: t, ctx: context.Background(), store: ledger.New(rdb),
		momo: newFakeMoMo(), rec: &recorder{}, pause: &pauser{}, batch: "b1"}
	e.proc = tasks.NewProcessor(cfg, e.store, e.momo, e.rec, e.pause, nil, zerolog.Nop())
	e.refs, e.minors = openBatch(t, e.store, e.batch, n, time.Now().Add(time.Hour))
	return e
}

// openBatch writes a ready disbursement batch of n items, due at due.
func openBatch(t *testing.T, s *ledger.Store, id string, n int, due time.Time) ([]string, []int64) {
	t.Helper()
	ctx := context.Background()
	_, _, err := s.CreateBatch(ctx, ledger.Batch{
		ID: id, Product: string(momo.Disbursement), File: id + ".csv",
	})
	require.NoError(t, err)
	items := make([]ledger.NewItem, n)
	minors := make([]int64, n)
	for i := range items {
		minors[i] = int64(1000 * (i + 1))
		items[i] = ledger.NewItem{
			Line: i + 2, PartyIDType: "MSISDN", PartyID: "4673312" + strconv.Itoa(3460+i),
			Amount: strconv.FormatInt(minors[i]/100, 10), Minor: minors[i], Currency: "EUR",
			ExternalID: id + "-" + strconv.Itoa(i+2), PayerMsg: "payout", PayeeNote: "thanks",
		}
	}
	refs, _, err := s.AddItems(ctx, id, items, due)
	require.NoError(t, err)
	require.NoError(t, s.CommitBatch(ctx, id, n, n, 0))
	return refs, minors
}

// transferTask is the transfer task of item i.
func (e *env) transferTask(i int) *asynq.Task {
	return tasks.NewTransferTask(momo.Disbursement, e.batch, e.refs[i], tasks.Options{})
}

// transfer runs the transfer task of item i.
func (e *env) transfer(i int) error {
	return e.proc.HandleTransfer(e.ctx, e.transferTask(i))
}

// poll runs the latest recorded status task of item i and returns its sequence number.
func (e *env) poll(i int) (int, error) {
	task, pl := e.rec.lastPoll(e.t, e.refs[i])
	return pl.Seq, e.proc.HandleStatus(e.ctx, task)
}

// item reads item i.
func (e *env) item(i int) *ledger.Item {
	e.t.Helper()
	it, err := e.store.GetItem(e.ctx, e.batch, e.refs[i])
	require.NoError(e.t, err)
	require.Equal(e.t, e.refs[i], it.Ref, "the reference ID never changes")
	return it
}

// counts reads the batch's counters.
func (e *env) counts() ledger.Counts {
	e.t.Helper()
	c, err := e.store.Counts(e.ctx, e.batch)
	require.NoError(e.t, err)
	return c
}

// requireState checks item i's state and that the counters hold it exactly once.
func (e *env) requireState(i int, want ledger.State) *ledger.Item {
	e.t.Helper()
	it := e.item(i)
	require.Equal(e.t, want, it.State, "item %d", i)
	c := e.counts()
	require.Equal(e.t, int64(len(e.refs)), c.Total(), "every item counted once")
	return it
}

// setStatus moves the batch to status to.
func (e *env) setStatus(to string) {
	e.t.Helper()
	ok, err := e.store.SetBatchStatus(e.ctx, e.batch, []string{ledger.BatchReady}, to, "test")
	require.NoError(e.t, err)
	require.True(e.t, ok)
}

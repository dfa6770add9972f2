package tasks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/testutil"
)

// sweepEnv adds a real Asynq client, inspector and a Sweeper on the test database to env.
type sweepEnv struct {
	*env
	client  *asynq.Client
	insp    *asynq.Inspector
	sweeper *tasks.Sweeper
}

const sweepSlack = time.Minute

func newSweepEnv(t *testing.T, n int) *sweepEnv {
	t.Helper()
	e := newEnv(t, n, testConfig)
	opt := asynq.RedisClientOpt{Addr: testutil.RedisAddr(), DB: redisDB}
	s := &sweepEnv{env: e, client: asynq.NewClient(opt), insp: asynq.NewInspector(opt)}
	t.Cleanup(func() {
		_ = s.client.Close()
		_ = s.insp.Close()
	})
	s.sweeper = tasks.NewSweeper(e.store, s.client, s.insp, tasks.Options{}, sweepSlack, nil,
		zerolog.Nop())
	return s
}

// overdue makes item i due a minute ago, as if its task had been lost long enough.
func (s *sweepEnv) overdue(i int) {
	s.t.Helper()
	require.NoError(s.t, s.store.SetDue(s.ctx, s.batch, s.refs[i], time.Now().Add(-time.Minute)))
}

// requireNotDue checks that item i is due again only after the sweeper's slack.
func (s *sweepEnv) requireNotDue(i int) {
	s.t.Helper()
	due, err := s.store.Overdue(s.ctx, s.batch, time.Now(), 100)
	require.NoError(s.t, err)
	assert.NotContains(s.t, due, s.refs[i])
	later, err := s.store.Overdue(s.ctx, s.batch, time.Now().Add(sweepSlack+time.Second), 100)
	require.NoError(s.t, err)
	assert.Contains(s.t, later, s.refs[i])
}

// transferInfo returns item i's transfer task in Asynq.
func (s *sweepEnv) transferInfo(i int) *asynq.TaskInfo {
	s.t.Helper()
	info, err := s.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), s.refs[i])
	require.NoError(s.t, err)
	return info
}

func TestSweeper_ResumesValidatedItemWithoutTask(t *testing.T) {
	s := newSweepEnv(t, 2)
	s.overdue(0)

	n, err := s.sweeper.SweepOnce(s.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	info := s.transferInfo(0)
	assert.Equal(t, asynq.TaskStatePending, info.State)
	assert.Equal(t, tasks.TypeDisbursement, info.Type)
	assert.Equal(t, tasks.Payload{Batch: s.batch, Ref: s.refs[0], Product: momo.Disbursement},
		payloadOf(t, asynq.NewTask(info.Type, info.Payload)))
	_, err = s.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), s.refs[1])
	assert.ErrorIs(t, err, asynq.ErrTaskNotFound, "an item not yet due is left alone")
	s.requireNotDue(0)

	// The resumed task pays the item.
	require.NoError(t, s.proc.HandleTransfer(s.ctx, asynq.NewTask(info.Type, info.Payload)))
	s.requireState(0, ledger.Submitted)
	assert.Equal(t, 1, s.momo.postCount(s.refs[0]))
}

func TestSweeper_ResumesArchivedTransfer(t *testing.T) {
	s := newSweepEnv(t, 1)
	_, err := s.client.EnqueueContext(s.ctx, s.transferTask(0))
	require.NoError(t, err)
	require.NoError(t, s.insp.ArchiveTask(tasks.Queue(momo.Disbursement), s.refs[0]))
	require.Equal(t, asynq.TaskStateArchived, s.transferInfo(0).State)
	s.overdue(0)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	assert.Equal(t, asynq.TaskStatePending, s.transferInfo(0).State)
	archived, err := s.insp.ListArchivedTasks(tasks.Queue(momo.Disbursement))
	require.NoError(t, err)
	assert.Empty(t, archived, "the archived copy made way for the new task")
	s.requireNotDue(0)
}

func TestSweeper_ResumesSubmittingItemSoItAsksFirst(t *testing.T) {
	s := newSweepEnv(t, 1)
	s.momo.setPost(func(int) (bool, error) { return true, errLostAnswer })
	require.Error(t, s.transfer(0))
	s.overdue(0)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	info := s.transferInfo(0)
	require.NoError(t, s.proc.HandleTransfer(s.ctx, asynq.NewTask(info.Type, info.Payload)))
	s.requireState(0, ledger.Submitted)
	assert.Equal(t, 1, s.momo.postCount(s.refs[0]))
	assert.Equal(t, 1, s.momo.getCount(s.refs[0]))
}

func TestSweeper_LeavesLiveTaskAlone(t *testing.T) {
	s := newSweepEnv(t, 1)
	_, err := s.client.EnqueueContext(s.ctx, s.transferTask(0))
	require.NoError(t, err)
	s.overdue(0)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n)

	assert.Equal(t, asynq.TaskStatePending, s.transferInfo(0).State)
	pending, err := s.insp.ListPendingTasks(tasks.Queue(momo.Disbursement))
	require.NoError(t, err)
	assert.Len(t, pending, 1)
	s.requireNotDue(0)
}

func TestSweeper_ResumesSubmittedPolling(t *testing.T) {
	s := newSweepEnv(t, 1)
	require.NoError(t, s.transfer(0)) // its poll went to the recorder, not to Asynq: lost
	s.overdue(0)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	info, err := s.insp.GetTaskInfo(tasks.PollQueue(momo.Disbursement), tasks.PollTaskID(s.refs[0], 2))
	require.NoError(t, err)
	assert.Equal(t, asynq.TaskStatePending, info.State)
	assert.Equal(t, 2, s.item(0).PollSeq)
	s.requireNotDue(0)

	s.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "1"))
	require.NoError(t, s.proc.HandleStatus(s.ctx, asynq.NewTask(info.Type, info.Payload)))
	s.requireState(0, ledger.Successful)
	assert.Equal(t, 1, s.momo.postCount(s.refs[0]), "resuming a poll never resends")
}

func TestSweeper_LeavesLivePollAlone(t *testing.T) {
	s := newSweepEnv(t, 1)
	require.NoError(t, s.transfer(0))
	poll := tasks.NewPollTask(momo.Disbursement, s.batch, s.refs[0], 1, time.Hour, tasks.Options{})
	_, err := s.client.EnqueueContext(s.ctx, poll)
	require.NoError(t, err)
	s.overdue(0)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, s.item(0).PollSeq)
	s.requireNotDue(0)
}

func TestSweeper_WaitsForPausedBatchAndProduct(t *testing.T) {
	s := newSweepEnv(t, 1)
	s.overdue(0)
	s.setStatus(ledger.BatchPaused)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), s.refs[0])
	assert.Error(t, err, "no task for a paused batch")
	s.requireNotDue(0)

	ok, err := s.store.SetBatchStatus(s.ctx, s.batch, []string{ledger.BatchPaused},
		ledger.BatchReady, "")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.store.PauseProduct(s.ctx, string(momo.Disbursement), "401"))
	s.overdue(0)
	n, err = s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), s.refs[0])
	assert.Error(t, err, "no task for a paused product")

	require.NoError(t, s.store.ResumeProduct(s.ctx, string(momo.Disbursement)))
	n, err = s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestSweeper_ClaimKeepsSecondSweepOut(t *testing.T) {
	s := newSweepEnv(t, 2)
	s.overdue(0)
	n, err := s.sweeper.SweepBatch(s.ctx, s.batch)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	s.overdue(1)
	n, err = s.sweeper.SweepBatch(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n, "another sweep of the batch within the interval does nothing")
	n, err = s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "an operator's sweep does not wait")
}

func TestSweeper_ManyOverdueItemsAllResumedOnce(t *testing.T) {
	s := newSweepEnv(t, 620) // more than one page of 500
	require.NoError(t, s.store.MakeAllDue(s.ctx, s.batch))
	time.Sleep(2 * time.Millisecond)

	n, err := s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Equal(t, 620, n)
	pending, err := s.insp.ListPendingTasks(tasks.Queue(momo.Disbursement), asynq.PageSize(1000))
	require.NoError(t, err)
	assert.Len(t, pending, 620)

	n, err = s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestSweeper_RoundEndsWhenResumingTakesLongerThanSlack(t *testing.T) {
	s := newSweepEnv(t, 600)
	sweeper := tasks.NewSweeper(s.store, s.client, s.insp, tasks.Options{}, 5*time.Millisecond, nil,
		zerolog.Nop())
	require.NoError(t, s.store.MakeAllDue(s.ctx, s.batch))
	time.Sleep(2 * time.Millisecond)
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()

	n, err := sweeper.SweepBatchNow(ctx, s.batch)

	require.NoError(t, err, "the round must end on its own, not at the deadline")
	assert.Equal(t, 600, n)
}

// flakyInspector fails every task lookup, as an inspector does while Redis is restarting.
type flakyInspector struct{ *asynq.Inspector }

func (flakyInspector) GetTaskInfo(string, string) (*asynq.TaskInfo, error) {
	return nil, errors.New("connection refused")
}

func TestSweeper_InspectorErrorAddsNoTask(t *testing.T) {
	s := newSweepEnv(t, 1)
	s.overdue(0)
	sweeper := tasks.NewSweeper(s.store, s.client, flakyInspector{s.insp}, tasks.Options{}, sweepSlack,
		nil, zerolog.Nop())

	n, err := sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n, "a task Asynq cannot look up is not replaced on a guess")
	_, err = s.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), s.refs[0])
	assert.True(t, errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound), "%v", err)
	s.requireNotDue(0)

	n, err = s.sweeper.SweepBatchNow(s.ctx, s.batch)
	require.NoError(t, err)
	assert.Zero(t, n, "not due again until the slack has passed")
}

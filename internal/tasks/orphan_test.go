package tasks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// activeInspector is the real inspector, except that the active tasks it lists are the ones a
// test sets: a task that a dead worker left active with an expired lease cannot be made here
// without killing a process (internal/e2e does that).
type activeInspector struct {
	*asynq.Inspector
	active map[string][]*asynq.TaskInfo
}

func (a *activeInspector) ListActiveTasks(queue string, _ ...asynq.ListOption) ([]*asynq.TaskInfo, error) {
	return a.active[queue], nil
}

// orphanEnv is a sweep environment whose sweeper sees the active tasks in insp.active.
type orphanEnv struct {
	*sweepEnv
	fake    *activeInspector
	sweeper *tasks.Sweeper
}

func newOrphanEnv(t *testing.T, n int) *orphanEnv {
	s := newSweepEnv(t, n)
	fake := &activeInspector{Inspector: s.insp, active: map[string][]*asynq.TaskInfo{}}
	return &orphanEnv{sweepEnv: s, fake: fake,
		sweeper: tasks.NewSweeper(s.store, s.client, fake, tasks.Options{}, sweepSlack, nil, zerolog.Nop())}
}

// leave makes task look active in its queue, orphaned or still leased.
func (o *orphanEnv) leave(task *asynq.Task, id string, orphaned bool, retried int) {
	q := tasks.Queue(momo.Disbursement)
	if task.Type() == tasks.TypeStatus {
		q = tasks.PollQueue(momo.Disbursement)
	}
	o.fake.active[q] = append(o.fake.active[q], &asynq.TaskInfo{ID: id, Queue: q, Type: task.Type(),
		Payload: task.Payload(), State: asynq.TaskStateActive, IsOrphaned: orphaned, Retried: retried})
}

// pendingIn lists the IDs of the pending tasks of a queue.
func (o *orphanEnv) pendingIn(queue string) []string {
	o.t.Helper()
	infos, err := o.insp.ListPendingTasks(queue)
	if err != nil {
		return nil
	}
	var ids []string
	for _, info := range infos {
		ids = append(ids, info.ID)
	}
	return ids
}

func TestTakeOver_OrphanedTransferGetsANewTaskOnce(t *testing.T) {
	o := newOrphanEnv(t, 2)
	o.leave(o.transferTask(0), o.refs[0], true, 0)
	o.leave(o.transferTask(1), o.refs[1], false, 0) // its worker lives: left alone

	n, err := o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	pending := o.pendingIn(tasks.Queue(momo.Disbursement))
	require.Len(t, pending, 1)
	id := pending[0]
	assert.True(t, strings.HasPrefix(id, tasks.TakeoverTaskID(o.refs[0], "")), id)
	assert.Equal(t, id, o.item(0).TaskID, "the ledger names the task that carries the item now")

	// Another worker's sweeper, or the next round, sees the same orphan: nothing more.
	other := tasks.NewSweeper(o.store, o.client, o.fake, tasks.Options{}, sweepSlack, nil, zerolog.Nop())
	n, err = other.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Len(t, o.pendingIn(tasks.Queue(momo.Disbursement)), 1)

	// The new task pays the item; the old one, when Asynq retries it at last, pays nothing.
	info, err := o.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), id)
	require.NoError(t, err)
	require.NoError(t, o.proc.HandleTransfer(o.ctx, asynq.NewTask(info.Type, info.Payload)))
	o.requireState(0, ledger.Submitted)
	require.NoError(t, o.transfer(0))
	assert.Equal(t, 1, o.momo.postCount(o.refs[0]))
	assert.Equal(t, 1, o.momo.paid(o.refs[0]))

	// While the new task is live, an overdue sweep leaves the item alone.
	o.overdue(1)
	o.fake.active = map[string][]*asynq.TaskInfo{}
	require.NoError(t, o.store.SetTaskID(o.ctx, o.batch, o.refs[1], tasks.TakeoverTaskID(o.refs[1], "x")))
	_, err = o.client.EnqueueContext(o.ctx, asynq.NewTask(tasks.TypeDisbursement, o.transferTask(1).Payload(),
		asynq.Queue(tasks.Queue(momo.Disbursement)), asynq.TaskID(tasks.TakeoverTaskID(o.refs[1], "x")),
		asynq.ProcessIn(time.Hour)))
	require.NoError(t, err)
	n, err = o.sweeper.SweepBatchNow(o.ctx, o.batch)
	require.NoError(t, err)
	assert.Zero(t, n, "the takeover task is live")
	_, err = o.insp.GetTaskInfo(tasks.Queue(momo.Disbursement), o.refs[1])
	assert.ErrorIs(t, err, asynq.ErrTaskNotFound, "no second task beside the takeover")
}

func TestTakeOver_SameTaskOrphanedAgainIsTakenOverAgain(t *testing.T) {
	o := newOrphanEnv(t, 1)
	o.leave(o.transferTask(0), o.refs[0], true, 0)
	n, err := o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// Asynq retried the old task (retry count 1) and its new worker died too.
	o.fake.active = map[string][]*asynq.TaskInfo{}
	o.leave(o.transferTask(0), o.refs[0], true, 1)
	n, err = o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, o.pendingIn(tasks.Queue(momo.Disbursement)), 2)
}

func TestTakeOver_OrphanedPollStartsTheNextPoll(t *testing.T) {
	o := newOrphanEnv(t, 1)
	require.NoError(t, o.transfer(0)) // SUBMITTED, poll 1 scheduled
	old := tasks.NewPollTask(momo.Disbursement, o.batch, o.refs[0], 1, 0, tasks.Options{})
	o.leave(old, tasks.PollTaskID(o.refs[0], 1), true, 0)

	n, err := o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{tasks.PollTaskID(o.refs[0], 2)}, o.pendingIn(tasks.PollQueue(momo.Disbursement)))
	assert.Equal(t, 2, o.item(0).PollSeq)

	// The old poll, retried by Asynq later, is superseded and asks MoMo nothing.
	require.NoError(t, o.proc.HandleStatus(o.ctx, old))
	assert.Zero(t, o.momo.getCount(o.refs[0]))
	o.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "7"))
	info, err := o.insp.GetTaskInfo(tasks.PollQueue(momo.Disbursement), tasks.PollTaskID(o.refs[0], 2))
	require.NoError(t, err)
	require.NoError(t, o.proc.HandleStatus(o.ctx, asynq.NewTask(info.Type, info.Payload)))
	o.requireState(0, ledger.Successful)
}

func TestTakeOver_LeavesFinishedAndSupersededItemsAlone(t *testing.T) {
	o := newOrphanEnv(t, 2)
	require.NoError(t, o.transfer(0))
	o.momo.setGet(statusAnswer(momo.StatusSuccessful, "", "9"))
	_, err := o.poll(0)
	require.NoError(t, err)
	o.requireState(0, ledger.Successful)
	o.leave(o.transferTask(0), o.refs[0], true, 0) // terminal: the old task does nothing
	require.NoError(t, o.transfer(1))
	stale := tasks.NewPollTask(momo.Disbursement, o.batch, o.refs[1], 0, 0, tasks.Options{})
	o.leave(stale, tasks.PollTaskID(o.refs[1], 0), true, 0) // behind the item's poll 1

	n, err := o.sweeper.TakeOverOrphans(o.ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, o.pendingIn(tasks.Queue(momo.Disbursement)))
	assert.Empty(t, o.pendingIn(tasks.PollQueue(momo.Disbursement)))
}

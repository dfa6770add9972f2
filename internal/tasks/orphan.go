package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/momopay/payout/internal/ledger"
)

// orphanPage is how many active tasks of a queue one listing reads.
const orphanPage = 500

// orphanClaim is how long one worker's claim on taking over an orphaned task holds. The claim
// names one run of the task (its ID and retry count), so a later run of it, orphaned again,
// can be taken over again. It outlasts the time Asynq's recoverer may take to move the orphan
// out of the active list (30 s after its lease, then up to a minute), during which every
// sweeper sees it; a task enqueued anew under the same ID starts its retry count again, and
// should it be orphaned after the claim ended it is taken over again.
const orphanClaim = 3 * time.Minute

// TakeOverOrphans gives a new task to every item whose task a dead worker left running.
//
// Asynq marks a task active while a worker runs it and extends its lease (30 s) while that
// worker lives. After a SIGKILL or a lost machine the task stays active until Asynq's
// recoverer, once a minute, finds the lease expired for 30 s more and retries it: up to two
// minutes in which the row does not move, every time its worker dies. The sweeper does not
// wait: a task whose lease has expired (asynq.TaskInfo.IsOrphaned) is taken over at once by a
// new task for the same item, which is safe because every handler follows the ledger under the
// item's lock, and the old task, when Asynq retries it, finds the item moved on.
//
// It returns how many items it took over.
func (s *Sweeper) TakeOverOrphans(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	for _, p := range Products {
		for _, q := range []string{Queue(p), PollQueue(p)} {
			n, err := s.takeOverQueue(ctx, q)
			total += n
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return total, errors.Join(errs...)
}

func (s *Sweeper) takeOverQueue(ctx context.Context, queue string) (int, error) {
	var orphans []*asynq.TaskInfo
	for page := 1; ; page++ {
		infos, err := s.inspect.ListActiveTasks(queue, asynq.PageSize(orphanPage), asynq.Page(page))
		if notFound(err) {
			return 0, nil // no task was ever enqueued there
		}
		if err != nil {
			return 0, fmt.Errorf("tasks: list active tasks of %s: %w", queue, err)
		}
		for _, info := range infos {
			if info.IsOrphaned {
				orphans = append(orphans, info)
			}
		}
		if len(infos) < orphanPage {
			break
		}
	}
	taken := 0
	for _, info := range orphans {
		ok, err := s.takeOver(ctx, info)
		if err != nil {
			return taken, err
		}
		if ok {
			taken++
		}
	}
	return taken, nil
}

// takeOver gives the item of one orphaned task a new task, unless another worker did.
func (s *Sweeper) takeOver(ctx context.Context, info *asynq.TaskInfo) (bool, error) {
	pl, err := decodePayload(asynq.NewTask(info.Type, info.Payload))
	if err != nil {
		return false, nil // not one of ours
	}
	it, err := s.store.GetItem(ctx, pl.Batch, pl.Ref)
	if errors.Is(err, ledger.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if it.State.Terminal() {
		return false, nil // the old task will find nothing to do
	}
	if info.Type == TypeStatus && (it.State != ledger.Submitted || pl.Seq < it.PollSeq) {
		return false, nil // a later poll or the transfer task carries the item on
	}
	claimed, err := s.store.ClaimOrphan(ctx, pl.Batch, info.ID, info.Retried, orphanClaim)
	if err != nil || !claimed {
		return false, err
	}
	product := pl.Product
	log := s.log.Info().Str("batch_id", it.Batch).Str("ref", it.Ref).Str("state", string(it.State)).
		Int("row", it.Line).Str("orphaned_task", info.ID)
	if info.Type == TypeStatus {
		seq := max(pl.Seq, it.PollSeq) + 1
		if err := s.enqueue(ctx, NewPollTask(product, it.Batch, it.Ref, seq, 0, s.opts)); err != nil {
			return false, err
		}
		if err := s.store.AdvancePoll(ctx, it.Batch, it.Ref, seq, s.now().Add(s.slack)); err != nil {
			return false, err
		}
		log.Int("poll", seq).Msg("sweeper took over a status poll from a dead worker")
	} else {
		id := TakeoverTaskID(it.Ref, uuid.NewString()[:8])
		if err := s.enqueue(ctx, newTransferTask(product, it.Batch, it.Ref, id, s.opts)); err != nil {
			return false, err
		}
		if err := s.store.SetTaskID(ctx, it.Batch, it.Ref, id); err != nil {
			return false, err
		}
		log.Str("task_id", id).Msg("sweeper took over a transfer from a dead worker")
	}
	if s.obs != nil {
		s.obs.SweeperResumed(product, it.State)
	}
	return true, nil
}

package tasks

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// Inspector is the part of asynq.Inspector the sweeper uses.
type Inspector interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
	DeleteTask(queue, id string) error
	ListActiveTasks(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
}

// Sweeper finds items that are not terminal, are overdue and have no live task (archived after
// a crash with its retries used up, lost with a Redis restart, left by a killed enqueue) and
// resumes each from its recorded state. Many workers may sweep at once: a per-batch claim keeps
// them from doing the same batch in the same round, and resuming twice is harmless anyway.
type Sweeper struct {
	store   *ledger.Store
	queue   Enqueuer
	inspect Inspector
	opts    Options
	slack   time.Duration
	// interval is how long one worker's claim on a batch's sweep holds.
	interval time.Duration
	obs      Observer
	log      zerolog.Logger
	now      func() time.Time
}

// NewSweeper returns a Sweeper. slack is how long a resumed item gets before it is due again.
func NewSweeper(store *ledger.Store, queue Enqueuer, inspect Inspector, opts Options,
	slack time.Duration, obs Observer, log zerolog.Logger) *Sweeper {
	if slack <= 0 {
		slack = DefaultSlack
	}
	return &Sweeper{store: store, queue: queue, inspect: inspect, opts: opts.WithDefaults(),
		slack: slack, interval: 5 * time.Second, obs: obs, log: log, now: time.Now}
}

// Run sweeps every interval until ctx is done.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	s.interval = interval
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		// One worker per interval lists the active tasks; the others need not.
		ok, err := s.store.ClaimOrphanScan(ctx, interval)
		if ok {
			_, err = s.TakeOverOrphans(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("taking over orphaned tasks failed")
		}
		if _, err := s.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Msg("sweep failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce does one round over every batch and returns how many items it resumed.
func (s *Sweeper) SweepOnce(ctx context.Context) (int, error) {
	ids, err := s.store.Batches(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	var errs []error
	for _, id := range ids {
		n, err := s.SweepBatch(ctx, id)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// SweepBatch resumes the overdue items of one batch, unless another worker swept it within
// the sweep interval.
func (s *Sweeper) SweepBatch(ctx context.Context, id string) (int, error) {
	return s.sweepBatch(ctx, id, true)
}

// SweepBatchNow resumes the overdue items of one batch at once, for operator commands.
func (s *Sweeper) SweepBatchNow(ctx context.Context, id string) (int, error) {
	return s.sweepBatch(ctx, id, false)
}

func (s *Sweeper) sweepBatch(ctx context.Context, id string, claim bool) (int, error) {
	b, err := s.store.GetBatch(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return 0, nil // discarded while listed: nothing to sweep
	}
	if err != nil || ledger.Unopened(b.Status) {
		return 0, err
	}
	if reason, err := s.store.ProductPause(ctx, b.Product); err != nil || reason != "" {
		return 0, err
	}
	if open, err := s.store.OpenCount(ctx, id); err != nil || open == 0 {
		return 0, err
	}
	if claim {
		if ok, err := s.store.ClaimSweep(ctx, id, s.interval); err != nil || !ok {
			return 0, err
		}
	}
	resumed := 0
	// One cutoff for the round: every item looked at gets a later due time, so each page brings
	// new ones, and a round that outlasts the slack still ends.
	cutoff := s.now()
	for {
		refs, err := s.store.Overdue(ctx, id, cutoff, sweepPage)
		if err != nil {
			return resumed, err
		}
		for _, ref := range refs {
			n, err := s.resumeRef(ctx, b, ref)
			resumed += n
			if err != nil {
				return resumed, err
			}
		}
		if len(refs) < sweepPage {
			return resumed, nil
		}
	}
}

// sweepPage is how many overdue items one query of the sweeper reads.
const sweepPage = 500

func (s *Sweeper) resumeRef(ctx context.Context, b *ledger.Batch, ref string) (int, error) {
	it, err := s.store.GetItem(ctx, b.ID, ref)
	if errors.Is(err, ledger.ErrNotFound) {
		return 0, s.store.RemoveDue(ctx, b.ID, ref)
	}
	if err != nil {
		return 0, err
	}
	product := momo.Product(b.Product)
	did, err := s.resume(ctx, it, b, product)
	if !did || err != nil {
		return 0, err
	}
	if s.obs != nil {
		s.obs.SweeperResumed(product, it.State)
	}
	return 1, nil
}

// resume gives one overdue item a live task again, unless it has one.
func (s *Sweeper) resume(ctx context.Context, it *ledger.Item, b *ledger.Batch, product momo.Product) (bool, error) {
	again := s.now().Add(s.slack)
	switch {
	case it.State.Terminal():
		return false, s.store.RemoveDue(ctx, it.Batch, it.Ref)
	case it.State == ledger.Validated && b.Status == ledger.BatchPaused:
		return false, s.store.SetDue(ctx, it.Batch, it.Ref, again)
	case it.State == ledger.Validated && b.At.After(s.now()):
		// A scheduled batch: its tasks wait in Asynq until b.At.
		return false, s.store.SetDue(ctx, it.Batch, it.Ref, b.At.Add(s.slack))
	case it.State == ledger.Submitted:
		seq := max(it.PollSeq, 1)
		if s.live(PollQueue(product), PollTaskID(it.Ref, seq)) {
			return false, s.store.SetDue(ctx, it.Batch, it.Ref, again)
		}
		task := NewPollTask(product, it.Batch, it.Ref, seq+1, 0, s.opts)
		if err := s.enqueue(ctx, task); err != nil {
			return false, err
		}
		s.log.Info().Str("batch_id", it.Batch).Str("ref", it.Ref).Str("state", string(it.State)).
			Msg("sweeper resumed status polling")
		return true, s.store.AdvancePoll(ctx, it.Batch, it.Ref, seq+1, again)
	default: // VALIDATED or SUBMITTING: the transfer task carries the item on
		if s.live(Queue(product), it.Ref) || (it.TaskID != "" && s.live(Queue(product), it.TaskID)) {
			return false, s.store.SetDue(ctx, it.Batch, it.Ref, again)
		}
		// An archived or retained task keeps its ID; remove it so the ID can be used again.
		if err := s.inspect.DeleteTask(Queue(product), it.Ref); err != nil && !notFound(err) {
			return false, err
		}
		if err := s.enqueue(ctx, NewTransferTask(product, it.Batch, it.Ref, s.opts)); err != nil {
			return false, err
		}
		s.log.Info().Str("batch_id", it.Batch).Str("ref", it.Ref).Str("state", string(it.State)).
			Int("row", it.Line).Msg("sweeper resumed transfer")
		return true, s.store.SetDue(ctx, it.Batch, it.Ref, again)
	}
}

// live reports whether a task will still run: pending, scheduled, retrying or running. When
// Asynq cannot say, the task counts as live: the item stays due and the next round asks again,
// rather than a second task being added on a guess.
func (s *Sweeper) live(queue, id string) bool {
	info, err := s.inspect.GetTaskInfo(queue, id)
	if notFound(err) {
		return false
	}
	if err != nil {
		s.log.Debug().Err(err).Str("task_id", id).Msg("sweeper could not look up a task")
		return true
	}
	switch info.State {
	case asynq.TaskStateArchived, asynq.TaskStateCompleted:
		return false
	}
	return true
}

func (s *Sweeper) enqueue(ctx context.Context, t *asynq.Task) error {
	_, err := s.queue.EnqueueContext(ctx, t)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

func notFound(err error) bool {
	return errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound)
}

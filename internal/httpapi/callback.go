package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/metrics"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/tasks"
)

// CallbackPath is where MoMo's callbacks arrive: CallbackPath/{batch}/{ref}. MOMO_CALLBACK_URL
// is the public URL of this path.
const CallbackPath = "/callback"

// MaxCallbackBody is the most of a callback's body the worker reads. It reads it only to
// keep the connection usable: the body is never trusted, nor parsed.
const MaxCallbackBody = 64 << 10

// DefaultCallbackTimeout is the default of CallbackConfig.Timeout.
const DefaultCallbackTimeout = 2 * time.Second

// CallbackConfig configures NewCallbacks.
type CallbackConfig struct {
	// Store is the payout ledger. Required.
	Store *ledger.Store
	// Queue enqueues the status polls callbacks trigger; an *asynq.Client. Required.
	Queue tasks.Enqueuer
	// Tasks, when set, lets a callback find the poll the previous callback of the same item
	// triggered; an *asynq.Inspector. Defaults to nil: each callback for an item still pending
	// after the previous one's poll adds a poll, up to one per poll the item has had.
	Tasks TaskLookup
	// Options are the task settings; the same as the worker's. Defaults to tasks' defaults.
	Options tasks.Options
	// Observe, when set, is told each callback's outcome, one of the metrics.Callback*
	// constants. Defaults to nil.
	Observe func(outcome string)
	// Timeout bounds the ledger read and the enqueue of one callback. Defaults to
	// DefaultCallbackTimeout.
	Timeout time.Duration
	// Log receives one line per callback at debug level, and errors.
	Log zerolog.Logger
}

// TaskLookup finds a task by queue and ID; asynq.Inspector is one.
type TaskLookup interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
}

// batchIDPattern is the form enqueue gives batch IDs.
var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// callbacks handles MoMo's callbacks.
type callbacks struct {
	cfg CallbackConfig
}

// NewCallbacks returns the handler of PUT and POST CallbackPath/{batch}/{ref}. It answers
// 200 to every callback, at once and alike whether the item exists or not, and never reads
// the outcome from the body: MoMo's callbacks are not signed, so anyone could send one. A
// callback for an item awaiting MoMo's answer (SUBMITTED) enqueues an immediate status poll
// (see tasks.NewCallbackPollTask); replays of it find that poll and add nothing. Should MoMo
// still say PENDING, that poll advances the item's sequence: a replay then finds the poll of
// the sequence before, with CallbackConfig.Tasks, and adds nothing either. A callback can
// thus add at most one poll to each of the item's scheduled polls.
func NewCallbacks(cfg CallbackConfig) (http.Handler, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("httpapi: callbacks: Store and Queue are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCallbackTimeout
	}
	cfg.Options = cfg.Options.WithDefaults()
	c := &callbacks{cfg: cfg}
	mux := http.NewServeMux()
	for _, method := range []string{http.MethodPut, http.MethodPost} {
		mux.HandleFunc(method+" "+CallbackPath+"/{batch}/{ref}", c.serve)
	}
	return mux, nil
}

func (c *callbacks) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxCallbackBody)
	_, _ = io.Copy(io.Discard, r.Body)

	batch, ref := r.PathValue("batch"), r.PathValue("ref")
	outcome := c.nudge(r.Context(), batch, ref)
	if c.cfg.Observe != nil {
		c.cfg.Observe(outcome)
	}
	c.cfg.Log.Debug().Str("batch_id", batch).Str("ref", ref).Str("outcome", outcome).
		Msg("MoMo callback")
	w.WriteHeader(http.StatusOK)
}

// nudge enqueues an immediate status poll for a SUBMITTED item and returns the outcome.
func (c *callbacks) nudge(ctx context.Context, batch, ref string) string {
	if !batchIDPattern.MatchString(batch) || !isReferenceID(ref) {
		return metrics.CallbackRejected
	}
	// Finish even when MoMo hangs up: the work is two Redis reads and a write.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	defer cancel()

	it, err := c.cfg.Store.GetItem(ctx, batch, ref)
	if errors.Is(err, ledger.ErrNotFound) {
		return metrics.CallbackIgnored
	}
	if err != nil {
		return c.failed(batch, ref, err)
	}
	if it.State != ledger.Submitted {
		return metrics.CallbackIgnored // not yet acknowledged, or final already
	}
	b, err := c.cfg.Store.GetBatch(ctx, batch)
	if err != nil {
		return c.failed(batch, ref, err)
	}

	product, seq := momo.Product(b.Product), max(it.PollSeq, 1)
	if c.polledAfterCallback(product, ref, seq) {
		return metrics.CallbackDuplicate
	}
	task := tasks.NewCallbackPollTask(product, batch, ref, seq, c.cfg.Options)
	_, err = c.cfg.Queue.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return metrics.CallbackDuplicate
	case err != nil:
		return c.failed(batch, ref, err)
	}
	return metrics.CallbackPollEnqueued
}

// polledAfterCallback reports whether poll seq of the item was scheduled by the poll of an
// earlier callback, which is still kept.
func (c *callbacks) polledAfterCallback(p momo.Product, ref string, seq int) bool {
	if c.cfg.Tasks == nil || seq <= 1 {
		return false
	}
	_, err := c.cfg.Tasks.GetTaskInfo(tasks.PollQueue(p), tasks.CallbackTaskID(ref, seq-1))
	return err == nil
}

// failed logs a callback the worker could not act on; the item's scheduled polls still ask.
func (c *callbacks) failed(batch, ref string, err error) string {
	c.cfg.Log.Warn().Str("batch_id", batch).Str("ref", ref).Str("err", err.Error()).
		Msg("callback not acted on; the scheduled polls will ask MoMo")
	return metrics.CallbackError
}

// isReferenceID reports whether s has the form of the reference IDs enqueue mints.
func isReferenceID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && len(s) == 36 && u.Version() == 4
}

package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
)

// MoMo is the part of the MoMo client the handlers use.
type MoMo interface {
	Transfer(ctx context.Context, p momo.Product, ref string, req momo.TransferRequest) error
	GetTransfer(ctx context.Context, p momo.Product, ref string) (*momo.TransferStatus, error)
}

// Enqueuer is the part of asynq.Client the handlers use.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// QueuePauser pauses a product's queues when its credentials or configuration are refused.
type QueuePauser interface {
	PauseQueue(queue string) error
}

// Observer receives what metrics need to know; it may be nil.
type Observer interface {
	ItemState(p momo.Product, from, to ledger.State, currency string, minor int64)
	Retry(p momo.Product, task string)
	ProductPaused(p momo.Product, paused bool)
	BatchPaused(batch string)
	SweeperResumed(p momo.Product, state ledger.State)
}

// Config are the Processor's settings.
type Config struct {
	Options
	// PollInitial is the delay before the first status poll. Defaults to 1 s.
	PollInitial time.Duration
	// PollMax caps the delay between two polls. Defaults to 10 s.
	PollMax time.Duration
	// PollWindow is how long after submission an item may stay pending before it becomes
	// UNKNOWN and goes to reconciliation. Defaults to 1 hour.
	PollWindow time.Duration
	// NotFoundGrace is how long after MoMo acknowledged a transfer a 404 still means "not
	// visible yet". Defaults to 2 minutes.
	NotFoundGrace time.Duration
	// CallTimeout bounds the MoMo calls of one task run. Defaults to 70 s.
	CallTimeout time.Duration
	// LockTTL is the life of the per-item lock. Its holder renews it every third of that while
	// it works, and stops talking to MoMo if a renewal fails; a lock left by a crashed worker
	// frees the item after at most LockTTL. Defaults to 15 s.
	LockTTL time.Duration
	// Slack is added to an item's next expected step before the sweeper may consider it
	// stranded. Defaults to 2 minutes: more than Asynq needs to recover a crashed worker's task.
	Slack time.Duration
	// KeepGoingOnInsufficientFunds stops the worker from pausing a batch when MoMo reports
	// NOT_ENOUGH_FUNDS. Defaults to false: the batch pauses, the rows not yet submitted wait
	// for a top-up and 'payoutctl resume'.
	KeepGoingOnInsufficientFunds bool
	// StatusRate caps status queries to MoMo at this many a second across every worker on the
	// same Redis (MTN asks for about 10 a second per client). Zero means no cap.
	StatusRate int
	// Sandbox says the target environment is MTN's sandbox, whose test number
	// SandboxNotEnoughFundsNumber fails with NOT_ENOUGH_FUNDS without the account being dry: it
	// then fails its row without pausing the batch.
	Sandbox bool
}

// SandboxNotEnoughFundsNumber is the sandbox test number that answers NOT_ENOUGH_FUNDS.
const SandboxNotEnoughFundsNumber = "46733123455"

// Defaults for Config.
const (
	DefaultPollInitial   = time.Second
	DefaultPollMax       = 10 * time.Second
	DefaultPollWindow    = time.Hour
	DefaultNotFoundGrace = 2 * time.Minute
	DefaultCallTimeout   = 70 * time.Second
	DefaultSlack         = 2 * time.Minute
	DefaultLockTTL       = 15 * time.Second
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Options = c.Options.WithDefaults()
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.PollInitial, DefaultPollInitial)
	set(&c.PollMax, DefaultPollMax)
	set(&c.PollWindow, DefaultPollWindow)
	set(&c.NotFoundGrace, DefaultNotFoundGrace)
	set(&c.CallTimeout, DefaultCallTimeout)
	set(&c.LockTTL, DefaultLockTTL)
	c.LockTTL = max(c.LockTTL, time.Second) // renewed every third: keep that sane
	set(&c.Slack, DefaultSlack)
	return c
}

// Processor runs the payout tasks.
type Processor struct {
	cfg    Config
	store  *ledger.Store
	momo   MoMo
	queue  Enqueuer
	pauser QueuePauser
	obs    Observer
	log    zerolog.Logger
	now    func() time.Time
}

// NewProcessor returns a Processor. pauser and obs may be nil.
func NewProcessor(cfg Config, store *ledger.Store, client MoMo, queue Enqueuer,
	pauser QueuePauser, obs Observer, log zerolog.Logger) *Processor {
	return &Processor{cfg: cfg.WithDefaults(), store: store, momo: client, queue: queue,
		pauser: pauser, obs: obs, log: log, now: time.Now}
}

// Register adds the handlers to mux.
func (p *Processor) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeDisbursement, p.HandleTransfer)
	mux.HandleFunc(TypeRemittance, p.HandleTransfer)
	mux.HandleFunc(TypeStatus, p.HandleStatus)
}

// Errors a handler returns to have Asynq run the task again later.
var (
	errBusy          = errors.New("tasks: item is being worked on by another run")
	errProductPaused = errors.New("tasks: product is paused")
	errBatchLoading  = errors.New("tasks: batch is still being enqueued")
	errNotYet        = errors.New("tasks: batch is scheduled for later")
)

// itemLogger returns a logger with the fixed keys of one item.
func (p *Processor) itemLogger(it *ledger.Item, product momo.Product) *zerolog.Logger {
	l := p.log.With().Str("batch_id", it.Batch).Str("ref", it.Ref).Int("row", it.Line).
		Str("product", string(product)).Str("msisdn", MaskMSISDN(it.PartyID)).Logger()
	return &l
}

// move applies a state change and tells the observer when it happened.
func (p *Processor) move(ctx context.Context, it *ledger.Item, product momo.Product,
	c ledger.Change) (bool, ledger.State, error) {
	ok, prev, err := p.store.Transition(ctx, it.Batch, it.Ref, c)
	if err != nil {
		return false, prev, err
	}
	if ok && prev != c.To && p.obs != nil {
		p.obs.ItemState(product, prev, c.To, it.Currency, it.Minor)
	}
	if ok {
		it.State = c.To
	} else if prev != "" {
		it.State = prev
	}
	return ok, prev, nil
}

// pauseProduct stops a product's queues after MoMo refused its credentials or configuration:
// every payout would fail the same way, so the batch waits for an operator instead.
func (p *Processor) pauseProduct(ctx context.Context, product momo.Product, cause error) {
	reason := fmt.Sprintf("paused at %s: %v", p.now().UTC().Format(time.RFC3339), cause)
	if err := p.store.PauseProduct(ctx, string(product), reason); err != nil {
		p.log.Error().Err(err).Str("product", string(product)).Msg("could not record product pause")
	}
	if p.pauser != nil {
		for _, q := range []string{Queue(product), PollQueue(product)} {
			if err := p.pauser.PauseQueue(q); err != nil {
				p.log.Debug().Err(err).Str("queue", q).Msg("pause queue")
			}
		}
	}
	if p.obs != nil {
		p.obs.ProductPaused(product, true)
	}
	p.log.Error().Str("product", string(product)).Str("err", cause.Error()).
		Msg("MoMo refused the credentials or configuration; product paused until 'payoutctl resume -product'")
}

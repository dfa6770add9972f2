// Package worker assembles what cmd/worker runs: one Asynq server per MoMo product (so each has
// its own concurrency), the payout handlers, and the sweeper.
package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/intake"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/schedule"
	"github.com/momopay/payout/internal/tasks"
)

// Config is what a worker runs with.
type Config struct {
	Redis    asynq.RedisConnOpt
	Store    *ledger.Store
	MoMo     tasks.MoMo
	Products []momo.Product // products to serve. Defaults to both.
	// Concurrency is the number of tasks each product's server runs at once. Defaults to 10.
	Concurrency int
	// ProductConcurrency overrides Concurrency for some products.
	ProductConcurrency map[momo.Product]int
	Tasks              tasks.Config
	// SweepInterval is how often the sweeper looks for stranded items. Defaults to 15 s.
	SweepInterval time.Duration
	// DelayedTaskCheckInterval is how often Asynq moves due polls and retries to pending.
	// Defaults to 200 ms: Asynq's own 5 s default would hold every poll back by seconds.
	DelayedTaskCheckInterval time.Duration
	// ShutdownTimeout lets in-flight MoMo calls finish on SIGTERM. Defaults to 35 s, one MoMo
	// round trip and a little more. A call cut short is safe: its item stays SUBMITTING and
	// the next run asks MoMo before sending anything again.
	ShutdownTimeout time.Duration
	Observer        tasks.Observer
	Log             zerolog.Logger

	// Schedules are recurring runs this worker's Asynq scheduler fires; see package schedule.
	Schedules []schedule.Entry
	// TargetEnvironment decides the currencies scheduled files may use.
	TargetEnvironment string
	// Balance, when set, is checked before a scheduled run is enqueued.
	Balance intake.BalanceChecker
}

// Defaults for Config.
const (
	DefaultConcurrency              = 10
	DefaultSweepInterval            = 15 * time.Second
	DefaultDelayedTaskCheckInterval = 200 * time.Millisecond
	DefaultShutdownTimeout          = 35 * time.Second
)

func (c Config) withDefaults() Config {
	if len(c.Products) == 0 {
		c.Products = tasks.Products
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	c.Tasks = c.Tasks.WithDefaults()
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.DelayedTaskCheckInterval <= 0 {
		c.DelayedTaskCheckInterval = DefaultDelayedTaskCheckInterval
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return c
}

// Run serves the payout queues until ctx is done, then shuts down gracefully: no new task
// starts, and running ones get ShutdownTimeout to finish their MoMo calls.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	client := asynq.NewClient(cfg.Redis)
	defer client.Close()
	inspector := asynq.NewInspector(cfg.Redis)
	defer inspector.Close()

	proc := tasks.NewProcessor(cfg.Tasks, cfg.Store, cfg.MoMo, client, inspector, cfg.Observer, cfg.Log)
	mux := asynq.NewServeMux()
	proc.Register(mux)

	if len(cfg.Schedules) > 0 {
		runner := &schedule.Runner{Entries: cfg.Schedules, Intake: intake.New(cfg.Store, client),
			TargetEnvironment: cfg.TargetEnvironment, Balance: cfg.Balance, Log: cfg.Log,
			Tasks: cfg.Tasks.Options}
		mux.HandleFunc(schedule.TypeRun, runner.Handle)
		scheduler := asynq.NewScheduler(cfg.Redis, &asynq.SchedulerOpts{
			Logger: schedulerLogger{asynqLogger{cfg.Log}}, LogLevel: asynq.WarnLevel,
		})
		if err := schedule.Register(scheduler, cfg.Schedules); err != nil {
			return err
		}
		if err := scheduler.Start(); err != nil {
			return fmt.Errorf("worker: start scheduler: %w", err)
		}
		defer scheduler.Shutdown()
		cfg.Log.Info().Int("schedules", len(cfg.Schedules)).Msg("scheduler started")
	}

	var servers []*asynq.Server
	defer func() {
		for _, s := range servers {
			s.Shutdown()
		}
	}()
	for _, p := range cfg.Products {
		srv := asynq.NewServer(cfg.Redis, serverConfig(cfg, p))
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("worker: start %s server: %w", p, err)
		}
		servers = append(servers, srv)
	}
	cfg.Log.Info().Int("concurrency", cfg.Concurrency).Interface("products", cfg.Products).
		Msg("worker started")

	sweeper := tasks.NewSweeper(cfg.Store, client, inspector, cfg.Tasks.Options, cfg.Tasks.Slack,
		cfg.Observer, cfg.Log)
	sweeper.Run(ctx, cfg.SweepInterval)
	cfg.Log.Info().Msg("shutting down: waiting for in-flight MoMo calls")
	return nil
}

func serverConfig(cfg Config, p momo.Product) asynq.Config {
	log := cfg.Log.With().Str("product", string(p)).Logger()
	concurrency := cfg.Concurrency
	if n := cfg.ProductConcurrency[p]; n > 0 {
		concurrency = n
	}
	return asynq.Config{
		Concurrency:              concurrency,
		Queues:                   queues(cfg, p),
		RetryDelayFunc:           tasks.RetryDelay,
		IsFailure:                tasks.IsFailure,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			if !tasks.IsFailure(err) {
				return
			}
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			log.Warn().Str("task", t.Type()).Str("task_id", id).Int("attempt", retried+1).
				Str("err", err.Error()).Msg("task run failed")
		}),
	}
}

// queues are the queues a product's server takes tasks from, with their weights: polls first,
// as finishing what MoMo already has matters more than starting more; scheduled runs only on a
// worker that has schedules (another would have no handler for them).
func queues(cfg Config, p momo.Product) map[string]int {
	q := map[string]int{tasks.PollQueue(p): 6, tasks.Queue(p): 4}
	if len(cfg.Schedules) > 0 {
		q[schedule.Queue] = 1
	}
	return q
}

// asynqLogger sends Asynq's own messages to zerolog.
type asynqLogger struct{ log zerolog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Fatal().Msg(fmt.Sprint(args...)) }

// schedulerLogger keeps Asynq's scheduler from reporting, as an error, the copy of a run that
// another worker's scheduler enqueued first: that is the Unique option doing its job.
type schedulerLogger struct{ asynqLogger }

func (l schedulerLogger) Error(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.Contains(msg, asynq.ErrDuplicateTask.Error()) {
		l.log.Debug().Msg(msg)
		return
	}
	l.log.Error().Msg(msg)
}

// ErrNotDurable is returned by CheckDurability when requireDurable is set and Redis could lose
// payouts.
var ErrNotDurable = errors.New("worker: Redis is not durable")

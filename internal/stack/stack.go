// Package stack runs the whole product in one process: the MoMo simulator over real HTTP on
// loopback, a MoMo client pointed at it, and a worker on a given Redis. The demo and the
// end-to-end tests use it; production runs the commands instead.
package stack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

// Options configure a Stack.
type Options struct {
	RedisAddr string
	RedisDB   int
	Sim       momosim.Config
	// MoMoURL points the client at another MoMo stand-in instead of starting the simulator.
	MoMoURL string
	Worker  worker.Config // Redis, Store, MoMo and Log are filled in
	// NoWorker starts no worker: the caller runs its own.
	NoWorker bool
	Log      zerolog.Logger
}

// Stack is a running simulator and worker.
type Stack struct {
	Sim     *momosim.Server // nil when MoMoURL was given
	SimURL  string
	MoMo    *momo.Client
	Redis   asynq.RedisConnOpt
	RDB     redis.UniversalClient
	Store   *ledger.Store
	Client  *asynq.Client
	Options tasks.Options

	httpSrv *http.Server
	worker  worker.Config
	cancel  context.CancelFunc
	done    chan error
}

// MoMoConfig returns the client settings for the simulator's default API user at url.
func MoMoConfig(url string) momo.Config {
	return momo.Config{
		BaseURL: url, TargetEnvironment: momosim.DefaultTargetEnvironment,
		APIUser: momosim.DefaultAPIUser, APIKey: momosim.DefaultAPIKey,
		SubscriptionKeys: map[momo.Product]string{
			momo.Disbursement: momosim.DefaultDisbursementKey,
			momo.Remittance:   momosim.DefaultRemittanceKey,
		},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
	}
}

// Start starts the simulator (unless MoMoURL is set) and the worker.
func Start(ctx context.Context, o Options) (*Stack, error) {
	s := &Stack{SimURL: o.MoMoURL}
	if s.SimURL == "" {
		if err := s.startSim(o.Sim); err != nil {
			return nil, err
		}
	}
	cfg := MoMoConfig(s.SimURL)
	client, err := momo.New(cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.MoMo = client
	s.Redis = asynq.RedisClientOpt{Addr: o.RedisAddr, DB: o.RedisDB}
	s.RDB = redis.NewClient(&redis.Options{Addr: o.RedisAddr, DB: o.RedisDB})
	s.Store = ledger.New(s.RDB)
	s.Client = asynq.NewClient(s.Redis)
	s.Options = o.Worker.Tasks.Options.WithDefaults()
	s.worker = o.Worker
	s.worker.Redis, s.worker.Store, s.worker.MoMo, s.worker.Log = s.Redis, s.Store, client, o.Log
	if !o.NoWorker {
		s.StartWorker(ctx)
	}
	return s, nil
}

// StartWorker starts the worker, unless it runs already.
func (s *Stack) StartWorker(ctx context.Context) {
	if s.cancel != nil {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- worker.Run(wctx, s.worker) }()
}

// StopWorker shuts the worker down gracefully, as SIGTERM does, and waits for it.
func (s *Stack) StopWorker() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	err := <-s.done
	s.cancel = nil
	return err
}

func (s *Stack) startSim(cfg momosim.Config) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.Sim = momosim.New(cfg)
	s.httpSrv = &http.Server{Handler: s.Sim, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.httpSrv.Serve(ln) }()
	s.SimURL = "http://" + ln.Addr().String()
	return nil
}

// Close stops the worker (gracefully), the simulator and the clients.
func (s *Stack) Close() error {
	errs := []error{s.StopWorker()}
	if s.Client != nil {
		errs = append(errs, s.Client.Close())
	}
	if s.RDB != nil {
		errs = append(errs, s.RDB.Close())
	}
	if s.httpSrv != nil {
		errs = append(errs, s.httpSrv.Close())
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	return errors.Join(errs...)
}

// WaitDone waits until the batch has no open item, or ctx ends.
func (s *Stack) WaitDone(ctx context.Context, batch string, tick func(ledger.Counts)) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		c, err := s.Store.Counts(ctx, batch)
		if err == nil && tick != nil {
			tick(c)
		}
		if err == nil && c.Open() == 0 && c.Total() > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

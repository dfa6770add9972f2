// Package stack runs the whole product in one process: the MoMo simulator over real HTTP on
// loopback, a MoMo client pointed at it, and a worker on a given Redis. The demo and the
// end-to-end tests use it; production runs the commands instead.
package stack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/httpapi"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/metrics"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/momosim"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

// Options configure a Stack.
type Options struct {
	RedisAddr string
	RedisDB   int
	// RedisConn, when set, is the Redis used instead of RedisAddr and RedisDB: a Redis
	// Cluster (asynq.RedisClusterClientOpt), a Sentinel group or a parsed REDIS_URL.
	RedisConn asynq.RedisConnOpt
	Sim       momosim.Config
	// MoMoURL points the client at another MoMo stand-in instead of starting the simulator.
	MoMoURL string
	Worker  worker.Config // Redis, Store, MoMo and Log are filled in
	// NoWorker starts no worker: the caller runs its own.
	NoWorker bool
	// HTTP, when set, starts the worker's HTTP side on loopback ports, as cmd/worker does.
	HTTP *HTTPOptions
	Log  zerolog.Logger
}

// HTTPOptions configure the HTTP side of a Stack: the monitor with /metrics, /healthz and
// /readyz, and the callback endpoint. The metrics observe the MoMo client and the worker.
type HTTPOptions struct {
	// Callbacks starts the callback endpoint and points the MoMo client's X-Callback-Url at
	// it, so that the simulator calls back when a transfer ends.
	Callbacks bool
	// ReadOnly makes the monitor read-only.
	ReadOnly bool
	// Credentials, when set, protect the monitor and /metrics.
	Credentials *httpapi.Credentials
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

	// Metrics, MonitorURL (http://127.0.0.1:PORT) and CallbackURL (MOMO_CALLBACK_URL's
	// stand-in, http://127.0.0.1:PORT/callback) are set with Options.HTTP.
	Metrics     *metrics.Metrics
	MonitorURL  string
	CallbackURL string

	httpSrv *http.Server
	worker  worker.Config
	cancel  context.CancelFunc
	done    chan error
	api     *apiSide
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
	if err := s.connectRedis(o); err != nil {
		s.Close()
		return nil, err
	}
	s.Store = ledger.New(s.RDB)
	s.Client = asynq.NewClient(s.Redis)
	s.Options = o.Worker.Tasks.Options.WithDefaults()
	s.worker = o.Worker

	cfg := MoMoConfig(s.SimURL)
	if o.HTTP != nil {
		if err := s.startHTTP(ctx, o, &cfg); err != nil {
			s.Close()
			return nil, err
		}
	}
	client, err := momo.New(cfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.MoMo = client
	if o.HTTP != nil {
		if err := s.startMonitor(o); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.worker.Redis, s.worker.Store, s.worker.MoMo, s.worker.Log = s.Redis, s.Store, client, o.Log
	if !o.NoWorker {
		s.StartWorker(ctx)
	}
	return s, nil
}

// connectRedis sets the Asynq options and the go-redis client, both on the same Redis.
func (s *Stack) connectRedis(o Options) error {
	if o.RedisConn == nil {
		s.Redis = asynq.RedisClientOpt{Addr: o.RedisAddr, DB: o.RedisDB}
		s.RDB = redis.NewClient(&redis.Options{Addr: o.RedisAddr, DB: o.RedisDB})
		return nil
	}
	rdb, ok := o.RedisConn.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return errors.New("stack: RedisConn makes no go-redis client")
	}
	s.Redis, s.RDB = o.RedisConn, rdb
	return nil
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

// Close stops the worker (gracefully), the HTTP side, the simulator and the clients.
func (s *Stack) Close() error {
	errs := []error{s.StopWorker(), s.api.close()}
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

// apiSide is the HTTP side of a Stack.
type apiSide struct {
	ctx       context.Context
	cancel    context.CancelFunc
	inspector *asynq.Inspector
	monitor   *httpapi.Monitor
	wg        sync.WaitGroup
}

// startHTTP creates the metrics, has them observe the client and the worker, and starts the
// callback endpoint when asked, pointing the client's callback URL at it.
func (s *Stack) startHTTP(ctx context.Context, o Options, cfg *momo.Config) error {
	s.api = &apiSide{inspector: asynq.NewInspector(s.Redis)}
	s.api.ctx, s.api.cancel = context.WithCancel(ctx)
	s.Metrics = metrics.New(metrics.Options{
		Products: o.Worker.Products, Inspector: s.api.inspector, Pauses: s.Store,
	})
	cfg.Observer = s.Metrics
	if s.worker.Observer == nil {
		s.worker.Observer = s.Metrics
	}
	if !o.HTTP.Callbacks {
		return nil
	}

	h, err := httpapi.NewCallbacks(httpapi.CallbackConfig{
		Store: s.Store, Queue: s.Client, Tasks: s.api.inspector, Options: s.Options,
		Observe: s.Metrics.Callback, Log: o.Log,
	})
	if err != nil {
		return err
	}
	srv, err := httpapi.Listen("callback", "127.0.0.1:0", h, o.Log)
	if err != nil {
		return err
	}
	s.api.serve(srv, o.Log)
	s.CallbackURL = srv.URL() + httpapi.CallbackPath
	cfg.CallbackURL = s.CallbackURL
	return nil
}

// startMonitor starts the monitor, /metrics and the health checks on a loopback port.
func (s *Stack) startMonitor(o Options) error {
	checks := []httpapi.Check{httpapi.RedisCheck(s.RDB)}
	products := o.Worker.Products
	if len(products) == 0 {
		products = tasks.Products
	}
	for _, p := range products {
		checks = append(checks, httpapi.TokenCheck(s.MoMo, p))
	}
	mon, err := httpapi.NewMonitor(httpapi.MonitorConfig{
		Redis: s.Redis, ReadOnly: o.HTTP.ReadOnly, Credentials: o.HTTP.Credentials,
		Metrics: s.Metrics.Handler(), Checks: checks, Log: o.Log,
	})
	if err != nil {
		return err
	}
	s.api.monitor = mon
	srv, err := httpapi.Listen("monitor", "127.0.0.1:0", mon, o.Log)
	if err != nil {
		return err
	}
	s.api.serve(srv, o.Log)
	s.MonitorURL = srv.URL()
	return nil
}

// serve runs srv until the Stack closes.
func (a *apiSide) serve(srv *httpapi.Server, log zerolog.Logger) {
	a.wg.Go(func() {
		if err := srv.Run(a.ctx); err != nil {
			log.Error().Err(err).Msg("stack: HTTP listener failed")
		}
	})
}

// close stops the listeners and releases the monitor's connections.
func (a *apiSide) close() error {
	if a == nil {
		return nil
	}
	a.cancel()
	a.wg.Wait()
	var errs []error
	if a.monitor != nil {
		errs = append(errs, a.monitor.Close())
	}
	return errors.Join(append(errs, a.inspector.Close())...)
}

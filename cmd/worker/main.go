// Command worker pays the queued payouts through MoMo until SIGINT or SIGTERM, then shuts down
// gracefully, letting in-flight MoMo calls finish.
//
//	worker [-concurrency N] [-require-durable] [-log-format json|console]
//	       [-monitor-addr HOST:PORT|off] [-monitor-read-only] [-callback-addr HOST:PORT]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/momopay/payout/internal/cli"
	"github.com/momopay/payout/internal/config"
	"github.com/momopay/payout/internal/httpapi"
	"github.com/momopay/payout/internal/ledger"
	"github.com/momopay/payout/internal/metrics"
	"github.com/momopay/payout/internal/momo"
	"github.com/momopay/payout/internal/schedule"
	"github.com/momopay/payout/internal/tasks"
	"github.com/momopay/payout/internal/worker"
)

func main() { cli.Main("worker", run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	concurrency := fs.Int("concurrency", worker.DefaultConcurrency, "tasks each product runs at once")
	durable := fs.Bool("require-durable", false, "refuse to start when Redis could lose payouts (no AOF, or evicting)")
	logFormat := fs.String("log-format", "json", "log format: json or console")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	sweep := fs.Duration("sweep-interval", worker.DefaultSweepInterval, "how often to look for stranded payouts")
	schedules := fs.String("schedules", "", "YAML file of recurring runs (configs/schedules.yaml); $PAYOUT_SCHEDULES")
	configFile := fs.String("config", os.Getenv("PAYOUT_CONFIG"), "YAML configuration (configs/worker.example.yaml); the environment wins over it; $PAYOUT_CONFIG")
	var web webFlags
	fs.StringVar(&web.monitorAddr, "monitor-addr", defaultMonitorAddr,
		"listen address of the Asynq monitor (/monitor/), /metrics, /healthz and /readyz; \"\" or off disables;"+
			" any but loopback needs $"+httpapi.EnvMonitorUser+" and $"+httpapi.EnvMonitorPassword)
	fs.BoolVar(&web.readOnly, "monitor-read-only", false,
		"the monitor shows queues and tasks but cannot change them")
	fs.StringVar(&web.callbackAddr, "callback-addr", "",
		"listen address of MoMo's callbacks (/callback/BATCH/REF); required when $MOMO_CALLBACK_URL is set")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: worker [flags]   (settings come from the environment; see README)")
		fs.PrintDefaults()
	}
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return cli.Usagef("worker takes no arguments (got %q); its settings come from the environment", fs.Args())
	}
	if *concurrency <= 0 {
		return cli.Usagef("-concurrency must be positive")
	}
	log, err := cli.Logger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	// Asynq's queue metrics report Redis troubles through the standard logger.
	stdlog.SetFlags(0)
	stdlog.SetOutput(log.With().Str("component", "metrics").Logger())
	getenv := config.Getenv(os.Getenv)
	if *configFile != "" {
		vars, err := config.LoadFile(*configFile)
		if err != nil {
			return err
		}
		getenv = config.WithFile(os.Getenv, vars)
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	// Flags given on the command line win over the environment and the file.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["schedules"] {
		*schedules = cfg.Schedules
	}
	if !set["monitor-addr"] && cfg.MonitorAddr != "" {
		web.monitorAddr = cfg.MonitorAddr
	}
	if !set["monitor-read-only"] {
		web.readOnly = web.readOnly || cfg.ReadOnly
	}
	if !set["callback-addr"] && cfg.CallbackAddr != "" {
		web.callbackAddr = cfg.CallbackAddr
	}
	products := cfg.ConfiguredProducts()
	if len(products) == 0 {
		return errors.New("config: set MOMO_DISBURSEMENT_KEY and/or MOMO_REMITTANCE_KEY: the worker pays through the products that have a key")
	}
	if err := cfg.RequireMoMo(products...); err != nil {
		return err
	}
	if err := web.check(cfg.MoMo.CallbackURL, getenv, log); err != nil {
		return err
	}
	var entries []schedule.Entry
	if *schedules != "" {
		if entries, err = schedule.Load(*schedules); err != nil {
			return err
		}
	}
	opt, rdb, err := cfg.Redis()
	if err != nil {
		return err
	}
	defer rdb.Close()
	store := ledger.New(rdb)
	inspector := asynq.NewInspector(opt)
	defer inspector.Close()
	obs := metrics.New(metrics.Options{Products: products, Inspector: inspector, Pauses: store})
	cfg.MoMo.Observer = obs
	client, err := momo.New(cfg.MoMo)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("worker: cannot reach Redis: %w", err)
	}
	problems, err := worker.CheckDurability(ctx, rdb)
	if err != nil {
		// Managed Redis services often disable CONFIG; say so rather than guess.
		problems = []string{fmt.Sprintf("could not read its settings (%v); make sure it keeps an AOF and never evicts", err)}
	}
	if len(problems) > 0 {
		if *durable {
			return fmt.Errorf("%w: %s", worker.ErrNotDurable, strings.Join(problems, "; "))
		}
		for _, p := range problems {
			log.Warn().Msg("Redis durability: " + p)
		}
	}
	stopWeb, err := web.start(ctx, webDeps{opt: opt, rdb: rdb, store: store, inspector: inspector,
		client: client, products: products, metrics: obs, log: log})
	if err != nil {
		return err
	}
	defer stopWeb()
	return worker.Run(ctx, worker.Config{
		Redis: opt, Store: store, MoMo: client, Products: products, Observer: obs,
		Concurrency: *concurrency, ProductConcurrency: cfg.Concurrency, SweepInterval: *sweep, Log: log,
		Schedules: entries, TargetEnvironment: cfg.MoMo.TargetEnvironment, Balance: client,
		Tasks: tasks.Config{PollInitial: cfg.PollInitial, PollMax: cfg.PollMax,
			PollWindow: cfg.PollWindow, CallTimeout: callTimeout(cfg.HTTPTimeout),
			StatusRate: cfg.StatusRate, Sandbox: cfg.MoMo.TargetEnvironment == "sandbox",
			Options: tasks.Options{Retention: cfg.Retention}},
	})
}

// callTimeout leaves room for a token fetch, a status query and a POST of one attempt.
func callTimeout(roundTrip time.Duration) time.Duration { return 3*roundTrip + 10*time.Second }

// defaultMonitorAddr keeps the monitor, which has no password of its own, on loopback.
const defaultMonitorAddr = "127.0.0.1:8080"

// webFlags are the worker's HTTP settings.
type webFlags struct {
	monitorAddr  string // "" when off
	readOnly     bool
	callbackAddr string // "" when off
	creds        *httpapi.Credentials
}

// check refuses settings that would expose the monitor or lose MoMo's callbacks.
func (w *webFlags) check(callbackURL string, getenv config.Getenv, log zerolog.Logger) error {
	if strings.EqualFold(w.monitorAddr, "off") {
		w.monitorAddr = ""
	}
	if w.monitorAddr != "" {
		creds, err := httpapi.CredentialsFromEnv(getenv)
		if err != nil {
			return err
		}
		if err := httpapi.CheckExposure(w.monitorAddr, creds); err != nil {
			return err
		}
		w.creds = creds
	}
	if w.monitorAddr != "" && w.monitorAddr == w.callbackAddr {
		return cli.Usagef("-monitor-addr and -callback-addr must differ: MoMo must not reach the monitor")
	}
	switch {
	case callbackURL != "" && w.callbackAddr == "":
		return errors.New("config: MOMO_CALLBACK_URL is set, so MoMo will call back: pass " +
			"-callback-addr HOST:PORT to receive the callbacks (MOMO_CALLBACK_URL must be its public " +
			"URL of " + httpapi.CallbackPath + "), or unset MOMO_CALLBACK_URL to rely on polling alone")
	case callbackURL == "" && w.callbackAddr != "":
		log.Warn().Msg("-callback-addr is set but MOMO_CALLBACK_URL is not: MoMo will not call back")
	case callbackURL != "" && !strings.HasSuffix(strings.TrimRight(callbackURL, "/"), httpapi.CallbackPath):
		log.Warn().Str("callback_url", callbackURL).Msg("MOMO_CALLBACK_URL does not end in " +
			httpapi.CallbackPath + "; make sure it reaches -callback-addr's " + httpapi.CallbackPath)
	}
	return nil
}

// webDeps are what the HTTP side works with.
type webDeps struct {
	opt       asynq.RedisConnOpt
	rdb       redis.UniversalClient
	store     *ledger.Store
	inspector *asynq.Inspector
	client    *momo.Client
	products  []momo.Product
	metrics   *metrics.Metrics
	log       zerolog.Logger
}

// start binds the monitor's and the callbacks' addresses, when set, and serves them until
// ctx is done or the returned stop is called; stop waits for them to shut down.
func (w *webFlags) start(ctx context.Context, d webDeps) (func(), error) {
	l := &listeners{log: d.log}
	l.ctx, l.cancel = context.WithCancel(ctx)
	if err := w.startMonitor(l, d); err != nil {
		l.stop()
		return nil, err
	}
	if err := w.startCallbacks(l, d); err != nil {
		l.stop()
		return nil, err
	}
	return l.stop, nil
}

// startMonitor serves the monitor, /metrics and the health checks, when -monitor-addr is set.
func (w *webFlags) startMonitor(l *listeners, d webDeps) error {
	if w.monitorAddr == "" {
		return nil
	}
	mon, err := httpapi.NewMonitor(httpapi.MonitorConfig{
		Redis: d.opt, ReadOnly: w.readOnly, Credentials: w.creds,
		Metrics: d.metrics.Handler(), Checks: readyChecks(d), Log: d.log,
	})
	if err != nil {
		return err
	}
	l.closers = append(l.closers, mon.Close)
	return l.serve("monitor", w.monitorAddr, mon)
}

// startCallbacks serves MoMo's callbacks, when -callback-addr is set.
func (w *webFlags) startCallbacks(l *listeners, d webDeps) error {
	if w.callbackAddr == "" {
		return nil
	}
	queue := asynq.NewClient(d.opt)
	l.closers = append(l.closers, queue.Close)
	h, err := httpapi.NewCallbacks(httpapi.CallbackConfig{Store: d.store, Queue: queue,
		Tasks: d.inspector, Observe: d.metrics.Callback, Log: d.log})
	if err != nil {
		return err
	}
	return l.serve("callback", w.callbackAddr, h)
}

// listeners are the worker's HTTP servers and what they hold.
type listeners struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	log     zerolog.Logger
}

// serve binds addr and serves h there until l stops.
func (l *listeners) serve(name, addr string, h http.Handler) error {
	srv, err := httpapi.Listen(name, addr, h, l.log)
	if err != nil {
		return err
	}
	l.wg.Go(func() {
		if err := srv.Run(l.ctx); err != nil {
			l.log.Error().Str("err", err.Error()).Msg("HTTP listener stopped")
		}
	})
	return nil
}

// stop shuts the servers down, waits for them and releases what they held.
func (l *listeners) stop() {
	l.cancel()
	l.wg.Wait()
	for _, c := range l.closers {
		_ = c()
	}
}

// readyChecks are /readyz's conditions: Redis answers, and each product gets a MoMo token.
func readyChecks(d webDeps) []httpapi.Check {
	checks := []httpapi.Check{httpapi.RedisCheck(d.rdb)}
	for _, p := range d.products {
		checks = append(checks, httpapi.TokenCheck(d.client, p))
	}
	return checks
}
